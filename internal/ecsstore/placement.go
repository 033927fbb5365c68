package ecsstore

import (
	"context"
	"errors"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
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

// EncodedTasks are new tasks (with their tags) and client tokens encoded
// for a PlacementCommit. A placement queue encodes each call's tasks as
// it plans them (EncodeTasks), while the transaction before is being
// committed, so that encoding never holds up the next commit.
type EncodedTasks struct {
	cmps []store.Compare
	ops  []store.Op
}

// EncodeTasks appends to e the writes of tasks and, if token is not nil,
// of its client token (which must not exist yet).
func (e *EncodedTasks) EncodeTasks(sc ecs.Scope, cluster string, tasks []NewTask, token *RunToken) {
	for _, nt := range tasks {
		e.ops = append(e.ops, store.Op{Key: taskKey(sc, cluster, nt.Task.ID), Value: encodeTask(nt.Task)})
		e.ops = append(e.ops, tagOps(nt.Task.ARN, nt.Tags)...)
	}
	if token != nil {
		key := tokenKey(sc, cluster, token.Token)
		e.cmps = append(e.cmps, store.Compare{Key: key})
		e.ops = append(e.ops, store.Op{Key: key, Value: storeutil.MustJSON(tokenRecord{TaskARNs: token.TaskARNs, CreatedAt: token.CreatedAt})})
	}
}

// Empty reports whether e writes nothing.
func (e *EncodedTasks) Empty() bool { return len(e.ops) == 0 }

// PlacementCommit is one placement transaction of a cluster.
type PlacementCommit struct {
	Cluster    string
	ClusterRev int64 // the cluster record as read
	Tasks      []NewTask
	Tokens     []RunToken // must not exist yet
	// Encoded are more tasks and tokens, encoded ahead (written with
	// Tasks and Tokens).
	Encoded   *EncodedTasks
	Instances []ChargedInstance
	// Managed, if not nil, is the cluster's managed instance as charged;
	// ManagedRev its revision as read (0: it does not exist yet).
	Managed    *ecs.ContainerInstance
	ManagedRev int64
}

// CommitPlacement writes a placement in one transaction (no retry: on
// store.ErrConflict nothing was written and the caller decides again) and
// returns its revision.
func (r *Repo) CommitPlacement(ctx context.Context, sc ecs.Scope, pc *PlacementCommit) (int64, error) {
	var enc EncodedTasks
	enc.EncodeTasks(sc, pc.Cluster, pc.Tasks, nil)
	for i := range pc.Tokens {
		enc.EncodeTasks(sc, pc.Cluster, nil, &pc.Tokens[i])
	}
	if e := pc.Encoded; e != nil {
		enc.cmps, enc.ops = append(enc.cmps, e.cmps...), append(enc.ops, e.ops...)
	}
	cmps := make([]store.Compare, 0, 1+len(enc.cmps)+2*len(pc.Instances)+1)
	ops := make([]store.Op, 0, len(enc.ops)+len(pc.Instances)+1)
	cmps = append(cmps, store.Compare{Key: clusterKey(sc, pc.Cluster), ModRevision: pc.ClusterRev})
	cmps = append(cmps, enc.cmps...)
	ops = append(ops, enc.ops...)
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
	return rev, storeutil.Err(err)
}

// RunTokenTasks returns the tasks a client token created (found false if
// the token is unknown).
func (r *Repo) RunTokenTasks(ctx context.Context, sc ecs.Scope, cluster, token string) (tasks []*ecs.Task, found bool, err error) {
	rec, _, err := getJSON[tokenRecord](ctx, r.s, tokenKey(sc, cluster, token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, storeutil.Err(err)
	}
	tasks, err = r.tasksByARN(ctx, sc, rec.TaskARNs)
	return tasks, err == nil, storeutil.Err(err)
}

// ActiveClusterRev returns an ACTIVE cluster and its revision, or a
// NotFound fault.
func (r *Repo) ActiveClusterRev(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, int64, error) {
	cl, rev, err := getDecoded(ctx, r.s, clusterKey(sc, name), decodeCluster)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cl.Status != ecs.ClusterActive) {
		return nil, 0, clusterNotFound(name)
	}
	return cl, rev, storeutil.Err(err)
}

// ManagedInstanceRev returns a cluster's managed instance and its
// revision; a cluster without one gives a nil instance and revision 0.
func (r *Repo) ManagedInstanceRev(ctx context.Context, sc ecs.Scope, cluster string) (*ecs.ContainerInstance, int64, error) {
	ci, rev, err := getDecoded(ctx, r.s, managedKey(sc, cluster), decodeInstance)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, storeutil.Err(err)
	}
	return ci, rev, nil
}
