package e2e

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestServiceWithAWSCLI runs the service commands through the aws
// CLI on Docker: create-service with 3 tasks, wait services-stable,
// update-service to a new revision (every task ends on it), a docker kill
// of a task's container (replaced, and an event says why), scale,
// delete-service.
func TestServiceWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	var mu sync.Mutex
	var seen []string // every task ARN, for the cleanup
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
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
	listTasks := func() []string {
		t.Helper()
		var out struct{ TaskArns []string }
		if err := json.Unmarshal([]byte(run("ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service")), &out); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for _, a := range out.TaskArns {
			if !slices.Contains(seen, a) {
				seen = append(seen, a)
			}
		}
		mu.Unlock()
		return out.TaskArns
	}
	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	def := ec2AndFargateDefinition(image)
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	def.ContainerDefinitions[0].Environment = nil
	def.ContainerDefinitions[0].Command = []string{"sh", "-c", "mkdir -p /www && echo v2 > /www/health && exec httpd -f -p 8080 -h /www"}
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	out := run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "web-app:1", "--desired-count", "3", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-private-1a],securityGroups=[sg-ecs-tasks]}",
		"--deployment-configuration", "deploymentCircuitBreaker={enable=true,rollback=true}",
		"--query", "service.[status,desiredCount,deploymentConfiguration.maximumPercent,deploymentConfiguration.minimumHealthyPercent,deployments[0].rolloutState]", "--output", "text")
	if got := strings.Fields(out); !slices.Equal(got, []string{"ACTIVE", "3", "200", "100", "IN_PROGRESS"}) {
		t.Fatalf("create-service: %q", out)
	}
	start := time.Now()
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	t.Logf("stable with 3 tasks after %v", time.Since(start))
	if arns := listTasks(); len(arns) != 3 {
		t.Fatalf("list-tasks --service-name: %v", arns)
	}

	// A new revision rolls out; every task ends on it.
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	start = time.Now()
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	t.Logf("rolled to revision 2 after %v", time.Since(start))
	arns := listTasks()
	desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: arns})
	if err != nil || len(desc.Tasks) != 3 {
		t.Fatalf("describe-tasks: %v %+v", err, desc)
	}
	for _, tk := range desc.Tasks {
		if !strings.HasSuffix(aws.ToString(tk.TaskDefinitionArn), "web-app:2") || aws.ToString(tk.Group) != "service:web-service" || !strings.HasPrefix(aws.ToString(tk.StartedBy), "ecs-svc/") {
			t.Errorf("task %s: %s group %s startedBy %s", aws.ToString(tk.TaskArn), aws.ToString(tk.TaskDefinitionArn), aws.ToString(tk.Group), aws.ToString(tk.StartedBy))
		}
	}
	out = run("ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
		"--query", "services[0].[runningCount,length(deployments),deployments[0].rolloutState,deployments[0].taskDefinition]", "--output", "text")
	if f := strings.Fields(out); len(f) != 4 || f[0] != "3" || f[1] != "1" || f[2] != "COMPLETED" || !strings.HasSuffix(f[3], "web-app:2") {
		t.Fatalf("after the deployment: %q", out)
	}

	// The deployment history: the first deployment was stopped by the
	// second or completed before it; the second completed.
	out = run("ecs", "list-service-deployments", "--cluster", "prod-cluster", "--service", "web-service",
		"--query", "serviceDeployments[].status", "--output", "text")
	if f := strings.Fields(out); len(f) != 2 || f[0] != "SUCCESSFUL" || f[1] != "SUCCESSFUL" {
		t.Fatalf("list-service-deployments: %q", out)
	}

	// docker kill a task's container: the task stops, a replacement
	// starts, and the events say why.
	victim := arns[0]
	cs, err := d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: victim})
	if err != nil || len(cs) == 0 {
		t.Fatalf("containers of %s: %v %+v", victim, err, cs)
	}
	if b, err := exec.Command("docker", "kill", cs[0].ID).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v %s", err, b)
	}
	victimID := victim[strings.LastIndexByte(victim, '/')+1:]
	want := "(service web-service) (task " + victimID + ") stopped: Essential container in task exited."
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ds struct {
			Services []struct {
				RunningCount int
				Events       []struct{ Message string }
			}
		}
		if err := json.Unmarshal([]byte(run("ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service")), &ds); err != nil {
			t.Fatal(err)
		}
		s := ds.Services[0]
		told := slices.ContainsFunc(s.Events, func(e struct{ Message string }) bool { return e.Message == want })
		arns := listTasks()
		if told && s.RunningCount == 3 && len(arns) == 3 && !slices.Contains(arns, victim) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not replaced: running %d, tasks %v, events %+v\nlog:\n%s", s.RunningCount, arns, s.Events, p.log.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")

	// Scale out, then delete: refused while scaled, DRAINING with --force,
	// then INACTIVE once the tasks stopped.
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--desired-count", "4")
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	if n := len(listTasks()); n != 4 {
		t.Fatalf("%d tasks after scaling to 4", n)
	}
	if out := run("ecs", "list-services", "--cluster", "prod-cluster", "--query", "serviceArns[0]", "--output", "text"); strings.TrimSpace(out) != "arn:aws:ecs:eu-west-1:123456789012:service/prod-cluster/web-service" {
		t.Fatalf("list-services: %q", out)
	}
	if _, err := p.aws(t, t.TempDir(), "ecs", "delete-service", "--cluster", "prod-cluster", "--service", "web-service"); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("delete-service while scaled: %v", err)
	}
	if _, err := p.aws(t, t.TempDir(), "ecs", "delete-cluster", "--cluster", "prod-cluster"); err == nil || !strings.Contains(err.Error(), "ClusterContainsServicesException") {
		t.Fatalf("delete-cluster with a service: %v", err)
	}
	if out := run("ecs", "delete-service", "--cluster", "prod-cluster", "--service", "web-service", "--force", "--query", "service.status", "--output", "text"); strings.TrimSpace(out) != "DRAINING" {
		t.Fatalf("delete-service --force: %q", out)
	}
	run("ecs", "wait", "services-inactive", "--cluster", "prod-cluster", "--services", "web-service")
	if n := len(listTasks()); n != 0 {
		t.Fatalf("%d tasks left after the delete", n)
	}
}
