package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
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

// awslogsDefinition is a Fargate task of the busybox test image that runs
// script with the awslogs driver into group (created by the driver when
// create is true).
func awslogsDefinition(image, family, group, script string, create bool) *ecs.RegisterTaskDefinitionInput {
	opts := map[string]string{"awslogs-group": group, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}
	if create {
		opts["awslogs-create-group"] = "true"
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), StopTimeout: aws.Int32(2),
			Command:          []string{"sh", "-c", script},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: opts},
		}},
	}
}

// execRoleTrust is a trust policy that lets ECS tasks assume a role.
const execRoleTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// createExecutionRole creates the execution role awslogsDefinition names
// (ECS tasks trust it; AmazonECSTaskExecutionRolePolicy attached): the
// agent writes a task's awslogs output as that role.
func createExecutionRole(t *testing.T, p *proc) {
	t.Helper()
	mustAWS(t, p, nil, "iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document", execRoleTrust)
	mustAWS(t, p, nil, "iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-arn",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
}

func runAwslogsTask(t *testing.T, c *ecs.Client, family string) string {
	t.Helper()
	run, err := c.RunTask(t.Context(), &ecs.RunTaskInput{
		Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String(family), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	return aws.ToString(run.Tasks[0].TaskArn)
}

// streamMessages reads a whole log stream with get-log-events (CLI v1).
func streamMessages(t *testing.T, p *proc, group, stream string) []string {
	t.Helper()
	var msgs []string
	token := ""
	for {
		args := []string{"logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--start-from-head"}
		if token != "" {
			args = append(args, "--next-token", token)
		}
		out, err := p.aws(t, ".", args...)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Events           []struct{ Message string }
			NextForwardToken string
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Events {
			msgs = append(msgs, e.Message)
		}
		if len(r.Events) == 0 || r.NextForwardToken == token {
			return msgs
		}
		token = r.NextForwardToken
	}
}

// TestAwslogsDriverShipsEveryLine runs a task whose container prints lines
// and exits at once: its stream prefix/container/task-id holds every line,
// the last one included, in order; "aws logs tail" (CLI v2) started before
// the task sees the last line; a task whose group is missing (no
// awslogs-create-group) stops with ECS's reason.
func TestAwslogsDriverShipsEveryLine(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	createExecutionRole(t, p)
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	script := `i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; echo "ERROR stderr line" >&2; echo "LAST LINE before exit"`
	if _, err := c.RegisterTaskDefinition(ctx, awslogsDefinition(image, "printer", "/ecs/printer", script, true)); err != nil {
		t.Fatal(err)
	}
	var tail <-chan string
	if v2 := awsV2Path(); v2 != "" {
		p.awsOK(t, "logs", "create-log-group", "--log-group-name", "/ecs/printer")
		tail = followTail(t, v2, p, "/ecs/printer")
	}
	arn := runAwslogsTask(t, c, "printer")
	t.Cleanup(func() { cleanupTask(d, arn) })
	task := waitStatus(t, c, "prod-cluster", arn, "STOPPED", p.log.String)
	if ec := task.Containers[0].ExitCode; ec == nil || *ec != 0 {
		t.Fatalf("container exit code %v, reason %s", ec, aws.ToString(task.StoppedReason))
	}
	stream := "app/web/" + arn[strings.LastIndexByte(arn, '/')+1:]
	deadline := time.Now().Add(30 * time.Second)
	var msgs []string
	for time.Now().Before(deadline) {
		if msgs = streamMessages(t, p, "/ecs/printer", stream); len(msgs) >= 302 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// stdout's lines in order (stderr is another pipe: Docker may stamp
	// its line before stdout's), the last one included, each once.
	var stdout []string
	for _, m := range msgs {
		if m != "ERROR stderr line" {
			stdout = append(stdout, m)
		}
	}
	if len(msgs) != 302 || len(stdout) != 301 || stdout[0] != "line 1" || stdout[299] != "line 300" || stdout[300] != "LAST LINE before exit" {
		t.Fatalf("stream %s has %d events (first %q, last %q); log:\n%s", stream, len(msgs), first(msgs), last(msgs), p.log.String())
	}
	out := p.awsOK(t, "logs", "filter-log-events", "--log-group-name", "/ecs/printer", "--filter-pattern", "ERROR", "--query", "events[].message", "--output", "text")
	if strings.TrimSpace(out) != "ERROR stderr line" {
		t.Fatalf("filter ERROR = %q", out)
	}
	if tail != nil {
		waitLine(t, tail, "LAST LINE before exit", 30*time.Second)
	}

	// Without awslogs-create-group a missing group fails the task, as on ECS.
	if _, err := c.RegisterTaskDefinition(ctx, awslogsDefinition(image, "nogroup", "/ecs/missing", "echo hi", false)); err != nil {
		t.Fatal(err)
	}
	arn2 := runAwslogsTask(t, c, "nogroup")
	t.Cleanup(func() { cleanupTask(d, arn2) })
	stopped := waitStatus(t, c, "prod-cluster", arn2, "STOPPED", p.log.String)
	reason := aws.ToString(stopped.Containers[0].Reason) + " " + aws.ToString(stopped.StoppedReason)
	if !strings.Contains(reason, "The specified log group does not exist") {
		t.Fatalf("stopped with %q", reason)
	}
}

func awsV2Path() string {
	if path, err := exec.LookPath("/usr/bin/aws"); err == nil {
		if out, err := exec.Command(path, "--version").Output(); err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return path
		}
	}
	return ""
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// TestAwslogsResumesAcrossRestart kills the server (and its managed
// agent) with SIGKILL while a container prints a numbered line every
// 50 ms; after the restart the agent resumes from its saved position:
// the stream holds every line exactly once.
func TestAwslogsResumesAcrossRestart(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dir := t.TempDir()
	p := startBerth(t, dir, "--agent-disconnect-timeout", "1m")
	createExecutionRole(t, p)
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	const n = 120
	script := fmt.Sprintf(`i=1; while [ $i -le %d ]; do echo "n=$i"; i=$((i+1)); sleep 0.05; done; echo done`, n)
	if _, err := c.RegisterTaskDefinition(ctx, awslogsDefinition(image, "counter", "/ecs/counter", script, true)); err != nil {
		t.Fatal(err)
	}
	arn := runAwslogsTask(t, c, "counter")
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitStatus(t, c, "prod-cluster", arn, "RUNNING", p.log.String)
	stream := "app/web/" + arn[strings.LastIndexByte(arn, '/')+1:]
	// Kill once some lines have been shipped.
	shipped := 0
	eventually(t, 30*time.Second, func() (bool, string) {
		shipped = len(streamMessages(t, p, "/ecs/counter", stream))
		return shipped >= 10, fmt.Sprintf("%d lines shipped; log:\n%s", shipped, p.log.String())
	})
	p.kill()
	// The container keeps printing meanwhile: wait until it printed ten
	// lines more than were shipped (or all of them), which the restarted
	// agent must ship.
	cs := containersOf(t, d, arn)
	if len(cs) != 1 {
		t.Fatalf("%d containers of the task", len(cs))
	}
	eventually(t, 30*time.Second, func() (bool, string) {
		printed := printedLines(t, d, cs[0].ID)
		return printed >= min(shipped+10, n+1), fmt.Sprintf("the container printed %d lines, %d were shipped", printed, shipped)
	})
	p2 := startBerthAt(t, p.Addr, dir, "--agent-disconnect-timeout", "1m")
	var msgs []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if msgs = streamMessages(t, p2, "/ecs/counter", stream); last(msgs) == "done" {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(msgs) != n+1 {
		t.Fatalf("%d events after the restart, want %d; log:\n%s", len(msgs), n+1, p2.log.String())
	}
	for i := range n {
		if msgs[i] != fmt.Sprintf("n=%d", i+1) {
			t.Fatalf("event %d = %q", i, msgs[i])
		}
	}
}

// printedLines counts the lines a container wrote to its output so far.
func printedLines(t *testing.T, d *docker.Driver, id string) int {
	t.Helper()
	rc, err := d.Logs(t.Context(), id, driver.LogOptions{})
	if err != nil {
		t.Fatalf("container logs: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("container logs: %v", err)
	}
	return strings.Count(string(b), "\n")
}
