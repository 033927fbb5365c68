package ecsstore

import (
	"context"
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
}

// clusterView is one cluster's instances, sorted by ID.
type clusterView struct {
	entries []*viewEntry
}

// viewEntry is one instance's records and what placement derives from
// them. It is immutable once in the view: a change replaces it.
type viewEntry struct {
	id string

	base    *ecs.ContainerInstance // nil: no instance record (deleted, or not seen yet)
	baseRev int64                  // revision of base, or of its deletion
	st      *stateRecord
	stRev   int64
	legacy  groupCounts
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
	v := &placementView{s: r.s, clusters: map[string]*clusterView{}, inflight: map[uint64]string{}, begun: map[string]uint64{}}
	v.cond = sync.NewCond(&v.mu)
	if actual, loaded := views.LoadOrStore(r.s, v); loaded {
		return actual.(*placementView)
	}
	go v.run()
	return v
}

// viewKey tells whether a key is one the view keeps, and whose.
func viewKey(key string) (sk, kind, id string, ok bool) {
	sc, kind, cluster, id, ok := KeyInfo(key)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", "", "", false
	}
	switch kind {
	case KindInstance, kindState, kindLegacyGroups:
		return viewScopeKey(sc, cluster), kind, id, true
	}
	return "", "", "", false
}

// txn runs a Txn. If it writes records the placement view keeps, the view
// counts it as in flight until the writes are applied to it (see
// placementView). decoded may map written keys to their values, decoded
// (*ecs.ContainerInstance, *stateRecord), to spare decoding them again;
// those values must not be modified afterwards.
func (r *Repo) txn(ctx context.Context, cmps []store.Compare, ops []store.Op, decoded map[string]any) (int64, error) {
	return r.beginWrite(ops).commit(ctx, r.s, cmps, ops, decoded)
}

// viewWrite is a Txn registered with the placement view before it is
// submitted.
type viewWrite struct {
	v       *placementView // nil: the Txn writes no record the view keeps
	tickets []uint64
}

// beginWrite registers a Txn of ops with the placement view, if it writes
// records the view keeps.
func (r *Repo) beginWrite(ops []store.Op) *viewWrite {
	var clusters []string
	for _, op := range ops {
		if sk, _, _, ok := viewKey(op.Key); ok && !slices.Contains(clusters, sk) {
			clusters = append(clusters, sk)
		}
	}
	if len(clusters) == 0 {
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
		for _, op := range ops {
			sk, kind, id, ok := viewKey(op.Key)
			if !ok {
				continue
			}
			w := write{sk: sk, kind: kind, id: id, del: op.Delete}
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
	for _, w := range writes {
		v.set(w.sk, w.kind, w.id, rev, w.del, w.val)
	}
	for _, t := range tickets {
		delete(v.inflight, t)
	}
	v.cond.Broadcast()
}

func decodeViewValue(kind string, kv store.KV) (any, error) {
	switch kind {
	case KindInstance:
		return decodeInstanceShared(kv)
	case kindState:
		return decode[stateRecord](kv)
	default:
		gc, err := decode[groupCounts](kv)
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
		recs = append(recs, rec{sk, kind, id, kv.ModRevision, val})
		listed[sk+"\x00"+kind+"\x00"+id] = true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range recs {
		v.set(r.sk, r.kind, r.id, r.rev, false, r.val)
	}
	for sk, cv := range v.clusters {
		for _, e := range slices.Clone(cv.entries) {
			for _, k := range []struct {
				kind string
				has  bool
				rev  int64
			}{{KindInstance, e.base != nil, e.baseRev}, {kindState, e.st != nil, e.stRev}, {kindLegacyGroups, e.legacy != nil, e.legRev}} {
				if k.has && k.rev <= rev && !listed[sk+"\x00"+k.kind+"\x00"+e.id] {
					v.set(sk, k.kind, e.id, rev, true, nil)
				}
			}
		}
	}
	v.watchRev = rev
	v.gc()
	v.loaded = true
	v.cond.Broadcast()
	return rev, nil
}

// apply applies one watch event.
func (v *placementView) apply(ev store.Event) {
	rev := ev.KV.ModRevision
	sk, kind, id, ok := viewKey(ev.KV.Key)
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
	if rev > v.watchRev {
		v.watchRev = rev
	}
	if ok {
		v.set(sk, kind, id, rev, ev.Type == store.EventDelete, val)
	}
}

// newer reports whether rev is newer than the view's record.
func (v *placementView) newer(sk, kind, id string, rev int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	cv := v.clusters[sk]
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

// set records a put (val) or deletion of one record at rev, unless the
// view has it at rev or newer. v.mu must be held.
func (v *placementView) set(sk, kind, id string, rev int64, del bool, val any) {
	cv := v.clusters[sk]
	if cv == nil {
		cv = &clusterView{}
		v.clusters[sk] = cv
	}
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
			e.st = val.(*stateRecord)
		}
	default:
		e.legacy, e.legRev = nil, rev
		if !del {
			e.legacy = val.(groupCounts)
		}
	}
	var prev *viewEntry
	if found {
		prev = cv.entries[i]
	}
	e.derive(prev)
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

// gone reports whether the entry holds no record and no tombstone that an
// older event (which the watch, past watchRev, can no longer deliver) must
// be checked against.
func (e *viewEntry) gone(watchRev int64) bool {
	return e.base == nil && e.st == nil && e.legacy == nil && max(e.baseRev, e.stRev, e.legRev) <= watchRev
}

// gc drops the entries that are gone. v.mu must be held.
func (v *placementView) gc() {
	for sk, cv := range v.clusters {
		cv.entries = slices.DeleteFunc(cv.entries, func(e *viewEntry) bool { return e.gone(v.watchRev) })
		if len(cv.entries) == 0 {
			delete(v.clusters, sk)
		}
	}
}

// derive computes what placement sees of the entry, reusing prev's
// attribute index while the instance record is the same.
func (e *viewEntry) derive(prev *viewEntry) {
	e.ci, e.state = nil, scheduler.InstanceState{}
	if e.base == nil {
		return
	}
	e.ci = compose(e.base, e.st)
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
	e.state = schedState(e.ci, groups, attrs)
}

// schedState is an instance as the scheduler sees it. ci, groups and attrs
// are shared with the result: none may be modified afterwards.
func schedState(ci *ecs.ContainerInstance, groups groupCounts, attrs map[string]string) scheduler.InstanceState {
	cpu, mem := ci.Remaining()
	tcp, udp := ci.UsedPorts()
	return scheduler.InstanceState{Instance: ci, CPU: cpu, Memory: mem, TCPPorts: tcp, UDPPorts: udp, GroupCounts: groups, AttributeIndex: attrs}
}

// snapshot returns the cluster's registered instances, in ID order, once
// every write of the cluster's records that began before it was called has
// ended, except exclude (the caller's own write in flight, whose effects it
// knows; nil for none). The entries are shared: do not modify them. gen is
// the number of the cluster's writes that had begun when it was called
// (see began): while began still returns gen, no write has begun since and
// the snapshot has every write anyone could have seen.
func (v *placementView) snapshot(ctx context.Context, sc ecs.Scope, cluster string, exclude *viewWrite) (entries []*viewEntry, gen uint64, err error) {
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
		return nil, gen, nil
	}
	out := make([]*viewEntry, 0, len(cv.entries))
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
