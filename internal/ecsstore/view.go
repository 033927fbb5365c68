package ecsstore

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
)

// placementView is an in-memory copy of every cluster's registered
// instances with their state records (and legacy groups records), kept
// ready for the scheduler (scheduler.InstanceState per instance, attribute
// index included), so that placing a task reads, decodes and derives
// nothing per instance. An instance's entry is rebuilt only when one of its
// records changes.
//
// It is fed from two sides. Every write of these records by this package
// (Repo.txn) is applied to the view by the writer itself, after the Txn
// succeeded and before the writer returns; a watch of the store brings in
// everything else (a change written by another process sharing the store)
// and the initial state. Each record carries its revision and the view
// keeps only the newest it saw, so the two sides can deliver one write in
// either order; a deleted record leaves a tombstone until the watch has
// passed its revision.
//
// Read-your-writes: a bbolt commit is visible to readers (Get, List) a
// moment before its Txn returns (while the fsync is in flight), so a client
// can see, say, a task as STOPPED before the write that released its
// resources has returned and reached the view. Writers therefore register
// with the view before their Txn (begin) and snapshot waits for every write
// of the cluster registered before it started to end. A snapshot thus
// reflects every write of this process that anyone could have seen when
// it started, and never half of a transaction.
//
// The view also counts each instance's running tasks (its
// runningTasksCount, which the cluster query language can test), from the
// task records themselves, with the rule DescribeContainerInstances uses
// (see TaskRunning): a writer of a task hands the view the task's instance
// and status (taskChange), and the watch decodes the few fields it needs
// of tasks written elsewhere. Only a write that makes a task start or stop
// running is waited for as above. Placement does not compare the task
// records: a task that starts running meanwhile is a change after the
// placement, as when it is reported a moment later.
//
// The view only feeds decisions: the commit of a placement compares the
// revisions of the records it charged, so a stale entry costs a retry,
// never a wrong write.
type placementView struct {
	s    store.Store
	mu   sync.Mutex
	cond *sync.Cond

	loaded   bool  // the initial list has been applied
	dead     bool  // the store closed
	watchRev int64 // revision of the last event the watch (or list) delivered

	clusters map[string]*clusterView // viewScopeKey → cluster

	nextTicket uint64
	inflight   map[uint64]string // write ticket → viewScopeKey
	begun      map[string]uint64 // viewScopeKey → writes begun (ever)

	// applied holds the revisions, past watchRev, whose writes a writer
	// has applied: the watch then decodes none of their tasks.
	applied map[int64]struct{}

	watchKeys scopeKeys // the watch's (only run uses it)
}

// clusterView is one cluster's instances, sorted by ID, and its running
// tasks.
type clusterView struct {
	entries []*viewEntry

	// tasks marks the cluster's running tasks, and its stopped or deleted
	// ones until the watch has passed them (so that an older put of the
	// task, delivered later, cannot count it again). A task's status only
	// moves forward, so a task not yet running needs no mark.
	tasks   map[string]taskMark
	running map[string]int // instance ID → running tasks (marks on it)
}

// taskMark is what the view knows of one task.
type taskMark struct {
	inst    string // instance ID, if running
	rev     int64
	running bool
}

// taskChange is what the writer of a task hands the view (as the task's
// value in Repo.txn's decoded map): the instance it is on ("" for none, or
// for the managed capacity, which the view does not keep), whether it is
// running, whether it is stopped, and whether this write starts or stops
// it running (only such a write is waited for by placements).
type taskChange struct {
	inst             string
	running, stopped bool
	changed          bool
}

// TaskRunning reports whether a task in lastStatus counts as running on
// its instance (runningTasksCount): from RUNNING until STOPPED. Tasks
// before RUNNING are pending.
func TaskRunning(lastStatus string) bool {
	return lastStatus != ecs.TaskStopped && ecs.TaskStatusIndex(lastStatus) >= ecs.TaskStatusIndex(ecs.TaskRunning)
}

