package ecsstore

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Tasks use two kinds of keys:
//
//	tasks/<cluster>/<taskID>        the task (ecs.Task JSON less what its ARN
//	                                says, see taskcodec.go; tags under /tags/)
//	run-tokens/<cluster>/<token>    the tasks a RunTask clientToken created, so
//	                                that a retried call returns them again
func taskKey(sc ecs.Scope, cluster, id string) string {
	return prefix(sc, "tasks") + cluster + "/" + id
}
func tokenKey(sc ecs.Scope, cluster, token string) string {
	return prefix(sc, "run-tokens") + cluster + "/" + url.PathEscape(token)
}

// TaskKey returns the store key of a task (for controllers).
func TaskKey(sc ecs.Scope, cluster, id string) string { return taskKey(sc, cluster, id) }

type tokenRecord struct {
	TaskARNs  []string  `json:"taskArns"`
	CreatedAt time.Time `json:"createdAt"`
}

func taskNotFound(id string) error {
	return fault.NotFoundf("task", "The referenced task %s was not found.", id)
}

func init() { countFuncs = append(countFuncs, countTasks) }

// countTasks derives a cluster's running and pending task counts: tasks
// before RUNNING are pending, tasks from RUNNING until STOPPED running.
func countTasks(ctx context.Context, r *Repo, sc ecs.Scope, cluster string, into *ClusterCounts) error {
	tasks, err := r.Tasks(ctx, sc, cluster)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		switch i := ecs.TaskStatusIndex(t.LastStatus); {
		case i < 0 || t.LastStatus == ecs.TaskStopped:
		case i < ecs.TaskStatusIndex(ecs.TaskRunning):
			into.PendingTasks++
		default:
			into.RunningTasks++
		}
	}
	return nil
}

// Task returns a task or a NotFound fault. The caller owns the task.
func (r *Repo) Task(ctx context.Context, sc ecs.Scope, cluster, id string) (*ecs.Task, error) {
	t, _, err := getTask(ctx, r.s, taskKey(sc, cluster, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, taskNotFound(id)
	}
	return t, storeutil.Err(err)
}

// SharedTask is Task for a caller that only reads the task: it is shared
// with other readers (decoded once per change of the task), so it must not
// be modified.
func (r *Repo) SharedTask(ctx context.Context, sc ecs.Scope, cluster, id string) (*ecs.Task, error) {
	kv, err := r.s.Get(ctx, taskKey(sc, cluster, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, taskNotFound(id)
	}
	if err != nil {
		return nil, storeutil.Err(err)
	}
	return r.sharedTask(kv)
}

// Tasks returns every task of a cluster, in ID order. The tasks are
// shared (see SharedTask): do not modify them.
func (r *Repo) Tasks(ctx context.Context, sc ecs.Scope, cluster string) ([]*ecs.Task, error) {
	kvs, _, err := r.s.List(ctx, prefix(sc, "tasks")+cluster+"/", store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]*ecs.Task, 0, len(kvs))
	for _, kv := range kvs {
		t, err := r.sharedTask(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (r *Repo) tasksByARN(ctx context.Context, sc ecs.Scope, arns []string) ([]*ecs.Task, error) {
	out := make([]*ecs.Task, 0, len(arns))
	for _, arn := range arns {
		cluster, id, ok := ecs.SplitTaskARN(arn)
		if !ok {
			continue
		}
		t, err := r.Task(ctx, sc, cluster, id)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// UpdateTask changes a task with fn, atomically; fn may return ErrNoChange.
// When the task reaches STOPPED in this update, what it reserved on its
// instance (resources reports it) is released in the same transaction.
func (r *Repo) UpdateTask(ctx context.Context, sc ecs.Scope, cluster, id string, fn func(*ecs.Task) error, resources func(context.Context, *ecs.Task) (ecs.TaskResources, error)) (*ecs.Task, error) {
	var out *ecs.Task
	err := storeutil.Retry(ctx, func() error {
		key := taskKey(sc, cluster, id)
		t, rev, err := getTask(ctx, r.s, key)
		if errors.Is(err, store.ErrNotFound) {
			return taskNotFound(id)
		}
		if err != nil {
			return err
		}
		wasStopped := t.LastStatus == ecs.TaskStopped
		if err := fn(t); err != nil {
			if errors.Is(err, ErrNoChange) {
				out = t
				return nil
			}
			return err
		}
		cmps := []store.Compare{{Key: key, ModRevision: rev}}
		ops := []store.Op{{Key: key, Value: encodeTask(t)}}
		if !wasStopped && t.LastStatus == ecs.TaskStopped && t.ContainerInstanceARN != "" {
			c, o, err := r.releaseOps(ctx, sc, t, resources)
			if err != nil {
				return err
			}
			cmps, ops = append(cmps, c...), append(ops, o...)
		}
		if _, err := r.s.Txn(ctx, cmps, ops); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, storeutil.Err(err)
}

// releaseOps returns the compares and writes that give a stopped task's
// reservation back to its instance (and take its group off a registered
// instance). An instance that is gone needs none.
func (r *Repo) releaseOps(ctx context.Context, sc ecs.Scope, t *ecs.Task, resources func(context.Context, *ecs.Task) (ecs.TaskResources, error)) ([]store.Compare, []store.Op, error) {
	ref, err := ecs.ParseInstanceRef(t.ContainerInstanceARN, "")
	if err != nil {
		return nil, nil, nil
	}
	l, err := r.locate(ctx, sc, ref)
	if fault.Is(err, fault.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	res, err := resources(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	l.ci.Release(res)
	groups := maps.Clone(l.groups)
	if groups[t.Group] > 1 {
		groups[t.Group]--
	} else {
		delete(groups, t.Group)
	}
	cmps, ops := l.save(groups, false)
	return cmps, ops, nil
}

// DeleteTask removes a STOPPED task and its tags (stopped-task retention).
// It does nothing if the task changed since rev or is not STOPPED.
func (r *Repo) DeleteTask(ctx context.Context, sc ecs.Scope, cluster, id string) error {
	key := taskKey(sc, cluster, id)
	t, rev, err := getTask(ctx, r.s, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return storeutil.Err(err)
	}
	if t.LastStatus != ecs.TaskStopped {
		return nil
	}
	_, err = r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Delete: true}, {Key: tagKey(t.ARN), Delete: true}})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err == nil {
		r.tasks.drop(key)
	}
	return storeutil.Err(err)
}

// DeleteRunTokens removes the client tokens of a cluster recorded before
// cutoff.
func (r *Repo) DeleteRunTokens(ctx context.Context, sc ecs.Scope, cluster string, cutoff time.Time) error {
	kvs, _, err := r.s.List(ctx, prefix(sc, "run-tokens")+cluster+"/", store.ListOptions{})
	if err != nil {
		return storeutil.Err(err)
	}
	var ops []store.Op
	for _, kv := range kvs {
		var rec tokenRecord
		if json.Unmarshal(kv.Value, &rec) == nil && rec.CreatedAt.Before(cutoff) {
			ops = append(ops, store.Op{Key: kv.Key, Delete: true})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	_, err = r.s.Txn(ctx, nil, ops)
	return storeutil.Err(err)
}
