package ecscp_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// TestStopLostTask: a lost agent's task is recorded STOPPED with the code
// and reason, and its reservation given back (a full instance takes a task
// again); a task no longer on the instance, or missing, is left alone.
func TestStopLostTask(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)
	res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", Count: 2})
	if err != nil || len(res.Tasks) != 2 {
		t.Fatalf("run: %+v %v", res, err)
	}
	a, b := res.Tasks[0].Task, res.Tasks[1].Task
	if stopped, err := plane.StopLostTask(ctx, sc, "c", a.ID, ci.ARN, "TaskFailedToStart", "agent lost"); err != nil || !stopped {
		t.Fatalf("stopping a lost task: %v %v", stopped, err)
	}
	// Again (a reconciler whose cache lags): nothing to do, and it says so.
	if stopped, err := plane.StopLostTask(ctx, sc, "c", a.ID, ci.ARN, "TaskFailedToStart", "agent lost"); err != nil || stopped {
		t.Fatalf("stopping a STOPPED task again: %v %v, want false", stopped, err)
	}
	if stopped, err := plane.StopLostTask(ctx, sc, "c", b.ID, ci.ARN+"-other", "", "agent lost"); err != nil || stopped {
		t.Fatalf("a task of another instance: %v %v", stopped, err)
	}
	if stopped, err := plane.StopLostTask(ctx, sc, "c", "0123456789abcdef0123456789abcdef", ci.ARN, "", "agent lost"); err != nil || stopped {
		t.Fatalf("missing task: %v %v", stopped, err)
	}
	got, _, err := plane.DescribeTasks(ctx, sc, "c", []string{a.ID, b.ID}, false)
	if err != nil || len(got) != 2 {
		t.Fatalf("describe: %+v %v", got, err)
	}
	for _, tt := range got {
		switch tt.Task.ID {
		case a.ID:
			if tt.Task.LastStatus != ecs.TaskStopped || tt.Task.StoppedReason != "agent lost" || tt.Task.StopCode != "TaskFailedToStart" {
				t.Errorf("lost task: status %s code %q reason %q", tt.Task.LastStatus, tt.Task.StopCode, tt.Task.StoppedReason)
			}
		case b.ID:
			if tt.Task.LastStatus == ecs.TaskStopped {
				t.Errorf("a task of another instance was stopped")
			}
		}
	}
	// a's 512 MiB are free again.
	if res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web"}); err != nil || len(res.Tasks) != 1 {
		t.Fatalf("run after the lost task's stop: %+v %v", res, err)
	}
}

// TestInstanceStateAndAttributes: DRAINING and back, failures for
// unknown instances, and custom attributes put, listed and deleted.
func TestInstanceStateAndAttributes(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)

	if _, _, err := plane.UpdateContainerInstancesState(ctx, sc, "c", []string{ci.ID}, "STOPPED"); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad status: %v", err)
	}
	cis, failures, err := plane.UpdateContainerInstancesState(ctx, sc, "c", []string{ci.ID, "0123456789abcdef0123456789abcdef"}, ecs.InstanceDraining)
	if err != nil {
		t.Fatal(err)
	}
	if len(cis) != 1 || cis[0].Status != ecs.InstanceDraining || len(failures) != 1 || failures[0].Reason != ecs.ReasonMissing {
		t.Fatalf("drain: %+v %+v", cis, failures)
	}

	put, err := plane.PutAttributes(ctx, sc, "c", []ecs.Attribute{{Name: "zone", Value: "a", TargetID: ci.ID}, {Name: "disk", Value: "ssd", TargetID: ci.ARN}})
	if err != nil || len(put) != 2 || put[0].TargetID != ci.ARN || put[0].TargetType != ecscp.AttributeTargetInstance {
		t.Fatalf("put: %+v %v", put, err)
	}
	if _, err := plane.PutAttributes(ctx, sc, "c", []ecs.Attribute{{Name: "x", TargetID: "0123456789abcdef0123456789abcdef"}}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("put on a missing instance: %v", err)
	}
	got, err := plane.ListAttributes(ctx, sc, "c", ecscp.AttributeFilter{TargetType: ecscp.AttributeTargetInstance, Name: "zone"})
	if err != nil || len(got) != 1 || got[0].Value != "a" {
		t.Fatalf("list zone: %+v %v", got, err)
	}
	if _, err := plane.DeleteAttributes(ctx, sc, "c", []ecs.Attribute{{Name: "zone", TargetID: ci.ID}}); err != nil {
		t.Fatal(err)
	}
	if got, err := plane.ListAttributes(ctx, sc, "c", ecscp.AttributeFilter{TargetType: ecscp.AttributeTargetInstance, Name: "zone"}); err != nil || len(got) != 0 {
		t.Fatalf("list zone after delete: %+v %v", got, err)
	}
	if _, err := plane.ListAttributes(ctx, sc, "c", ecscp.AttributeFilter{TargetType: "task"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad target type: %v", err)
	}
}