// changeOf describes a task for the view; wasRunning is whether it was
// running before the write.
func changeOf(t *ecs.Task, wasRunning bool) taskChange {
	c := taskChange{stopped: t.LastStatus == ecs.TaskStopped}
	if t.LaunchType == ecs.LaunchFargate || t.ContainerInstanceARN == "" {
		return c
	}
	c.inst = lastSegment(t.ContainerInstanceARN)
	c.running = TaskRunning(t.LastStatus)
	c.changed = c.running != wasRunning
	return c
}

// taskFields are the fields of a stored task the view reads.
type taskFields struct {
	LastStatus string `json:"lastStatus"`
	Instance   string `json:"containerInstanceArn"`
	LaunchType string `json:"launchType"`
}

func decodeTaskChange(kv store.KV) (taskChange, error) {
	var f taskFields
	if err := json.Unmarshal(kv.Value, &f); err != nil {
		return taskChange{}, err
	}
	return changeOf(&ecs.Task{LastStatus: f.LastStatus, ContainerInstanceARN: f.Instance, LaunchType: f.LaunchType}, false), nil
}

// viewEntry is one instance's records and what placement derives from
// them. It is immutable once in the view: a change replaces it.
type viewEntry struct {
	id string

	base    *ecs.ContainerInstance // nil: no instance record (deleted, or not seen yet)
	baseRev int64                  // revision of base, or of its deletion
	st      *StateRecord
	stRev   int64
	legacy  GroupCounts
	legRev  int64

	// When base != nil: the instance as placement sees it.
	ci    *ecs.ContainerInstance
	state scheduler.InstanceState
}

var views sync.Map // store.Store → *placementView

func viewScopeKey(sc ecs.Scope, cluster string) string {
	return sc.Account + "|" + sc.Region + "|" + cluster
}

// view returns the store's placement view, starting it on first use.
func (r *Repo) view() *placementView {
	if v, ok := views.Load(r.s); ok {
		return v.(*placementView)
	}
	v := &placementView{s: r.s, clusters: map[string]*clusterView{}, inflight: map[uint64]string{}, begun: map[string]uint64{}, applied: map[int64]struct{}{}}
	v.cond = sync.NewCond(&v.mu)
	if actual, loaded := views.LoadOrStore(r.s, v); loaded {
		return actual.(*placementView)
	}
	go v.run()
	return v
}

// viewKey tells whether a key is one the view keeps, and whose.
func viewKey(key string) (sk, kind, id string, ok bool) {
	var c scopeKeys
	return c.viewKey(key)
}

// scopeKeys is viewKey for the keys of one Txn, which mostly share their
// cluster: it builds each cluster's viewScopeKey once.
type scopeKeys struct {
	account, region, cluster, sk string
}

func (c *scopeKeys) viewKey(key string) (sk, kind, id string, ok bool) {
	sc, kind, cluster, id, ok := KeyInfo(key)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", "", "", false
	}
	switch kind {
	case KindInstance, kindState, kindLegacyGroups, KindTask:
	default:
		return "", "", "", false
	}
	if c.sk == "" || c.account != sc.Account || c.region != sc.Region || c.cluster != cluster {
		c.account, c.region, c.cluster, c.sk = sc.Account, sc.Region, cluster, viewScopeKey(sc, cluster)
	}
	return c.sk, kind, id, true
}

// txn runs a Txn. If it writes records the placement view keeps, the view
// counts it as in flight until the writes are applied to it (see
// placementView). decoded may map written keys to their values, decoded
// (*ecs.ContainerInstance, *stateRecord), to spare decoding them again;
// those values must not be modified afterwards. A task written without a
// taskChange in decoded is one the write neither starts nor stops running.
func (r *Repo) txn(ctx context.Context, cmps []store.Compare, ops []store.Op, decoded map[string]any) (int64, error) {
	return r.beginWrite(ops, decoded).commit(ctx, r.s, cmps, ops, decoded)
}

