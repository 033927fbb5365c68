package ecsstore

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

func clusterKey(sc ecs.Scope, name string) string { return prefix(sc, "clusters") + name }

func clusterNotFound(name string) error {
	return fault.NotFoundf("cluster", "Cluster not found.").WithResource("cluster")
}

// CreateCluster stores c unless an ACTIVE cluster of that name exists, in
// which case it returns the existing one (CreateCluster is idempotent in
// ECS). An INACTIVE cluster of the same name is replaced.
func (r *Repo) CreateCluster(ctx context.Context, sc ecs.Scope, c *ecs.Cluster, tags []ecs.Tag) (*ecs.Cluster, bool, error) {
	var out *ecs.Cluster
	created := false
	err := storeutil.Retry(ctx, func() error {
		key := clusterKey(sc, c.Name)
		cur, rev, err := getDecoded(ctx, r.s, key, decodeCluster)
		switch {
		case err == nil && cur.Status == ecs.ClusterActive:
			out, created = cur, false
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		ops := append([]store.Op{{Key: key, Value: encodeCluster(c)}}, tagOps(c.ARN, tags)...)
		if cur != nil && len(tags) == 0 {
			ops = append(ops, store.Op{Key: tagKey(c.ARN), Delete: true})
		}
		if _, err := r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, ops); err != nil {
			return err
		}
		out, created = c, true
		return nil
	})
	return out, created, storeutil.Err(err)
}

// Cluster returns a cluster (ACTIVE or INACTIVE) or a NotFound fault.
func (r *Repo) Cluster(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, error) {
	c, _, err := getDecoded(ctx, r.s, clusterKey(sc, name), decodeCluster)
	if errors.Is(err, store.ErrNotFound) {
		return nil, clusterNotFound(name)
	}
	return c, storeutil.Err(err)
}

// ActiveCluster returns an ACTIVE cluster or a NotFound fault.
func (r *Repo) ActiveCluster(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, error) {
	c, err := r.Cluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	if c.Status != ecs.ClusterActive {
		return nil, clusterNotFound(name)
	}
	return c, nil
}

// activeClusterRev reads an ACTIVE cluster for a transaction: its key,
// the cluster and its revision (to compare), or a NotFound fault.
func (r *Repo) activeClusterRev(ctx context.Context, sc ecs.Scope, name string) (string, *ecs.Cluster, int64, error) {
	key := clusterKey(sc, name)
	c, rev, err := getDecoded(ctx, r.s, key, decodeCluster)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Status != ecs.ClusterActive) {
		return "", nil, 0, clusterNotFound(name)
	}
	if err != nil {
		return "", nil, 0, err
	}
	return key, c, rev, nil
}

// UpdateCluster changes an ACTIVE cluster with fn, atomically.
func (r *Repo) UpdateCluster(ctx context.Context, sc ecs.Scope, name string, fn func(*ecs.Cluster) error) (*ecs.Cluster, error) {
	var out *ecs.Cluster
	err := storeutil.Retry(ctx, func() error {
		key, c, rev, err := r.activeClusterRev(ctx, sc, name)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		if _, err := r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: encodeCluster(c)}}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, storeutil.Err(err)
}

// Clusters returns every ACTIVE cluster, ordered by name.
func (r *Repo) Clusters(ctx context.Context, sc ecs.Scope) ([]*ecs.Cluster, error) {
	kvs, _, err := r.s.List(ctx, prefix(sc, "clusters"), store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]*ecs.Cluster, 0, len(kvs))
	for _, kv := range kvs {
		c, err := decodeCluster(kv)
		if err != nil {
			return nil, err
		}
		if c.Status == ecs.ClusterActive {
			out = append(out, c)
		}
	}
	return out, nil
}

// ClusterCounts are the derived counters of a cluster.
type ClusterCounts struct {
	RegisteredContainerInstances int
	RunningTasks                 int
	PendingTasks                 int
	ActiveServices               int
}

// CountFunc counts the objects of a cluster; the task and service stores
// register theirs so DescribeClusters and DeleteCluster see them.
type CountFunc func(ctx context.Context, r *Repo, sc ecs.Scope, cluster string, into *ClusterCounts) error

// Counts derives a cluster's counters from the store.
func (r *Repo) Counts(ctx context.Context, sc ecs.Scope, cluster string) (ClusterCounts, error) {
	var cc ClusterCounts
	n, err := r.countKeys(ctx, prefix(sc, "instances")+cluster+"/")
	if err != nil {
		return cc, err
	}
	cc.RegisteredContainerInstances = n
	for _, f := range r.counters() {
		if err := f(ctx, r, sc, cluster, &cc); err != nil {
			return cc, err
		}
	}
	return cc, nil
}

func (r *Repo) counters() []CountFunc { return countFuncs }

// countFuncs are registered by the files that own tasks and services.
var countFuncs []CountFunc

// clusterChildren are the key kinds whose records live under a cluster
// ("<kind>/<cluster>/..."): DeleteCluster guards its counts of them.
var clusterChildren = []string{"instances", "tasks", KindService}

func (r *Repo) countKeys(ctx context.Context, p string) (int, error) {
	kvs, _, err := r.s.List(ctx, p, store.ListOptions{})
	return len(kvs), storeutil.Err(err)
}

// DeleteCluster marks a cluster INACTIVE. check runs inside the retry loop
// with the cluster's counts and may refuse the delete.
func (r *Repo) DeleteCluster(ctx context.Context, sc ecs.Scope, name string, check func(ClusterCounts) error) (*ecs.Cluster, error) {
	var out *ecs.Cluster
	err := storeutil.Retry(ctx, func() error {
		key, c, rev, err := r.activeClusterRev(ctx, sc, name)
		if err != nil {
			return err
		}
		// The counts are read at or after seen; the Txn then refuses if a
		// task or instance of the cluster was created or changed since, so
		// a RunTask racing the delete either is counted or fails on the
		// INACTIVE cluster.
		_, seen, err := r.s.List(ctx, key, store.ListOptions{Limit: 1})
		if err != nil {
			return err
		}
		cc, err := r.Counts(ctx, sc, name)
		if err != nil {
			return err
		}
		if err := check(cc); err != nil {
			return err
		}
		c.Status = ecs.ClusterInactive
		cmps := []store.Compare{{Key: key, ModRevision: rev}}
		for _, kind := range clusterChildren {
			cmps = append(cmps, store.Compare{Key: prefix(sc, kind) + name + "/", ModRevision: seen, Prefix: true})
		}
		if _, err := r.s.Txn(ctx, cmps, []store.Op{{Key: key, Value: encodeCluster(c)}}); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, storeutil.Err(err)
}
