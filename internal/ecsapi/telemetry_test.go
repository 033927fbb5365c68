package ecsapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/coder/websocket"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/berthtest"
)

// dialTelemetry opens a SigV4-signed telemetry session for instance, as
// an ECS agent does.
func dialTelemetry(t *testing.T, srv *berthtest.Server, cluster, instance string) *websocket.Conn {
	t.Helper()
	url := srv.URL + "/tcs/ws?cluster=" + cluster + "&containerInstance=" + instance
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, emptySHA256, "ecs", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{HTTPHeader: req.Header})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// publishHealth publishes one container's health and waits for the
// acknowledgement.
func publishHealth(t *testing.T, conn *websocket.Conn, taskARN, container, health string) {
	t.Helper()
	msg, err := acs.Encode(acs.TypePublishHealth, acs.PublishHealthRequest{Tasks: []acs.TaskHealth{{
		TaskARN: taskARN, Containers: []acs.ContainerHealth{{ContainerName: container, HealthStatus: health}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, append([]byte("X-Amz-Date: 20260101T000000Z\r\n\r\n"), msg...)); err != nil {
		t.Fatal(err)
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no acknowledgement: %v", err)
		}
		if env, _ := acs.Decode(b); env.Type == acs.TypeAckPublishHealth {
			return
		}
	}
}

// Container health published on the telemetry session (the only way ECS
// agents report it) reaches the task, only from the instance that runs it.
func TestTelemetryHealthReachesTheTask(t *testing.T) {
	c, srv := startFake(t)
	createCluster(t, c, "tcs")
	a, _ := startAgent(t, srv, "tcs", 2048, 4096)
	if _, err := c.RegisterTaskDefinition(t.Context(), bridgeDefinition("tcs-app")); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String("tcs"), TaskDefinition: aws.String("tcs-app")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %s %v", runResult(run), err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	waitTask(t, c, "tcs", arn, "RUNNING", func(tk types.Task) bool { return aws.ToString(tk.LastStatus) == "RUNNING" })

	// From another instance: acknowledged, not recorded.
	other := strings.Replace(a.InstanceARN(), "/tcs/", "/tcs/0000", 1)
	publishHealth(t, dialTelemetry(t, srv, "tcs", other), arn, "app", "UNHEALTHY")
	if tk := waitTask(t, c, "tcs", arn, "RUNNING", func(types.Task) bool { return true }); tk.Containers[0].HealthStatus == types.HealthStatusUnhealthy {
		t.Fatal("health from an instance that does not run the task was recorded")
	}

	conn := dialTelemetry(t, srv, "tcs", a.InstanceARN())
	publishHealth(t, conn, arn, "app", "UNHEALTHY")
	waitTask(t, c, "tcs", arn, "container app UNHEALTHY", func(tk types.Task) bool {
		return tk.Containers[0].HealthStatus == types.HealthStatusUnhealthy
	})
	// A task that is gone is acknowledged too (nothing to record).
	publishHealth(t, conn, strings.TrimSuffix(arn, arn[len(arn)-4:])+"ffff", "app", "HEALTHY")
}
