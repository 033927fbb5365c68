package ecsstore

import (
	"context"
	"errors"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// What a placement (internal/placement) reads and writes. It decides on
// the state cache and commits here, in one transaction that compares every
// record the decisions were taken on, so that a stale input costs a retry
// (store.ErrConflict), never a wrong write.

// NewTask is a task a placement creates, with its tags.
type NewTask struct {
	Task *ecs.Task
	Tags []ecs.Tag
}

// RunToken is a RunTask client token and the tasks its call created.
type RunToken struct {
	Token     string
	TaskARNs  []string
	CreatedAt time.Time
}

// ChargedInstance is a registered instance whose state a placement
// rewrites: the revisions of its records as the placement read them, and
// its new state.
type ChargedInstance struct {
	ID                  string
	RecordRev, StateRev int64
	State               *StateRecord
}

// PlacementCommit is one placement transaction of a cluster.
type PlacementCommit struct {
	Cluster    string
	ClusterRev int64 // the cluster record as read
	Tasks      []NewTask
	Tokens     []RunToken // must not exist yet
	Instances  []ChargedInstance
	// Managed, if not nil, is the cluster's managed instance as charged;
	// ManagedRev its revision as read (0: it does not exist yet).
	Managed    *ecs.ContainerInstance
	ManagedRev int64
}

// CommitPlacement writes a placement in one transaction (no retry: on
// store.ErrConflict nothing was written and the caller decides again) and
// returns its revision.
func (r *Repo) CommitPlacement(ctx context.Context, sc ecs.Scope, pc *PlacementCommit) (int64, error) {
	cmps := make([]store.Compare, 0, 1+len(pc.Tokens)+2*len(pc.Instances)+1)
	ops := make([]store.Op, 0, 2*len(pc.Tasks)+len(pc.Tokens)+len(pc.Instances)+1)
	cmps = append(cmps, store.Compare{Key: clusterKey(sc, pc.Cluster), ModRevision: pc.ClusterRev})
	for _, nt := range pc.Tasks {
		ops = append(ops, store.Op{Key: taskKey(sc, pc.Cluster, nt.Task.ID), Value: encodeTask(nt.Task)})
		ops = append(ops, tagOps(nt.Task.ARN, nt.Tags)...)
	}
	for _, tk := range pc.Tokens {
		key := tokenKey(sc, pc.Cluster, tk.Token)
		cmps = append(cmps, store.Compare{Key: key})
		ops = append(ops, store.Op{Key: key, Value: mustJSON(tokenRecord{TaskARNs: tk.TaskARNs, CreatedAt: tk.CreatedAt})})
	}
	for _, ci := range pc.Instances {
		rec := instanceRecords{sc: sc, cluster: pc.Cluster, id: ci.ID, baseRev: ci.RecordRev, stRev: ci.StateRev}
		cmps, ops = rec.appendSaveState(cmps, ops, ci.State)
	}
	if pc.Managed != nil {
		mk := managedKey(sc, pc.Cluster)
		cmps = append(cmps, store.Compare{Key: mk, ModRevision: pc.ManagedRev})
		ops = append(ops, store.Op{Key: mk, Value: encodeInstance(pc.Managed)})
	}
	rev, err := r.s.Txn(ctx, cmps, ops)
	if errors.Is(err, store.ErrConflict) {
		return 0, err
	}
	return rev, storeErr(err)
}

// RunTokenTasks returns the tasks a client token created (found false if
// the token is unknown).
func (r *Repo) RunTokenTasks(ctx context.Context, sc ecs.Scope, cluster, token string) (tasks []*ecs.Task, found bool, err error) {
	rec, _, err := getJSON[tokenRecord](ctx, r.s, tokenKey(sc, cluster, token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, storeErr(err)
	}
	tasks, err = r.tasksByARN(ctx, sc, rec.TaskARNs)
	return tasks, err == nil, storeErr(err)
}

// ActiveClusterRev returns an ACTIVE cluster and its revision, or a
// NotFound fault.
func (r *Repo) ActiveClusterRev(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, int64, error) {
	cl, rev, err := getDecoded(ctx, r.s, clusterKey(sc, name), decodeCluster)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cl.Status != ecs.ClusterActive) {
		return nil, 0, clusterNotFound(name)
	}
	return cl, rev, storeErr(err)
}

// ManagedInstanceRev returns a cluster's managed instance and its
// revision; a cluster without one gives a nil instance and revision 0.
func (r *Repo) ManagedInstanceRev(ctx context.Context, sc ecs.Scope, cluster string) (*ecs.ContainerInstance, int64, error) {
	ci, rev, err := getDecoded(ctx, r.s, managedKey(sc, cluster), decodeInstance)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, storeErr(err)
	}
	return ci, rev, nil
}

// Retry runs fn until it does not lose a compare-and-swap (ErrConflict),
// at most a bounded number of times.
func Retry(ctx context.Context, fn func() error) error { return retry(ctx, fn) }

var _ = fault.Internal
