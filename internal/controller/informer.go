package controller

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/store"
)

// Informer is a Source over the store's /ecs/ key space: it lists, then
// watches from the list's revision, and lists again when the watch cannot
// continue (compaction), telling its handlers of every change. It keeps
// only the summaries the controllers need.
type Informer struct {
	st    store.Store
	log   *slog.Logger
	retry time.Duration

	mu        sync.RWMutex
	handlers  []Handlers
	tasks     map[string]TaskInfo            // by store key
	byInst    map[string]map[string]struct{} // instance ARN → task keys
	instances map[string]InstanceInfo        // by ARN
	instKeys  map[string]string              // store key → instance ARN
	managed   map[string]string              // cluster key → managed instance ARN
	clusters  map[string]ClusterInfo         // by cluster key
	clustKeys map[string]string              // store key → cluster key
	synced    chan struct{}
	syncOnce  sync.Once
}

var (
	_ Source   = (*Informer)(nil)
	_ Runnable = (*Informer)(nil)
)

// NewInformer returns an informer over st; run it with Run.
func NewInformer(st store.Store, log *slog.Logger) *Informer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Informer{
		st: st, log: log, retry: time.Second,
		tasks: map[string]TaskInfo{}, byInst: map[string]map[string]struct{}{},
		instances: map[string]InstanceInfo{}, instKeys: map[string]string{}, managed: map[string]string{},
		clusters: map[string]ClusterInfo{}, clustKeys: map[string]string{}, synced: make(chan struct{}),
	}
}

// Subscribe adds handlers (before Run).
func (in *Informer) Subscribe(h Handlers) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.handlers = append(in.handlers, h)
}

