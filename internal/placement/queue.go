package placement

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// maxBatchCalls caps how many CreateTasks calls one placement transaction
// commits.
const maxBatchCalls = 64

// placementQueue is the plan queue of one cluster, as in Nomad: every
// Place call for the cluster is queued, and one worker goroutine (started
// when the queue fills, gone when it empties; the Placer owns it) repeatedly
// takes the calls waiting, in arrival order, and places them as a batch:
//
//  1. it reads the cluster, waits until the state cache has every write
//     acknowledged so far, and takes the cluster's instances from the
//     placement view (see view) once;
//  2. it runs each call in turn (client token check, decide, charging the
//     instances) against that snapshot, updated in memory with the tasks
//     and reservations of the calls before it;
//  3. it commits every call's tasks, tags and tokens and the final state
//     record of every charged instance in ONE store transaction (one
//     fsync), which compares the revisions of the cluster and of every
//     charged instance's records as the snapshot had them, and that the
//     new tokens do not exist, and then answers the calls.
//
// Why each call gets what it would have got alone, in batch order: call k
// decides on exactly the state a lone call would read after calls 1..k-1
// committed (the snapshot plus their writes, which are the only changes
// to the charged records since, or the compares would fail). A call whose
// decision or charging fails gets its error and leaves the batch state
// untouched (it works on copies), as a lone failed call writes nothing. A
// call with the client token of an earlier call of the batch is left for
// the next batch, where it sees that call's token and replays it. If the
// transaction loses a compare (a write by someone else: an agent updating
// an instance, a task stopping, a deregistration, DeleteCluster, another
// process), nothing was written and the whole batch is placed again from a
// fresh snapshot, as lone calls would retry. If it fails otherwise, each
// call is placed again alone, so one bad call cannot fail the others.
// Calls of one batch never conflict with each other, which is what lets
// concurrent RunTask calls share a commit. The view only feeds decisions;
// the compares are what make a commit correct, so a stale input costs a
// retry, never a wrong write.
//
// Pipelining (work) keeps this: a batch planned while the batch before is
// in flight decides on the snapshot plus that batch's writes, exactly what
// it would read once that batch committed; its compares of the records that
// batch wrote expect that batch's revision, and it is committed only after
// that batch has landed. If that batch fails, the plan is dropped and the
// calls are placed again. A call that arrives while the batch before is in
// flight joins the batch being planned only if the store has acknowledged
// no write since the plan's snapshot but that batch's own (nor has the
// managed instance changed): a write its client completed before calling
// would be missing from the snapshot, and the call waits for the next
// batch. Each call's tasks are encoded for the transaction as the call is
// added, so that the commit that follows a landing starts at once (the
// disk is never idle for encoding).
//
// The worker runs with the Placer's context: a caller whose context ends
// while its call is still queued withdraws it; once taken, the call's
// outcome stands, as with a store Txn.
type placementQueue struct {
	pl      *Placer
	sc      ecs.Scope
	cluster string
	key     ecscache.ClusterKey

	mu      sync.Mutex
	pending []*createCall
	running bool // a worker is draining pending

	// own are the batches this queue committed that the state cache may
	// not have applied yet, oldest first (only the worker uses it).
	own  []ownBatch
	wake chan struct{} // signalled (buffer 1) when a call is queued
}

// createCall is one Place call. The worker sets the results before it
// closes done.
type createCall struct {
	opts   Options
	decide func(*Input) ([]Placed, error)

	tasks    []*ecs.Task
	replayed bool
	err      error
	done     chan struct{}
}

