package ecsstore

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// A task is stored as ecs.Task JSON without what its ARN already says: the
// cluster ARN, each container's task ARN and the part of each container
// ARN that repeats the task's ("arn:aws:ecs:<region>:<account>:container/
// <cluster>/<task ID>"). The fields stay, empty (a container ARN keeps
// "/<container ID>"), and decodeTask puts the values back; a record that
// has them (written before) reads the same. That is about a fifth of a
// task with one container, the largest part of a placement commit. Other
// readers of task records (the controller's watch) read top-level fields
// that are kept: containerInstanceArn, desiredStatus, lastStatus,
// stoppedAt, taskDefinitionArn.

// taskARNParts splits "arn:aws:ecs:<region>:<account>:task/<cluster>/<id>"
// into "arn:aws:ecs:<region>:<account>:" and "<cluster>/<id>".
func taskARNParts(arn string) (head, clusterAndID string, ok bool) {
	i := strings.Index(arn, ":task/")
	if i < 0 || !strings.HasPrefix(arn, "arn:") {
		return "", "", false
	}
	rest := arn[i+len(":task/"):]
	if j := strings.IndexByte(rest, '/'); j <= 0 || j == len(rest)-1 {
		return "", "", false
	}
	return arn[:i+1], rest, true
}

// encodeTask returns the stored form of a task. It does not modify t.
func encodeTask(t *ecs.Task) []byte {
	head, rest, ok := taskARNParts(t.ARN)
	if !ok {
		return mustJSON(t)
	}
	c := *t
	if c.ClusterARN == head+"cluster/"+rest[:strings.LastIndexByte(rest, '/')] {
		c.ClusterARN = ""
	}
	if len(t.Containers) > 0 {
		prefix := head + "container/" + rest
		c.Containers = make([]ecs.Container, len(t.Containers))
		copy(c.Containers, t.Containers)
		for i := range c.Containers {
			ct := &c.Containers[i]
			if ct.TaskARN == t.ARN {
				ct.TaskARN = ""
			}
			if short, found := strings.CutPrefix(ct.ContainerARN, prefix); found && len(short) > 1 && short[0] == '/' {
				ct.ContainerARN = short
			}
		}
	}
	return mustJSON(&c)
}

// plainTask and plainInstance are the domain types without their
// UnmarshalJSON methods.
type (
	plainTask     ecs.Task
	plainInstance ecs.ContainerInstance
)

// decodeTask decodes a stored task.
func decodeTask(kv store.KV) (*ecs.Task, error) {
	t := new(ecs.Task)
	// Into the plain type: ecs.Task's UnmarshalJSON would have the input
	// validated twice (once per json.Unmarshal); the ID is derived here.
	if err := json.Unmarshal(kv.Value, (*plainTask)(t)); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	t.ID = ecs.TaskIDFromARN(t.ARN)
	head, rest, ok := taskARNParts(t.ARN)
	if !ok {
		return t, nil
	}
	if t.ClusterARN == "" {
		t.ClusterARN = head + "cluster/" + rest[:strings.LastIndexByte(rest, '/')]
	}
	for i := range t.Containers {
		ct := &t.Containers[i]
		if ct.TaskARN == "" {
			ct.TaskARN = t.ARN
		}
		if strings.HasPrefix(ct.ContainerARN, "/") {
			ct.ContainerARN = head + "container/" + rest + ct.ContainerARN
		}
	}
	return t, nil
}

// getTask reads a task for a change: the caller owns the result.
func getTask(ctx context.Context, s store.Store, key string) (*ecs.Task, int64, error) {
	kv, err := s.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	t, err := decodeTask(kv)
	if err != nil {
		return nil, 0, err
	}
	return t, kv.ModRevision, nil
}

// taskCache keeps decoded tasks by key and revision, for the readers
// that only read them (DescribeTasks, ListTasks, the counts): a key's
// revision names one value forever, so an entry is never stale, and a task
// is decoded once per change rather than once per read. Entries are
// shared and never modified. It keeps two generations of up to
// taskCacheSize entries: when the current one is full it becomes the old
// one, and a hit in the old one moves the entry back.
type taskCache struct {
	mu       sync.Mutex
	cur, old map[string]cachedTask
}

type cachedTask struct {
	rev int64
	t   *ecs.Task
}

const taskCacheSize = 16384

func (c *taskCache) get(key string, rev int64) *ecs.Task {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[key]; ok && e.rev == rev {
		return e.t
	}
	if e, ok := c.old[key]; ok && e.rev == rev {
		c.putLocked(key, e)
		return e.t
	}
	return nil
}

func (c *taskCache) put(key string, rev int64, t *ecs.Task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, cachedTask{rev: rev, t: t})
}

// drop forgets key's decoded task, e.g. once the task is deleted: the
// cache must not keep what is no longer stored (a server that ran and
// deleted 16k tasks kept them all).
func (c *taskCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, key)
	delete(c.old, key)
}

func (c *taskCache) putLocked(key string, e cachedTask) {
	if c.cur == nil || len(c.cur) >= taskCacheSize {
		c.old, c.cur = c.cur, make(map[string]cachedTask, 1024)
	}
	c.cur[key] = e
}

// sharedTask decodes a stored task, or returns the copy decoded before.
// The result is shared: do not modify it.
func (r *Repo) sharedTask(kv store.KV) (*ecs.Task, error) {
	if t := r.tasks.get(kv.Key, kv.ModRevision); t != nil {
		return t, nil
	}
	t, err := decodeTask(kv)
	if err != nil {
		return nil, err
	}
	r.tasks.put(kv.Key, kv.ModRevision, t)
	return t, nil
}

// TaskHeader is the part of a task record the state cache's indexes and
// its subscribers' decisions read (placement's running counts, the
// controllers' push, disconnect and retention decisions): decoding it
// skips the containers, attachments and the rest, which are decoded only
// when the whole task is read (DecodeTask).
type TaskHeader struct {
	ARN                  string    `json:"taskArn"`
	ContainerInstanceARN string    `json:"containerInstanceArn,omitempty"`
	LaunchType           string    `json:"launchType,omitempty"`
	LastStatus           string    `json:"lastStatus"`
	DesiredStatus        string    `json:"desiredStatus"`
	StoppedAt            time.Time `json:"stoppedAt,omitzero"`
	StoppedReason        string    `json:"stoppedReason,omitempty"`
	// Group and StartedBy tie a service's tasks to it and to its
	// deployments (the service scheduler's index).
	Group     string `json:"group,omitempty"`
	StartedBy string `json:"startedBy,omitempty"`
	// ID is derived from ARN (as in the decoded task).
	ID string `json:"-"`
}

// DecodeTaskHeader decodes the header of a tasks/ record. A record whose
// header decodes may still fail DecodeTask (a malformed field outside the
// header); the input is checked to be well-formed JSON either way.
func DecodeTaskHeader(kv store.KV) (TaskHeader, error) {
	var h TaskHeader
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return TaskHeader{}, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	h.ID = ecs.TaskIDFromARN(h.ARN)
	return h, nil
}
