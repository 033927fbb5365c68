package server_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/sdkhttp"
	"github.com/berth-dev/berth/internal/server"
)

// logRecorder is a slog.Handler that keeps every record with the
// attributes its logger was derived with.
type logRecorder struct {
	mu    *sync.Mutex
	lines *[]logLine
	attrs []slog.Attr
}

type logLine struct {
	level slog.Level
	msg   string
	keys  []string // in order, derived attributes first
	attrs map[string]string
}

func newLogRecorder() *logRecorder {
	return &logRecorder{mu: &sync.Mutex{}, lines: &[]logLine{}}
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{mu: h.mu, lines: h.lines, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l := logLine{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	add := func(a slog.Attr) bool {
		l.keys = append(l.keys, a.Key)
		l.attrs[a.Key] = a.Value.String()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.mu.Lock()
	*h.lines = append(*h.lines, l)
	h.mu.Unlock()
	return nil
}

func (h *logRecorder) snapshot() []logLine {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logLine(nil), *h.lines...)
}

// TestServerLogLines runs a Fargate task (fake driver) and checks the
// server's log: a line when the task reaches RUNNING, and no key twice on
// one line.
func TestServerLogLines(t *testing.T) {
	rec := newLogRecorder()
	cfg := server.Defaults()
	cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", t.TempDir(), "fake"
	srv, err := server.New(cfg, slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	c := ecs.NewFromConfig(aws.Config{
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + srv.Addr()), RetryMaxAttempts: 1, HTTPClient: sdkhttp.Client(time.Minute),
	})
	tctx := t.Context()
	if _, err := c.CreateCluster(tctx, &ecs.CreateClusterInput{ClusterName: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(tctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("logs"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox")}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(tctx, &ecs.RunTaskInput{
		Cluster: aws.String("logs"), TaskDefinition: aws.String("logs"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v", err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	var running *logLine
	for deadline := time.Now().Add(30 * time.Second); running == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range rec.snapshot() {
			if l.msg == "task running" && l.attrs["task"] == arn {
				running = &l
				break
			}
		}
	}
	if running == nil {
		t.Fatalf("no \"task running\" line for %s in the server log", arn)
	}
	if running.level != slog.LevelInfo || running.attrs["cluster"] != "logs" || !strings.Contains(running.attrs["taskDefinition"], "task-definition/logs:1") {
		t.Errorf("task running line: %+v", *running)
	}
	if _, err := c.StopTask(tctx, &ecs.StopTaskInput{Cluster: aws.String("logs"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	for _, l := range rec.snapshot() {
		seen := map[string]bool{}
		for _, k := range l.keys {
			if seen[k] {
				t.Errorf("key %q twice on one line: %q %v", k, l.msg, l.keys)
			}
			seen[k] = true
		}
	}
}
