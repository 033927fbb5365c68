package runner

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerStoppedTask runs tasks through to STOPPED and cleaned up
// and measures the heap the runner keeps for each while it remembers them
// (Config.ForgetAfter), reported in the test log.
func TestMemoryPerStoppedTask(t *testing.T) {
	const n = 2000
	d := newFake()
	// No event recorder (the harness's keeps every event): only the runner.
	r, h := newRunner(t, d, func(c *Config) { c.OnChange = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	td := taskDef("awsvpc", cdef("web", dependsOn("db", "START")), cdef("db", withHealthCheck), cdef("init", nonEssential))
	tasks := make([]*ecs.Task, n)
	for i := range tasks {
		tasks[i] = newTask()
		tasks[i].Overrides = ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: "web", Environment: []ecs.KeyValuePair{{Name: "I", Value: fmt.Sprint(i)}}}}}
	}
	before := heapAfterGC()
	for _, task := range tasks {
		h.r.Apply(TaskSpec{Task: task, Definition: td})
	}
	for _, task := range tasks {
		h.waitStatus(task.ARN, ecs.TaskRunning)
	}
	for _, task := range tasks {
		h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "done")})
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, task := range tasks {
		for {
			h.r.mu.Lock()
			done := h.r.finished.get(task.ARN) != nil
			h.r.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("tasks not cleaned up in time")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if total, _ := d.Count(); total != 0 {
		t.Fatalf("%d containers left", total)
	}
	after := heapAfterGC()
	per := int64(after-before) / n
	if after < before {
		per = 0
	}
	t.Logf("heap per remembered stopped task (3 containers): %d bytes (%d tasks, %.1f MB)", per, n, float64(after-before)/1e6)
	if got := len(h.r.Tasks()); got != n {
		t.Fatalf("%d tasks remembered, want %d", got, n)
	}
	r.mu.Lock()
	if len(r.tasks) != 0 {
		t.Errorf("%d task actors kept after they finished", len(r.tasks))
	}
	r.finished = finishedTasks{}
	r.mu.Unlock()
	left := (int64(heapAfterGC()) - int64(before)) / n
	t.Logf("heap left once the runner forgot them (the fake driver's, maps that do not shrink): %d bytes per task; so %d bytes per remembered task are the runner's", left, per-left)
	// The final report of a 3-container task is about 1.2 KB; an actor
	// kept with its containers and plan was 3.5 KB more.
	if per-left > 2500 {
		t.Errorf("the runner keeps %d bytes per remembered stopped task, want under 2500", per-left)
	}
	runtime.KeepAlive(tasks)
}

func TestFinishedTasksBounded(t *testing.T) {
	var f finishedTasks
	t0 := time.Now()
	for i := range 10 {
		f.add(fmt.Sprint(i), &finishedTask{report: &TaskChange{}, doneAt: t0.Add(time.Duration(i) * time.Second)}, 4)
	}
	if f.len() != 4 || f.get("5") != nil || f.get("6") == nil || f.get("9") == nil {
		t.Fatalf("kept %d: %v", f.len(), f.byARN)
	}
	f.forget(t0.Add(8 * time.Second))
	if f.len() != 2 || f.get("7") != nil || f.get("8") == nil {
		t.Fatalf("after forget: %v", f.byARN)
	}
	f.forget(t0.Add(time.Hour))
	if f.len() != 0 {
		t.Fatalf("after forgetting all: %v", f.byARN)
	}
}
