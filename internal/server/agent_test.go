package server_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/runner"
	"github.com/berth-dev/berth/internal/server"
)

func TestAgentDefaultsRegion(t *testing.T) {
	for _, tc := range []struct {
		env          map[string]string
		region, from string
	}{
		{map[string]string{}, server.DefaultAgentRegion, "default"},
		{map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1", "AWS_DEFAULT_REGION"},
		{map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "ap-south-1"}, "ap-south-1", "AWS_REGION"},
	} {
		cfg := server.AgentDefaults(func(k string) string { return tc.env[k] })
		if cfg.Region != tc.region || cfg.RegionSource != tc.from {
			t.Errorf("env %v: region %q from %q; want %q from %q", tc.env, cfg.Region, cfg.RegionSource, tc.region, tc.from)
		}
	}
}

func TestNewAgentRefusesBadConfig(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	base := server.AgentDefaults(func(string) string { return "" })
	base.Driver, base.DataDir = "fake", t.TempDir()
	for name, mutate := range map[string]func(*server.AgentConfig){
		"unknown driver": func(c *server.AgentConfig) { c.Driver = "podman" },
		"bad heartbeat":  func(c *server.AgentConfig) { c.Heartbeat = "often" },
		"attribute":      func(c *server.AgentConfig) { c.Attributes = "=x" },
		"no region":      func(c *server.AgentConfig) { c.Region = "" },
	} {
		cfg := base
		mutate(&cfg)
		if _, err := server.NewAgent(cfg, log); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// logSink is a slog handler that hands each record's message to a
// channel (and counts them), so that a test waits on a log line.
type logSink struct {
	mu     sync.Mutex
	counts map[string]int
	lines  chan string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	s.counts[r.Message]++
	s.mu.Unlock()
	select {
	case s.lines <- r.Message:
	default:
	}
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

func (s *logSink) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for m, c := range s.counts {
		if strings.Contains(m, sub) {
			n += c
		}
	}
	return n
}

// TestAgentSaysClusterNotFoundOnce is issue 8's region story: an agent
// whose cluster is not in its region says so once, naming both, retries
// quietly, and joins once the cluster exists.
func TestAgentSaysClusterNotFoundOnce(t *testing.T) {
	srv := berthtest.Start(t, func(c *server.Config) { c.Driver = "fake" })
	ctx := t.Context()
	west := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	if _, err := west.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("regional")}); err != nil {
		t.Fatal(err)
	}
	sink := &logSink{counts: map[string]int{}, lines: make(chan string, 1024)}
	cfg := server.AgentDefaults(func(k string) string {
		return map[string]string{"AWS_DEFAULT_REGION": "us-east-2"}[k]
	})
	cfg.Cluster, cfg.ServerURL, cfg.Driver, cfg.DataDir = "regional", srv.URL, "fake", t.TempDir()
	a, err := server.NewAgent(cfg, slog.New(sink))
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	defer func() { cancel(); <-done }()

	want := "cluster regional not found in region us-east-2"
	retries := 0
	timeout := time.After(30 * time.Second)
	for retries < 3 {
		select {
		case m := <-sink.lines:
			if strings.Contains(m, "registration failed") {
				retries++
			}
		case <-timeout:
			t.Fatalf("the agent did not retry three times; log counts %v", sink.counts)
		}
	}
	if n := sink.count(want); n != 1 {
		t.Fatalf("%q said %d times after %d retries; want once", want, n, retries)
	}
	if n := sink.count("berth agent starting"); n != 1 {
		t.Fatalf("start line logged %d times", n)
	}
	east2 := ecs.NewFromConfig(srv.AWSConfig("us-east-2"))
	if _, err := east2.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("regional")}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case m := <-sink.lines:
			if strings.Contains(m, "registered container instance") {
				return
			}
		case <-timeout:
			t.Fatal("the agent did not join once the cluster existed")
		}
	}
}

// TestReturningAgentStopsTasksStoppedWhileAway is issue 8's fault 4 end to
// end: an agent away past the disconnect timeout has its task marked
// STOPPED; its container keeps running (the agent process is gone); when
// the agent comes back, the server sends the desired STOPPED at once, so
// the container stops well before the agent's orphan grace (an hour
// here) would have stopped it.
func TestReturningAgentStopsTasksStoppedWhileAway(t *testing.T) {
	srv := berthtest.Start(t, func(c *server.Config) { c.Driver, c.AgentDisconnectTimeout = "fake", "1s" })
	ctx := t.Context()
	c := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("fault4")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("fault4"), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox:latest"), Memory: aws.Int32(64), Command: []string{"sleep", "3600"},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	drv := fake.New(fake.Options{Logger: slog.New(slog.DiscardHandler)})
	dataDir := t.TempDir()
	startAgent := func() (stop func()) {
		a := agent.New(agent.Config{
			ServerURL: srv.URL, Cluster: "fault4", Region: "eu-west-1", Driver: drv, DataDir: dataDir,
			CPU: 1024, MemoryMiB: 1024, Heartbeat: 500 * time.Millisecond,
			Runner: runner.Config{OrphanGrace: time.Hour},
		})
		actx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Run(actx) }()
		waitFor(t, "the agent to connect", func() bool { return a.Connected() })
		return func() { cancel(); <-done }
	}
	stop := startAgent()
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("fault4"), TaskDefinition: aws.String("fault4")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %s", err, failures(run))
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	describe := func() types.Task {
		out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("fault4"), Tasks: []string{arn}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("DescribeTasks: %v", err)
		}
		return out.Tasks[0]
	}
	waitFor(t, "the task to run", func() bool { return aws.ToString(describe().LastStatus) == "RUNNING" })

	stop() // the agent goes away; its container does not
	waitFor(t, "the disconnect timeout to stop the task", func() bool { return aws.ToString(describe().LastStatus) == "STOPPED" })
	if got := aws.ToString(describe().StoppedReason); got != controller.StopReasonAgentDisconnected {
		t.Fatalf("stoppedReason %q", got)
	}
	if _, running := drv.Count(); running != 1 {
		t.Fatalf("%d containers running while the agent is away; want its 1", running)
	}

	stop = startAgent()
	defer stop()
	waitFor(t, "the returning agent to stop the container", func() bool { _, running := drv.Count(); return running == 0 })
}

func failures(out *ecs.RunTaskOutput) string {
	if out == nil {
		return ""
	}
	var b strings.Builder
	for _, f := range out.Failures {
		b.WriteString(aws.ToString(f.Reason) + " ")
	}
	return b.String()
}

// waitFor polls cond (every 20ms, for up to 15s): the condition is the
// event waited for.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
