package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/ecs"
)

const (
	testCluster  = "arn:aws:ecs:us-east-1:123456789012:cluster/test"
	testInstance = "arn:aws:ecs:us-east-1:123456789012:container-instance/test/i-1"
	testImage    = "busybox:latest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recDriver is a fake driver that records StopContainer calls.
type recDriver struct {
	*fake.Driver
	mu    sync.Mutex
	stops []stopCall
}

type stopCall struct {
	name    string
	timeout time.Duration
}

func (d *recDriver) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	if st, err := d.InspectContainer(ctx, id); err == nil && st.Status == driver.StatusRunning {
		d.mu.Lock()
		d.stops = append(d.stops, stopCall{st.Labels[driver.LabelContainerName], timeout})
		d.mu.Unlock()
	}
	return d.Driver.StopContainer(ctx, id, timeout)
}

func (d *recDriver) stopCalls() []stopCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.stops)
}

func newFake() *recDriver {
	return &recDriver{Driver: fake.New(fake.Options{Logger: quiet, Images: []string{testImage}})}
}

// harness runs a Runner on a driver for one test.
type harness struct {
	t      *testing.T
	d      driver.Driver
	r      *Runner
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	changes map[string][]TaskChange
	events  []driver.ContainerEvent
}

// newRunner builds a runner on d without running it.
func newRunner(t *testing.T, d driver.Driver, mods ...func(*Config)) (*Runner, *harness) {
	h := &harness{t: t, d: d, changes: map[string][]TaskChange{}}
	cfg := Config{
		Driver:       d,
		Logger:       quiet,
		Cluster:      testCluster,
		InstanceARN:  testInstance,
		CleanupAfter: -1,
		OnChange: func(c TaskChange) {
			h.mu.Lock()
			h.changes[c.TaskARN] = append(h.changes[c.TaskARN], c)
			h.mu.Unlock()
		},
	}
	for _, m := range mods {
		m(&cfg)
	}
	h.r = New(cfg)
	return h.r, h
}

// start runs h's runner (and an event recorder) until the test ends.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	evs, err := h.d.WaitEvents(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	go func() {
		for ev := range evs {
			if !h.r.ours(ev.Labels) {
				continue // other tests' (or other people's) containers on a shared daemon
			}
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		}
	}()
	h.done = make(chan error, 1)
	go func() { h.done <- h.r.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop ends Run and waits for it.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("Run did not return")
	}
}

// runHarness returns a running runner on d.
func runHarness(t *testing.T, d driver.Driver, mods ...func(*Config)) *harness {
	_, h := newRunner(t, d, mods...)
	h.start()
	return h
}

// waitFor polls the task's observed state until cond holds.
func (h *harness) waitFor(arn string, what string, cond func(TaskChange) bool) TaskChange {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, ok := h.r.Task(arn)
		if ok && cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; task: %+v", what, c)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) waitStatus(arn, status string) TaskChange {
	h.t.Helper()
	return h.waitFor(arn, "status "+status, func(c TaskChange) bool { return c.LastStatus == status })
}

// waitGone waits until the task has been cleaned up (its actor finished).
func (h *harness) waitGone(arn string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.r.mu.Lock()
		done := h.r.finished.get(arn) != nil
		h.r.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for task %s to be cleaned up", arn)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitIdle waits until the task's actor has handled every input given so
// far (e.g. an Apply) and every operation that started: whatever it
// decided has been done, and it waits for an event or its timer.
func (h *harness) waitIdle(arn string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.r.mu.Lock()
		t := h.r.tasks[arn]
		h.r.mu.Unlock()
		if t == nil || t.idle() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for task %s to be idle", arn)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) history(arn string) []TaskChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.changes[arn])
}

// eventsOf returns the recorded events of type typ, as container names.
func (h *harness) eventsOf(typ driver.EventType) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if ev.Type == typ {
			out = append(out, ev.Labels[driver.LabelContainerName])
		}
	}
	return out
}

