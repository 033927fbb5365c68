package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/runner"
)

// cluster of berth servers on one etcd.
type etcdCluster struct {
	t       *testing.T
	cli     *clientv3.Client
	ns      string
	store   string // the --store value
	servers []*proc
}

func newEtcdCluster(t *testing.T) *etcdCluster {
	t.Helper()
	srv, err := etcdserver.Start(t.Context(), etcdserver.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ns := fmt.Sprintf("/e2e-%d", time.Now().UnixNano())
	return &etcdCluster{t: t, cli: cli, ns: ns, store: "etcd://" + strings.TrimPrefix(srv.Endpoints()[0], "http://") + ns}
}

// start starts one more berth server on the shared etcd.
func (c *etcdCluster) start(extra ...string) *proc {
	c.t.Helper()
	p := startBerth(c.t, c.t.TempDir(), append([]string{"--store", c.store}, extra...)...)
	c.servers = append(c.servers, p)
	return p
}

// leader returns the server whose identity holds the controllers'
// election (the oldest candidate key), or nil.
func (c *etcdCluster) leader(ctx context.Context) *proc {
	resp, err := c.cli.Get(ctx, c.ns+"/_leader/controllers/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) == 0 {
		return nil
	}
	id := string(resp.Kvs[0].Value) // host/pid/listen
	for _, p := range c.servers {
		if p.cmd.ProcessState == nil && strings.HasSuffix(id, "/"+p.Addr) {
			return p
		}
	}
	return nil
}

// waitLeader waits (on a watch of the election) for a live leader other
// than not, and returns it and when it was seen.
func (c *etcdCluster) waitLeader(not *proc, within time.Duration) (*proc, time.Time) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), within)
	defer cancel()
	wch := c.cli.Watch(ctx, c.ns+"/_leader/controllers/", clientv3.WithPrefix())
	for {
		if l := c.leader(ctx); l != nil && l != not {
			return l, time.Now()
		}
		select {
		case <-wch:
		case <-ctx.Done():
			var logs strings.Builder
			for i, p := range c.servers {
				fmt.Fprintf(&logs, "\nserver %d (%s):\n%s", i, p.Addr, p.log.String())
			}
			c.t.Fatalf("no leader other than %v within %v%s", not, within, logs.String())
		}
	}
}