// submit queues c and waits for its outcome. A call still waiting when ctx
// ends is withdrawn; once taken, its outcome stands whatever ctx does.
func (q *placementQueue) submit(ctx context.Context, c *createCall) error {
	q.mu.Lock()
	q.pending = append(q.pending, c)
	if !q.running {
		if !q.pl.spawn(q.work) {
			q.pending = q.pending[:len(q.pending)-1]
			q.mu.Unlock()
			return errNotRunning
		}
		q.running = true
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	if i := slices.Index(q.pending, c); i >= 0 {
		q.pending = slices.Delete(q.pending, i, i+1)
		q.mu.Unlock()
		return ctx.Err()
	}
	q.mu.Unlock()
	<-c.done
	return nil
}

// work places batches until the queue is empty. It pipelines: while one
// batch's transaction is being committed (its fsync), it plans the next
// batch on top of that batch's writes, adding the calls that arrive
// meanwhile (see gather), and commits it as soon as the first has landed,
// so that planning never waits for the disk and the disk never waits for
// planning. If the batch in flight fails, the next one's plan is void and
// it is placed again.
func (q *placementQueue) work(ctx context.Context) {
	var prev *flight
	for {
		q.mu.Lock()
		batch := q.take(prev, nil, maxBatchCalls)
		if len(batch) == 0 && prev == nil {
			// The queue stays (with what it remembers of its own
			// batches); the next call starts a worker again.
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-prev.done:
				q.land(ctx, prev)
				prev.p.release()
				prev = nil
			case <-q.wake:
			}
			continue
		}
		p, err := q.plan(ctx, batch, prev)
		if err == nil && prev != nil {
			q.gather(p, prev)
			batch = p.batch
		}
		var prevRev int64
		if prev != nil {
			if !q.land(ctx, prev) {
				p.release()
				p = nil // planned on writes that did not happen
			}
			// No plan reads prev's any more: p is complete.
			prev.p.release()
			prevRev, prev = prev.rev, nil
		}
		if p != nil && err == nil {
			prev = q.launch(ctx, p, prevRev)
			continue
		}
		q.place(ctx, batch)
		answer(batch)
	}
}

// gather adds to p the calls that arrive while prev is in flight, until
// prev has landed or the batch is full. A call joins only if p's inputs are
// still what it would read alone (see batchPlan.current): otherwise it
// goes back to the queue, for the next batch, which reads afresh.
func (q *placementQueue) gather(p *batchPlan, prev *flight) {
	for len(p.batch) < maxBatchCalls {
		select {
		case <-prev.done:
			return
		case <-q.wake:
		}
		q.mu.Lock()
		more := q.take(prev, p.tokens, maxBatchCalls-len(p.batch))
		q.mu.Unlock()
		if len(more) == 0 {
			continue
		}
		if !p.current() {
			q.mu.Lock()
			q.pending = append(more, q.pending...)
			q.mu.Unlock()
			return
		}
		for _, c := range more {
			p.batch = append(p.batch, c)
			c.err = p.add(c)
		}
	}
}

// answer returns the calls' outcomes to their callers.
func answer(batch []*createCall) {
	for _, c := range batch {
		close(c.done)
	}
}

// take removes the next calls from pending: up to n calls in arrival
// order, stopping before a call whose client token an earlier call of the
// batch, a call in taken, or a call of the batch in flight has (it is
// taken later, and then replays that call). q.mu must be held.
func (q *placementQueue) take(inFlight *flight, taken map[string]bool, n int) []*createCall {
	k := 0
	tokens := map[string]bool{}
	for k < len(q.pending) && k < n {
		if t := q.pending[k].opts.ClientToken; t != "" {
			if tokens[t] || taken[t] || (inFlight != nil && inFlight.p.tokens[t]) {
				break
			}
			tokens[t] = true
		}
		k++
	}
	batch := slices.Clone(q.pending[:k])
	rest := copy(q.pending, q.pending[k:])
	clear(q.pending[rest:])
	q.pending = q.pending[:rest]
	return batch
}

// flight is a batch whose transaction is being committed.
type flight struct {
	batch []*createCall
	p     *batchPlan

	committed chan struct{} // closed when rev and err are set
	done      chan struct{} // closed once the calls are answered too
	rev       int64
	err       error
}

// landedAt reports whether f has committed at rev (without waiting).
func (f *flight) landedAt(rev int64) bool {
	select {
	case <-f.committed:
		return f.err == nil && f.rev == rev
	default:
		return false
	}
}

// launch starts committing a planned batch, whose compares of the records
// the batch before wrote expect prevRev. The calls are answered as soon as
// the transaction succeeds; on failure land places them again.
func (q *placementQueue) launch(ctx context.Context, p *batchPlan, prevRev int64) *flight {
	if p.writes.Empty() && !p.managedCharged {
		answer(p.batch)
		p.release()
		return nil
	}
	pc := p.commit(prevRev)
	f := &flight{batch: p.batch, p: p, committed: make(chan struct{}), done: make(chan struct{})}
	commit := func(ctx context.Context) {
		f.rev, f.err = q.pl.repo.CommitPlacement(ctx, q.sc, pc)
		close(f.committed)
		if f.err == nil {
			answer(f.batch)
		}
		close(f.done)
	}
	if !q.pl.spawn(commit) {
		commit(ctx) // stopping: commit inline, the context is done anyway
	}
	return f
}

