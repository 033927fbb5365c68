package ecsstore

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

// TestEncodedTasksCommit: tasks, tags and a client token encoded ahead of
// the commit are written by it as the plain fields would be; a second
// commit of the same token loses its compare and writes nothing.
func TestEncodedTasksCommit(t *testing.T) {
	ctx := t.Context()
	r := New(openBolt(t))
	newCluster(t, r, 1024)
	_, crev, err := r.ActiveClusterRev(ctx, testScope, "c")
	if err != nil {
		t.Fatal(err)
	}
	newTask := func(id string) *ecs.Task {
		return &ecs.Task{ARN: testScope.TaskARN("c", id), ID: id, ClusterARN: testScope.ClusterARN("c"), LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning}
	}
	t1, t2 := newTask("t1"), newTask("t2")
	tags := []ecs.Tag{{Key: "k", Value: "v"}}
	var enc EncodedTasks
	if !enc.Empty() {
		t.Fatal("a new EncodedTasks is not empty")
	}
	enc.EncodeTasks(testScope, "c", []NewTask{{Task: t1, Tags: tags}, {Task: t2}}, &RunToken{Token: "tok", TaskARNs: []string{t1.ARN, t2.ARN}, CreatedAt: time.Now()})
	if _, err := r.CommitPlacement(ctx, testScope, &PlacementCommit{Cluster: "c", ClusterRev: crev, Encoded: &enc}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*ecs.Task{t1, t2} {
		got, err := r.Task(ctx, testScope, "c", want.ID)
		if err != nil || got.ARN != want.ARN {
			t.Fatalf("task %s: %+v %v", want.ID, got, err)
		}
	}
	if got, err := r.Tags(ctx, t1.ARN); err != nil || !slices.Equal(got, tags) {
		t.Fatalf("tags of t1: %v %v", got, err)
	}
	replay, found, err := r.RunTokenTasks(ctx, testScope, "c", "tok")
	if err != nil || !found || len(replay) != 2 {
		t.Fatalf("token: %d tasks, found %v, %v", len(replay), found, err)
	}
	var again EncodedTasks
	again.EncodeTasks(testScope, "c", []NewTask{{Task: newTask("t3")}}, &RunToken{Token: "tok", TaskARNs: []string{testScope.TaskARN("c", "t3")}})
	if _, err := r.CommitPlacement(ctx, testScope, &PlacementCommit{Cluster: "c", ClusterRev: crev, Encoded: &again}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second commit of a token: %v", err)
	}
	if _, err := r.Task(ctx, testScope, "c", "t3"); err == nil {
		t.Fatal("t3 written by a commit that lost its compare")
	}
}
