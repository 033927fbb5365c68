package ecscp_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// TestClusterLifecycle: create, update settings (merged by name), refuse
// to delete while an instance is registered, delete once it is gone.
func TestClusterLifecycle(t *testing.T) {
	ctx := t.Context()
	plane, _ := newPlane(t)
	if _, err := plane.CreateCluster(ctx, sc, ecscp.ClusterSpec{Name: "bad name!"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad name: %v", err)
	}
	cl, err := plane.CreateCluster(ctx, sc, ecscp.ClusterSpec{Name: "k", Tags: []ecs.Tag{{Key: "team", Value: "a"}}})
	if err != nil || cl.Status != ecs.ClusterActive {
		t.Fatalf("create: %+v %v", cl, err)
	}
	if tags, err := plane.Tags(ctx, cl.ARN); err != nil || len(tags) != 1 {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	cl, err = plane.UpdateCluster(ctx, sc, cl.ARN, ecscp.ClusterUpdate{Settings: []ecs.ClusterSetting{{Name: "containerInsights", Value: "enabled"}}})
	if err != nil || len(cl.Settings) != 1 || cl.Settings[0].Value != "enabled" {
		t.Fatalf("update: %+v %v", cl, err)
	}
	if _, err := plane.UpdateCluster(ctx, sc, "", ecscp.ClusterUpdate{}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("update without a cluster: %v", err)
	}
	ci, _, err := plane.RegisterContainerInstance(ctx, sc, ecscp.Registration{
		Cluster: "k",
		TotalResources: []ecs.Resource{
			{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
			{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cc, err := plane.ClusterCounts(ctx, sc, cl); err != nil || cc.RegisteredContainerInstances != 1 {
		t.Fatalf("counts: %+v %v", cc, err)
	}
	if _, err := plane.DeleteCluster(ctx, sc, "k"); !fault.Is(err, fault.InUse) {
		t.Fatalf("delete with an instance: %v", err)
	}
	if _, err := plane.DeregisterContainerInstance(ctx, sc, "k", ci.ARN, false); err != nil {
		t.Fatal(err)
	}
	cl, err = plane.DeleteCluster(ctx, sc, "k")
	if err != nil || cl.Status != ecs.ClusterInactive {
		t.Fatalf("delete: %+v %v", cl, err)
	}
}

// TestTaskDefinitionLifecycle: register two revisions, list, refuse to
// delete an ACTIVE one, deregister then delete it.
func TestTaskDefinitionLifecycle(t *testing.T) {
	ctx := t.Context()
	plane, _ := newPlane(t)
	mem := 128
	td := ecs.TaskDefinition{Family: "api", ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", Memory: &mem}}}
	for range 2 {
		if _, err := plane.RegisterTaskDefinition(ctx, sc, td, nil); err != nil {
			t.Fatal(err)
		}
	}
	arns, err := plane.ListTaskDefinitions(ctx, sc, "api", "", "DESC")
	if err != nil || len(arns) != 2 || arns[0] != sc.TaskDefinitionARN("api", 2) {
		t.Fatalf("list: %v %v", arns, err)
	}
	if _, err := plane.ListTaskDefinitions(ctx, sc, "", "ALL", ""); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("status ALL on ListTaskDefinitions: %v", err)
	}
	done, failures, err := plane.DeleteTaskDefinitions(ctx, sc, []string{"api:1", "api"})
	if err != nil || len(done) != 0 || len(failures) != 2 {
		t.Fatalf("delete ACTIVE: %+v %+v %v", done, failures, err)
	}
	if _, err := plane.DeregisterTaskDefinition(ctx, sc, "api:1"); err != nil {
		t.Fatal(err)
	}
	done, failures, err = plane.DeleteTaskDefinitions(ctx, sc, []string{"api:1"})
	if err != nil || len(done) != 1 || done[0].Status != ecs.TaskDefDeleteProgress || len(failures) != 0 {
		t.Fatalf("delete INACTIVE: %+v %+v %v", done, failures, err)
	}
	fams, err := plane.ListTaskDefinitionFamilies(ctx, sc, "", "ALL")
	if err != nil || len(fams) != 1 || fams[0] != "api" {
		t.Fatalf("families: %v %v", fams, err)
	}
}
