package placement

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// lagStore stretches a store's window between a commit and its
// acknowledgement (the fsync): after hold, the next Txn commits but does
// not return until release, and until then Revision does not count it, no
// watch delivers it, and every other Txn waits before committing (commits
// are acknowledged in order, as bbolt's group commit and etcd's log do).
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
	s.mu.Lock()
	mine := s.holdNext
	if mine {
		s.holdNext, s.holding = false, true
	} else {
		for s.holding {
			s.cond.Wait()
		}
	}
	s.mu.Unlock()
	rev, err := s.Store.Txn(ctx, cmps, ops)
	if mine {
		close(s.committed)
		s.mu.Lock()
		for s.holding {
			s.cond.Wait()
		}
		s.mu.Unlock()
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

// TestPipelinedPlanAndLateCall: a batch planned while the batch before is
// in flight decides on that batch's charges (no overcommit), and a call
// made after a stop was acknowledged sees the stop, even while a batch is
// in flight again.
func TestPipelinedPlanAndLateCall(t *testing.T) {
	ctx := t.Context()
	ls := newLagStore(openBolt(t, ""))
	e := start(t, ls)
	e.newCluster(t, 1024)
	half := ecs.TaskResources{CPU: 128, Memory: 512}
	if _, err := e.placeOne(ctx, "t1", "g", half, nil); err != nil {
		t.Fatal(err)
	}

	// t2 takes the rest; its batch stays in flight.
	ls.hold(ctx)
	errs := make(chan error, 3)
	go func() {
		_, err := e.placeOne(ctx, "t2", "g", half, nil)
		errs <- err
	}()
	<-ls.committed
	// t3 is planned on top of t2 (no room), and answered once t2 landed.
	var seenMem int
	planned := make(chan struct{})
	go func() {
		_, err := e.placeOne(ctx, "t3", "g", half, func(_, mem int, _ map[string]int) { seenMem = mem; close(planned) })
		if !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("t3 placed on a full instance (it saw %d MiB free): %v", seenMem, err)
		}
		errs <- nil
	}()
	<-planned
	// A stop of t1 is acknowledged only after t2's batch.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.setStatus(t, "t1", ecs.TaskStopped, half)
	}()
	ls.release()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	<-stopped

	// t4 comes after the stop, while t5's batch is in flight: it gets
	// t1's memory, as it would alone.
	ls.hold(ctx)
	go func() {
		_, err := e.placeOne(ctx, "t5", "g", ecs.TaskResources{CPU: 1}, nil)
		errs <- err
	}()
	<-ls.committed
	placed := make(chan error, 1)
	go func() {
		_, err := e.placeOne(ctx, "t4", "g", half, func(_, mem int, _ map[string]int) { seenMem = mem })
		placed <- err
	}()
	ls.release()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := <-placed; err != nil {
		t.Fatalf("t4 after the acknowledged stop (it saw %d MiB free): %v", seenMem, err)
	}
}

// gateStore holds back every watch event while closed: the state cache
// falls behind the store.
type gateStore struct {
	store.Store
	mu   sync.Mutex
	cond *sync.Cond
	shut bool
}

func newGateStore(s store.Store) *gateStore {
	g := &gateStore{Store: s}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gateStore) set(shut bool) {
	g.mu.Lock()
	g.shut = shut
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *gateStore) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	in, err := g.Store.Watch(ctx, prefix, fromRev)
	if err != nil {
		return nil, err
	}
	out := make(chan store.Event)
	go func() {
		defer close(out)
		for ev := range in {
			g.mu.Lock()
			for g.shut {
				g.cond.Wait()
			}
			g.mu.Unlock()
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// TestOwnBatchesWithoutTheCache: while the state cache lags, a cluster's
// placements build on the batches its queue committed (no overcommit, no
// wait); a write by someone else makes the next placement wait for the
// cache, and then see it.
func TestOwnBatchesWithoutTheCache(t *testing.T) {
	ctx := t.Context()
	g := newGateStore(openBolt(t, ""))
	e := start(t, g)
	e.newCluster(t, 1024)
	half := ecs.TaskResources{CPU: 128, Memory: 512}
	if err := e.cache.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	g.set(true)
	frozen := e.cache.Revision()
	for _, id := range []string{"t1", "t2"} {
		if _, err := e.placeOne(ctx, id, "g", half, nil); err != nil {
			t.Fatalf("%s while the cache lags: %v", id, err)
		}
	}
	if _, err := e.placeOne(ctx, "t3", "g", half, nil); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("t3 on a full instance while the cache lags: %v", err)
	}
	if got := e.cache.Revision(); got != frozen {
		t.Fatalf("the cache moved (%d → %d): the test did not test the lag", frozen, got)
	}
	// A stop by another writer: the next placement must see it, so it
	// waits for the cache.
	e.setStatus(t, "t1", ecs.TaskStopped, half)
	placed := make(chan error, 1)
	go func() {
		_, err := e.placeOne(ctx, "t4", "g", half, nil)
		placed <- err
	}()
	g.set(false)
	if err := <-placed; err != nil {
		t.Fatalf("t4 after the stop: %v", err)
	}
}

// TestCurrentAfterTheBatchInFlightCommitted: a plan built on the batch in
// flight stays current when the only write the store acknowledged since
// its view is that batch's (the calls its callers make next join the plan
// instead of waiting a commit), and not when anything else was written or
// the batch has not committed at that revision.
func TestCurrentAfterTheBatchInFlightCommitted(t *testing.T) {
	ctx := t.Context()
	st := openBolt(t, "")
	e := start(t, st)
	e.newCluster(t, 1024)
	write := func() int64 {
		rev, err := st.Txn(ctx, nil, []store.Op{{Key: "/test/x", Value: []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	viewRev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := e.pl.queueFor(testScope, "c")
	prev := &flight{committed: make(chan struct{}), done: make(chan struct{})}
	p := &batchPlan{q: q, ctx: ctx, prev: prev, viewRead: true, viewRev: viewRev}
	if !p.current() {
		t.Fatal("not current with no write since the view")
	}
	prevRev := write() // the batch in flight's commit, acknowledged
	if p.current() {
		t.Fatal("current after a write before the batch in flight has committed")
	}
	prev.rev = prevRev
	close(prev.committed)
	if !p.current() {
		t.Fatal("not current when the only write since the view is the batch in flight's")
	}
	last := write() // someone else's
	if p.current() {
		t.Fatal("current after a write that is not the batch in flight's")
	}
	failed := &flight{committed: make(chan struct{}), rev: last, err: store.ErrConflict}
	close(failed.committed)
	p = &batchPlan{q: q, ctx: ctx, prev: failed, viewRead: true, viewRev: last - 1}
	if p.current() {
		t.Fatal("current on a batch in flight that failed")
	}
}