// TestThreeServersOneEtcd runs three berth servers on one etcd: each
// answers the API, one runs the controllers. RunTask through one server
// is seen through another; when the leader is killed with SIGKILL while
// tasks run, another server leads within seconds and its controllers carry
// on: every task keeps running in its one container, new tasks run, and no
// task is lost or duplicated.
func TestThreeServersOneEtcd(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	ec := newEtcdCluster(t)
	ctx := t.Context()
	const disconnect = 5 * time.Second
	flags := []string{"--agent-disconnect-timeout", disconnect.String()}

	a := ec.start(flags...)
	if l, _ := ec.waitLeader(nil, 30*time.Second); l != a {
		t.Fatalf("the first server does not lead")
	}
	b := ec.start(flags...)
	c := ec.start(flags...)
	logs := func() string {
		return "server A:\n" + a.log.String() + "\nserver B:\n" + b.log.String() + "\nserver C:\n" + c.log.String()
	}
	ca, cb, cc := ecsClient(a.URL), ecsClient(b.URL), ecsClient(c.URL)

	cluster := fmt.Sprintf("multi-%d", time.Now().UnixNano()%1e9)
	if _, err := ca.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	for _, def := range []*ecs.RegisterTaskDefinitionInput{ec2Definition(image), ec2AndFargateDefinition(image)} {
		if _, err := ca.RegisterTaskDefinition(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	// The agent of an EC2 instance talks to B, which does not lead.
	agent := startAgent(t, b.URL, cluster, t.TempDir(), nil)
	alogs := func() string { return "agent:\n" + agent.log.String() + "\n" + logs() }
	waitInstance(t, cb, cluster, true, alogs)

	var arns []string
	track := func(out *ecs.RunTaskOutput, err error, n int) {
		t.Helper()
		if err != nil || len(out.Tasks) != n {
			t.Fatalf("RunTask: %+v %v\n%s", out, err, alogs())
		}
		for _, tk := range out.Tasks {
			arn := aws.ToString(tk.TaskArn)
			arns = append(arns, arn)
			t.Cleanup(func() { cleanupTask(d, arn) })
		}
	}
	runEC2 := func(cl *ecs.Client, n int32) {
		t.Helper()
		out, err := cl.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2, Count: aws.Int32(n)})
		track(out, err, int(n))
	}
	runFargate := func(cl *ecs.Client) {
		t.Helper()
		out, err := cl.RunTask(ctx, &ecs.RunTaskInput{
			Cluster: aws.String(cluster), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		})
		track(out, err, 1)
	}

	// RunTask through A; DescribeTasks through B sees the tasks run.
	runEC2(ca, 2)
	runFargate(ca)
	runtimeIDs := map[string]string{}
	for _, arn := range arns {
		tk := waitStatus(t, cb, cluster, arn, "RUNNING", alogs)
		runtimeIDs[arn] = aws.ToString(tk.Containers[0].RuntimeId)
	}

	// kill -9 the leader while the tasks run.
	killed := time.Now()
	a.kill()
	next, at := ec.waitLeader(a, 30*time.Second)
	t.Logf("new leader %s after %v", next.Addr, at.Sub(killed).Round(time.Millisecond))
	other := b
	if next == b {
		other = c
	}
	cn, co := ecsClient(next.URL), ecsClient(other.URL)

	// The new leader's controllers carry on: new tasks through either
	// remaining server run, EC2 and Fargate (the managed capacity is
	// leader-run).
	runEC2(cn, 1)
	runFargate(co)
	for _, arn := range arns[3:] {
		tk := waitStatus(t, cc, cluster, arn, "RUNNING", alogs)
		runtimeIDs[arn] = aws.ToString(tk.Containers[0].RuntimeId)
	}
	// Past the agent-disconnect timeout, every task still runs in the
	// container it started in: nothing was stopped, restarted or lost.
	if wait := disconnect + 2*time.Second - time.Since(killed); wait > 0 {
		time.Sleep(wait) // the absence of a stop can only be seen by waiting
	}
	checkTasks(t, co, d, cluster, arns, runtimeIDs, alogs)
	checkTasks(t, cn, d, cluster, arns, runtimeIDs, alogs)

	// And they stop when asked, through the non-leader.
	for _, arn := range arns {
		if _, err := co.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, arn := range arns {
		waitStatus(t, cn, cluster, arn, "STOPPED", alogs)
	}
}

// checkTasks checks that the cluster lists exactly arns, each RUNNING in
// its one known container.
func checkTasks(t *testing.T, c *ecs.Client, d *docker.Driver, cluster string, arns []string, runtimeIDs map[string]string, logs func() string) {
	t.Helper()
	ctx := t.Context()
	list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(slices.Values(list.TaskArns)), slices.Sorted(slices.Values(arns)); !slices.Equal(got, want) {
		t.Fatalf("ListTasks = %q, want %q\n%s", got, want, logs())
	}
	out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns})
	if err != nil || len(out.Tasks) != len(arns) {
		t.Fatalf("DescribeTasks: %+v %v", out, err)
	}
	for _, tk := range out.Tasks {
		arn := aws.ToString(tk.TaskArn)
		if aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.Containers[0].RuntimeId) != runtimeIDs[arn] {
			t.Fatalf("task %s is %s in %s (%q), want RUNNING in %s\n%s", arn, aws.ToString(tk.LastStatus),
				aws.ToString(tk.Containers[0].RuntimeId), aws.ToString(tk.StoppedReason), runtimeIDs[arn], logs())
		}
		cs := containersOf(t, d, arn)
		if len(cs) != 1 || cs[0].ID != runtimeIDs[arn] || cs[0].Status != driver.StatusRunning {
			t.Fatalf("containers of %s: %+v, want one running %s", arn, cs, runtimeIDs[arn])
		}
	}
}

