package ecsstore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// maxBatchCalls caps how many CreateTasks calls one placement transaction
// commits.
const maxBatchCalls = 64

// placementQueue is the plan queue of one cluster, as in Nomad: every
// CreateTasks call for the cluster is queued, and one worker goroutine
// (started when the queue fills, gone when it empties) repeatedly takes the
// calls waiting, in arrival order, and places them as a batch:
//
//  1. it reads the cluster and the placement view once;
//  2. it runs each call in turn (client token check, decide, charging the
//     instances) against that view, updated in memory with the tasks and
//     reservations of the calls before it;
//  3. it commits every call's tasks, tags and tokens and the final value of
//     every charged instance in ONE store transaction (one fsync), which
//     compares the revisions of the cluster, of every charged instance and
//     instance-groups record as read in step 1, and that the new tokens do
//     not exist.
//
// Why each call gets what it would have got alone, in batch order: call k
// decides on exactly the state a lone call would read after calls 1..k-1
// committed (the view as read plus their writes, which are the only
// changes since, or the compares would fail). A call whose decision or
// charging fails gets its error and leaves the batch state untouched (it
// works on copies), as a lone failed call writes nothing. A call with the
// client token of an earlier call of the batch is left for the next batch,
// where it sees that call's token and replays it. If the transaction loses
// a compare (a write by someone else: an agent updating an instance, a
// deregistration, DeleteCluster, another process), nothing was written and
// the whole batch is placed again from a fresh view, as lone calls would
// retry. If it fails otherwise, each call is placed again alone, so one
// bad call cannot fail the others. Calls of one batch never conflict with
// each other, which is what lets concurrent RunTask calls share a commit.
// The view (and the overlay in last) only feed decisions; the compares are
// what make a commit correct, so a stale input costs a retry, never a
// wrong write.
//
// The worker runs with its own context: a caller whose context ends while
// its call is still queued withdraws it; once taken, the call's outcome
// stands, as with a store Txn.
type placementQueue struct {
	r       *Repo
	sc      ecs.Scope
	cluster string
	key     queueKey

	mu      sync.Mutex
	pending []*createCall
	running bool // a worker is draining pending

	// last is what the worker's previous batch wrote, at revision
	// lastRev. The placement view applies a revision's events one by one,
	// so when it has reached lastRev it may not have all of that batch's
	// writes yet; readView takes them from here instead of deciding on
	// stale records (which would only cost a retry). Used by the worker
	// only.
	last    map[string]writtenRecord // instance or instance-groups key → value
	lastRev int64
}

// writtenRecord is an instance (ci and raw) or instance-groups (counts)
// record a batch wrote.
type writtenRecord struct {
	raw    []byte
	ci     *ecs.ContainerInstance
	counts groupCounts
}

// createCall is one CreateTasks call. The worker sets the results before
// it closes done.
type createCall struct {
	opts   CreateOptions
	decide func(*PlacementInput) ([]PlacedTask, error)

	tasks    []*ecs.Task
	replayed bool
	err      error
	done     chan struct{}
}

type queueKey struct {
	s       store.Store
	cluster string // viewScopeKey
}

var queues sync.Map // queueKey → *placementQueue

func (r *Repo) queueFor(sc ecs.Scope, cluster string) *placementQueue {
	k := queueKey{s: r.s, cluster: viewScopeKey(sc, cluster)}
	if q, ok := queues.Load(k); ok {
		return q.(*placementQueue)
	}
	q, _ := queues.LoadOrStore(k, &placementQueue{r: r, sc: sc, cluster: cluster, key: k})
	return q.(*placementQueue)
}

