package runner

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/ecs"
)

// A non-essential container whose dependency can never be met is stopped
// as unable to start, naming the dependency; the task goes on running
// its essential container (issue 8, dependsOn).
func TestDependsOnNeverMetNonEssential(t *testing.T) {
	d := newFake()
	behaviors(d, map[string]fake.Behavior{"init": {ExitAfter: 20 * time.Millisecond, ExitCode: 2}})
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("web"), cdef("sidecar", nonEssential, dependsOn("init", "SUCCESS")), cdef("init", nonEssential))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	got := h.waitFor(task.ARN, "sidecar STOPPED", func(c TaskChange) bool { return container(c, "sidecar").LastStatus == ecs.TaskStopped })
	sc := container(got, "sidecar")
	if !strings.Contains(sc.Reason, "dependency [init] for target [sidecar]") || !strings.Contains(sc.Reason, "exit code 2") {
		t.Errorf("sidecar stopped with %q, want a reason naming its dependency", sc.Reason)
	}
	if got.LastStatus != ecs.TaskRunning || container(got, "web").LastStatus != ecs.TaskRunning {
		t.Errorf("task %s, web %s: want the task running on its essential container", got.LastStatus, container(got, "web").LastStatus)
	}
	if starts := h.eventsOf(driver.EventStart); slices.Contains(starts, "sidecar") {
		t.Errorf("sidecar was started: %v", starts)
	}
}