// TestFailoverKeepsTheDisconnectCount: the agent-disconnect timeout of an
// agent that left counts from its recorded disconnection, not from when a
// new leader took over. The agent (connected to B) is killed, the leader A
// is killed most of a timeout later, and the task is stopped by the new
// leader one timeout after the agent left, long before a timeout after
// the takeover.
func TestFailoverKeepsTheDisconnectCount(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	ec := newEtcdCluster(t)
	ctx := t.Context()
	const timeout = 20 * time.Second
	flags := []string{"--agent-disconnect-timeout", timeout.String()}
	a := ec.start(flags...)
	if l, _ := ec.waitLeader(nil, 30*time.Second); l != a {
		t.Fatal("the first server does not lead")
	}
	b := ec.start(flags...)
	cb := ecsClient(b.URL)
	cluster := fmt.Sprintf("failover-%d", time.Now().UnixNano()%1e9)
	if _, err := cb.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.RegisterTaskDefinition(ctx, ec2Definition(image)); err != nil {
		t.Fatal(err)
	}
	agent := startAgent(t, b.URL, cluster, t.TempDir(), nil)
	logs := func() string {
		return "agent:\n" + agent.log.String() + "\nA:\n" + a.log.String() + "\nB:\n" + b.log.String()
	}
	waitInstance(t, cb, cluster, true, logs)
	out, err := cb.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", out, err)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitStatus(t, cb, cluster, arn, "RUNNING", logs)

	agent.kill()
	left := time.Now()
	waitInstance(t, cb, cluster, false, logs)
	// Most of the timeout later, the leader dies.
	time.Sleep(time.Until(left.Add(timeout * 3 / 4))) // the failover must come late in the count
	a.kill()
	next, took := ec.waitLeader(a, 30*time.Second)
	if next != b {
		t.Fatalf("leader after A: %v", next)
	}
	tk := waitStatus(t, cb, cluster, arn, "STOPPED", logs)
	stopped := aws.ToTime(tk.StoppedAt)
	t.Logf("agent left, leader killed %v later, B led %v later, task stopped %v after the agent left",
		(timeout * 3 / 4), took.Sub(left).Round(time.Millisecond), stopped.Sub(left).Round(time.Millisecond))
	if got := aws.ToString(tk.StoppedReason); !strings.Contains(got, "disconnected") {
		t.Fatalf("stopped for %q", got)
	}
	if stopped.Before(left.Add(timeout - time.Second)) {
		t.Fatalf("stopped %v after the agent left, before the timeout %v", stopped.Sub(left), timeout)
	}
	// A restarted count would stop it a whole timeout after the takeover.
	if !stopped.Before(took.Add(timeout - 2*time.Second)) {
		t.Fatalf("stopped %v after the new leader took over: the count restarted (agent left %v before the takeover)\n%s",
			stopped.Sub(took), took.Sub(left), logs())
	}
}

// TestContainerRemovedDuringFailover: a Fargate task's container removed
// while no server leads (the leader killed, the next not yet elected) is
// reported removed by the new leader's managed agent, which knows what the
// old one created (the runners' ledger is in the shared store): the task
// stops, as on one server (TestContainerRemovedWhileServerDown), and
// nothing is created in its place.
func TestContainerRemovedDuringFailover(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	ec := newEtcdCluster(t)
	a := ec.start()
	if l, _ := ec.waitLeader(nil, 30*time.Second); l != a {
		t.Fatal("the first server does not lead")
	}
	b := ec.start()
	cb := ecsClient(b.URL)
	logs := func() string { return "A:\n" + a.log.String() + "\nB:\n" + b.log.String() }
	cluster := uniqueName("rmfailover")
	if _, err := cb.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.RegisterTaskDefinition(t.Context(), ec2AndFargateDefinition(image)); err != nil {
		t.Fatal(err)
	}
	o := runFargate(t, d, cb, cluster, logs)
	a.kill()
	if err := d.RemoveContainer(t.Context(), o.ctrID); err != nil {
		t.Fatal(err)
	}
	if next, _ := ec.waitLeader(a, 30*time.Second); next != b {
		t.Fatalf("leader after A: %v", next)
	}
	tk := waitStatus(t, cb, cluster, o.arn, "STOPPED", logs)
	web := tk.Containers[0]
	if aws.ToString(tk.StoppedReason) != "Essential container in task exited" || tk.StopCode != "EssentialContainerExited" ||
		aws.ToString(web.Reason) != runner.ReasonContainerRemoved || aws.ToString(web.RuntimeId) != o.ctrID {
		t.Fatalf("after the failover: %s %q, container %s %q in %s\n%s", tk.StopCode, aws.ToString(tk.StoppedReason),
			aws.ToString(web.LastStatus), aws.ToString(web.Reason), aws.ToString(web.RuntimeId), logs())
	}
	if cs := containersOf(t, d, o.arn); len(cs) != 0 {
		t.Fatalf("containers of the task after the failover: %+v", cs)
	}
}
