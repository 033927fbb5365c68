package runner

import (
	"context"
	"os"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// A container removed while the runner was down is reported as removed
// after the restart, and its task stops as on a live runner; it is not
// created again. A container that never started is.
func TestAdoptContainerRemovedWhileDown(t *testing.T) {
	d := newFake()
	state := t.TempDir()
	withState := func(c *Config) { c.StateDir = state }
	h1 := runHarness(t, d, withState)
	gone, kept := newTask(), newTask()
	td := taskDef("bridge", cdef("web"), cdef("side", nonEssential))
	for _, task := range []*ecs.Task{gone, kept} {
		h1.r.Apply(TaskSpec{Task: task, Definition: td})
	}
	before := h1.waitStatus(gone.ARN, ecs.TaskRunning)
	h1.waitStatus(kept.ARN, ecs.TaskRunning)
	h1.stop()

	// While no runner runs, web of one task is removed.
	if err := d.RemoveContainer(context.Background(), container(before, "web").RuntimeID); err != nil {
		t.Fatal(err)
	}
	r2, h2 := newRunner(t, d, withState)
	adopted, err := r2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 2 {
		t.Fatalf("adopted %d tasks, want 2", len(adopted))
	}
	h2.start()
	h2.r.Apply(TaskSpec{Task: gone, Definition: td})
	h2.r.Apply(TaskSpec{Task: kept, Definition: td})
	st := h2.waitStatus(gone.ARN, ecs.TaskStopped)
	web := container(st, "web")
	if st.StopCode != ecs.StopEssentialContainerExited || st.Reason != ecs.EssentialContainerExitedReason ||
		web.Reason != ReasonContainerRemoved || web.RuntimeID != container(before, "web").RuntimeID {
		t.Fatalf("after the restart: %s %q %q, web %+v", st.StopCode, st.Reason, st.LastStatus, web)
	}
	if got, _ := r2.Task(kept.ARN); got.LastStatus != ecs.TaskRunning {
		t.Fatalf("the other task is %s", got.LastStatus)
	}
	if starts := h2.eventsOf("start"); len(starts) != 0 {
		t.Fatalf("containers started after the restart: %v", starts)
	}
	h2.waitGone(gone.ARN)
	if n := containerCount(t, d, gone.ARN); n != 0 {
		t.Fatalf("%d containers of the stopped task left", n)
	}
	// A finished task's record is gone.
	h2.r.Apply(TaskSpec{Task: stopped(kept, ecs.StopUserInitiated, ""), Definition: td})
	h2.waitGone(kept.ARN)
	entries, _ := os.ReadDir(r2.ledger.(*fileLedger).dir)
	if len(entries) != 0 {
		t.Fatalf("%d task records left in the state directory", len(entries))
	}
}
