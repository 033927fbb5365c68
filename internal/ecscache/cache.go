package ecscache

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/store"
)

// Instance is a registered container instance as its two records describe
// it. It is immutable: a change of either record replaces it.
type Instance struct {
	Scope       ecs.Scope
	Cluster, ID string

	// Record is the instances/ record (nil: none, only a state record is
	// left for a moment, e.g. while a deregistration is applied) and
	// RecordRev its ModRevision.
	Record    *ecs.ContainerInstance
	RecordRev int64
	// State is the instance-state/ record (nil: none yet) and StateRev
	// its ModRevision.
	State    *ecsstore.StateRecord
	StateRev int64

	// Current is Record with State's remaining resources and version
	// (ecsstore.Compose); nil when Record is nil.
	Current *ecs.ContainerInstance
}

// Registered reports whether the instance record exists.
func (in *Instance) Registered() bool { return in != nil && in.Record != nil }

// TaskEntry is one revision of a task record: its header (the fields the
// cache's indexes and the subscribers' decisions read) decoded when the
// record is applied, the whole task decoded on the first Task call, once
// per revision. It is immutable and safe for concurrent use: a change of
// the record replaces it.
type TaskEntry struct {
	ecsstore.TaskHeader
	// Rev is the record's ModRevision.
	Rev int64

	kv   store.KV // the record (the store hands out owned copies)
	log  *slog.Logger
	once sync.Once
	task *ecs.Task // after once; nil if the record does not decode
}

// Task returns the whole task, decoding it on the first call. It returns
// nil if the record's header decoded but the rest does not (logged once);
// the cache's reads treat such a task as absent.
func (e *TaskEntry) Task() *ecs.Task {
	if e == nil {
		return nil
	}
	e.once.Do(func() {
		t, err := ecsstore.DecodeTask(e.kv)
		if err != nil {
			e.log.Error("state cache: undecodable task record, treated as absent", "key", e.kv.Key, "error", err)
			t = nil
		}
		e.task = t
		e.kv.Value = nil // decoded: the bytes are no longer needed
	})
	return e.task
}

// Handlers receive the cache's changes (see the package documentation).
// Any field may be nil. old nil: created; new nil: deleted.
type Handlers struct {
	// Task receives task changes as entries: read the header fields
	// freely; Task() decodes the whole task (once per revision).
	Task            func(rev int64, sc ecs.Scope, cluster string, old, new *TaskEntry)
	Instance        func(rev int64, old, new *Instance)
	ManagedInstance func(rev int64, sc ecs.Scope, cluster string, old, new *ecs.ContainerInstance)
	Cluster         func(rev int64, sc ecs.Scope, old, new *ecs.Cluster)
	// Service receives service changes (services.go).
	Service func(rev int64, sc ecs.Scope, cluster string, old, new *ecs.Service)
	// Revision is called once every change of revision rev is applied.
	Revision func(rev int64)
}

// ClusterKey names a cluster.
type ClusterKey struct {
	Scope   ecs.Scope
	Cluster string
}

type versioned[T any] struct {
	v   *T
	rev int64
}

// Cache is the state cache. Build it with New.
type Cache struct {
	st  store.Store
	log *slog.Logger

	handlers []Handlers // fixed once Run starts

	mu      sync.RWMutex
	rev     int64         // every change up to rev is applied
	changed chan struct{} // closed (and replaced) when rev moves or err is set
	err     error         // why Run stopped (nil while it runs)

	held      map[string]int64 // every ECS key held → its ModRevision
	tasks     map[ClusterKey]map[string]*TaskEntry
	byInst    map[string]map[string]*TaskEntry // instance ARN → task ARN → task
	instances map[ClusterKey]map[string]*Instance
	managed   map[ClusterKey]versioned[ecs.ContainerInstance]
	clusters  map[ClusterKey]versioned[ecs.Cluster] // Cluster: the cluster's name
	services  map[ClusterKey]map[string]versioned[ecs.Service]
	byGroup   map[groupKey]map[string]*TaskEntry // a cluster's task group → task ID → task
}

// New returns a cache over st; nothing runs until Run.
func New(st store.Store, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{
		st: st, log: log, changed: make(chan struct{}),
		held: map[string]int64{}, tasks: map[ClusterKey]map[string]*TaskEntry{}, byInst: map[string]map[string]*TaskEntry{},
		instances: map[ClusterKey]map[string]*Instance{}, managed: map[ClusterKey]versioned[ecs.ContainerInstance]{},
		clusters: map[ClusterKey]versioned[ecs.Cluster]{},
		services: map[ClusterKey]map[string]versioned[ecs.Service]{}, byGroup: map[groupKey]map[string]*TaskEntry{},
	}
}

