package ecscp_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

// newPlane builds what the composition root builds, over a fresh bbolt
// store and a fixed clock, and runs it until the test ends.
func newPlane(t *testing.T) (*ecscp.Plane, *ecsstore.Repo) {
	t.Helper()
	return newPlaneWith(t, nil)
}

// newPlaneWith is newPlane with the configuration edited by edit.
func newPlaneWith(t *testing.T, edit func(*ecscp.Config)) (*ecscp.Plane, *ecsstore.Repo) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo := ecsstore.New(st)
	cache := ecscache.New(st, nil)
	placer := placement.New(repo, cache, nil)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := ecscp.Config{Repo: repo, Cache: cache, Placer: placer, Now: func() time.Time { return now }}
	if edit != nil {
		edit(&cfg)
	}
	plane := ecscp.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cache.Run(ctx) })
	wg.Go(func() { _ = placer.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		st.Close()
	})
	return plane, repo
}

// setup creates cluster c, a task definition web:1 (256 CPU, 512 MiB) and
// one instance of 1024 CPU and 1024 MiB, registered through the plane.
func setup(t *testing.T, plane *ecscp.Plane, repo *ecsstore.Repo) *ecs.ContainerInstance {
	t.Helper()
	ctx := t.Context()
	if _, _, err := repo.CreateCluster(ctx, sc, ecs.NewCluster(sc, "c", plane.Now()), nil); err != nil {
		t.Fatal(err)
	}
	mem := 512
	td := ecs.TaskDefinition{
		Family: "web", NetworkMode: ecs.NetworkBridge, RequiresCompatibilities: []string{ecs.LaunchEC2},
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", CPU: 256, Memory: &mem, Essential: new(true)}},
	}
	if err := ecs.PrepareTaskDefinition(&td); err != nil {
		t.Fatal(err)
	}
	if err := repo.RegisterTaskDefinition(ctx, sc, &td, nil, func(rev int) {
		ecs.NewRevision(sc, &td, rev, "arn:aws:iam::"+sc.Account+":root", plane.Now())
	}); err != nil {
		t.Fatal(err)
	}
	ci, _, err := plane.RegisterContainerInstance(ctx, sc, ecscp.Registration{
		Cluster: "c",
		TotalResources: []ecs.Resource{
			{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
			{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 1024},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Placement takes only instances whose agent is connected.
	if _, err := repo.UpdateInstance(ctx, sc, ecs.InstanceRef{Cluster: "c", ID: ci.ID}, func(i *ecs.ContainerInstance) error {
		i.AgentConnected = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ci
}

// TestTaskLifecycle drives a task through the plane alone, in domain
// types, the way a service scheduler and an agent would: run, report
// RUNNING, describe, stop, report STOPPED; the instance's reservation is
// taken and given back, and a second run fits again at once.
func TestTaskLifecycle(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)

	res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", Count: 2, StartedBy: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tasks) != 2 || len(res.Failures) != 0 {
		t.Fatalf("run: %d tasks, failures %+v", len(res.Tasks), res.Failures)
	}
	// The instance is full (2 × 512 MiB): a third does not fit.
	res3, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web"})
	if err != nil || len(res3.Tasks) != 0 || len(res3.Failures) != 1 {
		t.Fatalf("run on a full instance: %+v %v", res3, err)
	}

	task := res.Tasks[0].Task
	if err := plane.SubmitTaskStateChange(ctx, sc, "c", task.ARN, ecscp.TaskChange{
		Status:     ecs.TaskRunning,
		Containers: []ecscp.ContainerChange{{Name: "app", Status: ecs.TaskRunning, RuntimeID: "r1", NetworkBindings: []ecs.NetworkBinding{}}},
	}); err != nil {
		t.Fatal(err)
	}
	got, failures, err := plane.DescribeTasks(ctx, sc, "c", []string{task.ID, "missing"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Task.LastStatus != ecs.TaskRunning || got[0].Task.Containers[0].RuntimeID != "r1" {
		t.Fatalf("described after RUNNING: %+v", got)
	}
	if len(failures) != 1 || failures[0].Reason != ecs.ReasonMissing {
		t.Fatalf("failures: %+v", failures)
	}
	arns, err := plane.ListTasks(ctx, sc, ecscp.TaskFilter{Cluster: "c", StartedBy: "svc"})
	if err != nil || len(arns) != 2 {
		t.Fatalf("list: %v %v", arns, err)
	}

	stopped, err := plane.StopTask(ctx, sc, "c", task.ARN, "scale in")
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Task.DesiredStatus != ecs.TaskStopped || stopped.Task.StoppedReason != "scale in" {
		t.Fatalf("stop: %+v", stopped.Task)
	}
	if err := plane.SubmitTaskStateChange(ctx, sc, "c", task.ARN, ecscp.TaskChange{Status: ecs.TaskStopped}); err != nil {
		t.Fatal(err)
	}
	// Read your writes: the released memory is there for the next run.
	res4, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web"})
	if err != nil || len(res4.Tasks) != 1 {
		t.Fatalf("run after the stop: %+v %v", res4, err)
	}
	arns, err = plane.ListTasks(ctx, sc, ecscp.TaskFilter{Cluster: "c", DesiredStatus: ecs.TaskStopped})
	if err != nil || len(arns) != 1 || arns[0] != task.ARN {
		t.Fatalf("stopped tasks: %v %v", arns, err)
	}

	// A forced deregistration stops what runs there.
	if _, err := plane.DeregisterContainerInstance(ctx, sc, "c", ci.ARN, false); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("deregistration with tasks, without force: %v", err)
	}
	if _, err := plane.DeregisterContainerInstance(ctx, sc, "c", ci.ARN, true); err != nil {
		t.Fatal(err)
	}
	arns, err = plane.ListTasks(ctx, sc, ecscp.TaskFilter{Cluster: "c"})
	if err != nil || len(arns) != 0 {
		t.Fatalf("tasks still running after the forced deregistration: %v %v", arns, err)
	}
}

// TestRunTaskValidation: bad requests get InvalidParameter-style faults
// before anything is written.
func TestRunTaskValidation(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	setup(t, plane, repo)
	for _, in := range []ecscp.RunInput{
		{Cluster: "c", TaskDefinition: "web", Count: 11},
		{Cluster: "c", TaskDefinition: "web", LaunchType: "MOON"},
		{Cluster: "c", TaskDefinition: "web", LaunchType: ecs.LaunchEC2, CapacityProviderStrategy: []ecs.CapacityProviderStrategy{{CapacityProvider: "FARGATE"}}},
		{Cluster: "c", TaskDefinition: "web", ClientToken: string(make([]byte, 65))},
		{Cluster: "c", TaskDefinition: "web", PropagateTags: "SOMETIMES"},
	} {
		if _, err := plane.RunTask(ctx, sc, in); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("RunTask(%+v): %v, want InvalidParameter", in, err)
		}
	}
	if _, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "nope", TaskDefinition: "web"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("RunTask on a missing cluster: %v", err)
	}
	arns, err := plane.ListTasks(ctx, sc, ecscp.TaskFilter{Cluster: "c"})
	if err != nil || len(arns) != 0 {
		t.Fatalf("tasks after refused runs: %v %v", arns, err)
	}
}
