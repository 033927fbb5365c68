package controller

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestTargetsOfBridgeTaskIsInstanceTarget: a bridge task's target is its
// container instance's EC2 ID and the IPv4 host port its container port
// is published on; an awsvpc task's is its address and container port; a
// task with neither has none.
func TestTargetsOfBridgeTaskIsInstanceTarget(t *testing.T) {
	port := 8080
	const tg = "arn:aws:elasticloadbalancing:r:1:targetgroup/web/1"
	svc := &ecs.Service{LoadBalancers: []ecs.LoadBalancer{{TargetGroupARN: tg, ContainerName: "web", ContainerPort: &port}}}
	hosts := map[string]string{"ci-1": "i-0123456789abcdef0"}
	bridge := &ecs.Task{ContainerInstanceARN: "ci-1", Containers: []ecs.Container{
		{Name: "sidecar", NetworkBindings: []ecs.NetworkBinding{{BindIP: "0.0.0.0", ContainerPort: 8080, HostPort: 31000, Protocol: "tcp"}}},
		{Name: "web", NetworkBindings: []ecs.NetworkBinding{
			{BindIP: "::", ContainerPort: 8080, HostPort: 32769, Protocol: "tcp"},
			{BindIP: "0.0.0.0", ContainerPort: 8080, HostPort: 32768, Protocol: "tcp"},
		}},
	}}
	if got := targetsOf(svc, bridge, hosts)[tg]; got != (Target{ID: "i-0123456789abcdef0", Port: 32768}) {
		t.Fatalf("bridge task target %+v", got)
	}
	awsvpc := &ecs.Task{ContainerInstanceARN: "ci-1", Containers: []ecs.Container{{Name: "web",
		NetworkInterfaces: []ecs.NetworkInterface{{PrivateIPv4Address: "10.0.0.7"}}}}}
	if got := targetsOf(svc, awsvpc, hosts)[tg]; got != (Target{ID: "10.0.0.7", Port: 8080}) {
		t.Fatalf("awsvpc task target %+v", got)
	}
	pending := &ecs.Task{ContainerInstanceARN: "ci-1", Containers: []ecs.Container{{Name: "web"}}}
	if got, ok := targetsOf(svc, pending, hosts)[tg]; ok {
		t.Fatalf("a task without a binding has target %+v", got)
	}
	elsewhere := &ecs.Task{ContainerInstanceARN: "ci-2", Containers: bridge.Containers}
	if got, ok := targetsOf(svc, elsewhere, hosts)[tg]; ok {
		t.Fatalf("a task on an unknown instance has target %+v", got)
	}
}
