package ecsstore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var errLooked = errors.New("looked")

// runningSeen returns the runningTasksCount a placement on cluster c sees
// on its first instance (placing nothing).
func runningSeen(t *testing.T, r *Repo) int {
	t.Helper()
	n := -1
	_, _, err := r.CreateTasks(t.Context(), testScope, "c", CreateOptions{}, func(in *PlacementInput) ([]PlacedTask, error) {
		if len(in.Instances) != 1 || in.States[0].Instance != in.Instances[0] {
			t.Errorf("placement input: %d instances", len(in.Instances))
			return nil, errLooked
		}
		n = in.Instances[0].RunningTasksCount
		return nil, errLooked
	})
	if !errors.Is(err, errLooked) {
		t.Fatalf("CreateTasks: %v", err)
	}
	return n
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

// waitRunning polls until placements see n running tasks.
func waitRunning(t *testing.T, r *Repo, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := runningSeen(t, r)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: placement sees %d running tasks, want %d", what, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestViewCountsRunningTasks: placement sees an instance's running tasks
// (RUNNING until STOPPED, not the pending ones) whoever writes them: this
// process (at once), another writer of the store (through the watch), and
// a store opened afresh (through the initial list).
func TestViewCountsRunningTasks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	r := New(st)
	ci := newCluster(t, r, 1024)
	one := ecs.TaskResources{CPU: 1, Memory: 1}
	for _, id := range []string{"t1", "t2"} {
		if _, err := placeOne(ctx, r, id, "g", one, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := runningSeen(t, r); n != 0 {
		t.Fatalf("pending tasks counted as running: %d", n)
	}
	setStatus(t, r, "t1", ecs.TaskActivating)
	if n := runningSeen(t, r); n != 0 {
		t.Fatalf("an ACTIVATING task counted as running: %d", n)
	}
	setStatus(t, r, "t1", ecs.TaskRunning)
	if n := runningSeen(t, r); n != 1 {
		t.Fatalf("after t1 started: %d running, want 1", n)
	}
	setStatus(t, r, "t1", ecs.TaskDeactivating)
	setStatus(t, r, "t2", ecs.TaskRunning)
	if n := runningSeen(t, r); n != 2 {
		t.Fatalf("after t2 started: %d running, want 2", n)
	}

	// Another writer: a running task appears, then goes.
	other := &ecs.Task{ARN: testScope.TaskARN("c", "x1"), ClusterARN: testScope.ClusterARN("c"), LaunchType: ecs.LaunchEC2,
		Group: "g", LastStatus: ecs.TaskRunning, DesiredStatus: ecs.TaskRunning}
	other.AssignInstance(ci)
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: taskKey(testScope, "c", "x1"), Value: mustJSON(other)}}); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, r, 3, "a running task written by another writer")
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: taskKey(testScope, "c", "x1"), Delete: true}}); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, r, 2, "after another writer deleted it")

	setStatus(t, r, "t1", ecs.TaskStopped)
	if n := runningSeen(t, r); n != 1 {
		t.Fatalf("after t1 stopped: %d running, want 1", n)
	}

	// A task created running counts at once.
	if _, _, err := r.CreateTasks(ctx, testScope, "c", CreateOptions{}, func(in *PlacementInput) ([]PlacedTask, error) {
		tk := &ecs.Task{ARN: testScope.TaskARN("c", "t3"), ID: "t3", ClusterARN: testScope.ClusterARN("c"), Group: "g", LastStatus: ecs.TaskRunning, DesiredStatus: ecs.TaskRunning}
		tk.AssignInstance(in.Instances[0])
		return []PlacedTask{{Task: tk, Resources: one}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := runningSeen(t, r); n != 2 {
		t.Fatalf("after t3 was created running: %d running, want 2", n)
	}
	setStatus(t, r, "t3", ecs.TaskStopped)

	// A fresh store (and view) lists the running task.
	st.Close()
	if st, err = bolt.Open(path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	r = New(st)
	if n := runningSeen(t, r); n != 1 {
		t.Fatalf("after reopening: %d running, want 1", n)
	}
	setStatus(t, r, "t2", ecs.TaskStopped)
	if n := runningSeen(t, r); n != 0 {
		t.Fatalf("after t2 stopped: %d running, want 0", n)
	}
}

// TestPlacementSeesStartVisibleBeforeAcknowledged: a task that a client
// can see RUNNING (its write committed, not yet acknowledged) counts for
// any placement that starts after, as a visible stop does (see
// TestPlacementSeesStopVisibleBeforeAcknowledged).
func TestPlacementSeesStartVisibleBeforeAcknowledged(t *testing.T) {
	ctx := t.Context()
	ls := newLagStore(openBolt(t))
	r := New(ls)
	newCluster(t, r, 1024)
	if _, err := placeOne(ctx, r, "t1", "g", ecs.TaskResources{CPU: 1, Memory: 1}, nil); err != nil {
		t.Fatal(err)
	}
	ls.hold(ctx)
	started := make(chan struct{})
	go func() {
		defer close(started)
		setStatus(t, r, "t1", ecs.TaskRunning)
	}()
	<-ls.committed
	if task, err := r.Task(ctx, testScope, "c", "t1"); err != nil || task.LastStatus != ecs.TaskRunning {
		t.Fatalf("the start is not visible while held: %+v %v", task, err)
	}
	seen := make(chan int, 1)
	go func() { seen <- runningSeen(t, r) }()
	time.Sleep(100 * time.Millisecond) // a placement that does not wait decides now
	ls.release()
	<-started
	if n := <-seen; n != 1 {
		t.Fatalf("placement saw %d running tasks; the start was visible before it began", n)
	}
}

// waitQueueGone waits until cluster c's placement queue has gone idle and
// forgotten itself, so that the next call starts a new one that every
// call made while it works joins (a call that took the old queue just
// before it went would otherwise start a second one).
func waitQueueGone(t *testing.T, r *Repo) {
	t.Helper()
	k := queueKey{s: r.s, cluster: viewScopeKey(testScope, "c")}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := queues.Load(k); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the placement queue stays")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPipelinedPlanSeesRunningTasks: a batch planned on top of the batch in
// flight takes the instances that batch charged as it writes them, but
// with their running tasks as the view has them now.
func TestPipelinedPlanSeesRunningTasks(t *testing.T) {
	ctx := t.Context()
	ls := newLagStore(openBolt(t))
	r := New(ls)
	newCluster(t, r, 1024)
	one := ecs.TaskResources{CPU: 1, Memory: 1}
	if _, err := placeOne(ctx, r, "t1", "g", one, nil); err != nil {
		t.Fatal(err)
	}
	waitQueueGone(t, r)
	ls.hold(ctx)
	placed := make(chan error, 1)
	go func() {
		_, err := placeOne(ctx, r, "t2", "g", one, nil)
		placed <- err
	}()
	<-ls.committed // t2's batch, which charged the instance, is in flight
	setStatus(t, r, "t1", ecs.TaskRunning)
	// The call is decided now, on top of t2's batch; it is answered only
	// once that batch has landed.
	seen := make(chan int, 1)
	looked := make(chan error, 1)
	go func() {
		_, _, err := r.CreateTasks(ctx, testScope, "c", CreateOptions{}, func(in *PlacementInput) ([]PlacedTask, error) {
			seen <- in.Instances[0].RunningTasksCount
			return nil, errLooked
		})
		looked <- err
	}()
	var n int
	select {
	case n = <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("no plan on top of the batch in flight")
	}
	ls.release()
	if err := <-placed; err != nil {
		t.Fatal(err)
	}
	if err := <-looked; !errors.Is(err, errLooked) {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the plan on top of the batch in flight saw %d running tasks, want 1", n)
	}
}

// TestPlacementSeesPorts: the ports a task takes and frees show in the
// scheduler's form of the instance (which reuses the port lists while the
// ports do not change).
func TestPlacementSeesPorts(t *testing.T) {
	ctx := t.Context()
	r := New(openBolt(t))
	newCluster(t, r, 1024)
	ports := func() []int {
		t.Helper()
		var tcp []int
		_, _, err := r.CreateTasks(ctx, testScope, "c", CreateOptions{}, func(in *PlacementInput) ([]PlacedTask, error) {
			tcp = in.States[0].TCPPorts
			return nil, errLooked
		})
		if !errors.Is(err, errLooked) {
			t.Fatal(err)
		}
		return tcp
	}
	base := ports()
	web := ecs.TaskResources{CPU: 1, Memory: 1, TCPPorts: []int{8080}}
	plain := ecs.TaskResources{CPU: 1, Memory: 1}
	if _, err := placeOne(ctx, r, "t1", "g", web, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := placeOne(ctx, r, "t2", "g", plain, nil); err != nil {
		t.Fatal(err)
	}
	if got := ports(); !slices.Contains(got, 8080) || len(got) != len(base)+1 {
		t.Fatalf("ports taken with t1 and t2: %v (before: %v)", got, base)
	}
	if err := stopTask(ctx, r, "t1", web); err != nil {
		t.Fatal(err)
	}
	if got := ports(); slices.Contains(got, 8080) || len(got) != len(base) {
		t.Fatalf("ports taken after t1 stopped: %v (before: %v)", got, base)
	}
}
