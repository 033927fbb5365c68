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
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// A task is stored as its taskRecord (taskrecord.go) without what its ARN
// already says: the cluster ARN, each container's task ARN and the part
// of each container ARN that repeats the task's ("arn:aws:ecs:<region>:
// <account>:container/<cluster>/<task ID>"). The fields are left empty (a
// container ARN keeps "/<container ID>") and decodeTask puts the values
// back; a value that differs from what the ARN says (none that berth
// writes) is stored as it is. That is about a fifth of a task with one
// container, the largest part of a placement commit. The state cache
// decodes only the TaskHeader of a record at each change and the whole
// task when it is read.

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
	rec := taskRecordOf(t)
	head, rest, ok := taskARNParts(t.ARN)
	if !ok {
		return storeutil.MustJSON(&rec)
	}
	if rec.ClusterARN == head+"cluster/"+rest[:strings.LastIndexByte(rest, '/')] {
		rec.ClusterARN = ""
	}
	prefix := head + "container/" + rest
	for i := range rec.Containers {
		ct := &rec.Containers[i]
		if ct.TaskARN == t.ARN {
			ct.TaskARN = ""
		}
		if short, found := strings.CutPrefix(ct.ContainerARN, prefix); found && len(short) > 1 && short[0] == '/' {
			ct.ContainerARN = short
		}
	}
	return storeutil.MustJSON(&rec)
}

// decodeTask decodes a stored task.
func decodeTask(kv store.KV) (*ecs.Task, error) {
	var rec taskRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	t := new(ecs.Task)
	*t = rec.domain()
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

// decodedCache keeps decoded records by key and revision, for the readers
// that only read them (tasks: DescribeTasks, ListTasks, the counts; task
// definitions: RunTask, TaskResources, DescribeTaskDefinition): a key's
// revision names one value forever, so an entry is never stale, and a
// record is decoded once per change rather than once per read. Entries
// are shared and never modified. It keeps two generations of up to size
// entries: when the current one is full it becomes the old one, and a hit
// in the old one moves the entry back.
type decodedCache[T any] struct {
	size     int
	mu       sync.Mutex
	cur, old map[string]decodedEntry[T]
}

type decodedEntry[T any] struct {
	rev int64
	v   *T
}

const (
	taskCacheSize    = 16384
	taskDefCacheSize = 1024
)

func (c *decodedCache[T]) get(key string, rev int64) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[key]; ok && e.rev == rev {
		return e.v
	}
	if e, ok := c.old[key]; ok && e.rev == rev {
		c.putLocked(key, e)
		return e.v
	}
	return nil
}

func (c *decodedCache[T]) put(key string, rev int64, v *T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, decodedEntry[T]{rev: rev, v: v})
}

// drop forgets key's decoded record, e.g. once it is deleted: the cache
// must not keep what is no longer stored (a server that ran and deleted
// 16k tasks kept them all).
func (c *decodedCache[T]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, key)
	delete(c.old, key)
}

func (c *decodedCache[T]) putLocked(key string, e decodedEntry[T]) {
	if c.cur == nil || len(c.cur) >= c.size {
		c.old, c.cur = c.cur, make(map[string]decodedEntry[T], min(c.size, 1024))
	}
	c.cur[key] = e
}

// shared decodes kv with dec, or returns the value decoded before for
// kv's key and revision. The result is shared: do not modify it.
func (c *decodedCache[T]) shared(kv store.KV, dec func(store.KV) (*T, error)) (*T, error) {
	if v := c.get(kv.Key, kv.ModRevision); v != nil {
		return v, nil
	}
	v, err := dec(kv)
	if err != nil {
		return nil, err
	}
	c.put(kv.Key, kv.ModRevision, v)
	return v, nil
}

// sharedTask decodes a stored task, or returns the copy decoded before.
// The result is shared: do not modify it.
func (r *Repo) sharedTask(kv store.KV) (*ecs.Task, error) { return r.tasks.shared(kv, decodeTask) }

// TaskHeader is the part of a task record (taskRecord's fields of the same
// JSON names) the state cache's indexes and
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

// DecodeTaskHeader decodes the header of a tasks/ record, through
// scanTaskHeader (taskheader.go) when the record is as berth writes it,
// else through encoding/json. A record whose header decodes may still
// fail DecodeTask (a malformed field outside the header).
func DecodeTaskHeader(kv store.KV) (TaskHeader, error) {
	var h TaskHeader
	if scanTaskHeader(kv.Value, &h) {
		h.ID = ecs.TaskIDFromARN(h.ARN)
		return h, nil
	}
	h = TaskHeader{}
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return TaskHeader{}, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	h.ID = ecs.TaskIDFromARN(h.ARN)
	return h, nil
}
