package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// serviceState is what describe-services says of web-service.
type serviceState struct {
	Status         string
	RunningCount   int
	DesiredCount   int
	TaskDefinition string
	Deployments    []struct {
		ID                 string
		Status             string
		TaskDefinition     string
		RolloutState       string
		RolloutStateReason string
		FailedTasks        int
		RunningCount       int
		PendingCount       int
	}
	Events []struct{ Message string }
}

func describeService(t *testing.T, p *proc) serviceState {
	t.Helper()
	out, err := p.aws(t, t.TempDir(), "ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Services []serviceState }
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Services) != 1 {
		t.Fatalf("describe-services: %v %s", err, out)
	}
	return v.Services[0]
}

// serviceTasks lists web-service's tasks (desired RUNNING) and records
// them in seen for the cleanup.
func serviceTasks(t *testing.T, p *proc, seen *[]string) []string {
	t.Helper()
	out, err := p.aws(t, t.TempDir(), "ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ TaskArns []string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, a := range v.TaskArns {
		if !slices.Contains(*seen, a) {
			*seen = append(*seen, a)
		}
	}
	return v.TaskArns
}

// runningServiceContainers counts the running containers of the given
// tasks on the daemon.
func runningServiceContainers(t *testing.T, d *docker.Driver, arns []string) int {
	t.Helper()
	n := 0
	for _, arn := range arns {
		cs, err := d.ListContainers(t.Context(), map[string]string{driver.LabelTaskARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Status == driver.StatusRunning {
				n++
			}
		}
	}
	return n
}

// TestServiceFinishesDeploymentAfterKill9 kills the server with SIGKILL
// in the middle of a rolling deployment; after the restart the deployment
// finishes: every task on the new revision, the desired count exactly,
// and no task of the service runs twice (no duplicate start).
func TestServiceFinishesDeploymentAfterKill9(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dir := t.TempDir()
	p := startBerth(t, dir)
	c := ecsClient(p.URL)
	ctx := t.Context()
	var seen []string
	t.Cleanup(func() {
		for _, arn := range seen {
			cleanupTask(d, arn)
		}
	})
	run := func(p *proc, args ...string) string {
		t.Helper()
		out, err := p.aws(t, t.TempDir(), args...)
		if err != nil {
			t.Fatalf("%v\nserver log:\n%s", err, p.log.String())
		}
		return out
	}
	run(p, "ecs", "create-cluster", "--cluster-name", "prod-cluster")
	def := ec2AndFargateDefinition(image)
	// A task turns healthy some seconds after it starts, so that the
	// deployment lasts long enough to be interrupted.
	def.ContainerDefinitions[0].HealthCheck = &types.HealthCheck{Command: []string{"CMD-SHELL", "test -f /tmp/ready"}, Interval: aws.Int32(5), Retries: aws.Int32(3), Timeout: aws.Int32(2)}
	for _, v := range []string{"v1", "v2"} {
		def.ContainerDefinitions[0].Command = []string{"sh", "-c", "echo " + v + " > /tmp/v; (sleep 3; touch /tmp/ready) & exec httpd -f -p 8080 -h /tmp"}
		if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	run(p, "ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "web-app:1", "--desired-count", "4", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-private-1a]}",
		"--deployment-configuration", "maximumPercent=150,minimumHealthyPercent=50")
	run(p, "ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	serviceTasks(t, p, &seen)

	run(p, "ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	// Kill it as soon as the deployment has moved (some tasks of the new
	// revision started), before it completed.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s := describeService(t, p)
		if len(s.Deployments) == 2 && s.Deployments[0].Status == "PRIMARY" && strings.HasSuffix(s.Deployments[0].TaskDefinition, "web-app:2") &&
			s.Deployments[0].RunningCount+s.Deployments[0].PendingCount > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deployment did not start: %+v", s)
		}
	}
	serviceTasks(t, p, &seen)
	p.kill()
	p2 := startBerth(t, dir)
	start := time.Now()
	run(p2, "ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	t.Logf("after the restart the deployment finished in %v", time.Since(start))
	arns := serviceTasks(t, p2, &seen)
	if len(arns) != 4 {
		t.Fatalf("%d tasks after the restart, want 4", len(arns))
	}
	c2 := ecsClient(p2.URL)
	desc, err := c2.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: arns})
	if err != nil || len(desc.Tasks) != 4 {
		t.Fatalf("describe-tasks: %v %+v", err, desc)
	}
	for _, tk := range desc.Tasks {
		if !strings.HasSuffix(aws.ToString(tk.TaskDefinitionArn), "web-app:2") || aws.ToString(tk.LastStatus) != "RUNNING" {
			t.Errorf("task %s: %s %s", aws.ToString(tk.TaskArn), aws.ToString(tk.TaskDefinitionArn), aws.ToString(tk.LastStatus))
		}
	}
	// One running container per task, and none for any other task of the
	// service (every task the service ever had is in seen).
	if n := runningServiceContainers(t, d, arns); n != 4 {
		t.Errorf("%d running containers for the 4 tasks", n)
	}
	var others []string
	for _, a := range seen {
		if !slices.Contains(arns, a) {
			others = append(others, a)
		}
	}
	// Give stops a moment to reach the daemon.
	for deadline := time.Now().Add(30 * time.Second); runningServiceContainers(t, d, others) > 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d containers of replaced tasks still run", runningServiceContainers(t, d, others))
		}
	}
	// services-stable returns on the counts; the rollout state follows
	// when the deployment controller next reconciles.
	eventually(t, 30*time.Second, func() (bool, string) {
		s := describeService(t, p2)
		done := s.RunningCount == 4 && len(s.Deployments) == 1 && s.Deployments[0].RolloutState == "COMPLETED"
		return done, fmt.Sprintf("service after the restart: %+v", s)
	})
	// Every task the service ever started: 4 of each revision, no more
	// (a duplicate start across the restart would show here).
	out := run(p2, "ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service", "--desired-status", "STOPPED")
	var stopped struct{ TaskArns []string }
	if err := json.Unmarshal([]byte(out), &stopped); err != nil {
		t.Fatal(err)
	}
	for _, a := range stopped.TaskArns {
		if !slices.Contains(seen, a) {
			seen = append(seen, a)
		}
	}
	if len(seen) != 8 || len(stopped.TaskArns) != 4 {
		t.Fatalf("the service started %d tasks (%d stopped), want 8 (4 stopped)", len(seen), len(stopped.TaskArns))
	}
}