// WaitSynced blocks until the first list is applied.
func (in *Informer) WaitSynced(ctx context.Context) error {
	select {
	case <-in.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run lists and watches until ctx ends.
func (in *Informer) Run(ctx context.Context) error {
	rev, ok := in.relist(ctx)
	for ok && ctx.Err() == nil {
		ch, err := in.st.Watch(ctx, "/ecs/", rev)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, store.ErrCompacted) {
				in.log.Warn("state watch failed; listing again", "error", err)
				if !sleep(ctx, in.retry) {
					return nil
				}
			}
			rev, ok = in.relist(ctx)
			continue
		}
		for ev := range ch {
			in.apply(ev)
			rev = ev.KV.ModRevision
		}
		if ctx.Err() == nil {
			rev, ok = in.relist(ctx)
		}
	}
	return nil
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// relist applies a fresh list (objects gone since are deleted) and
// returns its revision; false when ctx ended first.
func (in *Informer) relist(ctx context.Context) (int64, bool) {
	for {
		kvs, rev, err := in.st.List(ctx, "/ecs/", store.ListOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return 0, false
			}
			in.log.Warn("state list failed; retrying", "error", err)
			if !sleep(ctx, in.retry) {
				return 0, false
			}
			continue
		}
		seen := make(map[string]bool, len(kvs))
		for _, kv := range kvs {
			seen[kv.Key] = true
			in.apply(store.Event{Type: store.EventPut, KV: kv})
		}
		in.mu.RLock()
		var gone []string
		for k := range in.tasks {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		for k := range in.instKeys {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		for k := range in.clustKeys {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		in.mu.RUnlock()
		for _, k := range gone {
			in.apply(store.Event{Type: store.EventDelete, KV: store.KV{Key: k}})
		}
		in.syncOnce.Do(func() { close(in.synced) })
		return rev, true
	}
}

// apply updates the cache with one change and tells the handlers.
func (in *Informer) apply(ev store.Event) {
	sc, kind, cluster, id, ok := ecsstore.KeyInfo(ev.KV.Key)
	if !ok {
		return
	}
	switch kind {
	case ecsstore.KindTask:
		if id != "" && !containsSlash(id) {
			in.applyTask(ev, sc, cluster, id)
		}
	case ecsstore.KindInstance, ecsstore.KindManagedInstance:
		in.applyInstance(ev, sc, cluster, kind == ecsstore.KindManagedInstance)
	case ecsstore.KindCluster:
		if id == "" {
			in.applyCluster(ev, sc, cluster)
		}
	}
}

func containsSlash(s string) bool {
	for i := range len(s) {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func (in *Informer) applyTask(ev store.Event, sc ecs.Scope, cluster, id string) {
	key := ev.KV.Key
	var cur *TaskInfo
	if ev.Type != store.EventDelete {
		var t struct {
			Instance      string    `json:"containerInstanceArn"`
			Desired       string    `json:"desiredStatus"`
			Last          string    `json:"lastStatus"`
			StoppedAt     time.Time `json:"stoppedAt"`
			StoppedReason string    `json:"stoppedReason"`
		}
		if err := json.Unmarshal(ev.KV.Value, &t); err != nil {
			in.log.Warn("undecodable task in the store", "key", key, "error", err)
			return
		}
		cur = &TaskInfo{Key: key, Scope: sc, Cluster: cluster, ID: id, Instance: t.Instance,
			Desired: t.Desired, Last: t.Last, StoppedAt: t.StoppedAt, StoppedReason: t.StoppedReason}
	}
	in.mu.Lock()
	var old *TaskInfo
	if o, ok := in.tasks[key]; ok {
		old = &o
		if set := in.byInst[o.Instance]; set != nil && (cur == nil || cur.Instance != o.Instance) {
			delete(set, key)
			if len(set) == 0 {
				delete(in.byInst, o.Instance)
			}
		}
	}
	if cur == nil {
		delete(in.tasks, key)
	} else {
		in.tasks[key] = *cur
		if cur.Instance != "" {
			set := in.byInst[cur.Instance]
			if set == nil {
				set = map[string]struct{}{}
				in.byInst[cur.Instance] = set
			}
			set[key] = struct{}{}
		}
	}
	hs := in.handlers
	in.mu.Unlock()
	if old == nil && cur == nil {
		return
	}
	for _, h := range hs {
		if h.Task != nil {
			h.Task(old, cur)
		}
	}
}

func (in *Informer) applyInstance(ev store.Event, sc ecs.Scope, cluster string, managed bool) {
	key := ev.KV.Key
	var cur *InstanceInfo
	if ev.Type != store.EventDelete {
		var ci struct {
			ARN       string `json:"containerInstanceArn"`
			ID        string `json:"id"`
			Connected bool   `json:"agentConnected"`
		}
		if err := json.Unmarshal(ev.KV.Value, &ci); err != nil || ci.ARN == "" {
			in.log.Warn("undecodable container instance in the store", "key", key, "error", err)
			return
		}
		cur = &InstanceInfo{ARN: ci.ARN, Scope: sc, Cluster: cluster, ID: ci.ID, Connected: ci.Connected, Managed: managed}
	}
	in.mu.Lock()
	var old *InstanceInfo
	if arn, ok := in.instKeys[key]; ok {
		o := in.instances[arn]
		old = &o
		if cur == nil || cur.ARN != arn {
			delete(in.instances, arn)
		}
	}
	ck := ClusterKey(sc, cluster)
	if cur == nil {
		delete(in.instKeys, key)
		if managed && old != nil && in.managed[ck] == old.ARN {
			delete(in.managed, ck)
		}
	} else {
		in.instKeys[key] = cur.ARN
		in.instances[cur.ARN] = *cur
		if managed {
			in.managed[ck] = cur.ARN
		}
	}
	hs := in.handlers
	in.mu.Unlock()
	if old == nil && cur == nil {
		return
	}
	for _, h := range hs {
		if h.Instance != nil {
			h.Instance(old, cur)
		}
	}
}

func (in *Informer) applyCluster(ev store.Event, sc ecs.Scope, name string) {
	var cur *ClusterInfo
	if ev.Type != store.EventDelete {
		var cl struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(ev.KV.Value, &cl); err != nil {
			in.log.Warn("undecodable cluster in the store", "key", ev.KV.Key, "error", err)
			return
		}
		cur = &ClusterInfo{Scope: sc, Name: name, Active: cl.Status == ecs.ClusterActive}
	}
	ck := ClusterKey(sc, name)
	in.mu.Lock()
	var old *ClusterInfo
	if o, ok := in.clusters[ck]; ok {
		old = &o
	}
	if cur == nil {
		delete(in.clusters, ck)
		delete(in.clustKeys, ev.KV.Key)
	} else {
		in.clusters[ck] = *cur
		in.clustKeys[ev.KV.Key] = ck
	}
	hs := in.handlers
	in.mu.Unlock()
	if (old == nil && cur == nil) || (old != nil && cur != nil && *old == *cur) {
		return
	}
	for _, h := range hs {
		if h.Cluster != nil {
			h.Cluster(old, cur)
		}
	}
}

// ---- View ----

// Task implements View.
func (in *Informer) Task(key string) (TaskInfo, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	t, ok := in.tasks[key]
	return t, ok
}

// Tasks implements View.
func (in *Informer) Tasks() []TaskInfo {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out := make([]TaskInfo, 0, len(in.tasks))
	for _, t := range in.tasks {
		out = append(out, t)
	}
	return out
}

// InstanceTasks implements View.
func (in *Informer) InstanceTasks(arn string) []TaskInfo {
	in.mu.RLock()
	defer in.mu.RUnlock()
	set := in.byInst[arn]
	out := make([]TaskInfo, 0, len(set))
	for k := range set {
		out = append(out, in.tasks[k])
	}
	return out
}

// Instance implements View.
func (in *Informer) Instance(arn string) (InstanceInfo, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	i, ok := in.instances[arn]
	return i, ok
}

// Instances implements View.
func (in *Informer) Instances() []InstanceInfo {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out := make([]InstanceInfo, 0, len(in.instances))
	for _, i := range in.instances {
		out = append(out, i)
	}
	return out
}

// ManagedInstance implements View.
func (in *Informer) ManagedInstance(ck string) (InstanceInfo, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	arn, ok := in.managed[ck]
	if !ok {
		return InstanceInfo{}, false
	}
	i, ok := in.instances[arn]
	return i, ok
}

// Cluster implements View.
func (in *Informer) Cluster(ck string) (ClusterInfo, bool) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	c, ok := in.clusters[ck]
	return c, ok
}

// Clusters implements View.
func (in *Informer) Clusters() []ClusterInfo {
	in.mu.RLock()
	defer in.mu.RUnlock()
	out := make([]ClusterInfo, 0, len(in.clusters))
	for _, c := range in.clusters {
		out = append(out, c)
	}
	return out
}

// Stats reports the size of the cache (for tests and benchmarks).
func (in *Informer) Stats() (tasks, instances int) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return len(in.tasks), len(in.instances)
}
