package ecscache

import (
	"cmp"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/store"
)

// groupKey names a task group of a cluster ("service:web").
type groupKey struct {
	ClusterKey
	Group string
}

// applyService applies a change of a services/ record and returns how to
// notify the handlers (nil: nothing changed).
func (c *Cache) applyService(ck ClusterKey, name string, kv store.KV, del bool, rev int64) func(Handlers) {
	var s *ecs.Service
	if !del {
		var err error
		if s, err = ecsstore.DecodeService(kv); err != nil {
			c.log.Error("state cache: undecodable record, treated as absent", "key", kv.Key, "error", err)
		}
	}
	c.mu.Lock()
	m := c.services[ck]
	old := m[name].v
	c.setHeld(kv, s != nil)
	if s != nil {
		if m == nil {
			m = map[string]versioned[ecs.Service]{}
			c.services[ck] = m
		}
		m[name] = versioned[ecs.Service]{s, kv.ModRevision}
	} else {
		delete(m, name)
		if len(m) == 0 {
			delete(c.services, ck)
		}
	}
	c.mu.Unlock()
	if old == nil && s == nil {
		return nil
	}
	return func(h Handlers) {
		if h.Service != nil {
			h.Service(rev, ck.Scope, ck.Cluster, old, s)
		}
	}
}

// indexGroup and unindexGroup keep the group index; c.mu must be held.
func (c *Cache) indexGroup(ck ClusterKey, t *TaskEntry) {
	gk := groupKey{ck, t.Group}
	m := c.byGroup[gk]
	if m == nil {
		m = map[string]*TaskEntry{}
		c.byGroup[gk] = m
	}
	m[t.ID] = t
}

func (c *Cache) unindexGroup(ck ClusterKey, t *TaskEntry) {
	gk := groupKey{ck, t.Group}
	if m := c.byGroup[gk]; m != nil {
		delete(m, t.ID)
		if len(m) == 0 {
			delete(c.byGroup, gk)
		}
	}
}

// Service returns a service of a cluster (any status) and its
// ModRevision.
func (c *Cache) Service(sc ecs.Scope, cluster, name string) (*ecs.Service, int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.services[ClusterKey{sc, cluster}][name]
	return v.v, v.rev, ok
}

// Services returns the services of a cluster (any status), by name.
func (c *Cache) Services(sc ecs.Scope, cluster string) []*ecs.Service {
	c.mu.RLock()
	m := c.services[ClusterKey{sc, cluster}]
	out := make([]*ecs.Service, 0, len(m))
	for _, v := range m {
		out = append(out, v.v)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *ecs.Service) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// ServiceKeys returns every service the cache holds, as cluster and name.
func (c *Cache) ServiceKeys() []ServiceKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []ServiceKey
	for ck, m := range c.services {
		for name := range m {
			out = append(out, ServiceKey{ck, name})
		}
	}
	return out
}

// ServiceKey names a service.
type ServiceKey struct {
	ClusterKey
	Name string
}

// GroupTaskEntries returns the tasks of a cluster's task group (a
// service's tasks: "service:<name>"), in ID order.
func (c *Cache) GroupTaskEntries(sc ecs.Scope, cluster, group string) []*TaskEntry {
	c.mu.RLock()
	m := c.byGroup[groupKey{ClusterKey{sc, cluster}, group}]
	out := make([]*TaskEntry, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *TaskEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
