package controller

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// fakeSource is a hand-written Source: tests put and delete objects and
// the handlers hear of it, as from the real informer.
type fakeSource struct {
	mu        sync.Mutex
	tasks     map[string]TaskInfo
	instances map[string]InstanceInfo
	clusters  map[string]ClusterInfo
	handlers  []Handlers
	synced    chan struct{}
}

func newFakeSource() *fakeSource {
	s := &fakeSource{tasks: map[string]TaskInfo{}, instances: map[string]InstanceInfo{}, clusters: map[string]ClusterInfo{}, synced: make(chan struct{})}
	close(s.synced)
	return s
}

func (s *fakeSource) Subscribe(h Handlers) {
	s.mu.Lock()
	s.handlers = append(s.handlers, h)
	s.mu.Unlock()
}
func (s *fakeSource) WaitSynced(ctx context.Context) error {
	select {
	case <-s.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fakeSource) putTask(t TaskInfo) {
	s.mu.Lock()
	var old *TaskInfo
	if o, ok := s.tasks[t.Key]; ok {
		old = &o
	}
	s.tasks[t.Key] = t
	hs := s.handlers
	s.mu.Unlock()
	for _, h := range hs {
		if h.Task != nil {
			h.Task(old, &t)
		}
	}
}

func (s *fakeSource) deleteTask(key string) {
	s.mu.Lock()
	o, ok := s.tasks[key]
	delete(s.tasks, key)
	hs := s.handlers
	s.mu.Unlock()
	for _, h := range hs {
		if h.Task != nil && ok {
			h.Task(&o, nil)
		}
	}
}

func (s *fakeSource) putInstance(i InstanceInfo) {
	s.mu.Lock()
	var old *InstanceInfo
	if o, ok := s.instances[i.ARN]; ok {
		old = &o
	}
	s.instances[i.ARN] = i
	hs := s.handlers
	s.mu.Unlock()
	for _, h := range hs {
		if h.Instance != nil {
			h.Instance(old, &i)
		}
	}
}

func (s *fakeSource) deleteInstance(arn string) {
	s.mu.Lock()
	o, ok := s.instances[arn]
	delete(s.instances, arn)
	hs := s.handlers
	s.mu.Unlock()
	for _, h := range hs {
		if h.Instance != nil && ok {
			h.Instance(&o, nil)
		}
	}
}

func (s *fakeSource) putCluster(c ClusterInfo) {
	s.mu.Lock()
	var old *ClusterInfo
	if o, ok := s.clusters[c.Key()]; ok {
		old = &o
	}
	s.clusters[c.Key()] = c
	hs := s.handlers
	s.mu.Unlock()
	for _, h := range hs {
		if h.Cluster != nil {
			h.Cluster(old, &c)
		}
	}
}

func (s *fakeSource) Task(key string) (TaskInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[key]
	return t, ok
}

func (s *fakeSource) Tasks() []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TaskInfo
	for _, t := range s.tasks {
		out = append(out, t)
	}
	return out
}

func (s *fakeSource) InstanceTasks(arn string) []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TaskInfo
	for _, t := range s.tasks {
		if t.Instance == arn {
			out = append(out, t)
		}
	}
	return out
}

func (s *fakeSource) Instance(arn string) (InstanceInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.instances[arn]
	return i, ok
}

func (s *fakeSource) Instances() []InstanceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []InstanceInfo
	for _, i := range s.instances {
		out = append(out, i)
	}
	return out
}

func (s *fakeSource) ManagedInstance(ck string) (InstanceInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range s.instances {
		if i.Managed && ClusterKey(i.Scope, i.Cluster) == ck {
			return i, true
		}
	}
	return InstanceInfo{}, false
}

func (s *fakeSource) Cluster(ck string) (ClusterInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[ck]
	return c, ok
}

func (s *fakeSource) Clusters() []ClusterInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ClusterInfo
	for _, c := range s.clusters {
		out = append(out, c)
	}
	return out
}

var scope = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

const instARN = "arn:aws:ecs:eu-west-1:123456789012:container-instance/c1/i1"

func task(id, desired, last string) TaskInfo {
	return TaskInfo{Key: "/ecs/123456789012/eu-west-1/tasks/c1/" + id, Scope: scope, Cluster: "c1", ID: id,
		Instance: instARN, Desired: desired, Last: last}
}

// fakeSession records what it is sent; send, when set, decides the error.
type fakeSession struct {
	mu   sync.Mutex
	sent [][]Assignment
	send func([]Assignment) error
}

func (s *fakeSession) Send(_ context.Context, tasks []Assignment) error {
	if s.send != nil {
		if err := s.send(tasks); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, append([]Assignment(nil), tasks...))
	return nil
}

func (s *fakeSession) messages() [][]Assignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]Assignment(nil), s.sent...)
}

// fakeSessions maps instances to sessions.
type fakeSessions struct {
	mu sync.Mutex
	m  map[string]*fakeSession
}

func (f *fakeSessions) Session(arn string) Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.m[arn]; s != nil {
		return s
	}
	return nil
}

// loaderFunc is a TaskLoader from a function; sourceLoader loads the
// summary itself as a task.
type loaderFunc func(ctx context.Context, t TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error)

func (f loaderFunc) LoadTask(ctx context.Context, t TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error) {
	return f(ctx, t)
}

func sourceLoader(src *fakeSource) TaskLoader {
	return loaderFunc(func(_ context.Context, ti TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error) {
		cur, ok := src.Task(ti.Key)
		if !ok {
			return nil, nil, nil
		}
		return &ecs.Task{ID: cur.ID, ContainerInstanceARN: cur.Instance, DesiredStatus: cur.Desired, LastStatus: cur.Last,
			StoppedAt: cur.StoppedAt, StoppedReason: cur.StoppedReason}, &ecs.TaskDefinition{}, nil
	})
}

// stopperFunc, deleterFunc and tokensFunc are the write-side fakes.
type stopperFunc func(ctx context.Context, t TaskInfo, reason string, now time.Time) (bool, error)

func (f stopperFunc) StopAway(ctx context.Context, t TaskInfo, reason string, now time.Time) (bool, error) {
	return f(ctx, t, reason, now)
}

type deleterFunc func(ctx context.Context, sc ecs.Scope, cluster, id string) error

func (f deleterFunc) ExpireTask(ctx context.Context, sc ecs.Scope, cluster, id string) error {
	return f(ctx, sc, cluster, id)
}

type tokensFunc func(ctx context.Context, sc ecs.Scope, cluster string, cutoff time.Time) error

func (f tokensFunc) ForgetRunTokens(ctx context.Context, sc ecs.Scope, cluster string, cutoff time.Time) error {
	return f(ctx, sc, cluster, cutoff)
}

// fakeFleet records Set calls.
type fakeFleet struct {
	mu      sync.Mutex
	running map[string]ManagedInstance
	stopAll int
}

func (f *fakeFleet) Set(_ context.Context, key string, m ManagedInstance, run bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if run {
		f.running[key] = m
	} else {
		delete(f.running, key)
	}
}

func (f *fakeFleet) StopAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.running)
	f.stopAll++
}

func (f *fakeFleet) snapshot() (map[string]ManagedInstance, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]ManagedInstance{}
	for k, v := range f.running {
		m[k] = v
	}
	return m, f.stopAll
}

// fakeElector campaigns through its function field.
type fakeElector struct {
	campaign func(ctx context.Context) (context.Context, error)
}

func (e fakeElector) Campaign(ctx context.Context) (context.Context, error) { return e.campaign(ctx) }
func (e fakeElector) Identity() string                                      { return "fake" }