// ownBatch is a batch this queue committed at rev, and the state records
// it wrote, by instance ID.
type ownBatch struct {
	rev    int64
	states map[string]ownState
}

type ownState struct {
	ci     *ecs.ContainerInstance // as charged (remaining resources, version)
	groups ecsstore.GroupCounts
}

// remember records a batch this queue committed at rev: until the state
// cache has applied rev, later plans take the instances it charged as it
// wrote them, and need not wait for the cache to catch up with it (see
// readView).
func (q *placementQueue) remember(rev int64, p *batchPlan) {
	ob := ownBatch{rev: rev, states: make(map[string]ownState, len(p.order))}
	for _, i := range p.order {
		ob.states[p.entries[i].id] = ownState{ci: p.charged[i], groups: p.counts[i]}
	}
	q.own = append(q.own, ob)
}

// prune forgets the own batches the state cache has applied (rev at or
// below upto).
func (q *placementQueue) prune(upto int64) {
	k := 0
	for k < len(q.own) && q.own[k].rev <= upto {
		k++
	}
	q.own = append(q.own[:0], q.own[k:]...)
}

// ownCovers reports whether every revision after from up to to is one of
// the own batches' (so a view at from, plus their writes, is the state at
// to).
func (q *placementQueue) ownCovers(from, to int64) bool {
	if to <= from {
		return true
	}
	if int64(len(q.own)) < to-from {
		return false
	}
	n := int64(0)
	for _, ob := range q.own {
		if ob.rev > from && ob.rev <= to {
			n++
		}
	}
	return n == to-from
}

// land waits for a batch in flight and reports whether it committed; if
// not, it places the batch again, the way place does, and answers it.
func (q *placementQueue) land(ctx context.Context, f *flight) bool {
	<-f.done
	if f.err == nil {
		q.remember(f.rev, f.p)
		return true
	}
	q.place(ctx, f.batch)
	answer(f.batch)
	return false
}

// batchTxnError is a non-conflict failure of a batch's transaction.
type batchTxnError struct{ err error }

func (e batchTxnError) Error() string { return e.err.Error() }
func (e batchTxnError) Unwrap() error { return e.err }

// place places a batch, with nothing in flight, and sets every call's
// outcome.
func (q *placementQueue) place(ctx context.Context, batch []*createCall) {
	err := storeutil.Retry(ctx, func() error { return q.try(ctx, batch) })
	var txnErr batchTxnError
	switch {
	case err == nil:
		return
	case errors.As(err, &txnErr):
		for i := range batch {
			q.place(ctx, batch[i:i+1])
		}
		return
	}
	for _, c := range batch {
		c.tasks, c.replayed, c.err = nil, false, err
	}
}

// try places the batch once; it returns an error (such as a conflict) that
// applies to every call of the batch, and sets each call's own outcome.
func (q *placementQueue) try(ctx context.Context, batch []*createCall) error {
	p, err := q.plan(ctx, batch, nil)
	if err != nil {
		return err
	}
	defer p.release()
	if p.writes.Empty() && !p.managedCharged {
		return nil
	}
	rev, err := q.pl.repo.CommitPlacement(ctx, q.sc, p.commit(0))
	if err == nil {
		q.remember(rev, p)
	}
	if err != nil && len(batch) > 1 && !errors.Is(err, store.ErrConflict) {
		return batchTxnError{err}
	}
	return err
}

// plan runs the batch's calls, on top of the writes of prev (a batch in
// flight) if not nil, and sets each call's own outcome; the error applies
// to every call.
func (q *placementQueue) plan(ctx context.Context, batch []*createCall, prev *flight) (*batchPlan, error) {
	cl, crev, err := q.pl.repo.ActiveClusterRev(ctx, q.sc, q.cluster)
	if err != nil {
		return nil, err
	}
	p := &batchPlan{q: q, ctx: ctx, prev: prev, cl: cl, crev: crev, charged: map[int]*ecs.ContainerInstance{}, tokens: map[string]bool{}}
	for _, c := range batch {
		p.batch = append(p.batch, c)
		c.err = p.add(c)
	}
	return p, nil
}

