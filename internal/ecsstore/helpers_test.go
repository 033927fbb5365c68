package ecsstore

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

var testScope = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

func openBolt(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newCluster creates cluster c with one registered, connected instance of
// 1024 CPU units and mem MiB, and returns the instance.
func newCluster(t *testing.T, r *Repo, mem int) *ecs.ContainerInstance {
	t.Helper()
	ctx := t.Context()
	cl, _, err := r.CreateCluster(ctx, testScope, ecs.NewCluster(testScope, "c", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := ecs.NewContainerInstance(testScope, cl, ecs.InstanceRegistration{EC2InstanceID: "i-1", CPU: 1024, Memory: mem}, "0123456789abcdef0123456789abcdef", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterInstance(ctx, testScope, ci, nil); err != nil {
		t.Fatal(err)
	}
	return ci
}

// placeOne commits one task of group g reserving res on the cluster's
// instance, the way a placement does.
func placeOne(ctx context.Context, r *Repo, id, g string, res ecs.TaskResources) (*ecs.Task, error) {
	var task *ecs.Task
	err := storeutil.Retry(ctx, func() error {
		_, crev, err := r.ActiveClusterRev(ctx, testScope, "c")
		if err != nil {
			return err
		}
		rec, err := r.readInstance(ctx, testScope, "c", "0123456789abcdef0123456789abcdef")
		if err != nil {
			return err
		}
		ci, groups := rec.current()
		if err := ci.Reserve(res); err != nil {
			return err
		}
		groups = maps.Clone(groups)
		if groups == nil {
			groups = GroupCounts{}
		}
		groups[g]++
		task = &ecs.Task{ARN: testScope.TaskARN("c", id), ID: id, ClusterARN: testScope.ClusterARN("c"), Group: g, LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning}
		task.AssignInstance(ci)
		_, err = r.CommitPlacement(ctx, testScope, &PlacementCommit{
			Cluster: "c", ClusterRev: crev, Tasks: []NewTask{{Task: task}},
			Instances: []ChargedInstance{{ID: ci.ID, RecordRev: rec.baseRev, StateRev: rec.stRev, State: &StateRecord{Remaining: ci.RemainingResources, Version: ci.Version, Groups: groups}}},
		})
		return err
	})
	return task, err
}

// setStatus moves a task to a last status.
func setStatus(t *testing.T, r *Repo, id, status string) {
	t.Helper()
	_, err := r.UpdateTask(t.Context(), testScope, "c", id, func(tk *ecs.Task) error {
		tk.LastStatus = status
		if status == ecs.TaskStopped {
			tk.DesiredStatus = ecs.TaskStopped
		}
		return nil
	}, func(context.Context, *ecs.Task) (ecs.TaskResources, error) {
		return ecs.TaskResources{CPU: 1, Memory: 1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlacementCommitAndRelease: a committed placement charges the
// instance's state record; a stop releases it; a commit on records read
// before a change conflicts and writes nothing.
func TestPlacementCommitAndRelease(t *testing.T) {
	ctx := t.Context()
	r := New(openBolt(t))
	ci := newCluster(t, r, 1024)
	res := ecs.TaskResources{CPU: 256, Memory: 256}
	if _, err := placeOne(ctx, r, "t1", "family:web", res); err != nil {
		t.Fatal(err)
	}
	got, err := r.Instance(ctx, testScope, ecs.InstanceRef{Cluster: "c", ID: ci.ID})
	if err != nil {
		t.Fatal(err)
	}
	if cpu, mem := got.Remaining(); cpu != 768 || mem != 768 {
		t.Fatalf("after placement: %d CPU %d MiB", cpu, mem)
	}
	groups, err := r.InstanceGroups(ctx, testScope, "c")
	if err != nil || len(groups[ci.ID]) != 1 {
		t.Fatalf("groups: %v %v", groups, err)
	}
	// A stale commit: the state record moved since.
	rec, err := r.readInstance(ctx, testScope, "c", ci.ID)
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, r, "t1", ecs.TaskStopped)
	_, err = r.CommitPlacement(ctx, testScope, &PlacementCommit{
		Cluster: "c", ClusterRev: 0,
		Instances: []ChargedInstance{{ID: ci.ID, RecordRev: rec.baseRev, StateRev: rec.stRev, State: rec.st}},
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale commit: %v", err)
	}
	got, _ = r.Instance(ctx, testScope, ecs.InstanceRef{Cluster: "c", ID: ci.ID})
	if cpu, _ := got.Remaining(); cpu != 768+1 { // setStatus releases 1 CPU unit
		t.Fatalf("after stop: %d CPU", cpu)
	}
}
