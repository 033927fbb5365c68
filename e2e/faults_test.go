package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/runner"
)

// TestTaskNetworkKilled kills the network sandbox of a running Fargate task
// with Docker: the task stops with a reason that says so, instead of staying
// RUNNING with its 172.31.x address while its app has only lo.
func TestTaskNetworkKilled(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	cluster := uniqueName("netkill")
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	if _, err := c.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(t.Context(), ec2AndFargateDefinition(image)); err != nil {
		t.Fatal(err)
	}
	o := runFargate(t, d, c, cluster, p.log.String)
	if _, err := d.Client().ContainerKill(t.Context(), o.sandboxID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	tk := waitStatus(t, c, cluster, o.arn, "STOPPED", p.log.String)
	if r := aws.ToString(tk.StoppedReason); !strings.HasPrefix(r, runner.ReasonNetworkLost) {
		t.Fatalf("stopped reason %q, want %q...", r, runner.ReasonNetworkLost)
	}
	if cs := containersOf(t, d, o.arn); len(cs) != 1 || cs[0].Status == "running" {
		t.Fatalf("the task's container after the stop: %+v", cs)
	}
}

// TestContainerRemovedWhileServerDown removes a running Fargate task's
// container with Docker while the server is down (kill -9): after the
// restart the task stops, its container reported removed with the runtime
// ID it had, as on a live server; nothing is created in its place.
func TestContainerRemovedWhileServerDown(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	cluster := uniqueName("rmdown")
	dir := t.TempDir()
	p := startBerth(t, dir, "--agent-disconnect-timeout", "2m")
	c := ecsClient(p.URL)
	if _, err := c.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(t.Context(), ec2AndFargateDefinition(image)); err != nil {
		t.Fatal(err)
	}
	o := runFargate(t, d, c, cluster, p.log.String)
	p.kill()
	if err := d.RemoveContainer(t.Context(), o.ctrID); err != nil {
		t.Fatal(err)
	}
	p = startBerth(t, dir, "--agent-disconnect-timeout", "2m")
	c = ecsClient(p.URL)
	tk := waitStatus(t, c, cluster, o.arn, "STOPPED", p.log.String)
	web := tk.Containers[0]
	if aws.ToString(tk.StoppedReason) != "Essential container in task exited" || tk.StopCode != "EssentialContainerExited" ||
		aws.ToString(web.Reason) != runner.ReasonContainerRemoved || aws.ToString(web.RuntimeId) != o.ctrID {
		t.Fatalf("after the restart: %s %q, container %s %q in %s; log:\n%s", tk.StopCode, aws.ToString(tk.StoppedReason),
			aws.ToString(web.LastStatus), aws.ToString(web.Reason), aws.ToString(web.RuntimeId), p.log.String())
	}
	if cs := containersOf(t, d, o.arn); len(cs) != 0 {
		t.Fatalf("containers of the task after the restart: %+v", cs)
	}
}

// TestContainerRemovedWhileAgentDown: the same with `berth agent` and an EC2
// task: the container removed while the agent was down (kill -9) stops the
// task after the agent's restart instead of being created again.
func TestContainerRemovedWhileAgentDown(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	cluster := uniqueName("rmagent")
	p := startBerth(t, t.TempDir(), "--agent-disconnect-timeout", "2m")
	c := ecsClient(p.URL)
	if _, err := c.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	agentDir := t.TempDir()
	a := startAgent(t, p.URL, cluster, agentDir, nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	waitInstance(t, c, cluster, true, logs)
	if _, err := c.RegisterTaskDefinition(t.Context(), ec2Definition(image)); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sleeper"), LaunchType: "EC2"})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	tk := waitStatus(t, c, cluster, arn, "RUNNING", logs)
	id := aws.ToString(tk.Containers[0].RuntimeId)
	a.kill()
	if err := d.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	a = startAgent(t, p.URL, cluster, agentDir, nil)
	tk = waitStatus(t, c, cluster, arn, "STOPPED", logs)
	if tk.StopCode != "EssentialContainerExited" || aws.ToString(tk.Containers[0].Reason) != runner.ReasonContainerRemoved || aws.ToString(tk.Containers[0].RuntimeId) != id {
		t.Fatalf("after the agent's restart: %s %q, container %q in %s", tk.StopCode, aws.ToString(tk.StoppedReason), aws.ToString(tk.Containers[0].Reason), aws.ToString(tk.Containers[0].RuntimeId))
	}
	if cs := containersOf(t, d, arn); len(cs) != 0 {
		t.Fatalf("containers of the task after the restart: %+v", cs)
	}
}
