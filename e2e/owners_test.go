package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/runner"
)

// uniqueName returns prefix with a random suffix: test clusters on the
// shared Docker daemon must not meet another run's.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// ownedTask is what one server's running task holds on the daemon.
type ownedTask struct {
	arn, ctrID, sandboxID string
	cgroups               []string // task cgroup directories, if the host has them
}

// runFargate runs one Fargate task of the busybox web definition on p's
// cluster and returns what it holds on the daemon.
func runFargate(t *testing.T, d *docker.Driver, c *ecs.Client, cluster string, logs func() string) ownedTask {
	t.Helper()
	run, err := c.RunTask(t.Context(), &ecs.RunTaskInput{
		Cluster: aws.String(cluster), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	tk := waitStatus(t, c, cluster, arn, "RUNNING", logs)
	o := ownedTask{arn: arn, ctrID: aws.ToString(tk.Containers[0].RuntimeId)}
	nets, err := d.ListTaskNetworks(t.Context(), map[string]string{driver.LabelTaskARN: arn})
	if err != nil || len(nets) != 1 {
		t.Fatalf("task networks of %s: %+v %v", arn, nets, err)
	}
	o.sandboxID = nets[0].ID
	in, err := d.Client().ContainerInspect(t.Context(), o.ctrID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if parent := in.Container.HostConfig.CgroupParent; parent != "" {
		for _, root := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup"} {
			if fi, err := os.Stat(filepath.Join(root, parent)); err == nil && fi.IsDir() {
				o.cgroups = append(o.cgroups, filepath.Join(root, parent))
			}
		}
	}
	return o
}

// intact fails the test unless o's container runs (the same one), its
// sandbox runs and its task cgroups exist.
func (o ownedTask) intact(t *testing.T, d *docker.Driver, who string) {
	t.Helper()
	cs := containersOf(t, d, o.arn)
	if len(cs) != 1 || cs[0].ID != o.ctrID || cs[0].Status != driver.StatusRunning {
		t.Fatalf("%s's task %s: containers %+v, want %s running", who, o.arn, cs, o.ctrID)
	}
	n, err := d.InspectTaskNetwork(t.Context(), o.sandboxID)
	if err != nil || !n.Running {
		t.Fatalf("%s's task network %s: %+v %v", who, o.sandboxID, n, err)
	}
	for _, dir := range o.cgroups {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("%s's task cgroup: %v", who, err)
		}
	}
}

// TestTwoServersShareADaemon runs two berth servers with the same cluster
// names (so the same managed instance ARN) on one Docker daemon, kills one
// with SIGKILL and restarts it: neither touches the other's containers,
// task networks or task cgroups, past the restarted one's orphan grace,
// and the tasks of both keep running.
func TestTwoServersShareADaemon(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	cluster := uniqueName("twins")
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startBerth(t, dirA, "--agent-disconnect-timeout", "2m")
	b := startBerth(t, dirB, "--agent-disconnect-timeout", "2m")
	ca, cb := ecsClient(a.URL), ecsClient(b.URL)
	logs := func() string { return "server a:\n" + a.log.String() + "\nserver b:\n" + b.log.String() }
	for _, c := range []*ecs.Client{ca, cb} {
		if _, err := c.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RegisterTaskDefinition(t.Context(), ec2AndFargateDefinition(image)); err != nil {
			t.Fatal(err)
		}
	}
	ta := runFargate(t, d, ca, cluster, logs)
	tb := runFargate(t, d, cb, cluster, logs)
	if len(ta.cgroups) == 0 {
		t.Log("no task cgroups on this host: only containers and task networks are checked")
	}
	for _, o := range []ownedTask{ta, tb} {
		cs := containersOf(t, d, o.arn)
		if len(cs) != 1 || cs[0].Labels[driver.LabelOwner] == "" {
			t.Fatalf("task %s's container carries no owner: %+v", o.arn, cs)
		}
	}
	if ownA, ownB := containersOf(t, d, ta.arn)[0].Labels[driver.LabelOwner], containersOf(t, d, tb.arn)[0].Labels[driver.LabelOwner]; ownA == ownB {
		t.Fatalf("both servers label their containers %q", ownA)
	}

	b.kill()
	b = startBerth(t, dirB, "--agent-disconnect-timeout", "2m")
	cb = ecsClient(b.URL)
	restarted := time.Now()
	// b adopts its own task (the same container) ...
	eventually(t, 30*time.Second, func() (bool, string) {
		tk := describeTask(t, cb, cluster, tb.arn)
		return aws.ToString(tk.LastStatus) == "RUNNING" && aws.ToString(tk.Containers[0].RuntimeId) == tb.ctrID && strings.Contains(b.log.String(), "adopted task"),
			fmt.Sprintf("b's task after b's restart: %s in %s; log:\n%s", aws.ToString(tk.LastStatus), aws.ToString(tk.Containers[0].RuntimeId), logs())
	})
	// ... and leaves a's alone, also once its orphan grace is over: an
	// absence, checked every second through the grace period.
	idA := ta.arn[strings.LastIndexByte(ta.arn, '/')+1:]
	for time.Since(restarted) < runner.DefaultOrphanGrace+10*time.Second {
		if strings.Contains(b.log.String(), idA) {
			t.Fatalf("b handled a's task %s; log:\n%s", idA, b.log.String())
		}
		ta.intact(t, d, "a")
		tb.intact(t, d, "b")
		for _, x := range []struct {
			c   *ecs.Client
			arn string
		}{{ca, ta.arn}, {cb, tb.arn}} {
			if tk := describeTask(t, x.c, cluster, x.arn); aws.ToString(tk.LastStatus) != "RUNNING" {
				t.Fatalf("task %s is %s (%s); log:\n%s", x.arn, aws.ToString(tk.LastStatus), aws.ToString(tk.StoppedReason), logs())
			}
		}
		time.Sleep(time.Second)
	}
	for _, x := range []struct {
		c   *ecs.Client
		arn string
	}{{ca, ta.arn}, {cb, tb.arn}} {
		if _, err := x.c.StopTask(t.Context(), &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(x.arn)}); err != nil {
			t.Fatal(err)
		}
	}
	waitStatus(t, ca, cluster, ta.arn, "STOPPED", logs)
	waitStatus(t, cb, cluster, tb.arn, "STOPPED", logs)
}