// waitEvents waits until n events of typ were recorded.
func (h *harness) waitEvents(typ driver.EventType, n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.eventsOf(typ)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %d %s events; got %v", n, typ, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var taskSeq struct {
	sync.Mutex
	n int
}

// runID keeps task IDs (and so container names) unique across test runs.
var runID = uint64(time.Now().UnixNano())

// newTask returns a task to run.
func newTask() *ecs.Task {
	taskSeq.Lock()
	taskSeq.n++
	n := taskSeq.n
	taskSeq.Unlock()
	id := fmt.Sprintf("%016x%016x", runID, n)
	return &ecs.Task{
		ARN:           "arn:aws:ecs:us-east-1:123456789012:task/test/" + id,
		ID:            id,
		ClusterARN:    testCluster,
		LastStatus:    ecs.TaskPending,
		DesiredStatus: ecs.TaskRunning,
	}
}

// stopped returns a copy of task with DesiredStatus STOPPED.
func stopped(task *ecs.Task, code, reason string) *ecs.Task {
	c := *task
	c.DesiredStatus = ecs.TaskStopped
	c.StopCode = code
	c.StoppedReason = reason
	return &c
}

func taskDef(mode string, cs ...ecs.ContainerDefinition) *ecs.TaskDefinition {
	return &ecs.TaskDefinition{Family: "app", Revision: 3, NetworkMode: mode, ContainerDefinitions: cs}
}

func ptr[T any](v T) *T { return &v }

// cdef returns a container definition with the test image and 64 MiB.
func cdef(name string, mods ...func(*ecs.ContainerDefinition)) ecs.ContainerDefinition {
	c := ecs.ContainerDefinition{Name: name, Image: testImage, Memory: ptr(64)}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func nonEssential(c *ecs.ContainerDefinition) { c.Essential = ptr(false) }

func dependsOn(name, cond string) func(*ecs.ContainerDefinition) {
	return func(c *ecs.ContainerDefinition) {
		c.DependsOn = append(c.DependsOn, ecs.ContainerDependency{ContainerName: name, Condition: cond})
	}
}

func withHealthCheck(c *ecs.ContainerDefinition) {
	c.HealthCheck = &ecs.HealthCheck{Command: []string{"CMD-SHELL", "true"}}
}

func container(c TaskChange, name string) ContainerChange {
	for _, cc := range c.Containers {
		if cc.Name == name {
			return cc
		}
	}
	return ContainerChange{}
}

func exitCode(cc ContainerChange) string {
	if cc.ExitCode == nil {
		return "nil"
	}
	return fmt.Sprint(*cc.ExitCode)
}

// behaviors scripts fake containers by ECS container name.
func behaviors(d *recDriver, m map[string]fake.Behavior) {
	d.OnStart = func(id string, spec driver.ContainerSpec) fake.Behavior {
		return m[spec.Labels[driver.LabelContainerName]]
	}
}

// containerCount counts the task's containers in the fake.
func containerCount(t *testing.T, d driver.Driver, arn string) int {
	t.Helper()
	states, err := d.ListContainers(context.Background(), map[string]string{driver.LabelTaskARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	return len(states)
}

// checkMonotonic fails if reported statuses ever move backwards.
func checkMonotonic(t *testing.T, history []TaskChange) {
	t.Helper()
	last := -1
	for _, c := range history {
		i := ecs.TaskStatusIndex(c.LastStatus)
		if i < 0 {
			t.Errorf("unknown status %q reported", c.LastStatus)
		}
		if i < last {
			t.Errorf("status moved backwards to %s in %v", c.LastStatus, statuses(history))
		}
		last = i
	}
}

func statuses(history []TaskChange) []string {
	var out []string
	for _, c := range history {
		if len(out) == 0 || out[len(out)-1] != c.LastStatus {
			out = append(out, c.LastStatus)
		}
	}
	return out
}