// viewWrite is a Txn registered with the placement view before it is
// submitted.
type viewWrite struct {
	v       *placementView // nil: the Txn writes no record the view keeps
	tickets []uint64       // the clusters whose placements wait for it
}

// beginWrite registers a Txn of ops (see txn for decoded) with the
// placement view, if it writes records the view keeps.
func (r *Repo) beginWrite(ops []store.Op, decoded map[string]any) *viewWrite {
	var clusters []string
	keeps := false
	var keys scopeKeys
	for _, op := range ops {
		sk, kind, _, ok := keys.viewKey(op.Key)
		if !ok {
			continue
		}
		keeps = true
		if kind == KindTask && !op.Delete {
			if c, _ := decoded[op.Key].(taskChange); !c.changed {
				continue
			}
		}
		if !slices.Contains(clusters, sk) {
			clusters = append(clusters, sk)
		}
	}
	if !keeps {
		return &viewWrite{}
	}
	v := r.view()
	return &viewWrite{v: v, tickets: v.begin(clusters)}
}

// commit runs the registered Txn and applies its writes to the view.
func (w *viewWrite) commit(ctx context.Context, s store.Store, cmps []store.Compare, ops []store.Op, decoded map[string]any) (int64, error) {
	rev, err := s.Txn(ctx, cmps, ops)
	if w.v == nil {
		return rev, err
	}
	if err != nil {
		w.v.end(w.tickets, 0, nil, nil)
		return rev, err
	}
	w.v.end(w.tickets, rev, ops, decoded)
	return rev, nil
}

