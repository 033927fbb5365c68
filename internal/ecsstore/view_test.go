package ecsstore

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
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
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

// placeOne places one task of group g reserving res on the cluster's first
// instance (if decide, which sees the instance's state first, agrees).
func placeOne(ctx context.Context, r *Repo, id, g string, res ecs.TaskResources, seen func(cpu, mem int, groups map[string]int)) (*ecs.Task, error) {
	tasks, _, err := r.CreateTasks(ctx, testScope, "c", CreateOptions{}, func(in *PlacementInput) ([]PlacedTask, error) {
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
		return []PlacedTask{{Task: task, Resources: res}}, nil
	})
	if err != nil {
		return nil, err
	}
	return tasks[0], nil
}

func stopTask(ctx context.Context, r *Repo, id string, res ecs.TaskResources) error {
	_, err := r.UpdateTask(ctx, testScope, "c", id, func(t *ecs.Task) error {
		t.DesiredStatus, t.LastStatus = ecs.TaskStopped, ecs.TaskStopped
		return nil
	}, func(context.Context, *ecs.Task) (ecs.TaskResources, error) { return res, nil })
	return err
}

// lagStore reproduces bbolt's window between a commit and its
// acknowledgement (the fsync), stretched: after hold, the next Txn that
// commits is visible to Get and List, but does not return until release,
// and until then Revision does not count it and no watch delivers it.
type lagStore struct {
	store.Store
	mu        sync.Mutex
	cond      *sync.Cond
	holdNext  bool
	holding   bool
	visible   int64         // while holding: the newest revision Revision and watches show
	committed chan struct{} // closed when the held Txn has committed
}

func newLagStore(s store.Store) *lagStore {
	ls := &lagStore{Store: s}
	ls.cond = sync.NewCond(&ls.mu)
	return ls
}

func (s *lagStore) hold(ctx context.Context) {
	rev, _ := s.Store.Revision(ctx)
	s.mu.Lock()
	s.holdNext, s.visible, s.committed = true, rev, make(chan struct{})
	s.mu.Unlock()
}

func (s *lagStore) release() {
	s.mu.Lock()
	s.holding = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *lagStore) Txn(ctx context.Context, cmps []store.Compare, ops []store.Op) (int64, error) {
	rev, err := s.Store.Txn(ctx, cmps, ops)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdNext && err == nil {
		s.holdNext, s.holding = false, true
		close(s.committed)
		for s.holding {
			s.cond.Wait()
		}
	}
	return rev, err
}

