package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// logsClient is aws-sdk-go-v2's CloudWatch Logs client for berth. It
// turns off the "stream-" host prefix StartLiveTail's endpoint carries
// (as botocore's inject_host_prefix=False does): berth is one host.
func logsClient(url string) *cloudwatchlogs.Client {
	noPrefix := middleware.InitializeMiddlewareFunc("BerthNoHostPrefix", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
	})
	return cloudwatchlogs.NewFromConfig(aws.Config{
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), HTTPClient: &http.Client{}, RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error { return s.Initialize.Add(noPrefix, middleware.Before) }},
	})
}

// TestLogsStartLiveTail tails a log group with aws-sdk-go-v2's
// StartLiveTail while a Fargate task writes to it through the awslogs
// driver: the session starts with sessionStart, then its updates carry the
// container's lines; a second session with a filter pattern and a stream
// prefix gets only the matching line.
func TestLogsStartLiveTail(t *testing.T) {
	requireAWSCLI(t)
	dd := dockertest.New(t)
	image := dockertest.Busybox(t, dd)
	p := startBerth(t, t.TempDir())
	createExecutionRole(t, p)
	mustAWS(t, p, nil, "ecs", "create-cluster", "--cluster-name", "prod-cluster")
	mustAWS(t, p, nil, "logs", "create-log-group", "--log-group-name", "/ecs/live")
	cw := logsClient(p.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	if _, err := cw.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"/ecs/nope"}}); err == nil ||
		!strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("StartLiveTail on a missing group: %v", err)
	}
	open := func(in *cloudwatchlogs.StartLiveTailInput) *cloudwatchlogs.StartLiveTailEventStream {
		t.Helper()
		out, err := cw.StartLiveTail(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		st := out.GetStream()
		t.Cleanup(func() { st.Close() })
		select {
		case ev := <-st.Events():
			start, ok := ev.(*types.StartLiveTailResponseStreamMemberSessionStart)
			if !ok || aws.ToString(start.Value.SessionId) == "" || len(start.Value.LogGroupIdentifiers) != 1 {
				t.Fatalf("first event %#v, want a sessionStart (stream error: %v)", ev, st.Err())
			}
		case <-ctx.Done():
			t.Fatal("no sessionStart")
		}
		return st
	}
	arn := "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/live"
	all := open(&cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{arn}})
	errs := open(&cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{arn}, LogStreamNamePrefixes: []string{"app/"},
		LogEventFilterPattern: aws.String("ERROR")})

	c := ecsClient(p.URL)
	if _, err := c.RegisterTaskDefinition(ctx, awslogsDefinition(image, "live", "/ecs/live", "echo hello live tail; echo ERROR live boom; exec sleep 3600", true)); err != nil {
		t.Fatal(err)
	}
	task := runAwslogsTask(t, c, "live")
	t.Cleanup(func() { cleanupTask(dd, task) })
	stream := "app/web/" + task[strings.LastIndexByte(task, '/')+1:]

	read := func(st *cloudwatchlogs.StartLiveTailEventStream, until string) []string {
		t.Helper()
		var msgs []string
		for {
			select {
			case ev, ok := <-st.Events():
				if !ok {
					t.Fatalf("the session ended (%v); got %q", st.Err(), msgs)
				}
				up, isUp := ev.(*types.StartLiveTailResponseStreamMemberSessionUpdate)
				if !isUp {
					t.Fatalf("event %#v, want sessionUpdate", ev)
				}
				for _, r := range up.Value.SessionResults {
					if aws.ToString(r.LogStreamName) != stream || aws.ToString(r.LogGroupIdentifier) != arn ||
						aws.ToInt64(r.Timestamp) == 0 || aws.ToInt64(r.IngestionTime) < aws.ToInt64(r.Timestamp) {
						t.Errorf("result %+v", r)
					}
					msgs = append(msgs, aws.ToString(r.Message))
				}
				if len(msgs) > 0 && msgs[len(msgs)-1] == until {
					return msgs
				}
			case <-ctx.Done():
				t.Fatalf("did not see %q; got %q; server log:\n%s", until, msgs, p.log.String())
			}
		}
	}
	if got := read(all, "ERROR live boom"); strings.Join(got, "|") != "hello live tail|ERROR live boom" {
		t.Errorf("live tail of the group: %q", got)
	}
	if got := read(errs, "ERROR live boom"); strings.Join(got, "|") != "ERROR live boom" {
		t.Errorf("live tail with a filter pattern: %q", got)
	}
}
