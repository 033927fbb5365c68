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
