package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// secondHost makes a network namespace joined to this one by a veth pair:
// a second host as far as networking goes. It returns the host-side and the
// namespace-side addresses and the command prefix that runs in it.
func secondHost(t *testing.T) (hostIP, nsIP string, wrap []string) {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespaces are required in CI: %s", msg)
		}
		t.Skipf("SKIPPING: cannot make a second host in a network namespace: %s", msg)
	}
	if os.Geteuid() != 0 {
		skip("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skip("no ip command (apt-get install iproute2)")
	}
	n := os.Getpid()%200 + 20
	ns := fmt.Sprintf("berth-e2e-%d", n)
	vh, vn := fmt.Sprintf("bvh%d", n), fmt.Sprintf("bvn%d", n)
	hostIP, nsIP = fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	_ = ip("netns", "del", ns)
	_ = ip("link", "del", vh)
	if err := ip("netns", "add", ns); err != nil {
		skip("%v", err)
	}
	t.Cleanup(func() {
		_ = ip("netns", "del", ns)
		_ = ip("link", "del", vh)
	})
	for _, args := range [][]string{
		{"link", "add", vh, "type", "veth", "peer", "name", vn},
		{"link", "set", vn, "netns", ns},
		{"addr", "add", hostIP + "/30", "dev", vh},
		{"link", "set", vh, "up"},
		{"netns", "exec", ns, "ip", "addr", "add", nsIP + "/30", "dev", vn},
		{"netns", "exec", ns, "ip", "link", "set", vn, "up"},
		{"netns", "exec", ns, "ip", "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			skip("%v", err)
		}
	}
	return hostIP, nsIP, []string{"ip", "netns", "exec", ns}
}

// TestAgentOnSecondHost runs `berth agent` in its own network namespace,
// reaching the server only over a veth pair, as a second machine would.
func TestAgentOnSecondHost(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	hostIP, nsIP, wrap := secondHost(t)
	addr := net.JoinHostPort(hostIP, fmt.Sprint(freePortOn(t, hostIP)))
	p := startBerthAt(t, addr, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("remote")}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, p.URL, "remote", t.TempDir(), wrap)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	ci := waitInstance(t, c, "remote", true, logs)
	if _, err := c.RegisterTaskDefinition(ctx, ec2Definition(image)); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("remote"), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(run.Tasks) != 1 || aws.ToString(run.Tasks[0].ContainerInstanceArn) != aws.ToString(ci.ContainerInstanceArn) {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitStatus(t, c, "remote", arn, "RUNNING", logs)
	t.Logf("agent at %s (its own network namespace) runs %s for the server at %s", nsIP, arn, addr)
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("remote"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, "remote", arn, "STOPPED", logs)
}

func freePortOn(t *testing.T, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
