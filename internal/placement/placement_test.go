package placement

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var testScope = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

var errLooked = errors.New("looked")

// env is what the composition root builds: a repository, the state cache
// and the placer, running until stop (or the test's end).
type env struct {
	st    store.Store
	repo  *ecsstore.Repo
	cache *ecscache.Cache
	pl    *Placer
	stop  func()
}

func start(t *testing.T, st store.Store) *env {
	t.Helper()
	e := &env{st: st, repo: ecsstore.New(st)}
	e.cache = ecscache.New(st, nil)
	e.pl = New(e.repo, e.cache, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.cache.Run(ctx) })
	wg.Go(func() { _ = e.pl.Run(ctx) })
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(e.stop)
	return e
}

func openBolt(t *testing.T, path string) store.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "state.db")
	}
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newCluster creates cluster c with one registered, connected instance of
// 1024 CPU units and mem MiB, and returns the instance.
func (e *env) newCluster(t *testing.T, mem int) *ecs.ContainerInstance {
	t.Helper()
	ctx := t.Context()
	cl, _, err := e.repo.CreateCluster(ctx, testScope, ecs.NewCluster(testScope, "c", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := ecs.NewContainerInstance(testScope, cl, ecs.InstanceRegistration{EC2InstanceID: "i-1", CPU: 1024, Memory: mem}, "0123456789abcdef0123456789abcdef", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.repo.RegisterInstance(ctx, testScope, ci, nil); err != nil {
		t.Fatal(err)
	}
	return ci
}

// placeOne places one task of group g reserving res on the cluster's first
// instance (if decide, which sees the instance's state first, agrees).
func (e *env) placeOne(ctx context.Context, id, g string, res ecs.TaskResources, seen func(cpu, mem int, groups map[string]int)) (*ecs.Task, error) {
	tasks, _, err := e.pl.Place(ctx, testScope, "c", Options{}, func(in *Input) ([]Placed, error) {
		if len(in.States) != 1 {
			return nil, fmt.Errorf("%d instances in the placement input, want 1", len(in.States))
		}
		st := in.States[0]
		if seen != nil {
			seen(st.CPU, st.Memory, st.GroupCounts)
		}
		if st.CPU < res.CPU || st.Memory < res.Memory {
			return nil, fault.New(fault.InvalidParameter, "no room: %d CPU, %d MiB left", st.CPU, st.Memory)
		}
		task := &ecs.Task{ARN: testScope.TaskARN("c", id), ID: id, ClusterARN: testScope.ClusterARN("c"), Group: g, LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning}
		task.AssignInstance(in.Instances[0])
		return []Placed{{Task: task, Resources: res}}, nil
	})
	if err != nil {
		return nil, err
	}
	return tasks[0], nil
}

func (e *env) setStatus(t *testing.T, id, status string, res ecs.TaskResources) {
	t.Helper()
	_, err := e.repo.UpdateTask(t.Context(), testScope, "c", id, func(tk *ecs.Task) error {
		tk.LastStatus = status
		if status == ecs.TaskStopped {
			tk.DesiredStatus = ecs.TaskStopped
		}
		return nil
	}, func(context.Context, *ecs.Task) (ecs.TaskResources, error) { return res, nil })
	if err != nil {
		t.Fatal(err)
	}
}

// runningSeen returns the runningTasksCount a placement on cluster c sees
// on its first instance (placing nothing).
func (e *env) runningSeen(t *testing.T) int {
	t.Helper()
	n := -1
	_, _, err := e.pl.Place(t.Context(), testScope, "c", Options{}, func(in *Input) ([]Placed, error) {
		if len(in.Instances) != 1 || in.States[0].Instance != in.Instances[0] {
			t.Errorf("placement input: %d instances", len(in.Instances))
			return nil, errLooked
		}
		n = in.Instances[0].RunningTasksCount
		return nil, errLooked
	})
	if !errors.Is(err, errLooked) {
		t.Fatalf("Place: %v", err)
	}
	return n
}

// TestReadYourWrites: a placement sees every write acknowledged before it
// started, at once: a stop that released the instance's memory, a
// registration.
func TestReadYourWrites(t *testing.T) {
	ctx := t.Context()
	e := start(t, openBolt(t, ""))
	e.newCluster(t, 512)
	all := ecs.TaskResources{CPU: 128, Memory: 512}
	for i := range 20 {
		id := fmt.Sprintf("t%d", i)
		if _, err := e.placeOne(ctx, id, "g", all, nil); err != nil {
			t.Fatalf("placement %d after the stop before it: %v", i, err)
		}
		e.setStatus(t, id, ecs.TaskStopped, all)
	}
}

// TestViewCountsRunningTasks: placement sees an instance's running tasks
// (RUNNING until STOPPED, not the pending ones) whoever writes them: this
// process, another writer of the store, and a store opened afresh (through
// the cache's initial list).
func TestViewCountsRunningTasks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, st)
	ci := e.newCluster(t, 1024)
	one := ecs.TaskResources{CPU: 1, Memory: 1}
	for _, id := range []string{"t1", "t2"} {
		if _, err := e.placeOne(ctx, id, "g", one, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.runningSeen(t); n != 0 {
		t.Fatalf("pending tasks counted as running: %d", n)
	}
	e.setStatus(t, "t1", ecs.TaskActivating, one)
	if n := e.runningSeen(t); n != 0 {
		t.Fatalf("an ACTIVATING task counted as running: %d", n)
	}
	e.setStatus(t, "t1", ecs.TaskRunning, one)
	if n := e.runningSeen(t); n != 1 {
		t.Fatalf("after t1 started: %d running, want 1", n)
	}
	e.setStatus(t, "t1", ecs.TaskDeactivating, one)
	e.setStatus(t, "t2", ecs.TaskRunning, one)
	if n := e.runningSeen(t); n != 2 {
		t.Fatalf("after t2 started: %d running, want 2", n)
	}

	// Another writer of the store: a running task appears, then goes.
	other := ecsstore.New(st)
	x1 := &ecs.Task{ARN: testScope.TaskARN("c", "x1"), ID: "x1", ClusterARN: testScope.ClusterARN("c"), LaunchType: ecs.LaunchEC2,
		Group: "g", LastStatus: ecs.TaskRunning, DesiredStatus: ecs.TaskRunning}
	x1.AssignInstance(ci)
	_, crev, err := other.ActiveClusterRev(ctx, testScope, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CommitPlacement(ctx, testScope, &ecsstore.PlacementCommit{Cluster: "c", ClusterRev: crev, Tasks: []ecsstore.NewTask{{Task: x1}}}); err != nil {
		t.Fatal(err)
	}
	if n := e.runningSeen(t); n != 3 {
		t.Fatalf("with a running task written by another writer: %d running, want 3", n)
	}
	e.setStatus(t, "x1", ecs.TaskStopped, ecs.TaskResources{})
	if err := other.DeleteTask(ctx, testScope, "c", "x1"); err != nil {
		t.Fatal(err)
	}
	if n := e.runningSeen(t); n != 2 {
		t.Fatalf("after another writer stopped and deleted it: %d running, want 2", n)
	}
	e.setStatus(t, "t1", ecs.TaskStopped, one)
	if n := e.runningSeen(t); n != 1 {
		t.Fatalf("after t1 stopped: %d running, want 1", n)
	}

	// A fresh store (cache and view) lists the running task.
	e.stop()
	st.Close()
	e = start(t, openBolt(t, path))
	if n := e.runningSeen(t); n != 1 {
		t.Fatalf("after reopening: %d running, want 1", n)
	}
	e.setStatus(t, "t2", ecs.TaskStopped, one)
	if n := e.runningSeen(t); n != 0 {
		t.Fatalf("after t2 stopped: %d running, want 0", n)
	}
}

// TestPlacementSeesPorts: the ports a task takes and frees show in the
// scheduler's form of the instance (which reuses the port lists while the
// ports do not change).
func TestPlacementSeesPorts(t *testing.T) {
	ctx := t.Context()
	e := start(t, openBolt(t, ""))
	e.newCluster(t, 1024)
	ports := func() []int {
		t.Helper()
		var tcp []int
		_, _, err := e.pl.Place(ctx, testScope, "c", Options{}, func(in *Input) ([]Placed, error) {
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
	if _, err := e.placeOne(ctx, "t1", "g", web, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.placeOne(ctx, "t2", "g", plain, nil); err != nil {
		t.Fatal(err)
	}
	if got := ports(); !slices.Contains(got, 8080) || len(got) != len(base)+1 {
		t.Fatalf("ports taken with t1 and t2: %v (before: %v)", got, base)
	}
	e.setStatus(t, "t1", ecs.TaskStopped, web)
	if got := ports(); slices.Contains(got, 8080) || len(got) != len(base) {
		t.Fatalf("ports taken after t1 stopped: %v (before: %v)", got, base)
	}
}

// TestDeregisteredInstanceLeavesView: an instance deregistered is no
// candidate any more, and a cluster without instances says so.
func TestDeregisteredInstanceLeavesView(t *testing.T) {
	ctx := t.Context()
	e := start(t, openBolt(t, ""))
	ci := e.newCluster(t, 1024)
	if _, err := e.repo.DeregisterInstance(ctx, testScope, ecs.InstanceRef{Cluster: "c", ID: ci.ID}, func(*ecs.ContainerInstance) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.pl.Place(ctx, testScope, "c", Options{}, func(in *Input) ([]Placed, error) {
		if len(in.Instances) != 0 {
			return nil, fmt.Errorf("%d instances after deregistration", len(in.Instances))
		}
		return nil, errLooked
	})
	if !errors.Is(err, errLooked) {
		t.Fatal(err)
	}
}

// TestPlaceOutsideRun: a call before Run waits for it (or its context);
// after Run a placer refuses with a retryable fault.
func TestPlaceOutsideRun(t *testing.T) {
	st := openBolt(t, "")
	pl := New(ecsstore.New(st), ecscache.New(st, nil), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := pl.Place(ctx, testScope, "c", Options{}, func(*Input) ([]Placed, error) { return nil, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Place before Run: %v", err)
	}
	e := start(t, st)
	e.stop()
	_, _, err := e.pl.Place(t.Context(), testScope, "c", Options{}, func(*Input) ([]Placed, error) { return nil, nil })
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("Place after Run: %v", err)
	}
}
