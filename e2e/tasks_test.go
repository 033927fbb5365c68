package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/runner"
	"github.com/berth-dev/berth/internal/sdkhttp"
)

func ecsClient(url string) *ecs.Client {
	return ecs.NewFromConfig(aws.Config{
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), HTTPClient: sdkhttp.Client(30 * time.Second), RetryMaxAttempts: 1,
	})
}

// agentProc is a `berth agent` process.
type agentProc struct {
	cmd *exec.Cmd
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAgent starts `berth agent` (prefixed by wrap, e.g. ip netns exec).
func startAgent(t *testing.T, serverURL, cluster, dataDir string, wrap []string, extra ...string) *agentProc {
	t.Helper()
	args := append([]string{berthBin, "agent", "--cluster", cluster, "--server", serverURL, "--data-dir", dataDir,
		"--region", "eu-west-1", "--heartbeat", "1s", "--memory", "1024", "--cpu", "2048"}, extra...)
	args = append(append([]string{}, wrap...), args...)
	a := &agentProc{cmd: exec.Command(args[0], args[1:]...), log: &syncBuffer{}}
	a.cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeOwnerLeftovers(t, dataDir) }) // after the kill below
	t.Cleanup(a.kill)
	return a
}

func (a *agentProc) kill() {
	if a.cmd.ProcessState != nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	_ = a.cmd.Wait()
}

// waitInstance waits until the cluster has one instance whose agent is
// connected as want, and returns it.
func waitInstance(t *testing.T, c *ecs.Client, cluster string, want bool, logs func() string) types.ContainerInstance {
	t.Helper()
	var ci types.ContainerInstance
	eventually(t, 30*time.Second, func() (bool, string) {
		l, err := c.ListContainerInstances(t.Context(), &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		if err == nil && len(l.ContainerInstanceArns) > 0 {
			d, err := c.DescribeContainerInstances(t.Context(), &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: l.ContainerInstanceArns})
			if err == nil && len(d.ContainerInstances) == 1 && d.ContainerInstances[0].AgentConnected == want {
				ci = d.ContainerInstances[0]
				return true, ""
			}
		}
		return false, fmt.Sprintf("no instance with agentConnected=%v in %s; agent log:\n%s", want, cluster, logs())
	})
	return ci
}

func describeTask(t *testing.T, c *ecs.Client, cluster, arn string) types.Task {
	t.Helper()
	out, err := c.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe %s: %+v %v", arn, out, err)
	}
	return out.Tasks[0]
}

func waitStatus(t *testing.T, c *ecs.Client, cluster, arn, want string, logs func() string) types.Task {
	t.Helper()
	var tk types.Task
	eventually(t, 90*time.Second, func() (bool, string) {
		tk = describeTask(t, c, cluster, arn)
		status := fmt.Sprintf("task %s is %s (%q), want %s; log:\n%s", arn, aws.ToString(tk.LastStatus), aws.ToString(tk.StoppedReason), want, logs())
		if last := aws.ToString(tk.LastStatus); last != want && last == "STOPPED" {
			t.Fatal(status) // STOPPED is final
		}
		return aws.ToString(tk.LastStatus) == want, status
	})
	return tk
}

