package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/sdkhttp"
)

// TestAwslogsRefusedAfterStartIsDroppedAndCounted: under --enforce-iam, a
// task whose execution role may create its log stream but not put events
// starts (as on ECS), its container's output is refused by PutLogEvents
// and dropped, as Docker's awslogs driver drops it, and the agent
// publishes the dropped events as Berth/Awslogs DroppedLogEvents.
func TestAwslogsRefusedAfterStartIsDroppedAndCounted(t *testing.T) {
	cfg := Defaults()
	cfg.Listen, cfg.DataDir, cfg.Driver, cfg.EnforceIAM = "127.0.0.1:0", t.TempDir(), "fake", true
	srv, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := srv.runtime.driver.(*fake.Driver)
	if !ok {
		t.Fatalf("managed driver %T", srv.runtime.driver)
	}
	ts := time.Now().UTC()
	fd.OnStart = func(string, driver.ContainerSpec) fake.Behavior {
		return fake.Behavior{Output: ts.Format(time.RFC3339Nano) + " one\n" + ts.Add(time.Millisecond).Format(time.RFC3339Nano) + " two\n"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + srv.Addr()

	query := func(form url.Values) []byte {
		t.Helper()
		status, out := signedPost(t, base, "iam", "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
		if status != 200 {
			t.Fatalf("%s: %d %s", form.Get("Action"), status, out)
		}
		return out
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out := query(url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"exec"}, "AssumeRolePolicyDocument": {trust}})
	role := string(regexp.MustCompile(`<Arn>([^<]+)</Arn>`).FindSubmatch(out)[1])
	query(url.Values{"Action": {"PutRolePolicy"}, "Version": {"2010-05-08"}, "RoleName": {"exec"}, "PolicyName": {"streams-only"},
		"PolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream"],"Resource":"*"}]}`}})
	jsonCall := func(service, target, contentType string, in any) (int, []byte) {
		b, _ := json.Marshal(in)
		return signedPost(t, base, service, contentType, map[string]string{"X-Amz-Target": target}, b)
	}
	if status, out := jsonCall("logs", "Logs_20140328.CreateLogGroup", "application/x-amz-json-1.1", map[string]string{"logGroupName": "/ecs/drop"}); status != 200 {
		t.Fatalf("CreateLogGroup: %d %s", status, out)
	}

	c := ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(base), HTTPClient: sdkhttp.Client(time.Minute), RetryMaxAttempts: 1,
	})
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("drop")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("drop"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, ExecutionRoleArn: aws.String(role),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Command: []string{"sleep", "infinity"},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/drop", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "p"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("drop"), TaskDefinition: aws.String("drop"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)

	// The metric appears once the refused batch is dropped; the task
	// keeps running (ECS shows nothing of it).
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, out := jsonCall("monitoring", "GraniteServiceVersion20100801.GetMetricStatistics", "application/x-amz-json-1.0", map[string]any{
			"Namespace": agent.DroppedMetricNamespace, "MetricName": agent.DroppedMetricName,
			"Dimensions": []map[string]string{{"Name": "ClusterName", "Value": "drop"}, {"Name": "LogGroupName", "Value": "/ecs/drop"}},
			"StartTime":  time.Now().Add(-time.Hour).Unix(), "EndTime": time.Now().Add(time.Hour).Unix(), "Period": 60, "Statistics": []string{"Sum"},
		})
		var st struct{ Datapoints []struct{ Sum float64 } }
		_ = json.Unmarshal(out, &st)
		sum := 0.0
		for _, d := range st.Datapoints {
			sum += d.Sum
		}
		if status == 200 && sum == 2 {
			break
		}
		if time.Now().After(deadline) || (status == 200 && sum > 2) {
			t.Fatalf("DroppedLogEvents: %d %s (want a sum of 2)", status, out)
		}
		time.Sleep(100 * time.Millisecond) // poll interval of a deadline loop
	}
	d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("drop"), Tasks: []string{task}})
	if err != nil || len(d.Tasks) != 1 || aws.ToString(d.Tasks[0].LastStatus) != "RUNNING" {
		t.Fatalf("the task after the refusal: %v %+v", err, d)
	}
	// Nothing reached the stream.
	status, out := jsonCall("logs", "Logs_20140328.FilterLogEvents", "application/x-amz-json-1.1", map[string]string{"logGroupName": "/ecs/drop"})
	if status != 200 || strings.Contains(string(out), `"message"`) {
		t.Fatalf("FilterLogEvents: %d %s", status, out)
	}
}