// Subscribe registers h. Call it before Run.
func (c *Cache) Subscribe(h Handlers) { c.handlers = append(c.handlers, h) }

// errStopped: Run has returned.
var errStopped = errors.New("ecscache: the state cache is not running")

// Run lists the store, then watches it, until ctx ends (it returns nil)
// or the store fails or closes (it returns the error). Waiters see the
// error once it returns.
func (c *Cache) Run(ctx context.Context) error {
	c.mu.Lock()
	c.err = nil
	c.mu.Unlock()
	err := c.run(ctx)
	if ctx.Err() != nil {
		err = nil
	}
	c.mu.Lock()
	c.err = errStopped
	if err != nil {
		c.err = err
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return err
}

func (c *Cache) run(ctx context.Context) error {
	for {
		rev, err := c.relist(ctx)
		if err != nil {
			return err
		}
		ch, err := c.st.Watch(ctx, "/", rev)
		if errors.Is(err, store.ErrCompacted) {
			c.log.Info("state cache: watch history compacted, listing again", "revision", rev)
			continue
		}
		if err != nil {
			return err
		}
		for ev := range ch {
			c.apply(ev)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := c.st.Revision(ctx); err != nil {
			return err // the store closed
		}
		c.log.Info("state cache: watch ended, listing again")
	}
}

// relist lists the ECS key space and applies the difference from what the
// cache holds, at the list's revision, in key order.
func (c *Cache) relist(ctx context.Context) (int64, error) {
	kvs, rev, err := c.st.List(ctx, "/ecs/", store.ListOptions{})
	if err != nil {
		return 0, err
	}
	c.mu.RLock()
	seen := make(map[string]bool, len(kvs))
	var changes []store.Event
	for _, kv := range kvs {
		seen[kv.Key] = true
		if held, ok := c.held[kv.Key]; !ok || held != kv.ModRevision {
			changes = append(changes, store.Event{Type: store.EventPut, KV: kv})
		}
	}
	for key := range c.held {
		if !seen[key] {
			changes = append(changes, store.Event{Type: store.EventDelete, KV: store.KV{Key: key, ModRevision: rev}})
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(changes, func(a, b store.Event) int { return cmp.Compare(a.KV.Key, b.KV.Key) })
	for _, ev := range changes {
		c.applyOne(ev, rev)
	}
	c.advance(rev)
	return rev, nil
}

// apply applies one watch event, and completes its revision if it is the
// last.
func (c *Cache) apply(ev store.Event) {
	rev := ev.KV.ModRevision
	if ev.Type == store.EventProgress {
		// Every change up to rev was delivered (etcd: writes outside
		// berth's namespace moved the revision).
		c.advance(rev)
		return
	}
	c.mu.RLock()
	behind := rev > c.rev+1 && c.rev > 0
	c.mu.RUnlock()
	if behind {
		// A backend that did not mark the end of a revision: the next
		// revision starting completes the one before.
		c.advance(rev - 1)
	}
	c.applyOne(ev, rev)
	if ev.Last {
		c.advance(rev)
	}
}

// advance marks every change up to rev as applied, once the subscribers
// have been told.
func (c *Cache) advance(rev int64) {
	if rev <= c.Revision() {
		return // only the Run goroutine moves rev
	}
	for _, h := range c.handlers {
		if h.Revision != nil {
			h.Revision(rev)
		}
	}
	c.mu.Lock()
	c.rev = rev
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// applyOne applies one change at rev and calls the handlers.
func (c *Cache) applyOne(ev store.Event, rev int64) {
	sc, kind, cluster, id, ok := ecsstore.KeyInfo(ev.KV.Key)
	if !ok {
		return
	}
	ck := ClusterKey{sc, cluster}
	del := ev.Type == store.EventDelete
	var notify func(h Handlers)
	switch kind {
	case ecsstore.KindTask:
		var t *TaskEntry
		if !del {
			h, err := ecsstore.DecodeTaskHeader(ev.KV)
			if err != nil {
				c.log.Error("state cache: undecodable task record, treated as absent", "key", ev.KV.Key, "error", err)
				del = true
			} else {
				t = &TaskEntry{TaskHeader: h, Rev: ev.KV.ModRevision, kv: ev.KV, log: c.log}
			}
		}
		old := c.setTask(ck, id, ev.KV, t)
		if old == nil && t == nil {
			return
		}
		notify = func(h Handlers) {
			if h.Task != nil {
				h.Task(rev, sc, cluster, old, t)
			}
		}
	case ecsstore.KindInstance, ecsstore.KindInstanceState:
		old, nu, changed := c.setInstance(ck, kind, id, ev.KV, del)
		if !changed {
			return
		}
		notify = func(h Handlers) {
			if h.Instance != nil {
				h.Instance(rev, old, nu)
			}
		}
	case ecsstore.KindManagedInstance:
		var ci *ecs.ContainerInstance
		if !del {
			var err error
			if ci, err = ecsstore.DecodeInstance(ev.KV); err != nil {
				c.log.Error("state cache: undecodable record, treated as absent", "key", ev.KV.Key, "error", err)
			}
		}
		c.mu.Lock()
		old := c.managed[ck].v
		c.setHeld(ev.KV, ci != nil)
		if ci != nil {
			c.managed[ck] = versioned[ecs.ContainerInstance]{ci, ev.KV.ModRevision}
		} else {
			delete(c.managed, ck)
		}
		c.mu.Unlock()
		notify = func(h Handlers) {
			if h.ManagedInstance != nil {
				h.ManagedInstance(rev, sc, cluster, old, ci)
			}
		}
	case ecsstore.KindCluster:
		var cl *ecs.Cluster
		if !del {
			var err error
			if cl, err = ecsstore.DecodeCluster(ev.KV); err != nil {
				c.log.Error("state cache: undecodable record, treated as absent", "key", ev.KV.Key, "error", err)
			}
		}
		c.mu.Lock()
		old := c.clusters[ck].v
		c.setHeld(ev.KV, cl != nil)
		if cl != nil {
			c.clusters[ck] = versioned[ecs.Cluster]{cl, ev.KV.ModRevision}
		} else {
			delete(c.clusters, ck)
		}
		c.mu.Unlock()
		notify = func(h Handlers) {
			if h.Cluster != nil {
				h.Cluster(rev, sc, old, cl)
			}
		}
	case ecsstore.KindService:
		notify = c.applyService(ck, id, ev.KV, del, rev)
		if notify == nil {
			return
		}
	default:
		return
	}
	for _, h := range c.handlers {
		notify(h)
	}
}

// setHeld records that the cache holds key (or no longer does). c.mu must
// be held.
func (c *Cache) setHeld(kv store.KV, holds bool) {
	if holds {
		c.held[kv.Key] = kv.ModRevision
	} else {
		delete(c.held, kv.Key)
	}
}

// setTask stores t (nil: delete) and returns the task it replaces.
func (c *Cache) setTask(ck ClusterKey, id string, kv store.KV, t *TaskEntry) *TaskEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setHeld(kv, t != nil)
	m := c.tasks[ck]
	old := m[id]
	if old != nil && old.ContainerInstanceARN != "" {
		if bi := c.byInst[old.ContainerInstanceARN]; bi != nil {
			delete(bi, old.ARN)
			if len(bi) == 0 {
				delete(c.byInst, old.ContainerInstanceARN)
			}
		}
	}
	if old != nil && old.Group != "" {
		c.unindexGroup(ck, old)
	}
	if t == nil {
		delete(m, id)
		if len(m) == 0 {
			delete(c.tasks, ck)
		}
		return old
	}
	if t.Group != "" {
		c.indexGroup(ck, t)
	}
	if m == nil {
		m = map[string]*TaskEntry{}
		c.tasks[ck] = m
	}
	m[id] = t
	if arn := t.ContainerInstanceARN; arn != "" {
		bi := c.byInst[arn]
		if bi == nil {
			bi = map[string]*TaskEntry{}
			c.byInst[arn] = bi
		}
		bi[t.ARN] = t
	}
	return old
}

// setInstance applies a change of one of an instance's records.
func (c *Cache) setInstance(ck ClusterKey, kind, id string, kv store.KV, del bool) (old, nu *Instance, changed bool) {
	var rec *ecs.ContainerInstance
	var st *ecsstore.StateRecord
	if !del {
		var err error
		if kind == ecsstore.KindInstance {
			rec, err = ecsstore.DecodeInstance(kv)
		} else {
			st, err = ecsstore.DecodeInstanceState(kv)
		}
		if err != nil {
			c.log.Error("state cache: undecodable record, treated as absent", "key", kv.Key, "error", err)
			del = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setHeld(kv, !del)
	m := c.instances[ck]
	old = m[id]
	if old == nil && del {
		return nil, nil, false
	}
	n := Instance{Scope: ck.Scope, Cluster: ck.Cluster, ID: id}
	if old != nil {
		n = *old
	}
	if kind == ecsstore.KindInstance {
		n.Record, n.RecordRev = rec, kv.ModRevision
		if del {
			n.RecordRev = 0
		}
	} else {
		n.State, n.StateRev = st, kv.ModRevision
		if del {
			n.StateRev = 0
		}
	}
	n.Current = nil
	if n.Record != nil {
		n.Current = ecsstore.Compose(n.Record, n.State)
	}
	if n.Record == nil && n.State == nil {
		delete(m, id)
		if len(m) == 0 {
			delete(c.instances, ck)
		}
		return old, nil, true
	}
	if m == nil {
		m = map[string]*Instance{}
		c.instances[ck] = m
	}
	m[id] = &n
	return old, &n, true
}

// Revision returns the revision up to which every change is applied (0
// before the first list).
func (c *Cache) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// WaitForRevision waits until every change up to rev is applied. It fails
// when ctx ends first or the cache has stopped.
func (c *Cache) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		c.mu.RLock()
		cur, ch, err := c.rev, c.changed, c.err
		c.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Sync waits until the cache has applied every write the store has
// acknowledged when it is called (WaitForRevision(store.Revision())).
func (c *Cache) Sync(ctx context.Context) error {
	rev, err := c.st.Revision(ctx)
	if err != nil {
		return err
	}
	return c.WaitForRevision(ctx, rev)
}

// Task returns a task of a cluster (decoded on the first read of its
// revision).
func (c *Cache) Task(sc ecs.Scope, cluster, id string) (*ecs.Task, bool) {
	e, ok := c.TaskEntry(sc, cluster, id)
	if !ok {
		return nil, false
	}
	t := e.Task()
	return t, t != nil
}

// TaskEntry returns a task of a cluster as the cache holds it.
func (c *Cache) TaskEntry(sc ecs.Scope, cluster, id string) (*TaskEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tasks[ClusterKey{sc, cluster}][id]
	return e, ok
}

// Tasks returns the tasks of a cluster, in ID order.
func (c *Cache) Tasks(sc ecs.Scope, cluster string) []*ecs.Task {
	return decodeAll(c.TaskEntries(sc, cluster))
}

// TaskEntries returns the tasks of a cluster as the cache holds them, in
// ID order.
func (c *Cache) TaskEntries(sc ecs.Scope, cluster string) []*TaskEntry {
	c.mu.RLock()
	m := c.tasks[ClusterKey{sc, cluster}]
	out := make([]*TaskEntry, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *TaskEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// InstanceTasks returns the tasks assigned to a container instance (by
// ARN), in ARN order.
func (c *Cache) InstanceTasks(instanceARN string) []*ecs.Task {
	return decodeAll(c.InstanceTaskEntries(instanceARN))
}

// InstanceTaskEntries returns the tasks assigned to a container instance
// (by ARN) as the cache holds them, in ARN order.
func (c *Cache) InstanceTaskEntries(instanceARN string) []*TaskEntry {
	c.mu.RLock()
	m := c.byInst[instanceARN]
	out := make([]*TaskEntry, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *TaskEntry) int { return cmp.Compare(a.ARN, b.ARN) })
	return out
}

// decodeAll returns the whole tasks of es, in order, leaving out those
// whose records do not decode.
func decodeAll(es []*TaskEntry) []*ecs.Task {
	out := make([]*ecs.Task, 0, len(es))
	for _, e := range es {
		if t := e.Task(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// TaskClusters returns the clusters that have tasks.
func (c *Cache) TaskClusters() []ClusterKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]ClusterKey, 0, len(c.tasks))
	for ck := range c.tasks {
		out = append(out, ck)
	}
	return out
}

// Instance returns an instance's records (registered or not: check
// Registered).
func (c *Cache) Instance(sc ecs.Scope, cluster, id string) (*Instance, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	in, ok := c.instances[ClusterKey{sc, cluster}][id]
	return in, ok
}

// Instances returns the registered instances of a cluster, in ID order.
func (c *Cache) Instances(sc ecs.Scope, cluster string) []*Instance {
	c.mu.RLock()
	m := c.instances[ClusterKey{sc, cluster}]
	out := make([]*Instance, 0, len(m))
	for _, in := range m {
		if in.Registered() {
			out = append(out, in)
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Instance) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// InstanceClusters returns the clusters that have instance records.
func (c *Cache) InstanceClusters() []ClusterKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]ClusterKey, 0, len(c.instances))
	for ck := range c.instances {
		out = append(out, ck)
	}
	return out
}

// ManagedInstance returns a cluster's managed (Fargate) instance and its
// ModRevision.
func (c *Cache) ManagedInstance(sc ecs.Scope, cluster string) (*ecs.ContainerInstance, int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.managed[ClusterKey{sc, cluster}]
	return m.v, m.rev, ok
}

// ManagedInstances returns every managed instance, by cluster.
func (c *Cache) ManagedInstances() map[ClusterKey]*ecs.ContainerInstance {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[ClusterKey]*ecs.ContainerInstance, len(c.managed))
	for ck, m := range c.managed {
		out[ck] = m.v
	}
	return out
}

// Cluster returns a cluster (ACTIVE or INACTIVE) and its ModRevision.
func (c *Cache) Cluster(sc ecs.Scope, name string) (*ecs.Cluster, int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.clusters[ClusterKey{sc, name}]
	return v.v, v.rev, ok
}
