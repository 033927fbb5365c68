package ecsstore

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// TestDeleteClusterRacesTaskCreation puts a task into the cluster after
// DeleteCluster has counted the cluster's tasks and before it commits, the
// window a concurrent RunTask used to slip through: the delete must see the
// task (and refuse) instead of leaving it in an INACTIVE cluster.
func TestDeleteClusterRacesTaskCreation(t *testing.T) {
	ctx := t.Context()
	st := openBolt(t)
	r := New(st)
	sc := ecs.Scope{Account: "123456789012", Region: "eu-west-1"}
	if _, _, err := r.CreateCluster(ctx, sc, ecs.NewCluster(sc, "c", time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	task := &ecs.Task{ARN: sc.ARN("task/c/0123456789abcdef"), ClusterARN: sc.ClusterARN("c"), LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning}
	checks := 0
	_, err := r.DeleteCluster(ctx, sc, "c", func(cc ClusterCounts) error {
		checks++
		if cc.PendingTasks+cc.RunningTasks > 0 {
			return fault.New(fault.InvalidParameter, "The cluster has tasks.")
		}
		if checks == 1 {
			// the racing RunTask commits now
			if _, err := st.Txn(ctx, []store.Compare{{Key: taskKey(sc, "c", "0123456789abcdef")}}, []store.Op{{Key: taskKey(sc, "c", "0123456789abcdef"), Value: storeutil.MustJSON(task)}}); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	if !fault.Is(err, fault.InvalidParameter) || checks != 2 {
		t.Fatalf("delete with a task created meanwhile: err %v after %d checks; want the refusal on the second check", err, checks)
	}
	cl, err := r.Cluster(ctx, sc, "c")
	if err != nil || cl.Status != ecs.ClusterActive {
		t.Fatalf("cluster after the refused delete: %+v %v", cl, err)
	}
	// Without a race the delete goes through.
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: taskKey(sc, "c", "0123456789abcdef"), Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteCluster(ctx, sc, "c", func(ClusterCounts) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ActiveCluster(ctx, sc, "c"); err == nil {
		t.Fatalf("cluster still active after delete: %v", err)
	}
}
