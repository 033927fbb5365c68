package runner

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

func TestBuildPlanTaskResources(t *testing.T) {
	task := newTask()
	td := taskDef("awsvpc", cdef("web", func(c *ecs.ContainerDefinition) { c.Memory = nil }), cdef("side"))
	td.CPU, td.Memory = "512", "1024"
	p, err := buildPlan(Config{}, TaskSpec{Task: task, Definition: td})
	if err != nil {
		t.Fatal(err)
	}
	want := driver.TaskResources{ID: task.ID, CPUUnits: 512, MemoryMiB: 1024}
	for _, c := range p.containers {
		if c.spec.TaskResources == nil || *c.spec.TaskResources != want {
			t.Errorf("%s: TaskResources = %+v, want %+v", c.name, c.spec.TaskResources, want)
		}
	}
	if web := p.containers[0].spec; web.MemoryMiB != 0 || web.CPUShares != 512 {
		t.Errorf("web: memory %d shares %d; want no limit of its own, the task's units as shares", web.MemoryMiB, web.CPUShares)
	}

	// Task-level overrides win.
	task.Overrides.CPU, task.Overrides.Memory = "1 vCPU", "2 GB"
	p, err = buildPlan(Config{}, TaskSpec{Task: task, Definition: td})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.containers[1].spec.TaskResources; got == nil || got.CPUUnits != 1024 || got.MemoryMiB != 2048 {
		t.Errorf("with overrides: TaskResources = %+v, want 1024 units, 2048 MiB", got)
	}

	// Memory only; and no task size at all.
	task.Overrides.CPU, task.Overrides.Memory = "", ""
	td.CPU = ""
	p, _ = buildPlan(Config{}, TaskSpec{Task: task, Definition: td})
	if got := p.containers[0].spec.TaskResources; got == nil || got.CPUUnits != 0 || got.MemoryMiB != 1024 {
		t.Errorf("memory only: TaskResources = %+v", got)
	}
	td.Memory = ""
	p, _ = buildPlan(Config{}, TaskSpec{Task: task, Definition: td})
	if got := p.containers[0].spec.TaskResources; got != nil || p.resources != nil {
		t.Errorf("no task size: TaskResources = %+v", got)
	}
	if got := TaskResourcesID("..a/b"); got != "a-b" {
		t.Errorf("TaskResourcesID = %q", got)
	}
}

// TestTaskResourcesLifecycle: the task's size reaches the driver, an OOM
// kill of an essential container stops the task as ECS reports it, and the
// task's resources are removed with it.
func TestTaskResourcesLifecycle(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("awsvpc", cdef("app", func(c *ecs.ContainerDefinition) { c.Memory = nil }), cdef("side", nonEssential))
	td.CPU, td.Memory = "256", "512"
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	if r, ok := d.TaskResources(task.ID); !ok || r.CPUUnits != 256 || r.MemoryMiB != 512 {
		t.Fatalf("driver task resources = %+v, %v; want 256 units, 512 MiB", r, ok)
	}
	if err := d.OOMKill(container(run, "app").RuntimeID); err != nil {
		t.Fatal(err)
	}
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	app := container(st, "app")
	if app.Reason != ReasonOutOfMemory || exitCode(app) != "137" {
		t.Errorf("app = %s %q; want 137, %q", exitCode(app), app.Reason, ReasonOutOfMemory)
	}
	if st.StopCode != ecs.StopEssentialContainerExited || st.Reason != ecs.EssentialContainerExitedReason {
		t.Errorf("task stop = %q %q", st.StopCode, st.Reason)
	}
	if side := container(st, "side"); side.Reason != "" {
		t.Errorf("side reason = %q; want none", side.Reason)
	}
	h.waitGone(task.ARN)
	if _, ok := d.TaskResources(task.ID); ok {
		t.Error("task resources left after cleanup")
	}
}

// TestTaskResourcesOfOrphans: an adopted task nobody applies again is
// removed with its task-level resources, though the runner never saw its
// definition.
func TestTaskResourcesOfOrphans(t *testing.T) {
	d := newFake()
	h1 := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("app"))
	td.Memory = "256"
	h1.r.Apply(TaskSpec{Task: task, Definition: td})
	h1.waitStatus(task.ARN, ecs.TaskRunning)
	h1.stop()
	if _, ok := d.TaskResources(task.ID); !ok {
		t.Fatal("no task resources")
	}
	r2, h2 := newRunner(t, d, func(c *Config) { c.OrphanGrace = 50 * time.Millisecond })
	if _, err := r2.Adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h2.start()
	h2.waitGone(task.ARN)
	if _, ok := d.TaskResources(task.ID); ok {
		t.Error("orphan's task resources left after cleanup")
	}
}

// TestTaskResourcesPrunedOnAdopt: resources whose containers were removed
// while no runner ran are pruned by Adopt; an adopted task keeps its own.
func TestTaskResourcesPrunedOnAdopt(t *testing.T) {
	d, clk := newSkewedFake()
	h1 := runHarness(t, d)
	gone, kept := newTask(), newTask()
	td := taskDef("bridge", cdef("app"))
	td.Memory = "256"
	for _, task := range []*ecs.Task{gone, kept} {
		h1.r.Apply(TaskSpec{Task: task, Definition: td})
		h1.waitStatus(task.ARN, ecs.TaskRunning)
	}
	h1.stop()
	states, _ := d.ListContainers(context.Background(), map[string]string{driver.LabelTaskARN: gone.ARN})
	for _, st := range states {
		if err := d.RemoveContainer(context.Background(), st.ID); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(2 * pruneTaskResourcesAge)
	r2, _ := newRunner(t, d)
	if _, err := r2.Adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.TaskResources(gone.ID); ok {
		t.Error("resources of a task without containers survived Adopt")
	}
	if _, ok := d.TaskResources(kept.ID); !ok {
		t.Error("an adopted task's resources were pruned")
	}
}