// begin registers a write of the clusters' records that is about to be
// submitted.
func (v *placementView) begin(clusters []string) []uint64 {
	if len(clusters) == 0 {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	tickets := make([]uint64, len(clusters))
	for i, sk := range clusters {
		v.nextTicket++
		tickets[i] = v.nextTicket
		v.inflight[v.nextTicket] = sk
		v.begun[sk]++
	}
	return tickets
}

// began returns how many writes of the cluster's records have begun.
func (v *placementView) began(sc ecs.Scope, cluster string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.begun[viewScopeKey(sc, cluster)]
}

// end applies the writes of a Txn that committed at rev (rev 0: it wrote
// nothing) and retires its tickets.
func (v *placementView) end(tickets []uint64, rev int64, ops []store.Op, decoded map[string]any) {
	type write struct {
		sk, kind, id string
		del          bool
		val          any
	}
	var writes []write
	if rev > 0 {
		var keys scopeKeys
		for _, op := range ops {
			sk, kind, id, ok := keys.viewKey(op.Key)
			if !ok {
				continue
			}
			w := write{sk: sk, kind: kind, id: id, del: op.Delete}
			if kind == KindTask {
				c, known := decoded[op.Key].(taskChange)
				if !known && !op.Delete {
					continue // neither starts nor stops running: nothing to count
				}
				w.val = c
				writes = append(writes, w)
				continue
			}
			if !op.Delete {
				val, known := decoded[op.Key]
				if !known {
					var err error
					if val, err = decodeViewValue(kind, store.KV{Key: op.Key, Value: op.Value}); err != nil {
						continue // undecodable: the watch will not do better; placement skips it
					}
				}
				w.val = val
			}
			writes = append(writes, w)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if rev > v.watchRev {
		if v.applied == nil {
			v.applied = map[int64]struct{}{}
		}
		v.applied[rev] = struct{}{}
	}
	for _, w := range writes {
		if w.kind == KindTask {
			c, _ := w.val.(taskChange)
			v.setTask(w.sk, w.id, rev, w.del, c, true)
			continue
		}
		v.setFrom(w.sk, w.kind, w.id, rev, w.del, w.val, true)
	}
	if len(tickets) > 0 {
		for _, t := range tickets {
			delete(v.inflight, t)
		}
		v.cond.Broadcast()
	}
}

func decodeViewValue(kind string, kv store.KV) (any, error) {
	switch kind {
	case KindInstance:
		return decodeInstanceShared(kv)
	case kindState:
		return decodeState(kv)
	case KindTask:
		return decodeTaskChange(kv)
	default:
		gc, err := decode[GroupCounts](kv)
		if err != nil {
			return nil, err
		}
		return *gc, nil
	}
}

func (v *placementView) run() {
	ctx := context.Background()
	defer func() {
		v.mu.Lock()
		v.dead = true
		v.cond.Broadcast()
		v.mu.Unlock()
		views.CompareAndDelete(v.s, v)
	}()
	for {
		rev, err := v.load(ctx)
		if err != nil {
			return
		}
		ch, err := v.s.Watch(ctx, "/ecs/", rev)
		if errors.Is(err, store.ErrCompacted) {
			continue
		}
		if err != nil {
			return
		}
		for ev := range ch {
			v.apply(ev)
		}
		if _, err := v.s.Revision(ctx); err != nil {
			return // the store closed
		}
	}
}

// load lists every record the view keeps and merges them in: a record
// the view has at a revision at or below the list's and that the list
// lacks was deleted meanwhile; anything newer came from a writer after the
// list and stays.
func (v *placementView) load(ctx context.Context) (int64, error) {
	kvs, rev, err := v.s.List(ctx, "/ecs/", store.ListOptions{})
	if err != nil {
		return 0, err
	}
	type rec struct {
		sk, kind, id string
		rev          int64
		val          any
	}
	var recs []rec
	listed := map[string]bool{}
	for _, kv := range kvs {
		sk, kind, id, ok := viewKey(kv.Key)
		if !ok {
			continue
		}
		val, err := decodeViewValue(kind, kv)
		if err != nil {
			continue
		}
		if c, isTask := val.(taskChange); isTask && !c.running {
			continue // only running tasks are marked
		}
		recs = append(recs, rec{sk, kind, id, kv.ModRevision, val})
		listed[sk+"\x00"+kind+"\x00"+id] = true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range recs {
		if r.kind == KindTask {
			v.setTask(r.sk, r.id, r.rev, false, r.val.(taskChange), false)
			continue
		}
		v.setFrom(r.sk, r.kind, r.id, r.rev, false, r.val, false)
	}
	for sk, cv := range v.clusters {
		for _, e := range slices.Clone(cv.entries) {
			for _, k := range []struct {
				kind string
				has  bool
				rev  int64
			}{{KindInstance, e.base != nil, e.baseRev}, {kindState, e.st != nil, e.stRev}, {kindLegacyGroups, e.legacy != nil, e.legRev}} {
				if k.has && k.rev <= rev && !listed[sk+"\x00"+k.kind+"\x00"+e.id] {
					v.setFrom(sk, k.kind, e.id, rev, true, nil, false)
				}
			}
		}
		for id, m := range cv.tasks {
			if m.running && m.rev <= rev && !listed[sk+"\x00"+KindTask+"\x00"+id] {
				// Stopped (the list does not mark it) or deleted meanwhile.
				v.setTask(sk, id, rev, true, taskChange{}, false)
			}
		}
	}
	v.advance(rev)
	v.gc()
	v.loaded = true
	v.cond.Broadcast()
	return rev, nil
}

// advance moves watchRev to rev, forgetting the revisions writers applied
// up to it. v.mu must be held.
func (v *placementView) advance(rev int64) {
	if rev <= v.watchRev {
		return
	}
	v.watchRev = rev
	for r := range v.applied {
		if r < rev {
			delete(v.applied, r)
		}
	}
}

// apply applies one watch event.
func (v *placementView) apply(ev store.Event) {
	rev := ev.KV.ModRevision
	sk, kind, id, ok := v.watchKeys.viewKey(ev.KV.Key)
	var val any
	if ok && ev.Type == store.EventPut {
		// Most puts the watch delivers were applied by their writer
		// already: decode only what the view lacks.
		ok = v.newer(sk, kind, id, rev)
		if ok {
			var err error
			val, err = decodeViewValue(kind, ev.KV)
			ok = err == nil
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.advance(rev)
	switch {
	case ok && kind == KindTask:
		c, _ := val.(taskChange)
		v.setTask(sk, id, rev, ev.Type == store.EventDelete, c, false)
	case ok:
		v.setFrom(sk, kind, id, rev, ev.Type == store.EventDelete, val, false)
	case kind == KindTask:
		v.dropTaskTombstone(sk, id)
	}
}

// newer reports whether rev is newer than the view's record, and for a
// task, whether its writer did not apply it.
func (v *placementView) newer(sk, kind, id string, rev int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	cv := v.clusters[sk]
	if kind == KindTask {
		if _, done := v.applied[rev]; done {
			return false
		}
		if cv == nil {
			return true
		}
		m, found := cv.tasks[id]
		return !found || rev > m.rev
	}
	if cv == nil {
		return true
	}
	i, found := cv.find(id)
	return !found || rev > cv.entries[i].rev(kind)
}

func (cv *clusterView) find(id string) (int, bool) {
	return slices.BinarySearchFunc(cv.entries, id, func(e *viewEntry, id string) int { return strings.Compare(e.id, id) })
}

func (e *viewEntry) rev(kind string) int64 {
	switch kind {
	case KindInstance:
		return e.baseRev
	case kindState:
		return e.stRev
	}
	return e.legRev
}

// cluster returns a cluster's view, creating it. v.mu must be held.
func (v *placementView) cluster(sk string) *clusterView {
	cv := v.clusters[sk]
	if cv == nil {
		cv = &clusterView{}
		v.clusters[sk] = cv
	}
	return cv
}

// set records a put (val) or deletion of one record at rev, unless the
// view has it at rev or newer. v.mu must be held.
func (v *placementView) set(sk, kind, id string, rev int64, del bool, val any) {
	v.setFrom(sk, kind, id, rev, del, val, false)
}

// setFrom is set; fromWriter tells that the change comes from its writer,
// which may apply it after the watch has delivered it (and later changes
// of the record).
func (v *placementView) setFrom(sk, kind, id string, rev int64, del bool, val any, fromWriter bool) {
	cv := v.cluster(sk)
	i, found := cv.find(id)
	var e viewEntry
	if found {
		if rev <= cv.entries[i].rev(kind) {
			// Typically the watch delivering a write its writer applied:
			// the last chance to drop a tombstone it no longer needs.
			if cv.entries[i].gone(v.watchRev) {
				cv.entries = slices.Delete(cv.entries, i, i+1)
			}
			return
		}
		e = *cv.entries[i]
	} else {
		if fromWriter && rev <= v.watchRev {
			// The watch has delivered this write, and the view lacks the
			// record: a later deletion removed it (its tombstone is gone).
			return
		}
		// Also for a deletion: the tombstone keeps an older put the watch
		// may still deliver from resurrecting the record.
		e = viewEntry{id: id}
	}
	switch kind {
	case KindInstance:
		e.base, e.baseRev = nil, rev
		if !del {
			e.base = val.(*ecs.ContainerInstance)
		}
	case kindState:
		e.st, e.stRev = nil, rev
		if !del {
			e.st = val.(*StateRecord)
		}
	default:
		e.legacy, e.legRev = nil, rev
		if !del {
			e.legacy = val.(GroupCounts)
		}
	}
	var prev *viewEntry
	if found {
		prev = cv.entries[i]
	}
	e.derive(prev, cv.running[id])
	switch {
	case found:
		cv.entries[i] = &e
	default:
		cv.entries = slices.Insert(cv.entries, i, &e)
	}
	if e.gone(v.watchRev) {
		cv.entries = slices.Delete(cv.entries, i, i+1)
	}
}

// setTask records a task's state (c) or deletion at rev, unless the view
// has the task at rev or newer. v.mu must be held.
func (v *placementView) setTask(sk, id string, rev int64, del bool, c taskChange, fromWriter bool) {
	cv := v.cluster(sk)
	m, found := cv.tasks[id]
	if found && rev <= m.rev {
		v.dropTaskTombstone(sk, id)
		return
	}
	if !found && fromWriter && rev <= v.watchRev {
		return // see setFrom: superseded
	}
	running := !del && c.running && c.inst != ""
	stopped := del || c.stopped
	if !running && !stopped && !found {
		return // not running yet: nothing to mark
	}
	if found && m.running {
		v.count(cv, m.inst, -1)
	}
	switch {
	case running:
		if cv.tasks == nil {
			cv.tasks = map[string]taskMark{}
		}
		cv.tasks[id] = taskMark{inst: c.inst, rev: rev, running: true}
		v.count(cv, c.inst, 1)
	case rev > v.watchRev:
		if cv.tasks == nil {
			cv.tasks = map[string]taskMark{}
		}
		cv.tasks[id] = taskMark{rev: rev}
	default:
		delete(cv.tasks, id)
	}
}

// dropTaskTombstone forgets a stopped task once the watch has passed it.
// v.mu must be held.
func (v *placementView) dropTaskTombstone(sk, id string) {
	cv := v.clusters[sk]
	if cv == nil {
		return
	}
	if m, found := cv.tasks[id]; found && !m.running && m.rev <= v.watchRev {
		delete(cv.tasks, id)
	}
}

// count adds delta to an instance's running tasks and updates its entry.
// v.mu must be held.
func (v *placementView) count(cv *clusterView, inst string, delta int) {
	if cv.running == nil {
		cv.running = map[string]int{}
	}
	n := cv.running[inst] + delta
	if n <= 0 {
		delete(cv.running, inst)
		n = 0
	} else {
		cv.running[inst] = n
	}
	i, found := cv.find(inst)
	if !found || cv.entries[i].ci == nil {
		return
	}
	old := cv.entries[i]
	e := *old
	ci := *old.ci
	ci.RunningTasksCount = n
	e.ci = &ci
	e.state.Instance = &ci
	cv.entries[i] = &e
}

// gone reports whether the entry holds no record and no tombstone that an
// older event (which the watch, past watchRev, can no longer deliver) must
// be checked against.
func (e *viewEntry) gone(watchRev int64) bool {
	return e.base == nil && e.st == nil && e.legacy == nil && max(e.baseRev, e.stRev, e.legRev) <= watchRev
}

// gc drops the entries and task tombstones that are gone. v.mu must be
// held.
func (v *placementView) gc() {
	for sk, cv := range v.clusters {
		cv.entries = slices.DeleteFunc(cv.entries, func(e *viewEntry) bool { return e.gone(v.watchRev) })
		for id, m := range cv.tasks {
			if !m.running && m.rev <= v.watchRev {
				delete(cv.tasks, id)
			}
		}
		if len(cv.entries) == 0 && len(cv.tasks) == 0 {
			delete(v.clusters, sk)
		}
	}
}

// derive computes what placement sees of the entry, with running tasks
// running on it, reusing prev's attribute index while the instance record
// is the same.
func (e *viewEntry) derive(prev *viewEntry, running int) {
	e.ci, e.state = nil, scheduler.InstanceState{}
	if e.base == nil {
		return
	}
	e.ci = compose(e.base, e.st)
	if e.ci.RunningTasksCount != running {
		if e.ci == e.base {
			c := *e.base
			e.ci = &c
		}
		e.ci.RunningTasksCount = running
	}
	groups := e.legacy
	if e.st != nil {
		groups = e.st.Groups
	}
	var attrs map[string]string
	if prev != nil && prev.base == e.base {
		attrs = prev.state.AttributeIndex
	} else {
		attrs = scheduler.IndexAttributes(e.base)
	}
	var prevState *scheduler.InstanceState
	if prev != nil && prev.ci != nil {
		prevState = &prev.state
	}
	e.state = schedStateFrom(e.ci, groups, attrs, prevState)
}

// schedState is an instance as the scheduler sees it. ci, groups and attrs
// are shared with the result: none may be modified afterwards.
func schedState(ci *ecs.ContainerInstance, groups GroupCounts, attrs map[string]string) scheduler.InstanceState {
	return schedStateFrom(ci, groups, attrs, nil)
}

// schedStateFrom is schedState reusing the ports taken that prev (the
// same instance's state before; nil for none) found, if the instance's
// port resources have not changed since.
func schedStateFrom(ci *ecs.ContainerInstance, groups GroupCounts, attrs map[string]string, prev *scheduler.InstanceState) scheduler.InstanceState {
	cpu, mem := ci.Remaining()
	var tcp, udp []int
	if prev != nil && prev.Instance != nil && samePorts(prev.Instance, ci) {
		tcp, udp = prev.TCPPorts, prev.UDPPorts
	} else {
		tcp, udp = ci.UsedPorts()
	}
	return scheduler.InstanceState{Instance: ci, CPU: cpu, Memory: mem, TCPPorts: tcp, UDPPorts: udp, GroupCounts: groups, AttributeIndex: attrs}
}

// samePorts reports whether two instances' remaining PORTS and PORTS_UDP
// resources are the same.
func samePorts(a, b *ecs.ContainerInstance) bool {
	for _, name := range []string{ecs.ResourcePorts, ecs.ResourcePortsUDP} {
		ra, rb := findResource(a.RemainingResources, name), findResource(b.RemainingResources, name)
		if (ra == nil) != (rb == nil) || (ra != nil && !slices.Equal(ra.StringSetValue, rb.StringSetValue)) {
			return false
		}
	}
	return true
}

func findResource(rs []ecs.Resource, name string) *ecs.Resource {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

// snapshot returns the cluster's registered instances, in ID order
// (appended to dst[:0]), once
// every write of the cluster's records that began before it was called has
// ended, except exclude (the caller's own write in flight, whose effects it
// knows; nil for none). The entries are shared: do not modify them. gen is
// the number of the cluster's writes that had begun when it was called
// (see began): while began still returns gen, no write has begun since and
// the snapshot has every write anyone could have seen.
func (v *placementView) snapshot(ctx context.Context, sc ecs.Scope, cluster string, exclude *viewWrite, dst []*viewEntry) (entries []*viewEntry, gen uint64, err error) {
	stop := context.AfterFunc(ctx, func() {
		v.mu.Lock()
		v.cond.Broadcast()
		v.mu.Unlock()
	})
	defer stop()
	sk := viewScopeKey(sc, cluster)
	v.mu.Lock()
	defer v.mu.Unlock()
	hi, gen := v.nextTicket, v.begun[sk]
	var skip []uint64
	if exclude != nil {
		skip = exclude.tickets
	}
	for !v.dead && ctx.Err() == nil && (!v.loaded || v.writing(sk, hi, skip)) {
		v.cond.Wait()
	}
	if v.dead {
		return nil, 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	cv := v.clusters[sk]
	if cv == nil {
		return dst[:0], gen, nil
	}
	out := dst[:0]
	for _, e := range cv.entries {
		if e.base != nil {
			out = append(out, e)
		}
	}
	return out, gen, nil
}

// writing reports whether a write of the cluster with a ticket up to hi,
// other than skip, is in flight. v.mu must be held.
func (v *placementView) writing(sk string, hi uint64, skip []uint64) bool {
	for t, c := range v.inflight {
		if t <= hi && c == sk && !slices.Contains(skip, t) {
			return true
		}
	}
	return false
}
