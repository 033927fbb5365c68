package e2e

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestBridgeServiceBehindALBInstanceTargets runs an ECS service of bridge
// network tasks with dynamic host ports on a `berth agent` host behind an
// ALB whose target group has target type instance: ECS registers the
// container instance's EC2 instance ID with each task's host port, the
// targets turn healthy through real health checks at the host's address,
// and curl through the ALB's DNS name is answered by both tasks.
func TestBridgeServiceBehindALBInstanceTargets(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	e := newELBEnv(t)
	c := ecsClient(e.p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bridge-cluster")}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, e.p.URL, "bridge-cluster", t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + e.p.log.String() }
	ci := waitInstance(t, c, "bridge-cluster", true, logs)
	ec2ID := aws.ToString(ci.Ec2InstanceId)

	_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("bridge-web"), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), Memory: aws.Int32(64), StopTimeout: aws.Int32(2),
			Command:      []string{"sh", "-c", "mkdir -p /www && echo ok > /www/health && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lbv := e.run("create-load-balancer", "--name", "bridge-alb", "--type", "application", "--subnets", "subnet-a", "subnet-b")
	lb, dns := field(t, lbv, "LoadBalancers", "LoadBalancerArn"), field(t, lbv, "LoadBalancers", "DNSName")
	tg := field(t, e.run("create-target-group", "--name", "bridge-tg", "--protocol", "HTTP", "--port", "80",
		"--target-type", "instance", "--vpc-id", "vpc-1", "--health-check-path", "/health",
		"--health-check-interval-seconds", "5", "--healthy-threshold-count", "2"), "TargetGroups", "TargetGroupArn")
	port := freeListenerPort(t)
	e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", fmt.Sprint(port),
		"--default-actions", "Type=forward,TargetGroupArn="+tg)
	if _, err := e.p.aws(t, e.work, "ecs", "create-service", "--cluster", "bridge-cluster", "--service-name", "bridge-web",
		"--task-definition", "bridge-web", "--desired-count", "2", "--launch-type", "EC2",
		"--load-balancers", "targetGroupArn="+tg+",containerName=web,containerPort=8080"); err != nil {
		t.Fatal(err)
	}

	// Both tasks' targets: the instance's EC2 ID with each task's host
	// port, healthy.
	var hostPorts []int
	eventually(t, 90*time.Second, func() (bool, string) {
		th, _ := e.run("describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"].([]any)
		hostPorts = hostPorts[:0]
		var states []string
		for _, x := range th {
			m := x.(map[string]any)
			tgt, h := m["Target"].(map[string]any), m["TargetHealth"].(map[string]any)
			states = append(states, fmt.Sprintf("%v:%v=%v", tgt["Id"], tgt["Port"], h["State"]))
			if tgt["Id"] == ec2ID && h["State"] == "healthy" {
				hostPorts = append(hostPorts, int(tgt["Port"].(float64)))
			}
		}
		return len(hostPorts) == 2, fmt.Sprintf("targets %v (want 2 healthy %s)\n%s", states, ec2ID, logs())
	})
	// They are the host ports the tasks' network bindings show.
	lt, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("bridge-cluster"), ServiceName: aws.String("bridge-web")})
	if err != nil || len(lt.TaskArns) != 2 {
		t.Fatalf("tasks: %+v %v", lt, err)
	}
	dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("bridge-cluster"), Tasks: lt.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	var bound []int
	for _, task := range dt.Tasks {
		for _, nb := range task.Containers[0].NetworkBindings {
			if aws.ToInt32(nb.ContainerPort) == 8080 && !strings.Contains(aws.ToString(nb.BindIP), ":") {
				bound = append(bound, int(aws.ToInt32(nb.HostPort)))
			}
		}
	}
	slices.Sort(bound)
	slices.Sort(hostPorts)
	if !slices.Equal(bound, hostPorts) {
		t.Fatalf("target ports %v, task host ports %v", hostPorts, bound)
	}

	// curl by the load balancer's DNS name (*.localhost is loopback):
	// both tasks answer.
	url := fmt.Sprintf("http://%s:%d/", dns, port)
	seen := map[string]bool{}
	for i := 0; i < 20 && len(seen) < 2; i++ {
		out, err := exec.CommandContext(ctx, "curl", "-sS", "--fail", "--max-time", "5", url).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v: %s\n%s", url, err, out, logs())
		}
		seen[strings.TrimSpace(string(out))] = true
	}
	if len(seen) != 2 {
		t.Fatalf("answered by %v, want both tasks", seen)
	}
}
