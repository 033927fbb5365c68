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
	before := heapAfterGC()
	tasks := make([]*ecs.Task, n)
	for i := range tasks {
		tasks[i] = newTask()
		tasks[i].Overrides = ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: "web", Environment: []ecs.KeyValuePair{{Name: "I", Value: fmt.Sprint(i)}}}}}
		h.r.Apply(TaskSpec{Task: tasks[i], Definition: td})
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
			done := h.r.tasks[task.ARN].done
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
	clear(r.tasks)
	r.mu.Unlock()
	t.Logf("heap left once the runner forgot them: %d bytes per task", (int64(heapAfterGC())-int64(before))/n)
	runtime.KeepAlive(tasks)
}