func (s *lagStore) Revision(ctx context.Context) (int64, error) {
	rev, err := s.Store.Revision(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding && rev > s.visible {
		rev = s.visible
	}
	return rev, err
}

func (s *lagStore) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	in, err := s.Store.Watch(ctx, prefix, fromRev)
	if err != nil {
		return nil, err
	}
	out := make(chan store.Event)
	go func() {
		defer close(out)
		for ev := range in {
			s.mu.Lock()
			for s.holding && ev.KV.ModRevision > s.visible {
				s.cond.Wait()
			}
			s.mu.Unlock()
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// TestPlacementSeesStopVisibleBeforeAcknowledged is the race behind the
// flaky TestEC2AgentPlacementAndDisconnect: a task's stop (which releases
// its memory) is visible to DescribeTasks while its Txn is still being
// fsync'd, so a client can run a task in that window. The placement must
// wait for the release instead of deciding on the instance as it was (which
// reported RESOURCE:MEMORY).
func TestPlacementSeesStopVisibleBeforeAcknowledged(t *testing.T) {
	ctx := t.Context()
	ls := newLagStore(openBolt(t))
	r := New(ls)
	newCluster(t, r, 512)
	all := ecs.TaskResources{CPU: 128, Memory: 512}
	if _, err := placeOne(ctx, r, "t1", "g", all, nil); err != nil {
		t.Fatal(err)
	}

	ls.hold(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- stopTask(ctx, r, "t1", all) }()
	<-ls.committed
	if task, err := r.Task(ctx, testScope, "c", "t1"); err != nil || task.LastStatus != ecs.TaskStopped {
		t.Fatalf("the stop is not visible while held: %+v %v", task, err)
	}
	var (
		mu       sync.Mutex
		released bool // the store has acknowledged the stop
		early    bool // the placement decided before that
	)
	placed := make(chan error, 1)
	go func() {
		_, err := placeOne(ctx, r, "t2", "g", all, func(_, mem int, _ map[string]int) {
			mu.Lock()
			early = !released
			mu.Unlock()
		})
		placed <- err
	}()
	// Give a placement that does not wait the time to decide.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	released = true
	mu.Unlock()
	ls.release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := <-placed; err != nil {
		t.Fatalf("placement after a visible stop: %v", err)
	}
	if early {
		t.Fatal("the placement decided before the stop it could see was acknowledged")
	}
}

// TestLegacyInstanceGroups: an instance written before instance-state
// records existed (remaining resources in the instance record, groups in
// an instance-groups record) reads as before, and its first placement
// moves it to a state record.
func TestLegacyInstanceGroups(t *testing.T) {
	ctx := t.Context()
	st, r, ci, res := oldFormatFixture(t)
	id := ci.ID
	legacyKey := groupsKey(testScope, "c", id)
	if _, err := st.Txn(ctx, nil, []store.Op{
		{Key: instanceKey(testScope, "c", id), Value: mustJSON(ci)},
		{Key: legacyKey, Value: []byte(`{"family:web":1}`)},
	}); err != nil {
		t.Fatal(err)
	}
	ref := InstanceRef{Cluster: "c", ID: id}
	check := func(when string, cpu int, groups []string) {
		t.Helper()
		got, err := r.Instance(ctx, testScope, ref)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := got.Remaining(); c != cpu {
			t.Errorf("%s: %d CPU remaining, want %d", when, c, cpu)
		}
		list, err := r.Instances(ctx, testScope, "c")
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: Instances %v %v", when, list, err)
		}
		if c, _ := list[0].Remaining(); c != cpu || list[0].Version != got.Version {
			t.Errorf("%s: listed with %d CPU, version %d; read with version %d", when, c, list[0].Version, got.Version)
		}
		gs, err := r.InstanceGroups(ctx, testScope, "c")
		if err != nil {
			t.Fatal(err)
		}
		have := slices.Sorted(slices.Values(gs[id]))
		if !slices.Equal(have, groups) {
			t.Errorf("%s: groups %v, want %v", when, have, groups)
		}
	}
	check("legacy", 768, []string{"family:web"})

	var seenCPU int
	var seenGroups map[string]int
	if _, err := placeOne(ctx, r, "t1", "family:web", res, func(cpu, _ int, g map[string]int) { seenCPU, seenGroups = cpu, g }); err != nil {
		t.Fatal(err)
	}
	if seenCPU != 768 || seenGroups["family:web"] != 1 {
		t.Errorf("placement saw %d CPU and groups %v, want 768 and the legacy group", seenCPU, seenGroups)
	}
	check("after a placement", 512, []string{"family:web", "family:web"})
	if _, err := st.Get(ctx, legacyKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("legacy groups record after the first state record: %v", err)
	}
	if err := stopTask(ctx, r, "t1", res); err != nil {
		t.Fatal(err)
	}
	check("after a stop", 768, []string{"family:web"})
}

// TestViewTombstones: a deletion a writer applied to the view keeps an
// older put, which the watch delivers later, from bringing the record
// back; once the watch has passed it the tombstone goes.
func TestViewTombstones(t *testing.T) {
	v := &placementView{clusters: map[string]*clusterView{}, inflight: map[uint64]string{}, loaded: true}
	v.cond = sync.NewCond(&v.mu)
	sk := viewScopeKey(testScope, "c")
	ci := &ecs.ContainerInstance{ARN: testScope.ContainerInstanceARN("c", "a"), ID: "a", Status: ecs.InstanceActive}
	ids := func() []string {
		entries, _, err := v.snapshot(context.Background(), testScope, "c", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.id)
		}
		return out
	}
	v.mu.Lock()
	v.set(sk, KindInstance, "a", 5, true, nil) // the writer's delete at 5
	v.set(sk, KindInstance, "a", 3, false, ci) // the watch, late: the put at 3
	v.mu.Unlock()
	if got := ids(); len(got) != 0 {
		t.Fatalf("deleted instance back in the view: %v", got)
	}
	v.mu.Lock()
	v.set(sk, KindInstance, "a", 6, false, ci) // re-created at 6
	v.mu.Unlock()
	if got := ids(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("re-created instance: %v", got)
	}
	v.mu.Lock()
	v.set(sk, KindInstance, "a", 8, true, nil)
	n := len(v.clusters[sk].entries)
	v.watchRev = 8
	v.set(sk, KindInstance, "a", 8, true, nil) // the watch delivers the delete
	m := len(v.clusters[sk].entries)
	v.mu.Unlock()
	if n != 1 || m != 0 {
		t.Fatalf("tombstone entries before and after the watch passed it: %d, %d; want 1, 0", n, m)
	}
}

// TestLateCallSeesItsOwnWrites: while a batch is in flight, calls that
// arrive join the batch being planned on top of it, but not a call that
// may follow a write the plan's view lacks (here a stop that freed the
// memory it needs): it waits for the next batch, which reads afresh,
// instead of failing on the stale view.
func TestLateCallSeesItsOwnWrites(t *testing.T) {
	ctx := t.Context()
	ls := newLagStore(openBolt(t))
	r := New(ls)
	newCluster(t, r, 1024)
	half := ecs.TaskResources{CPU: 128, Memory: 512}
	if _, err := placeOne(ctx, r, "t1", "g", half, nil); err != nil {
		t.Fatal(err)
	}
	waitQueueGone(t, r) // t2 to t4 share one queue
	// t2 takes the rest; its batch stays in flight.
	ls.hold(ctx)
	errs := make(chan error, 3)
	go func() {
		_, err := placeOne(ctx, r, "t2", "g", half, nil)
		errs <- err
	}()
	<-ls.committed
	// t3 is planned on top of t2 (no room), and its batch gathers calls.
	planned := make(chan struct{})
	go func() {
		_, err := placeOne(ctx, r, "t3", "g", half, func(int, int, map[string]int) { close(planned) })
		if !fault.Is(err, fault.InvalidParameter) {
			err = fmt.Errorf("t3 placed on a full instance (%v)", err)
		} else {
			err = nil
		}
		errs <- err
	}()
	<-planned
	// A client stops t1, then asks for t4: it must get t1's memory.
	if err := stopTask(ctx, r, "t1", half); err != nil {
		t.Fatal(err)
	}
	var seenMem int
	go func() {
		_, err := placeOne(ctx, r, "t4", "g", half, func(_, mem int, _ map[string]int) { seenMem = mem })
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond) // t4 reaches the gathering batch
	ls.release()
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("%v (t4 saw %d MiB free)", err, seenMem)
		}
	}
}

// oldFormatFixture opens a store with cluster "c" and returns an instance
// (not yet stored) with 256 CPU and 256 MiB reserved, for tests that write
// its records in an earlier berth's format.
func oldFormatFixture(t *testing.T) (store.Store, *Repo, *ecs.ContainerInstance, ecs.TaskResources) {
	t.Helper()
	st := openBolt(t)
	r := New(st)
	cl, _, err := r.CreateCluster(t.Context(), testScope, ecs.NewCluster(testScope, "c", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := ecs.NewContainerInstance(testScope, cl, ecs.InstanceRegistration{EC2InstanceID: "i-1", CPU: 1024, Memory: 1024}, "0123456789abcdef0123456789abcdef", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res := ecs.TaskResources{CPU: 256, Memory: 256}
	if err := ci.Reserve(res); err != nil {
		t.Fatal(err)
	}
	return st, r, ci, res
}
