package controller

import (
	"context"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
)

// ServiceRef names a service.
type ServiceRef struct {
	Scope   ecs.Scope
	Cluster string
	Name    string
}

// Key returns the service's work-queue key: account|region|cluster|name.
func (r ServiceRef) Key() string { return ClusterKey(r.Scope, r.Cluster) + "|" + r.Name }

// parseServiceKey is Key's inverse.
func parseServiceKey(key string) (ServiceRef, bool) {
	p := strings.SplitN(key, "|", 4)
	if len(p) != 4 {
		return ServiceRef{}, false
	}
	return ServiceRef{Scope: ecs.Scope{Account: p[0], Region: p[1]}, Cluster: p[2], Name: p[3]}, true
}

// ServiceSource is what the service scheduler reads: services and their
// tasks, and which service to look at when something changes. Returned
// objects are shared and read-only.
type ServiceSource interface {
	// Service returns a service.
	Service(r ServiceRef) (*ecs.Service, bool)
	// ServiceRefs returns every service.
	ServiceRefs() []ServiceRef
	// ServiceTasks returns the tasks of a service (group service:<name>),
	// STOPPED ones included while they are kept.
	ServiceTasks(r ServiceRef) []*ecs.Task
	// ClusterInstances returns the registered container instances of the
	// service's cluster (not the managed capacity), for DAEMON services.
	ClusterInstances(r ServiceRef) []*ecs.ContainerInstance
	// OnServiceChange registers a function told of every service whose
	// service record or tasks changed, and of every service of a cluster
	// whose container instances changed; call it before the source runs.
	OnServiceChange(func(ServiceRef))
	// WaitSynced blocks until the source holds every acknowledged write.
	WaitSynced(ctx context.Context) error
}

// CacheServiceSource is the ServiceSource over the state cache.
type CacheServiceSource struct {
	cache *ecscache.Cache
	mu    sync.RWMutex
	fns   []func(ServiceRef)
}

var _ ServiceSource = (*CacheServiceSource)(nil)

// NewCacheServiceSource returns a ServiceSource over cache and subscribes
// to it; call it before the cache runs.
func NewCacheServiceSource(cache *ecscache.Cache) *CacheServiceSource {
	s := &CacheServiceSource{cache: cache}
	cache.Subscribe(ecscache.Handlers{
		Service: s.onService,
		Task:    s.onTask,
		Instance: func(_ int64, old, cur *ecscache.Instance) {
			in := cur
			if in == nil {
				in = old
			}
			if in == nil {
				return
			}
			// An instance record change (registration, state,
			// connection; rare): the cluster's services may place
			// now, a DAEMON service gains or loses an instance, the
			// tasks of a DRAINING instance are replaced.
			if (old == nil) != (cur == nil) || (old != nil && cur != nil && old.RecordRev != cur.RecordRev) {
				s.clusterChanged(in.Scope, in.Cluster)
			}
		},
	})
	return s
}

func (s *CacheServiceSource) notify(r ServiceRef) {
	s.mu.RLock()
	fns := s.fns
	s.mu.RUnlock()
	for _, fn := range fns {
		fn(r)
	}
}

func (s *CacheServiceSource) onService(_ int64, sc ecs.Scope, cluster string, old, cur *ecs.Service) {
	svc := cur
	if svc == nil {
		svc = old
	}
	s.notify(ServiceRef{Scope: sc, Cluster: cluster, Name: svc.Name})
}

func (s *CacheServiceSource) onTask(_ int64, sc ecs.Scope, cluster string, old, cur *ecscache.TaskEntry) {
	t := cur
	if t == nil {
		t = old
	}
	if name, ok := strings.CutPrefix(t.Group, "service:"); ok {
		s.notify(ServiceRef{Scope: sc, Cluster: cluster, Name: name})
	}
}

func (s *CacheServiceSource) clusterChanged(sc ecs.Scope, cluster string) {
	for _, svc := range s.cache.Services(sc, cluster) {
		if svc.Status != ecs.ServiceInactive {
			s.notify(ServiceRef{Scope: sc, Cluster: cluster, Name: svc.Name})
		}
	}
}

// OnServiceChange implements ServiceSource.
func (s *CacheServiceSource) OnServiceChange(fn func(ServiceRef)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fns = append(s.fns, fn)
}

// Service implements ServiceSource.
func (s *CacheServiceSource) Service(r ServiceRef) (*ecs.Service, bool) {
	svc, _, ok := s.cache.Service(r.Scope, r.Cluster, r.Name)
	return svc, ok
}

// ServiceRefs implements ServiceSource.
func (s *CacheServiceSource) ServiceRefs() []ServiceRef {
	keys := s.cache.ServiceKeys()
	out := make([]ServiceRef, len(keys))
	for i, k := range keys {
		out[i] = ServiceRef{Scope: k.Scope, Cluster: k.Cluster, Name: k.Name}
	}
	return out
}

// ServiceTasks implements ServiceSource.
func (s *CacheServiceSource) ServiceTasks(r ServiceRef) []*ecs.Task {
	es := s.cache.GroupTaskEntries(r.Scope, r.Cluster, "service:"+r.Name)
	out := make([]*ecs.Task, 0, len(es))
	for _, e := range es {
		if t := e.Task(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// WaitSynced implements ServiceSource.
func (s *CacheServiceSource) WaitSynced(ctx context.Context) error { return s.cache.Sync(ctx) }

// ClusterInstances implements ServiceSource.
func (s *CacheServiceSource) ClusterInstances(r ServiceRef) []*ecs.ContainerInstance {
	ins := s.cache.Instances(r.Scope, r.Cluster)
	out := make([]*ecs.ContainerInstance, 0, len(ins))
	for _, in := range ins {
		if in.Current != nil {
			out = append(out, in.Current)
		}
	}
	return out
}