// TestServiceCircuitBreakerRollsBack: a revision whose container exits
// at once trips the circuit breaker; the service rolls back and ends on
// the old revision at full count, with ECS's deployment states and events.
func TestServiceCircuitBreakerRollsBack(t *testing.T) {
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
	def := ec2AndFargateDefinition(image)
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	def.ContainerDefinitions[0].Command = []string{"sh", "-c", "exit 3"}
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "web-app:1", "--desired-count", "2", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-private-1a]}",
		"--deployment-configuration", "deploymentCircuitBreaker={enable=true,rollback=true}")
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	before := serviceTasks(t, p, &seen)
	first := describeService(t, p).Deployments[0].ID
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	var s serviceState
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		serviceTasks(t, p, &seen)
		s = describeService(t, p)
		if strings.HasSuffix(s.TaskDefinition, "web-app:1") && len(s.Deployments) == 1 && s.Deployments[0].RolloutState == "COMPLETED" && s.RunningCount == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback: %+v\nlog:\n%s", s, p.log.String())
		}
	}
	var msgs []string
	for _, e := range s.Events {
		msgs = append(msgs, e.Message)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, "deployment failed: tasks failed to start.") || !strings.Contains(joined, "(service web-service) rolling back to deployment "+first+".") {
		t.Fatalf("events:\n%s", joined)
	}
	if !strings.Contains(joined, "stopped: Essential container in task exited.") {
		t.Errorf("no event tells why the new tasks stopped:\n%s", joined)
	}
	// The history: the failed deployment was rolled back.
	out := run("ecs", "list-service-deployments", "--cluster", "prod-cluster", "--service", "web-service",
		"--query", "serviceDeployments[].[status,statusReason]", "--output", "text")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ROLLBACK_SUCCESSFUL\tECS deployment circuit breaker") || !strings.HasPrefix(lines[1], "SUCCESSFUL") {
		t.Fatalf("list-service-deployments:\n%s", out)
	}
	// The old tasks usually keep serving through it all; but a new task
	// that is RUNNING for a moment before it exits counts as healthy (no
	// health check, as on ECS) and may let an old one stop, to be
	// replaced by the rollback: not asserted, reported.
	now := serviceTasks(t, p, &seen)
	kept := 0
	for _, a := range before {
		if slices.Contains(now, a) {
			kept++
		}
	}
	t.Logf("%d of the %d old tasks kept through the failed deployment", kept, len(before))
}

// TestServiceStopDeployment: a revision whose health check never passes
// keeps its deployment in progress; stop-service-deployment rolls it back
// by hand, and the service ends on the old revision with its old tasks.
func TestServiceStopDeployment(t *testing.T) {
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
	def := ec2AndFargateDefinition(image)
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	def.ContainerDefinitions[0].HealthCheck = &types.HealthCheck{Command: []string{"CMD-SHELL", "exit 1"}, Interval: aws.Int32(5), Retries: aws.Int32(10), StartPeriod: aws.Int32(300)}
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "web-app:1", "--desired-count", "2", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-private-1a]}")
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	before := serviceTasks(t, p, &seen)
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	// The new tasks run but never turn healthy: the deployment stays in
	// progress.
	var sdARN string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		serviceTasks(t, p, &seen)
		s := describeService(t, p)
		if len(s.Deployments) == 2 && s.Deployments[0].RunningCount == 2 {
			out := run("ecs", "list-service-deployments", "--cluster", "prod-cluster", "--service", "web-service",
				"--status", "IN_PROGRESS", "--query", "serviceDeployments[0].serviceDeploymentArn", "--output", "text")
			sdARN = strings.TrimSpace(out)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new revision did not start: %+v", s)
		}
	}
	if !strings.Contains(sdARN, ":service-deployment/prod-cluster/web-service/") {
		t.Fatalf("service deployment ARN %q", sdARN)
	}
	if out := run("ecs", "stop-service-deployment", "--service-deployment-arn", sdARN, "--stop-type", "ROLLBACK",
		"--query", "serviceDeploymentArn", "--output", "text"); strings.TrimSpace(out) != sdARN {
		t.Fatalf("stop-service-deployment: %q", out)
	}
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	s := describeService(t, p)
	if !strings.HasSuffix(s.TaskDefinition, "web-app:1") || s.RunningCount != 2 || len(s.Deployments) != 1 || s.Deployments[0].RolloutState != "COMPLETED" {
		t.Fatalf("after the rollback: %+v", s)
	}
	now := serviceTasks(t, p, &seen)
	slices.Sort(now)
	slices.Sort(before)
	if !slices.Equal(now, before) {
		t.Errorf("tasks after the rollback %v, before the deployment %v", now, before)
	}
	out := run("ecs", "describe-service-deployments", "--service-deployment-arns", sdARN,
		"--query", "serviceDeployments[0].[status,rollback.reason]", "--output", "text")
	if !strings.HasPrefix(out, "ROLLBACK_SUCCESSFUL\tService deployment stopped by user request.") {
		t.Fatalf("describe-service-deployments: %q", out)
	}
}