// containersOf lists the Docker containers of a task.
func containersOf(t *testing.T, d *docker.Driver, arn string) []driver.ContainerState {
	t.Helper()
	cs, err := d.ListContainers(t.Context(), map[string]string{driver.LabelTaskARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func cleanupTask(d *docker.Driver, arn string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sel := map[string]string{driver.LabelTaskARN: arn}
	var cgroups []string
	if cs, err := d.ListContainers(ctx, sel); err == nil {
		for _, c := range cs {
			if in, err := d.Client().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{}); err == nil && in.Container.HostConfig != nil {
				if p := in.Container.HostConfig.CgroupParent; p != "" && !slices.Contains(cgroups, p) {
					cgroups = append(cgroups, p)
				}
			}
			_ = d.RemoveContainer(ctx, c.ID)
		}
	}
	if ns, err := d.ListTaskNetworks(ctx, sel); err == nil {
		for _, n := range ns {
			_ = d.RemoveTaskNetwork(ctx, n.ID)
		}
	}
	// The task's cgroup, and its owner's parent if nothing else is in it
	// (rmdir fails on a cgroup in use): a killed server leaves them.
	for _, p := range cgroups {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + p)
		dirs = append(dirs, "/sys/fs/cgroup"+p)
		for _, dir := range dirs {
			if os.Remove(dir) == nil && strings.Count(p, "/") == 3 {
				_ = os.Remove(filepath.Dir(dir))
			}
		}
	}
}

func ec2Definition(image string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("sleeper"), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(256), Cpu: 128,
			Command: []string{"sleep", "3600"}, StopTimeout: aws.Int32(2),
		}},
	}
}

// TestServerRestartKeepsFargateTaskRunning kills the server with SIGKILL
// while a Fargate task runs; after the restart the task is still RUNNING
// in the same container (adopted, not started again).
func TestServerRestartKeepsFargateTaskRunning(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dir := t.TempDir()
	p := startBerth(t, dir, "--agent-disconnect-timeout", "1m")
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, ec2AndFargateDefinition(image)); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-private-1a", "subnet-private-1b"}, SecurityGroups: []string{"sg-ecs-tasks"}, AssignPublicIp: types.AssignPublicIpDisabled,
		}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	before := waitStatus(t, c, "prod-cluster", arn, "RUNNING", p.log.String)
	runtimeID := aws.ToString(before.Containers[0].RuntimeId)

	p.kill()
	p2 := startBerth(t, dir, "--agent-disconnect-timeout", "1m")
	c2 := ecsClient(p2.URL)
	// The new server's managed agent adopts the running container.
	if line := waitLogLine(t, p2.log.String, 30*time.Second, `msg="adopted task"`, "task="+arn); !strings.Contains(line, "status=RUNNING") {
		t.Fatalf("adopted as %s", line)
	}
	after := describeTask(t, c2, "prod-cluster", arn)
	if aws.ToString(after.LastStatus) != "RUNNING" || aws.ToString(after.Containers[0].RuntimeId) != runtimeID {
		t.Fatalf("after the restart: %s in %s (was %s); log:\n%s", aws.ToString(after.LastStatus), aws.ToString(after.Containers[0].RuntimeId), runtimeID, p2.log.String())
	}
	if cs := containersOf(t, d, arn); len(cs) != 1 || cs[0].ID != runtimeID || cs[0].Status != driver.StatusRunning {
		t.Fatalf("containers of the task after the restart: %+v", cs)
	}
	if _, err := c2.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod-cluster"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c2, "prod-cluster", arn, "STOPPED", p2.log.String)
}

// ec2AndFargateDefinition is an awsvpc task definition of the busybox test
// image that both launch types can run.
func ec2AndFargateDefinition(image string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web-app"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), StopTimeout: aws.Int32(2),
			Command:      []string{"sh", "-c", "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www"},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	}
}