// commit returns the batch's transaction. Records the batch in flight
// wrote are compared at prevRev, its revision.
func (p *batchPlan) commit(prevRev int64) *ecsstore.PlacementCommit {
	pc := &ecsstore.PlacementCommit{
		Cluster: p.q.cluster, ClusterRev: p.crev, Encoded: &p.writes,
		Instances: make([]ecsstore.ChargedInstance, 0, len(p.order)),
	}
	for _, i := range p.order {
		e, ci := p.entries[i], p.charged[i]
		c := ecsstore.ChargedInstance{
			ID: e.id, RecordRev: e.inst.RecordRev, StateRev: e.inst.StateRev,
			State: &ecsstore.StateRecord{Remaining: ci.RemainingResources, Version: ci.Version, Groups: p.counts[i]},
		}
		if len(c.State.Groups) == 0 {
			c.State.Groups = nil
		}
		if rev, ok := p.ownRev[i]; ok {
			c.StateRev = rev
		}
		if p.fromPrev[i] {
			c.StateRev = prevRev
		}
		pc.Instances = append(pc.Instances, c)
	}
	if p.managedCharged {
		pc.Managed, pc.ManagedRev = p.managed, p.managedRev
		if p.managedFromPrev {
			pc.ManagedRev = prevRev
		}
	}
	return pc
}

// batchPlan is the state of one attempt at a batch: the instances the
// calls decide on, updated in memory by each call that succeeds, and the
// writes to commit. Registered instances are identified by their index in
// the snapshot.
type batchPlan struct {
	q      *placementQueue
	ctx    context.Context
	batch  []*createCall
	tokens map[string]bool // the client tokens of the batch's calls
	prev   *flight         // the batch in flight, whose writes this one builds on
	cl     *ecs.Cluster
	crev   int64

	// The registered instances, read on first use: the view's entries,
	// and the current instances and their scheduler states (aligned; the
	// slices are the plan's, their elements shared and never modified).
	viewRead bool
	viewRev  int64 // the store revision the view had when read
	arr      *planArrays
	entries  []*viewEntry
	cis      []*ecs.ContainerInstance
	states   []scheduler.InstanceState
	counts   map[int]ecsstore.GroupCounts // charged instance → current group counts
	fromPrev map[int]bool                 // instances whose state the batch in flight writes
	ownRev   map[int]int64                // instance → revision of the own batch whose state it has

	// The managed instance, read (or built) on first use; current value.
	managed         *ecs.ContainerInstance
	managedRev      int64
	managedCharged  bool
	managedFromPrev bool // managed is what the batch in flight writes

	charged map[int]*ecs.ContainerInstance // charged instance → value to write
	order   []int                          // charged instances, first charge first
	// writes are the calls' tasks, tags and client tokens, encoded as
	// each call is added (while the batch before is committed).
	writes ecsstore.EncodedTasks
}

