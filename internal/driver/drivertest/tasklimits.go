package drivertest

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

// taskResources returns task-level limits for this test, removed when the
// test ends (after its containers, which are removed first).
func (s *suite) taskResources(t *testing.T, cpu, memoryMiB int64) *driver.TaskResources {
	r := &driver.TaskResources{ID: s.name(t, "task"), CPUUnits: cpu, MemoryMiB: memoryMiB}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.d.RemoveTaskResources(ctx, r.ID); err != nil {
			t.Errorf("cleanup: RemoveTaskResources(%s): %v", r.ID, err)
		}
	})
	return r
}

func (s *suite) testTaskResources(t *testing.T) {
	ctx := s.ctx(t)
	bad := s.spec(t, "bad", cmdServe)
	bad.TaskResources = &driver.TaskResources{ID: "../escape", MemoryMiB: 64}
	if id, err := s.d.CreateContainer(ctx, bad); err == nil {
		_ = s.d.RemoveContainer(ctx, id)
		t.Errorf("CreateContainer with task resources ID %q succeeded; want an error", bad.TaskResources.ID)
	}
	if err := s.d.RemoveTaskResources(ctx, "../escape"); err == nil {
		t.Errorf("RemoveTaskResources(%q) succeeded; want an error", "../escape")
	}
	if err := s.d.RemoveTaskResources(ctx, s.name(t, "never-created")); err != nil {
		t.Errorf("RemoveTaskResources of a task that has none: %v; want nil", err)
	}

	r := s.taskResources(t, 256, 64)
	a := s.spec(t, "a", cmdServe)
	a.TaskResources = r
	b := s.spec(t, "b", "exit 0")
	b.TaskResources = r
	b.MemoryMiB = 16 // its own limit, within the task's
	idA := s.run(t, ctx, a)
	again, err := s.d.CreateContainer(ctx, a)
	if err != nil || again != idA {
		t.Errorf("CreateContainer retry with task resources = %q, %v; want %q, nil", again, err, idA)
	}
	idB := s.run(t, ctx, b)
	s.waitFor(t, ctx, idA, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	if s.env.Exec {
		if st := s.waitExit(t, ctx, idB); st.ExitCode != 0 || st.OOMKilled {
			t.Errorf("container within the task's limits: exit %d, OOMKilled %v; want 0, false%s", st.ExitCode, st.OOMKilled, s.logs(idB))
		}
	}
	if st, err := s.d.InspectContainer(ctx, idA); err != nil || st.Status != driver.StatusRunning {
		t.Errorf("container within the task's limits: %+v, %v; want running", st, err)
	}

	for _, id := range []string{idA, idB} {
		if err := s.d.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
	}
	for range 2 {
		if err := s.d.RemoveTaskResources(ctx, r.ID); err != nil {
			t.Errorf("RemoveTaskResources after the task's containers: %v; want nil", err)
		}
	}
}

// testTaskMemoryOOM: a container without a limit of its own is killed
// when the task exceeds its memory; a sibling within it keeps running.
func (s *suite) testTaskMemoryOOM(t *testing.T) {
	ctx := s.ctx(t)
	r := s.taskResources(t, 0, 32)
	steady := s.spec(t, "steady", cmdServe)
	steady.TaskResources = r
	hog := s.spec(t, "hog", "exec tail /dev/zero") // buffers /dev/zero: no newline ever
	hog.TaskResources = r
	idSteady := s.run(t, ctx, steady)
	idHog := s.run(t, ctx, hog)
	st := s.waitExit(t, ctx, idHog)
	if !st.OOMKilled || st.ExitCode != 137 {
		t.Errorf("hog: OOMKilled %v, exit code %d; want true, 137%s", st.OOMKilled, st.ExitCode, s.logs(idHog))
	}
	if st, err := s.d.InspectContainer(ctx, idSteady); err != nil || st.Status != driver.StatusRunning {
		t.Errorf("steady sibling after the hog's OOM kill: %+v, %v; want running", st, err)
	}
}

// testTaskCPULimit: a busy container of a 256-unit task (a quarter CPU)
// uses no more than that.
func (s *suite) testTaskCPULimit(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "busy", "while :; do :; done")
	spec.TaskResources = s.taskResources(t, 256, 0)
	id := s.run(t, ctx, spec)
	s.waitFor(t, ctx, id, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	first, err := s.d.Stats(ctx, id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	time.Sleep(2 * time.Second)
	last, err := s.d.Stats(ctx, id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	elapsed := last.Time.Sub(first.Time)
	if elapsed < time.Second {
		t.Fatalf("samples %v apart; want at least 1s", elapsed)
	}
	cpus := float64(last.CPUUsageNanos-first.CPUUsageNanos) / float64(elapsed.Nanoseconds())
	t.Logf("busy loop in a 256-unit task used %.3f CPUs over %v", cpus, elapsed)
	if cpus > 0.35 {
		t.Errorf("busy loop used %.2f CPUs; want at most 0.25 (+ measurement slack)", cpus)
	}
}

// holdCmd holds about 12 MiB in its PID 1 (tail buffering a fifo that
// stays open), so that an OOM kill ends the container; it prints "held"
// (on stderr) once tail has taken all but the fifo's buffer.
const holdCmd = "mkfifo /tmp/f && { (head -c 12m /dev/zero; echo held >&2; exec sleep 600) > /tmp/f & } && exec tail /tmp/f"

// testTaskLimitsShared: two containers holding 12 MiB each do not fit in
// a 20 MiB task together, though each would alone.
func (s *suite) testTaskLimitsShared(t *testing.T) {
	ctx := s.ctx(t)
	r := s.taskResources(t, 0, 20)
	var ids []string
	for _, name := range []string{"a", "b"} {
		spec := s.spec(t, name, holdCmd)
		spec.TaskResources = r
		id := s.run(t, ctx, spec)
		ids = append(ids, id)
		if name == "a" {
			s.waitOutput(t, ctx, id, "held") // a holds its share before b starts
		}
	}
	var killed, running int
	deadline := time.Now().Add(20 * time.Second)
	for {
		killed, running = 0, 0
		for _, id := range ids {
			st, err := s.d.InspectContainer(ctx, id)
			if err != nil {
				t.Fatalf("InspectContainer: %v", err)
			}
			switch {
			case st.Status == driver.StatusRunning:
				running++
			case st.OOMKilled:
				killed++
			default:
				t.Fatalf("container %s exited %d without an OOM kill%s", st.Name, st.ExitCode, s.logs(id))
			}
		}
		if killed > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if killed != 1 || running != 1 {
		t.Errorf("%d OOM-killed, %d running; want 1 and 1: the task's containers share its 20 MiB", killed, running)
	}
}

const httpCmd = "mkdir -p /tmp/www && echo %s > /tmp/www/index.html && exec httpd -f -p %d -h /tmp/www"
