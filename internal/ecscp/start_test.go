package ecscp_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// TestStartTaskLaunchTypeOfTheInstances: StartTask's tasks take the
// launch type of the instances they are started on: EXTERNAL on an
// external (ECS Anywhere) instance; a task definition not compatible with
// it, or a call mixing external and EC2 instances, is refused with
// InvalidParameterException, as ECS refuses it.
func TestStartTaskLaunchTypeOfTheInstances(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ec2 := setup(t, plane, repo)
	ext, _, err := plane.RegisterContainerInstance(ctx, sc, ecscp.Registration{
		Cluster:    "c",
		Attributes: []ecs.Attribute{{Name: ecs.AttrExternal}},
		TotalResources: []ecs.Resource{
			{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
			{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ext.EC2InstanceID, "mi-") {
		t.Fatalf("external instance registered as %q", ext.EC2InstanceID)
	}
	if err := plane.SetAgentConnected(ctx, ext.ARN, true, nil); err != nil {
		t.Fatal(err)
	}
	// An awsvpc definition is not EXTERNAL-compatible.
	mem := 256
	if _, err := plane.RegisterTaskDefinition(ctx, sc, ecs.TaskDefinition{
		Family: "vpc", NetworkMode: ecs.NetworkAwsvpc,
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", Memory: &mem, Essential: new(true)}},
	}, nil); err != nil {
		t.Fatal(err)
	}

	res, err := plane.StartTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", ContainerInstances: []string{ext.ARN}})
	if err != nil || len(res.Tasks) != 1 || res.Tasks[0].Task.LaunchType != ecs.LaunchExternal {
		t.Fatalf("StartTask of a bridge definition on the external instance: %+v %v; want one EXTERNAL task", res, err)
	}
	res, err = plane.StartTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", ContainerInstances: []string{ec2.ARN}})
	if err != nil || len(res.Tasks) != 1 || res.Tasks[0].Task.LaunchType != ecs.LaunchEC2 {
		t.Fatalf("StartTask on the EC2 instance: %+v %v; want one EC2 task", res, err)
	}
	for name, in := range map[string]ecscp.RunInput{
		"not EXTERNAL-compatible": {Cluster: "c", TaskDefinition: "vpc", ContainerInstances: []string{ext.ARN}},
		"mixed instances":         {Cluster: "c", TaskDefinition: "web", ContainerInstances: []string{ext.ARN, ec2.ARN}},
	} {
		if res, err := plane.StartTask(ctx, sc, in); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("%s: %+v %v; want InvalidParameterException", name, res, err)
		}
	}
}

// TestStartTaskClientToken: the service scheduler's DAEMON starts go
// through StartTask with a client token; the same token starts no second
// task (a successor leader deciding on the same state gets the first
// one's task back).
func TestStartTaskClientToken(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)
	start := func(token string) string {
		t.Helper()
		res, err := plane.StartTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", ContainerInstances: []string{ci.ARN}, ClientToken: token})
		if err != nil || len(res.Tasks) != 1 {
			t.Fatalf("StartTask: %+v %v", res, err)
		}
		return res.Tasks[0].Task.ARN
	}
	first := start("daemon-tok")
	if again := start("daemon-tok"); again != first {
		t.Fatalf("the same token started a second task: %s, then %s", first, again)
	}
	if other := start("other-tok"); other == first {
		t.Fatal("another token returned the first task")
	}
}