// add runs one call against the plan and returns its error.
func (p *batchPlan) add(c *createCall) error {
	c.tasks, c.replayed, c.err = nil, false, nil
	q, opts := p.q, c.opts
	if opts.ClientToken != "" {
		p.tokens[opts.ClientToken] = true
	}
	if opts.ClientToken != "" {
		tasks, found, err := q.pl.repo.RunTokenTasks(p.ctx, q.sc, q.cluster, opts.ClientToken)
		if err != nil || found {
			c.tasks, c.replayed = tasks, found
			return err
		}
	}
	in := &Input{Cluster: p.cl}
	if opts.Managed {
		if err := p.readManaged(opts); err != nil {
			return err
		}
		in.Instances = []*ecs.ContainerInstance{p.managed}
	} else {
		if err := p.readView(); err != nil {
			return err
		}
		in.Instances, in.States = p.cis, p.states
	}
	placed, err := c.decide(in)
	if err != nil {
		return err
	}

	// Charge copies, so that a call that fails leaves the plan as it was.
	const managed = -1
	mine := map[int]*ecs.ContainerInstance{} // instance → charged copy
	var order []int
	counts := map[int]ecsstore.GroupCounts{}
	var tasks []*ecs.Task
	var created []ecsstore.NewTask
	for _, pt := range placed {
		t := pt.Task
		if arn := t.ContainerInstanceARN; arn != "" {
			i := managed
			cur := p.managed
			if !opts.Managed {
				i = p.index(arn)
				if i < 0 {
					return fault.New(fault.Internal, "placement chose unknown instance %s", arn)
				}
				cur = p.cis[i]
			} else if cur == nil || cur.ARN != arn {
				return fault.New(fault.Internal, "placement chose unknown instance %s", arn)
			}
			ci := mine[i]
			if ci == nil {
				ci = reservable(cur)
				mine[i] = ci
				order = append(order, i)
			}
			if err := ci.Reserve(pt.Resources); err != nil {
				return err
			}
			if !opts.Managed {
				gc := counts[i]
				if gc == nil {
					gc = maps.Clone(p.states[i].GroupCounts)
					if gc == nil {
						gc = ecsstore.GroupCounts{}
					}
					counts[i] = gc
				}
				gc[t.Group]++
			}
		}
		t.Tags = nil
		created = append(created, ecsstore.NewTask{Task: t, Tags: pt.Tags})
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil
	}

	// The call succeeded: make its charges the plan's current state.
	for _, i := range order {
		ci := mine[i]
		if i == managed {
			p.managed, p.managedCharged = ci, true
			continue
		}
		if _, ok := p.charged[i]; !ok {
			p.order = append(p.order, i)
		}
		p.charged[i] = ci
		p.counts[i] = counts[i]
		p.cis[i] = ci
		p.states[i] = schedStateFrom(ci, counts[i], p.states[i].AttributeIndex, &p.states[i])
	}
	var rt *ecsstore.RunToken
	if opts.ClientToken != "" {
		rt = &ecsstore.RunToken{Token: opts.ClientToken, CreatedAt: opts.Now}
		for _, t := range tasks {
			rt.TaskARNs = append(rt.TaskARNs, t.ARN)
		}
	}
	p.writes.EncodeTasks(q.sc, q.cluster, created, rt)
	c.tasks = tasks
	return nil
}

// index returns the snapshot index of the registered instance arn of the
// cluster, or -1.
func (p *batchPlan) index(arn string) int {
	// The instance's ID is the last segment of its ARN; the ARN found must
	// be arn itself, so nothing else needs parsing.
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	i, found := slices.BinarySearchFunc(p.entries, id, func(e *viewEntry, id string) int { return cmp.Compare(e.id, id) })
	if !found || p.cis[i].ARN != arn {
		return -1
	}
	return i
}

