package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestDaemonServiceWithAgent: a DAEMON service runs one task on the
// container instance a `berth agent` process registers, its desired count
// is the number of instances, and it drains when the instance drains.
func TestDaemonServiceWithAgent(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	var seen []string
	t.Cleanup(func() {
		for _, arn := range seen {
			cleanupTask(d, arn)
		}
	})
	run := func(args ...string) string {
		t.Helper()
		out, err := p.aws(t, t.TempDir(), args...)
		if err != nil {
			t.Fatalf("%v\nserver log:\n%s", err, p.log.String())
		}
		return out
	}
	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	a := startAgent(t, p.URL, "prod-cluster", t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	ci := waitInstance(t, c, "prod-cluster", true, logs)
	if _, err := c.RegisterTaskDefinition(ctx, ec2Definition(image)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.aws(t, t.TempDir(), "ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "bad",
		"--task-definition", "sleeper", "--scheduling-strategy", "DAEMON", "--launch-type", "FARGATE"); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("DAEMON on FARGATE: %v", err)
	}
	out := run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "sleeper", "--scheduling-strategy", "DAEMON", "--launch-type", "EC2",
		"--query", "service.[schedulingStrategy,deploymentConfiguration.maximumPercent,deploymentConfiguration.minimumHealthyPercent]", "--output", "text")
	if f := strings.Fields(out); len(f) != 3 || f[0] != "DAEMON" || f[1] != "100" || f[2] != "0" {
		t.Fatalf("create-service DAEMON: %q", out)
	}
	var s serviceState
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		s = describeService(t, p)
		if s.DesiredCount == 1 && s.RunningCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon service: %+v\n%s", s, logs())
		}
	}
	arns := serviceTasks(t, p, &seen)
	desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: arns})
	if err != nil || len(desc.Tasks) != 1 || aws.ToString(desc.Tasks[0].ContainerInstanceArn) != aws.ToString(ci.ContainerInstanceArn) {
		t.Fatalf("daemon task: %v %+v", err, desc)
	}
	if _, err := p.aws(t, t.TempDir(), "ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--desired-count", "3"); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("update-service --desired-count on a DAEMON service: %v", err)
	}
	// The instance drains: the daemon's task stops, desired count 0.
	run("ecs", "update-container-instances-state", "--cluster", "prod-cluster", "--container-instances", aws.ToString(ci.ContainerInstanceArn), "--status", "DRAINING")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		s = describeService(t, p)
		if s.DesiredCount == 0 && s.RunningCount == 0 && len(serviceTasks(t, p, &seen)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after draining: %+v\n%s", s, logs())
		}
	}
}
