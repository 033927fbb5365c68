package runner

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestDockerDependsOnNeverMet: on Docker, a dependency that exits non-zero
// (SUCCESS) or whose health check fails (HEALTHY) stops the task that
// waits on it, naming the dependency, instead of leaving it PENDING.
func TestDockerDependsOnNeverMet(t *testing.T) {
	d, image, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	ctr := func(name, cmd string, mods ...func(*ecs.ContainerDefinition)) ecs.ContainerDefinition {
		c := ecs.ContainerDefinition{Name: name, Image: image, Memory: ptr(32), Command: []string{"sh", "-c", cmd}, StopTimeout: ptr(1)}
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	failing := newTask()
	h.r.Apply(TaskSpec{Task: failing, Definition: taskDef("bridge",
		ctr("app", "sleep 3600", dependsOn("init", "SUCCESS")),
		ctr("init", "exit 3", nonEssential))})
	unhealthy := newTask()
	h.r.Apply(TaskSpec{Task: unhealthy, Definition: taskDef("bridge",
		ctr("app", "sleep 3600", dependsOn("db", "HEALTHY")),
		ctr("db", "sleep 3600", nonEssential, func(c *ecs.ContainerDefinition) {
			c.HealthCheck = &ecs.HealthCheck{Command: []string{"CMD-SHELL", "exit 1"}, Interval: ptr(1), Timeout: ptr(1), Retries: ptr(1)}
		}))})
	for task, want := range map[*ecs.Task]string{
		failing:   "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [init] for target [app] as dependency did not exit successfully (exit code 3) (condition SUCCESS)",
		unhealthy: "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [db] for target [app] as dependency is UNHEALTHY (condition HEALTHY)",
	} {
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if st.StopCode != ecs.StopTaskFailedToStart || st.Reason != want || !strings.Contains(container(st, "app").Reason, "dependency graph") {
			t.Errorf("task stopped with %q %q, want TaskFailedToStart %q", st.StopCode, st.Reason, want)
		}
	}
}