// readView takes the cluster's registered instances from the placement
// view.
func (p *batchPlan) readView() error {
	if p.viewRead {
		return nil
	}
	// Everything acknowledged so far (read your writes): the batch in
	// flight is not, until it lands, and is built on below. If every
	// revision the state cache lacks is one of this queue's own batches,
	// the plan takes their writes from memory instead of waiting for the
	// cache to catch up with them.
	q := p.q
	rev, err := q.pl.st.Revision(p.ctx)
	if err != nil {
		return err
	}
	q.prune(q.pl.cache.Revision())
	if !q.ownCovers(q.pl.cache.Revision(), rev) {
		if err := q.pl.cache.WaitForRevision(p.ctx, rev); err != nil {
			return err
		}
		q.prune(q.pl.cache.Revision())
	}
	arr, _ := p.q.pl.arrays.Get().(*planArrays)
	if arr == nil {
		arr = &planArrays{}
	}
	entries := p.q.pl.view.snapshot(p.q.key, arr.entries[:0])
	arr.entries = entries
	arr.cis = grow(arr.cis, len(entries))
	arr.states = grow(arr.states, len(entries))
	p.arr = arr
	p.entries, p.viewRev = entries, rev
	p.cis, p.states = arr.cis, arr.states
	for i, e := range entries {
		p.cis[i], p.states[i] = e.ci, e.state
	}
	p.counts = map[int]ecsstore.GroupCounts{}
	p.fromPrev = map[int]bool{}
	p.ownRev = map[int]int64{}
	// The instances the own batches the view may lack charged are as they
	// wrote them (unless the view has that write, or a later one).
	for _, ob := range q.own {
		for id, os := range ob.states {
			i, found := slices.BinarySearchFunc(entries, id, func(e *viewEntry, id string) int { return cmp.Compare(e.id, id) })
			if !found || entries[i].inst.StateRev >= ob.rev {
				continue
			}
			c := *entries[i].ci
			c.RemainingResources, c.Version = os.ci.RemainingResources, os.ci.Version
			ci := &c
			p.cis[i], p.states[i] = ci, schedStateFrom(ci, os.groups, entries[i].state.AttributeIndex, &entries[i].state)
			p.counts[i], p.ownRev[i] = os.groups, ob.rev
		}
	}
	// The instances the batch in flight charged are as it writes them.
	if prev := p.prev; prev != nil {
		for _, j := range prev.p.order {
			i := p.index(prev.p.cis[j].ARN)
			if i < 0 {
				continue // gone since: the batch in flight fails
			}
			charged, counts := prev.p.charged[j], prev.p.counts[j]
			// What the batch in flight wrote (remaining resources and
			// version) over the instance as the view has it now (which
			// may count more running tasks).
			c := *entries[i].ci
			c.RemainingResources, c.Version = charged.RemainingResources, charged.Version
			ci := &c
			p.cis[i], p.states[i] = ci, schedStateFrom(ci, counts, entries[i].state.AttributeIndex, &entries[i].state)
			p.counts[i], p.fromPrev[i] = counts, true
		}
	}
	p.viewRead = true
	return nil
}

// planArrays are a plan's per-instance arrays, recycled by later plans
// (for a thousand instances they take some 130 KB, every batch).
type planArrays struct {
	entries []*viewEntry
	cis     []*ecs.ContainerInstance
	states  []scheduler.InstanceState
}

// grow returns s with length n, reusing its storage when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// release recycles the plan's arrays once nothing reads them: the plan
// has been committed or dropped, and no plan builds on it any more (a
// plan reads the one in flight only while its calls are added). The
// decisions' Inputs are dead by then.
func (p *batchPlan) release() {
	if p == nil || p.arr == nil {
		return
	}
	arr := p.arr
	clear(arr.entries)
	clear(arr.cis)
	clear(arr.states)
	p.arr, p.entries, p.cis, p.states = nil, nil, nil, nil
	p.q.pl.arrays.Put(arr)
}

// current reports whether the plan's inputs are still what a call queued
// now would read if it were placed alone: the store has acknowledged no
// write since the plan read the placement view (such a write may have been
// seen, and so be the reason for the call), and the managed instance, if
// the plan read it, is unchanged. The batch in flight does not count, in
// flight or committed: the plan already builds on its writes. (Its callers
// are answered as soon as it commits, and their next calls, which come
// before the worker notices, join this plan instead of waiting a commit.)
func (p *batchPlan) current() bool {
	if p.viewRead {
		rev, err := p.q.pl.st.Revision(p.ctx)
		if err != nil {
			return false
		}
		// The only write since the view is the batch in flight's.
		if rev > p.viewRev && !(rev == p.viewRev+1 && p.prev != nil && p.prev.landedAt(rev)) {
			return false
		}
	}
	if p.managed != nil && !p.managedFromPrev {
		_, rev, err := p.q.pl.repo.ManagedInstanceRev(p.ctx, p.q.sc, p.q.cluster)
		return err == nil && rev == p.managedRev
	}
	return true
}

// readManaged reads the cluster's managed instance, or builds it with
// opts.NewManaged if the cluster has none yet (it is then written only if
// a task is placed on it).
func (p *batchPlan) readManaged(opts Options) error {
	if p.managed != nil {
		return nil
	}
	if prev := p.prev; prev != nil && prev.p.managedCharged {
		p.managed, p.managedFromPrev = prev.p.managed, true
		return nil
	}
	ci, rev, err := p.q.pl.repo.ManagedInstanceRev(p.ctx, p.q.sc, p.q.cluster)
	if err != nil {
		return err
	}
	if ci == nil {
		if ci, err = opts.NewManaged(p.cl); err != nil {
			return err
		}
	}
	p.managed, p.managedRev = ci, rev
	return nil
}