// TestAgentProcessRunsEC2Tasks runs `berth agent` as its own process: it
// registers, runs an EC2 task, survives a kill -9 and restart without a
// duplicate container, and when it stays away its tasks are stopped; when
// it returns after that, their containers are stopped at once.
func TestAgentProcessRunsEC2Tasks(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir(), "--agent-disconnect-timeout", "4s")
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ec2-cluster")}); err != nil {
		t.Fatal(err)
	}
	agentDir := t.TempDir()
	a := startAgent(t, p.URL, "ec2-cluster", agentDir, nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	ci := waitInstance(t, c, "ec2-cluster", true, logs)
	instanceARN := aws.ToString(ci.ContainerInstanceArn)
	if _, err := c.RegisterTaskDefinition(ctx, ec2Definition(image)); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(run.Tasks) != 1 || aws.ToString(run.Tasks[0].ContainerInstanceArn) != instanceARN {
		t.Fatalf("RunTask EC2: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	first := waitStatus(t, c, "ec2-cluster", arn, "RUNNING", logs)
	runtimeID := aws.ToString(first.Containers[0].RuntimeId)

	tooBig, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2,
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Memory: aws.Int32(4096)}}}})
	if err != nil || len(tooBig.Tasks) != 0 || len(tooBig.Failures) != 1 || aws.ToString(tooBig.Failures[0].Reason) != "RESOURCE:MEMORY" {
		t.Fatalf("a task too big for the instance: %+v %v", tooBig, err)
	}

	// kill -9 and restart: the same instance, the same container.
	a.kill()
	waitInstance(t, c, "ec2-cluster", false, logs)
	a = startAgent(t, p.URL, "ec2-cluster", agentDir, nil)
	ci = waitInstance(t, c, "ec2-cluster", true, logs)
	if aws.ToString(ci.ContainerInstanceArn) != instanceARN {
		t.Fatalf("the restarted agent registered as %s, not %s", aws.ToString(ci.ContainerInstanceArn), instanceARN)
	}
	// The restarted agent adopts the running container.
	if line := waitLogLine(t, a.log.String, 30*time.Second, `msg="adopted task"`, "task="+arn); !strings.Contains(line, "status=RUNNING") {
		t.Fatalf("adopted as %s", line)
	}
	if tk := describeTask(t, c, "ec2-cluster", arn); aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.Containers[0].RuntimeId) != runtimeID {
		t.Fatalf("after the agent restart the task is %s in %s; log:\n%s", aws.ToString(tk.LastStatus), aws.ToString(tk.Containers[0].RuntimeId), logs())
	}
	if cs := containersOf(t, d, arn); len(cs) != 1 {
		t.Fatalf("%d containers for the task after the agent restart, want 1: %+v", len(cs), cs)
	}

	// The agent stays away: after the timeout the task is stopped.
	a.kill()
	waitInstance(t, c, "ec2-cluster", false, logs)
	stopped := waitStatus(t, c, "ec2-cluster", arn, "STOPPED", logs)
	if !strings.Contains(aws.ToString(stopped.StoppedReason), "agent disconnected") {
		t.Errorf("stopped reason %q", aws.ToString(stopped.StoppedReason))
	}

	// Its container kept running meanwhile (nothing on the host stopped
	// it). When the agent returns, the server sends the task's desired
	// STOPPED at once (issue 8, fault 4): the container stops now, not
	// when the agent's orphan grace (runner.DefaultOrphanGrace) ends.
	if cs := containersOf(t, d, arn); len(cs) != 1 || cs[0].Status != driver.StatusRunning {
		t.Fatalf("the task's container while its agent is away: %+v, want it still running", cs)
	}
	back := time.Now()
	a = startAgent(t, p.URL, "ec2-cluster", agentDir, nil)
	eventually(t, runner.DefaultOrphanGrace, func() (bool, string) {
		cs := containersOf(t, d, arn)
		return len(cs) == 0 || cs[0].Status != driver.StatusRunning,
			fmt.Sprintf("the returning agent did not stop the task's container: %+v; log:\n%s", cs, logs())
	})
	if strings.Contains(a.log.String(), "orphan task") {
		t.Fatalf("the container was stopped as an orphan, after the grace, not as the server asked; log:\n%s", logs())
	}
	t.Logf("the returning agent stopped the container %v after it was started", time.Since(back).Round(time.Millisecond))
	if tk := describeTask(t, c, "ec2-cluster", arn); aws.ToString(tk.LastStatus) != "STOPPED" || aws.ToString(tk.StoppedReason) != aws.ToString(stopped.StoppedReason) {
		t.Errorf("after the agent's return the task is %s (%q), want it STOPPED as before (%q)", aws.ToString(tk.LastStatus), aws.ToString(tk.StoppedReason), aws.ToString(stopped.StoppedReason))
	}
}