// submit queues c and waits for its outcome. A call still waiting when ctx
// ends is withdrawn; once taken, its outcome stands whatever ctx does.
func (q *placementQueue) submit(ctx context.Context, c *createCall) error {
	q.mu.Lock()
	q.pending = append(q.pending, c)
	if !q.running {
		q.running = true
		go q.work()
	}
	q.mu.Unlock()
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

// work places batches until the queue is empty.
func (q *placementQueue) work() {
	for {
		q.mu.Lock()
		batch := q.take()
		if len(batch) == 0 {
			q.running = false
			// Forget the idle queue (and its store). A submitter that
			// still holds it starts a worker on it again; a second queue
			// for the cluster is harmless: its commits compare like any
			// other writer's.
			queues.CompareAndDelete(q.key, q)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.place(batch)
		for _, c := range batch {
			close(c.done)
		}
	}
}

// take removes the next batch from pending: up to maxBatchCalls calls in
// arrival order, stopping before a call whose client token an earlier call
// of the batch has. q.mu must be held.
func (q *placementQueue) take() []*createCall {
	n := 0
	tokens := map[string]bool{}
	for n < len(q.pending) && n < maxBatchCalls {
		if t := q.pending[n].opts.ClientToken; t != "" {
			if tokens[t] {
				break
			}
			tokens[t] = true
		}
		n++
	}
	batch := slices.Clone(q.pending[:n])
	rest := copy(q.pending, q.pending[n:])
	clear(q.pending[rest:])
	q.pending = q.pending[:rest]
	return batch
}

// batchTxnError is a non-conflict failure of a batch's transaction.
type batchTxnError struct{ err error }

func (e batchTxnError) Error() string { return e.err.Error() }
func (e batchTxnError) Unwrap() error { return e.err }

// place places a batch and sets every call's outcome.
func (q *placementQueue) place(batch []*createCall) {
	ctx := context.Background()
	err := retry(ctx, func() error { return q.try(ctx, batch) })
	var txnErr batchTxnError
	switch {
	case err == nil:
		return
	case errors.As(err, &txnErr):
		for i := range batch {
			q.place(batch[i : i+1])
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
	r := q.r
	ck := clusterKey(q.sc, q.cluster)
	cl, crev, err := getJSON[ecs.Cluster](ctx, r.s, ck)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cl.Status != ecs.ClusterActive) {
		return clusterNotFound(q.cluster)
	}
	if err != nil {
		return err
	}
	p := &batchPlan{q: q, ctx: ctx, cl: cl, raw: map[string]store.KV{}, charged: map[string]*ecs.ContainerInstance{}}
	for _, c := range batch {
		c.tasks, c.replayed, c.err = nil, false, nil
		c.err = p.add(c)
	}
	if len(p.ops) == 0 {
		return nil
	}
	cmps := append([]store.Compare{{Key: ck, ModRevision: crev}}, p.cmps...)
	ops := p.ops
	written := make([][]byte, len(p.order))
	for i, key := range p.order {
		ci := p.charged[key]
		cmps = append(cmps, store.Compare{Key: key, ModRevision: p.raw[key].ModRevision})
		written[i] = mustJSON(ci)
		ops = append(ops, store.Op{Key: key, Value: written[i]})
		if key != p.managedKey {
			gk := groupsKey(q.sc, q.cluster, ci.ID)
			cmps = append(cmps, store.Compare{Key: gk, ModRevision: p.groupRevs[ci.ID]})
			ops = append(ops, store.Op{Key: gk, Value: mustJSON(p.counts[ci.ID])})
		}
	}
	rev, err := r.s.Txn(ctx, cmps, ops)
	if err != nil {
		// The overlay may be what is stale (a record someone else
		// deleted since): place again on the view alone.
		q.last = nil
		if len(batch) > 1 && !errors.Is(err, store.ErrConflict) {
			return batchTxnError{err}
		}
		return err
	}
	q.last, q.lastRev = make(map[string]writtenRecord, 2*len(p.order)), rev
	for i, key := range p.order {
		ci := p.charged[key]
		rememberInstance(key, written[i], ci)
		q.last[key] = writtenRecord{raw: written[i], ci: ci}
		if key != p.managedKey {
			q.last[groupsKey(q.sc, q.cluster, ci.ID)] = writtenRecord{counts: p.counts[ci.ID]}
		}
	}
	return nil
}

// batchPlan is the state of one attempt at a batch: the view the calls
// decide on, updated in memory by each call that succeeds, and the writes
// to commit. Instances are keyed by their store key.
type batchPlan struct {
	q   *placementQueue
	ctx context.Context
	cl  *ecs.Cluster

	// The registered instances, read on first use: as read (vis), and
	// current (instances, aligned; shared values, never modified).
	viewRead  bool
	vis       []viewInstance
	instances []*ecs.ContainerInstance
	pos       map[string]int         // instance ARN → index
	groups    map[string][]string    // instance ID → current groups
	counts    map[string]groupCounts // instance ID → current group counts
	groupRevs map[string]int64       // instance ID → instance-groups revision as read

	// The managed instance, read (or built) on first use; current value.
	managedKey string
	managed    *ecs.ContainerInstance

	raw     map[string]store.KV               // instance key → record as read
	charged map[string]*ecs.ContainerInstance // instance key → value to write
	order   []string                          // charged keys, first charge first
	cmps    []store.Compare                   // token compares
	ops     []store.Op                        // tasks, tags and tokens
}

// add runs one call against the plan and returns its error.
func (p *batchPlan) add(c *createCall) error {
	q, opts := p.q, c.opts
	var tk string
	if opts.ClientToken != "" {
		tk = tokenKey(q.sc, q.cluster, opts.ClientToken)
		rec, _, err := getJSON[tokenRecord](p.ctx, q.r.s, tk)
		switch {
		case err == nil:
			c.tasks, err = q.r.tasksByARN(p.ctx, q.sc, rec.TaskARNs)
			c.replayed = err == nil
			return err
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	in := &PlacementInput{Cluster: p.cl}
	if opts.Managed {
		if err := p.readManaged(opts); err != nil {
			return err
		}
		in.Instances = []*ecs.ContainerInstance{p.managed}
	} else {
		if err := p.readView(); err != nil {
			return err
		}
		in.Instances = slices.Clone(p.instances)
		in.Groups = maps.Clone(p.groups)
	}
	placed, err := c.decide(in)
	if err != nil {
		return err
	}

	// Charge copies, so that a call that fails leaves the plan as it was.
	mine := map[string]*ecs.ContainerInstance{} // instance key → charged copy
	var order []string
	counts := map[string]groupCounts{}
	var tasks []*ecs.Task
	var ops []store.Op
	for _, pt := range placed {
		t := pt.Task
		if arn := t.ContainerInstanceARN; arn != "" {
			key, cur := p.current(arn, opts.Managed)
			if cur == nil {
				return fault.New(fault.Internal, "placement chose unknown instance %s", arn)
			}
			ci := mine[key]
			if ci == nil {
				ci = cloneInstance(cur)
				mine[key] = ci
				order = append(order, key)
			}
			if err := ci.Reserve(pt.Resources); err != nil {
				return err
			}
			if !opts.Managed {
				gc := counts[ci.ID]
				if gc == nil {
					if gc = maps.Clone(p.counts[ci.ID]); gc == nil {
						gc = groupCounts{}
					}
					counts[ci.ID] = gc
				}
				gc[t.Group]++
			}
		}
		t.Tags = nil
		ops = append(ops, store.Op{Key: taskKey(q.sc, q.cluster, t.ID), Value: mustJSON(t)})
		ops = append(ops, tagOps(t.ARN, pt.Tags)...)
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil
	}

	// The call succeeded: make its charges the plan's current state.
	for _, key := range order {
		ci := mine[key]
		if _, ok := p.charged[key]; !ok {
			p.order = append(p.order, key)
		}
		p.charged[key] = ci
		if opts.Managed {
			p.managed = ci
		} else {
			p.instances[p.pos[ci.ARN]] = ci
		}
	}
	for id, gc := range counts {
		p.counts[id] = gc
		p.groups[id] = expandGroups(gc)
	}
	if tk != "" {
		rec := tokenRecord{CreatedAt: opts.Now}
		for _, t := range tasks {
			rec.TaskARNs = append(rec.TaskARNs, t.ARN)
		}
		p.cmps = append(p.cmps, store.Compare{Key: tk})
		ops = append(ops, store.Op{Key: tk, Value: mustJSON(rec)})
	}
	p.ops = append(p.ops, ops...)
	c.tasks = tasks
	return nil
}

// current returns the store key and current value of the instance arn
// among the candidates of a call (nil if it is not one).
func (p *batchPlan) current(arn string, managed bool) (string, *ecs.ContainerInstance) {
	if managed {
		if p.managed != nil && p.managed.ARN == arn {
			return p.managedKey, p.managed
		}
		return "", nil
	}
	i, ok := p.pos[arn]
	if !ok {
		return "", nil
	}
	return p.vis[i].kv.Key, p.instances[i]
}

// readView reads the cluster's registered instances and their groups from
// the placement view, once it has seen the store's current revision.
func (p *batchPlan) readView() error {
	if p.viewRead {
		return nil
	}
	r := p.q.r
	minRev, err := r.s.Revision(p.ctx)
	if err != nil {
		return err
	}
	vis, vgroups, err := r.view().snapshot(p.ctx, p.q.sc, p.q.cluster, minRev)
	if err != nil {
		return err
	}
	p.vis = vis
	p.instances = make([]*ecs.ContainerInstance, len(vis))
	p.pos = make(map[string]int, len(vis))
	p.groups = make(map[string][]string, len(vis))
	p.counts = map[string]groupCounts{}
	p.groupRevs = map[string]int64{}
	for i, vi := range vis {
		g := vgroups[i]
		// The view has not applied the previous batch's write of this
		// instance yet (nor, written with it, of its groups): use it.
		if w, ok := p.q.last[vi.kv.Key]; ok && vi.kv.ModRevision < p.q.lastRev {
			vi.ci, vi.kv.Value, vi.kv.ModRevision = w.ci, w.raw, p.q.lastRev
			vis[i] = vi
			if w, ok := p.q.last[groupsKey(p.q.sc, p.q.cluster, vi.ci.ID)]; ok {
				g = viewGroups{counts: w.counts, groups: expandGroups(w.counts), rev: p.q.lastRev}
			}
		}
		p.instances[i] = vi.ci
		p.pos[vi.ci.ARN] = i
		p.raw[vi.kv.Key] = vi.kv
		if g.rev != 0 {
			p.groupRevs[vi.ci.ID] = g.rev
			p.counts[vi.ci.ID] = g.counts
			p.groups[vi.ci.ID] = g.groups
		}
	}
	p.viewRead = true
	return nil
}

// readManaged reads the cluster's managed instance, or builds it with
// opts.NewManaged if the cluster has none yet (it is then written only if
// a task is placed on it).
func (p *batchPlan) readManaged(opts CreateOptions) error {
	if p.managed != nil {
		return nil
	}
	mk := managedKey(p.q.sc, p.q.cluster)
	kv, err := p.q.r.s.Get(p.ctx, mk)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ci, err := opts.NewManaged(p.cl)
		if err != nil {
			return err
		}
		kv = store.KV{Key: mk, Value: mustJSON(ci)}
	case err != nil:
		return err
	}
	ci, err := decode[ecs.ContainerInstance](kv)
	if err != nil {
		return err
	}
	p.managedKey, p.managed = mk, ci
	p.raw[mk] = kv
	return nil
}

// expandGroups lists a group once per task in it.
func expandGroups(gc groupCounts) []string {
	var out []string
	for g, n := range gc {
		for range n {
			out = append(out, g)
		}
	}
	return out
}
