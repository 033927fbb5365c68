package ecs

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestPlanBoundsRounding(t *testing.T) {
	for _, c := range []struct {
		b               PlanBounds
		maxT, minHealth int
	}{
		{PlanBounds{3, 200, 100}, 6, 3},
		{PlanBounds{3, 150, 50}, 4, 2}, // 4.5 down, 1.5 up
		{PlanBounds{1, 150, 50}, 1, 0}, // no room: one at a time
		{PlanBounds{5, 100, 0}, 5, 0},
		{PlanBounds{0, 200, 100}, 0, 0},
		{PlanBounds{7, 125, 33}, 8, 3}, // 8.75 down, 2.31 up
	} {
		if got := c.b.MaxTasks(); got != c.maxT {
			t.Errorf("%+v MaxTasks = %d, want %d", c.b, got, c.maxT)
		}
		if got := c.b.MinHealthy(); got != c.minHealth {
			t.Errorf("%+v MinHealthy = %d, want %d", c.b, got, c.minHealth)
		}
	}
}

func TestDeploymentFailureThreshold(t *testing.T) {
	for desired, want := range map[int]int{0: 3, 1: 3, 5: 3, 6: 3, 7: 4, 10: 5, 399: 200, 1000: 200} {
		if got := DeploymentFailureThreshold(desired); got != want {
			t.Errorf("threshold(%d) = %d, want %d", desired, got, want)
		}
	}
}

func tasksOf(dep string, n int, healthy bool, from int) []PlanTask {
	var out []PlanTask
	for i := range n {
		out = append(out, PlanTask{ID: fmt.Sprintf("%s-%d", dep, i), Deployment: dep, Running: healthy, Healthy: healthy, CreatedAt: int64(from + i)})
	}
	return out
}

func TestPlanRollingSteps(t *testing.T) {
	b := PlanBounds{Desired: 3, MaximumPercent: 200, MinimumHealthyPercent: 100}
	// A new deployment over three healthy old tasks: start three, stop none.
	p := PlanRolling(b, "new", tasksOf("old", 3, true, 0))
	if p.Start != 3 || len(p.Stop) != 0 {
		t.Fatalf("step 1: %+v", p)
	}
	// The new ones healthy: stop the old ones.
	p = PlanRolling(b, "new", append(tasksOf("old", 3, true, 0), tasksOf("new", 3, true, 10)...))
	if p.Start != 0 || len(p.Stop) != 3 {
		t.Fatalf("step 2: %+v", p)
	}
	for _, s := range p.Stop {
		if s.ID[:3] != "old" {
			t.Errorf("stopped %s", s.ID)
		}
	}
	// minimumHealthyPercent 0, maximumPercent 100: stop first, then start.
	b0 := PlanBounds{Desired: 2, MaximumPercent: 100, MinimumHealthyPercent: 0}
	p = PlanRolling(b0, "new", tasksOf("old", 2, true, 0))
	if p.Start != 2 || len(p.Stop) != 2 {
		t.Fatalf("min 0: %+v", p)
	}
	// Scale-in stops the pending ones first, then the newest.
	tasks := append(tasksOf("d", 3, true, 0), tasksOf("p", 1, false, 5)...)
	for i := range tasks {
		tasks[i].Deployment = "d"
	}
	p = PlanRolling(PlanBounds{Desired: 2, MaximumPercent: 200, MinimumHealthyPercent: 100}, "d", tasks)
	if p.Start != 0 || len(p.Stop) != 2 || p.Stop[0].ID != "p-0" || p.Stop[1].ID != "d-2" {
		t.Fatalf("scale-in: %+v", p)
	}
	// An unhealthy task is replaced.
	tasks = tasksOf("d", 3, true, 0)
	tasks[1].Healthy, tasks[1].Unhealthy = false, true
	p = PlanRolling(b, "d", tasks)
	if len(p.Stop) != 1 || p.Stop[0].Reason != StopReasonUnhealthy || p.Start != 1 {
		t.Fatalf("unhealthy: %+v", p)
	}
}

// TestPlanRollingProperty drives random services through many steps: no
// step makes the service run more than maximumPercent allows, nor keeps
// fewer healthy tasks than minimumHealthyPercent asks (when it had them),
// and every deployment ends with exactly the desired count on the new
// deployment.
func TestPlanRollingProperty(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		desired := rnd.IntN(30)
		minPct := rnd.IntN(101)
		maxPct := max(100, minPct+1) + rnd.IntN(150)
		b := PlanBounds{Desired: desired, MaximumPercent: maxPct, MinimumHealthyPercent: minPct}
		var tasks []PlanTask
		// Start from the old deployment at some count, all healthy.
		old := rnd.IntN(desired + 3)
		tasks = tasksOf("old", old, true, 0)
		next := 1000
		for step := 0; step < 200; step++ {
			healthy, live := 0, 0
			for _, t := range tasks {
				live++
				if t.Healthy {
					healthy++
				}
			}
			p := PlanRolling(b, "new", tasks)
			stopped := map[string]bool{}
			for _, s := range p.Stop {
				stopped[s.ID] = true
			}
			var after []PlanTask
			healthyAfter := 0
			for _, t := range tasks {
				if !stopped[t.ID] {
					after = append(after, t)
					if t.Healthy {
						healthyAfter++
					}
				}
			}
			if healthyAfter < min(b.MinHealthy(), healthy) {
				t.Fatalf("iter %d step %d %+v: healthy %d → %d, minimum %d", iter, step, b, healthy, healthyAfter, b.MinHealthy())
			}
			for range p.Start {
				after = append(after, PlanTask{ID: fmt.Sprintf("new-%d", next), Deployment: "new", CreatedAt: int64(next)})
				next++
			}
			if len(after) > max(b.MaxTasks(), live-len(p.Stop)) {
				t.Fatalf("iter %d step %d %+v: %d tasks after the step, maximum %d", iter, step, b, len(after), b.MaxTasks())
			}
			if len(after) > b.MaxTasks() && p.Start > 0 {
				t.Fatalf("iter %d step %d: started above the maximum", iter, step)
			}
			// Tasks become healthy at random.
			for i := range after {
				if !after[i].Healthy && rnd.IntN(2) == 0 {
					after[i].Running, after[i].Healthy = true, true
				}
			}
			tasks = after
			if p.Start == 0 && len(p.Stop) == 0 && allNewHealthy(tasks, desired) {
				break
			}
		}
		if !allNewHealthy(tasks, desired) {
			t.Fatalf("iter %d %+v (old %d): did not converge: %+v", iter, b, old, tasks)
		}
	}
}

func allNewHealthy(tasks []PlanTask, desired int) bool {
	n := 0
	for _, t := range tasks {
		if t.Deployment != "new" || !t.Healthy {
			return false
		}
		n++
	}
	return n == desired
}
