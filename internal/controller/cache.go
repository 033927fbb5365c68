package controller

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
)

// CacheSource is the controllers' Source over the shared state cache
// (ecscache): the controllers keep no copy of the state and run no watch
// of their own. A task's key is its ARN.
type CacheSource struct {
	cache *ecscache.Cache

	mu       sync.RWMutex
	handlers []Handlers
	clusters map[string]ecscache.ClusterKey // ClusterKey string → cache key, every cluster seen
}

var _ Source = (*CacheSource)(nil)

// NewCacheSource returns a Source over cache and subscribes to it; call it
// before the cache runs.
func NewCacheSource(cache *ecscache.Cache) *CacheSource {
	s := &CacheSource{cache: cache, clusters: map[string]ecscache.ClusterKey{}}
	cache.Subscribe(ecscache.Handlers{
		Task:            s.onTask,
		Instance:        s.onInstance,
		ManagedInstance: s.onManaged,
		Cluster:         s.onCluster,
	})
	return s
}

// Subscribe implements Source.
func (s *CacheSource) Subscribe(h Handlers) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers = append(s.handlers, h)
}

func (s *CacheSource) hs() []Handlers {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers
}

// WaitSynced implements Source: it waits until the cache has applied what
// the store held when it was called, retrying while the cache cannot tell.
func (s *CacheSource) WaitSynced(ctx context.Context) error {
	for {
		err := s.cache.Sync(ctx)
		if err == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
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

func taskInfo(sc ecs.Scope, cluster string, t *ecscache.TaskEntry) *TaskInfo {
	if t == nil {
		return nil
	}
	return &TaskInfo{Key: t.ARN, Scope: sc, Cluster: cluster, ID: t.ID, Instance: t.ContainerInstanceARN,
		Desired: t.DesiredStatus, Last: t.LastStatus, StoppedAt: t.StoppedAt, StoppedReason: t.StoppedReason}
}

func instanceInfo(in *ecscache.Instance) *InstanceInfo {
	if !in.Registered() {
		return nil
	}
	return &InstanceInfo{ARN: in.Record.ARN, Scope: in.Scope, Cluster: in.Cluster, ID: in.ID, Connected: in.Record.AgentConnected,
		DisconnectedAt: in.Record.AgentDisconnectedAt}
}

func managedInfo(sc ecs.Scope, cluster string, ci *ecs.ContainerInstance) *InstanceInfo {
	if ci == nil {
		return nil
	}
	return &InstanceInfo{ARN: ci.ARN, Scope: sc, Cluster: cluster, ID: ci.ID, Connected: ci.AgentConnected, Managed: true}
}

func clusterInfo(sc ecs.Scope, c *ecs.Cluster) *ClusterInfo {
	if c == nil {
		return nil
	}
	return &ClusterInfo{Scope: sc, Name: c.Name, Active: c.Status == ecs.ClusterActive}
}

func (s *CacheSource) onTask(_ int64, sc ecs.Scope, cluster string, old, cur *ecscache.TaskEntry) {
	o, c := taskInfo(sc, cluster, old), taskInfo(sc, cluster, cur)
	for _, h := range s.hs() {
		if h.Task != nil {
			h.Task(o, c)
		}
	}
}

func (s *CacheSource) onInstance(_ int64, old, cur *ecscache.Instance) {
	o, c := instanceInfo(old), instanceInfo(cur)
	if (o == nil && c == nil) || (o != nil && c != nil && *o == *c) {
		return // a resource (instance-state) change
	}
	s.instanceChanged(o, c)
}

func (s *CacheSource) onManaged(_ int64, sc ecs.Scope, cluster string, old, cur *ecs.ContainerInstance) {
	o, c := managedInfo(sc, cluster, old), managedInfo(sc, cluster, cur)
	if (o == nil && c == nil) || (o != nil && c != nil && *o == *c) {
		return
	}
	s.instanceChanged(o, c)
}

func (s *CacheSource) instanceChanged(o, c *InstanceInfo) {
	for _, h := range s.hs() {
		if h.Instance != nil {
			h.Instance(o, c)
		}
	}
}

func (s *CacheSource) onCluster(_ int64, sc ecs.Scope, old, cur *ecs.Cluster) {
	o, c := clusterInfo(sc, old), clusterInfo(sc, cur)
	if (o == nil && c == nil) || (o != nil && c != nil && *o == *c) {
		return
	}
	s.mu.Lock()
	if c != nil {
		s.clusters[c.Key()] = ecscache.ClusterKey{Scope: sc, Cluster: c.Name}
	} else {
		delete(s.clusters, o.Key())
	}
	s.mu.Unlock()
	for _, h := range s.hs() {
		if h.Cluster != nil {
			h.Cluster(o, c)
		}
	}
}

// taskRef parses a task ARN (a task's key),
// arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>, into its
// scope, cluster and ID, without allocating: push reads every task of an
// instance through it.
func taskRef(arn string) (ecs.Scope, string, string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	_, rest, ok1 := strings.Cut(rest, ":") // partition
	svc, rest, ok2 := strings.Cut(rest, ":")
	region, rest, ok3 := strings.Cut(rest, ":")
	account, rest, ok4 := strings.Cut(rest, ":")
	rest, ok5 := strings.CutPrefix(rest, "task/")
	cluster, id, ok6 := strings.Cut(rest, "/")
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || svc != "ecs" || cluster == "" || id == "" {
		return ecs.Scope{}, "", "", false
	}
	return ecs.Scope{Account: account, Region: region}, cluster, id, true
}

// parseClusterKey splits a ClusterKey string.
func parseClusterKey(key string) (ecs.Scope, string, bool) {
	parts := strings.SplitN(key, "|", 3)
	if len(parts) != 3 {
		return ecs.Scope{}, "", false
	}
	return ecs.Scope{Account: parts[0], Region: parts[1]}, parts[2], true
}

// Task implements View.
func (s *CacheSource) Task(key string) (TaskInfo, bool) {
	sc, cluster, id, ok := taskRef(key)
	if !ok {
		return TaskInfo{}, false
	}
	t, ok := s.cache.TaskEntry(sc, cluster, id)
	if !ok {
		return TaskInfo{}, false
	}
	return *taskInfo(sc, cluster, t), true
}

// Tasks implements View.
func (s *CacheSource) Tasks() []TaskInfo {
	var out []TaskInfo
	for _, ck := range s.cache.TaskClusters() {
		for _, t := range s.cache.TaskEntries(ck.Scope, ck.Cluster) {
			out = append(out, *taskInfo(ck.Scope, ck.Cluster, t))
		}
	}
	return out
}

// InstanceTasks implements View.
func (s *CacheSource) InstanceTasks(arn string) []TaskInfo {
	ts := s.cache.InstanceTaskEntries(arn)
	out := make([]TaskInfo, 0, len(ts))
	for _, t := range ts {
		sc, cluster, _, ok := taskRef(t.ARN)
		if !ok {
			continue
		}
		out = append(out, *taskInfo(sc, cluster, t))
	}
	return out
}

// Instance implements View (managed instances included).
func (s *CacheSource) Instance(arn string) (InstanceInfo, bool) {
	p, ok := ecs.ParseARN(arn)
	ref, err := ecs.ParseInstanceRef(arn, "")
	if !ok || err != nil {
		return InstanceInfo{}, false
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	if in, ok := s.cache.Instance(sc, ref.Cluster, ref.ID); ok {
		if i := instanceInfo(in); i != nil && i.ARN == arn {
			return *i, true
		}
	}
	if ci, _, ok := s.cache.ManagedInstance(sc, ref.Cluster); ok && ci.ARN == arn {
		return *managedInfo(sc, ref.Cluster, ci), true
	}
	return InstanceInfo{}, false
}

// Instances implements View.
func (s *CacheSource) Instances() []InstanceInfo {
	var out []InstanceInfo
	for _, ck := range s.cache.InstanceClusters() {
		for _, in := range s.cache.Instances(ck.Scope, ck.Cluster) {
			if i := instanceInfo(in); i != nil {
				out = append(out, *i)
			}
		}
	}
	for ck, ci := range s.cache.ManagedInstances() {
		out = append(out, *managedInfo(ck.Scope, ck.Cluster, ci))
	}
	return out
}

// ManagedInstance implements View.
func (s *CacheSource) ManagedInstance(key string) (InstanceInfo, bool) {
	sc, cluster, ok := parseClusterKey(key)
	if !ok {
		return InstanceInfo{}, false
	}
	ci, _, ok := s.cache.ManagedInstance(sc, cluster)
	if !ok || ci == nil {
		return InstanceInfo{}, false
	}
	return *managedInfo(sc, cluster, ci), true
}

// Cluster implements View.
func (s *CacheSource) Cluster(key string) (ClusterInfo, bool) {
	sc, name, ok := parseClusterKey(key)
	if !ok {
		return ClusterInfo{}, false
	}
	c, _, ok := s.cache.Cluster(sc, name)
	if !ok || c == nil {
		return ClusterInfo{}, false
	}
	return *clusterInfo(sc, c), true
}

// Clusters implements View.
func (s *CacheSource) Clusters() []ClusterInfo {
	s.mu.RLock()
	keys := make([]ecscache.ClusterKey, 0, len(s.clusters))
	for _, ck := range s.clusters {
		keys = append(keys, ck)
	}
	s.mu.RUnlock()
	out := make([]ClusterInfo, 0, len(keys))
	for _, ck := range keys {
		if c, _, ok := s.cache.Cluster(ck.Scope, ck.Cluster); ok && c != nil {
			out = append(out, *clusterInfo(ck.Scope, c))
		}
	}
	return out
}

// TaskDefinitions reads task definitions (ecscp.Plane implements it).
type TaskDefinitions interface {
	// LookupTaskDefinition returns a task definition by reference (here
	// always an ARN).
	LookupTaskDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error)
}

// cacheLoader is a TaskLoader: the task from the cache, its definition
// through defs, remembered by ARN (a revision never changes what it runs).
type cacheLoader struct {
	cache *ecscache.Cache
	defs  TaskDefinitions

	mu   sync.Mutex
	seen map[string]*ecs.TaskDefinition // by ARN
}

// Loader returns a TaskLoader that reads tasks from the cache and their
// definitions through defs.
func (s *CacheSource) Loader(defs TaskDefinitions) TaskLoader {
	return &cacheLoader{cache: s.cache, defs: defs}
}

// LoadTask implements TaskLoader.
func (l *cacheLoader) LoadTask(ctx context.Context, ti TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error) {
	t, ok := l.cache.Task(ti.Scope, ti.Cluster, ti.ID)
	if !ok {
		return nil, nil, nil
	}
	td, err := l.definition(ctx, ti.Scope, t.TaskDefinitionARN)
	if err != nil {
		return nil, nil, err
	}
	return t, td, nil
}

func (l *cacheLoader) definition(ctx context.Context, sc ecs.Scope, arn string) (*ecs.TaskDefinition, error) {
	l.mu.Lock()
	td := l.seen[arn]
	l.mu.Unlock()
	if td != nil {
		return td, nil
	}
	td, err := l.defs.LookupTaskDefinition(ctx, sc, arn)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.seen == nil || len(l.seen) > 10_000 {
		l.seen = map[string]*ecs.TaskDefinition{}
	}
	l.seen[arn] = td
	l.mu.Unlock()
	return td, nil
}
