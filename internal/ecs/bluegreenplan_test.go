package ecs

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// shiftWorld runs PlanShift against simulated tasks on a fake clock: a
// started task is healthy one tick later, a stopped one is gone at once.
type shiftWorld struct {
	t       *testing.T
	now     time.Time
	tick    time.Duration
	state   TrafficShift
	times   ShiftTimes
	desired int
	tasks   []PlanTask // live
	next    int
	// trace: the stage and green's production share after each step.
	stages []string
	shares []float64
	maxRun map[string]int
}

func newShiftWorld(t *testing.T, times ShiftTimes, desired int) *shiftWorld {
	w := &shiftWorld{t: t, now: time.Unix(1_700_000_000, 0), tick: time.Second, times: times, desired: desired,
		maxRun: map[string]int{}}
	w.tasks = tasksOf("blue", desired, true, 0)
	w.next = desired
	w.state = TrafficShift{Green: "green", Blue: "blue", Stage: StageReconcileService, StageAt: w.now}
	return w
}

// step plans once and applies the plan; it returns the plan.
func (w *shiftWorld) step() ShiftPlan {
	w.t.Helper()
	rem := map[string]int{}
	for _, t := range w.tasks {
		rem[t.Deployment]++
	}
	p := PlanShift(ShiftInput{State: w.state, Times: w.times, Desired: w.desired, Tasks: w.tasks, Remains: rem, Now: w.now, Minute: time.Minute})
	for _, st := range p.Stop {
		i := slices.IndexFunc(w.tasks, func(t PlanTask) bool { return t.ID == st.ID })
		if i < 0 {
			w.t.Fatalf("stop of unknown task %s", st.ID)
		}
		w.tasks = slices.Delete(w.tasks, i, i+1)
	}
	for range p.Start {
		w.tasks = append(w.tasks, PlanTask{ID: fmt.Sprintf("t%d", w.next), Deployment: w.state.Green, Running: true, CreatedAt: int64(w.next)})
		w.next++
	}
	for range p.StartBlue {
		w.tasks = append(w.tasks, PlanTask{ID: fmt.Sprintf("b%d", w.next), Deployment: w.state.Blue, Running: true, CreatedAt: int64(w.next)})
		w.next++
	}
	w.state = p.State
	w.stages = append(w.stages, p.State.Stage)
	w.shares = append(w.shares, p.State.Production)
	for _, d := range []string{"blue", "green"} {
		n := 0
		for _, t := range w.tasks {
			if t.Deployment == d {
				n++
			}
		}
		w.maxRun[d] = max(w.maxRun[d], n)
	}
	// One tick later the new tasks are healthy.
	w.now = w.now.Add(w.tick)
	for i := range w.tasks {
		w.tasks[i].Healthy = true
	}
	return p
}

// runUntilDone steps until the plan says done (at most n steps), jumping
// the clock to WakeAt when nothing else would change.
func (w *shiftWorld) runUntilDone(n int) {
	w.t.Helper()
	for range n {
		p := w.step()
		if p.Done {
			return
		}
		if len(p.Stop) == 0 && p.Start == 0 && !p.WakeAt.IsZero() && w.now.Before(p.WakeAt) {
			w.now = p.WakeAt
		}
	}
	w.t.Fatalf("not done after %d steps: stage %s, tasks %v", n, w.state.Stage, w.tasks)
}

func countDep(ts []PlanTask, dep string) int {
	n := 0
	for _, t := range ts {
		if t.Deployment == dep {
			n++
		}
	}
	return n
}

func TestPlanShiftBlueGreen(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 5, StepPercent: 100}, 3)
	// Step 1: green starts at full size while blue keeps all traffic.
	p := w.step()
	if p.Start != 3 || len(p.Stop) != 0 || p.State.Stage != StageScaleUp || p.State.Production != 0 {
		t.Fatalf("first step = %+v", p)
	}
	// Step 2: green healthy: test traffic, then all production at once,
	// then the bake with blue still at full size.
	p = w.step()
	if p.State.Stage != StageBakeTime || p.State.Production != 100 || p.State.Test != 100 || len(p.Stop) != 0 {
		t.Fatalf("second step = %+v", p)
	}
	if want := w.now.Add(-w.tick).Add(5 * time.Minute); !p.WakeAt.Equal(want) {
		t.Fatalf("bake ends at %v, want %v", p.WakeAt, want)
	}
	if countDep(w.tasks, "blue") != 3 {
		t.Fatalf("blue scaled in during the bake: %v", w.tasks)
	}
	// Before the bake ends nothing changes.
	w.now = p.WakeAt.Add(-time.Second)
	if p = w.step(); p.State.Stage != StageBakeTime || len(p.Stop) != 0 {
		t.Fatalf("step before the bake's end = %+v", p)
	}
	w.now = p.WakeAt
	p = w.step()
	if p.State.Stage != StageCleanUp || len(p.Stop) != 3 || p.Done {
		t.Fatalf("clean-up step = %+v", p)
	}
	if p = w.step(); !p.Done || countDep(w.tasks, "green") != 3 || len(w.tasks) != 3 {
		t.Fatalf("final step = %+v, tasks %v", p, w.tasks)
	}
	if w.maxRun["green"] != 3 || w.maxRun["blue"] != 3 {
		t.Fatalf("max counts %v, want 3 each", w.maxRun)
	}
}

func TestPlanShiftLinearSteps(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 1, StepPercent: 30, StepBake: 2}, 2)
	start := w.now
	w.runUntilDone(50)
	// The shares green had, in order, without repeats.
	var seen []float64
	for _, s := range w.shares {
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
	}
	if want := []float64{0, 30, 60, 90, 100}; !slices.Equal(seen, want) {
		t.Fatalf("linear shares %v, want %v", seen, want)
	}
	// 3 step bakes of 2 minutes and a bake of 1, plus a few ticks.
	if d := w.now.Sub(start); d < 7*time.Minute || d > 7*time.Minute+10*time.Second {
		t.Fatalf("linear deployment took %v, want 7 minutes and a few ticks", d)
	}
	if !slices.Contains(w.stages, StageProductionTrafficShift) || !slices.Contains(w.stages, StageBakeTime) {
		t.Fatalf("stages %v", w.stages)
	}
}

func TestPlanShiftCanary(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 0, StepPercent: 12.5, StepBake: 3, Canary: true}, 2)
	w.step() // scale up
	p := w.step()
	if p.State.Stage != StageProductionTrafficShift || p.State.Production != 12.5 {
		t.Fatalf("canary step = %+v", p)
	}
	canaryAt := w.now.Add(-w.tick)
	if !p.WakeAt.Equal(canaryAt.Add(3 * time.Minute)) {
		t.Fatalf("canary bake ends at %v", p.WakeAt)
	}
	w.now = p.WakeAt
	p = w.step()
	// The rest at once; a bake of 0 goes straight to clean-up.
	if p.State.Production != 100 || p.State.Stage != StageCleanUp {
		t.Fatalf("after the canary bake = %+v", p)
	}
	if g, b := ShiftWeight(12.5); g != 125 || b != 875 {
		t.Fatalf("ShiftWeight(12.5) = %d, %d", g, b)
	}
}

func TestPlanShiftRollbackDuringBake(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 10, StepPercent: 100}, 2)
	w.step()
	if p := w.step(); p.State.Stage != StageBakeTime {
		t.Fatalf("not baking: %+v", p)
	}
	// Rollback: blue is the primary again and takes everything back.
	w.state = TrafficShift{Green: "blue", Blue: "blue", Stage: StageCleanUp, StageAt: w.now, Production: 100, Test: 100}
	p := w.step()
	if p.State.Production != 100 || p.Start != 0 || len(p.Stop) != 2 || p.Done {
		t.Fatalf("rollback step = %+v", p)
	}
	for _, st := range p.Stop {
		if st.ID[0] != 't' || st.Reason != fmt.Sprintf(StopReasonScaleIn, "blue") {
			t.Fatalf("rollback stopped %+v, want green's tasks", st)
		}
	}
	if countDep(w.tasks, "blue") != 2 || countDep(w.tasks, "green") != 0 {
		t.Fatalf("after rollback: %v", w.tasks)
	}
	if p = w.step(); !p.Done {
		t.Fatalf("rollback not done: %+v", p)
	}
}

func TestPlanShiftReconcilesOtherRevisions(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 0, StepPercent: 100}, 2)
	w.tasks = append(w.tasks, PlanTask{ID: "old1", Deployment: "older", Running: true, Healthy: true})
	p := w.step()
	if p.State.Stage != StageReconcileService || p.Start != 0 || len(p.Stop) != 1 || p.Stop[0].ID != "old1" {
		t.Fatalf("reconcile step = %+v", p)
	}
	if p = w.step(); p.State.Stage != StageScaleUp || p.Start != 2 {
		t.Fatalf("after reconcile = %+v", p)
	}
}

func TestPlanShiftReplacesFailingGreen(t *testing.T) {
	w := newShiftWorld(t, ShiftTimes{Bake: 0, StepPercent: 100}, 2)
	w.step()
	w.tasks[len(w.tasks)-1].Unhealthy = true
	w.tasks[len(w.tasks)-1].Healthy = false
	p := PlanShift(ShiftInput{State: w.state, Times: w.times, Desired: 2, Tasks: w.tasks,
		Remains: map[string]int{"blue": 2, "green": 2}, Now: w.now})
	if p.State.Stage != StageScaleUp || p.Start != 1 || len(p.Stop) != 1 || p.Stop[0].Reason != StopReasonUnhealthy {
		t.Fatalf("failing green = %+v", p)
	}
}

// TestPlanShiftKeepsBothSets: a blue task that stops, or fails its
// health checks, during the shift or the bake is replaced (as a green
// one is), for every strategy; once CLEAN_UP begins blue is not.
func TestPlanShiftKeepsBothSets(t *testing.T) {
	for name, times := range map[string]ShiftTimes{
		"BLUE_GREEN": {Bake: 5, StepPercent: 100},
		"LINEAR":     {Bake: 5, StepPercent: 50, StepBake: 2},
		"CANARY":     {Bake: 5, StepPercent: 10, StepBake: 2, Canary: true},
	} {
		t.Run(name, func(t *testing.T) {
			w := newShiftWorld(t, times, 3)
			seen := map[string]bool{}
			for i := 0; i < 40 && w.state.Stage != StageCleanUp; i++ {
				stage := w.state.Stage
				// Each stage once: a blue task dies and a green one
				// fails its health check.
				if !seen[stage] && stage != StageReconcileService {
					seen[stage] = true
					bi := slices.IndexFunc(w.tasks, func(t PlanTask) bool { return t.Deployment == "blue" })
					w.tasks = slices.Delete(w.tasks, bi, bi+1)
					if gi := slices.IndexFunc(w.tasks, func(t PlanTask) bool { return t.Deployment == "green" }); gi >= 0 {
						w.tasks[gi].Healthy, w.tasks[gi].Unhealthy = false, true
					}
					p := w.step()
					if p.State.Stage != StageCleanUp && p.StartBlue != 1 {
						t.Fatalf("stage %s: a blue task died, plan starts %d blue", stage, p.StartBlue)
					}
					if n := countDep(w.tasks, "blue"); p.State.Stage != StageCleanUp && n != 3 {
						t.Fatalf("stage %s: %d blue tasks after the step, want 3", stage, n)
					}
					if g := countDep(w.tasks, "green"); stage != StageScaleUp && p.State.Stage != StageCleanUp && g != 3 {
						t.Fatalf("stage %s: %d green tasks after the step, want 3", stage, g)
					}
					continue
				}
				p := w.step()
				if len(p.Stop) == 0 && p.Start == 0 && p.StartBlue == 0 && !p.WakeAt.IsZero() && w.now.Before(p.WakeAt) {
					w.now = p.WakeAt
				}
			}
			for _, stage := range []string{StageScaleUp, StageProductionTrafficShift, StageBakeTime} {
				if !seen[stage] && (stage != StageProductionTrafficShift || times.StepPercent < 100) {
					t.Errorf("no task died in %s (stages seen %v)", stage, seen)
				}
			}
			if w.maxRun["blue"] > 3 || w.maxRun["green"] > 3 {
				t.Fatalf("at most %d blue and %d green tasks at once, want 3", w.maxRun["blue"], w.maxRun["green"])
			}
			// CLEAN_UP: a blue task that dies is not replaced.
			bi := slices.IndexFunc(w.tasks, func(t PlanTask) bool { return t.Deployment == "blue" })
			if bi >= 0 {
				w.tasks = slices.Delete(w.tasks, bi, bi+1)
			}
			w.runUntilDone(5)
			if countDep(w.tasks, "blue") != 0 || countDep(w.tasks, "green") != 3 {
				t.Fatalf("after the shift: %v", w.tasks)
			}
		})
	}
}

func TestShiftWeight(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		g, b int
	}{{0, 0, 1}, {0.1, 1, 999}, {5, 50, 950}, {50, 500, 500}, {99.9, 999, 1}, {100, 1, 0}} {
		if g, b := ShiftWeight(c.pct); g != c.g || b != c.b {
			t.Errorf("ShiftWeight(%v) = %d, %d; want %d, %d", c.pct, g, b, c.g, c.b)
		}
	}
}

func TestShiftConfigurationValidation(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	for _, c := range []struct {
		dc   DeploymentConfiguration
		fail bool
	}{
		{DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: i(5)}, false},
		{DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: i(0)}, false},
		{DeploymentConfiguration{Strategy: "BLUE_GREEN"}, true}, // bakeTimeInMinutes is required
		{DeploymentConfiguration{Strategy: "CANARY"}, false},    // not for CANARY or LINEAR (0)
		{DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: i(1441)}, true},
		{DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: f(2.9)}}, true},
		{DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: f(3.05)}}, true},
		{DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: f(33.3)}}, false},
		{DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: f(0.1)}}, false},
		{DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryBakeTimeInMinutes: i(-1)}}, true},
		{DeploymentConfiguration{Strategy: "BLUE_GREEN", CanaryConfiguration: &CanaryConfiguration{}}, true},
		{DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []map[string]any{{"targetType": "AWS_LAMBDA"}}}, true},
	} {
		out, err := ServiceDeploymentConfiguration(SchedulingReplica, &c.dc)
		if (err != nil) != c.fail {
			t.Errorf("%+v: err = %v, want failure %v", c.dc, err, c.fail)
		}
		if err == nil && c.dc.Strategy == "LINEAR" && (out.LinearConfiguration.StepBakeTimeInMinutes == nil || *out.LinearConfiguration.StepBakeTimeInMinutes != 6) {
			t.Errorf("linear defaults not filled: %+v", out.LinearConfiguration)
		}
	}
	if _, err := ServiceDeploymentConfiguration(SchedulingDaemon, &DeploymentConfiguration{Strategy: "BLUE_GREEN"}); err == nil {
		t.Error("BLUE_GREEN accepted for a DAEMON service")
	}
}

// TestShiftTargetGroupsTakeTurns: each blue/green deployment's tasks go to
// the group production traffic is not on, a completed shift makes the new
// one production, and a rollback keeps the old.
func TestShiftTargetGroupsTakeTurns(t *testing.T) {
	sc := Scope{Account: "123456789012", Region: "eu-west-1"}
	cl := &Cluster{Name: "prod", ARN: sc.ClusterARN("prod")}
	port := 8080
	td := &TaskDefinition{ARN: sc.TaskDefinitionARN("web", 1), Family: "web", Revision: 1, NetworkMode: NetworkAwsvpc, CPU: "256", Memory: "512",
		Compatibilities:      []string{LaunchFargate},
		ContainerDefinitions: []ContainerDefinition{{Name: "web", PortMappings: []PortMapping{{ContainerPort: &port}}}}}
	two := 2
	blue, green := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/1", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2"
	s, err := NewService(sc, cl, ServiceSpec{Name: "web", TaskDefinition: td, DesiredCount: &two, LaunchType: LaunchFargate,
		NetworkConfiguration:    &NetworkConfiguration{AwsvpcConfiguration: &AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		DeploymentConfiguration: &DeploymentConfiguration{Strategy: DeploymentStrategyBlueGreen, BakeTimeInMinutes: &two},
		LoadBalancers: []LoadBalancer{{TargetGroupARN: blue, ContainerName: "web", ContainerPort: &port, AdvancedConfiguration: &AdvancedConfiguration{
			AlternateTargetGroupARN: green, ProductionListenerRule: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/a/1/2/3",
			RoleARN: "arn:aws:iam::123456789012:role/ecs-elb"}}},
	}, "ecs-svc/1", time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.Traffic != nil || s.TargetGroupOf(s.Primary(), 0) != blue {
		t.Fatalf("first deployment: traffic %+v, group %s", s.Traffic, s.TargetGroupOf(s.Primary(), 0))
	}
	s.Stable = s.Primary()
	complete := func() {
		p := *s.Primary()
		s.Deployments = []Deployment{p}
		s.Traffic, s.Stable = nil, &p
	}
	s.StartDeployment("ecs-svc/2", time.Unix(2, 0))
	if tg := s.TargetGroupOf(s.Primary(), 0); tg != green || s.Traffic == nil || s.Traffic.Blue != "ecs-svc/1" || s.Traffic.Green != "ecs-svc/2" {
		t.Fatalf("second deployment: group %s, traffic %+v", tg, s.Traffic)
	}
	complete()
	s.StartDeployment("ecs-svc/3", time.Unix(3, 0))
	if tg := s.TargetGroupOf(s.Primary(), 0); tg != blue {
		t.Fatalf("third deployment: group %s, want %s", tg, blue)
	}
	// Rolled back during its bake: ecs-svc/2 (green group) serves again.
	s.Traffic.Stage, s.Traffic.Production = StageBakeTime, 100
	if to := s.RollBack("stopped", "ecs-svc/x", time.Unix(4, 0)); to != "ecs-svc/2" {
		t.Fatalf("rolled back to %q", to)
	}
	if s.Primary().ID != "ecs-svc/2" || s.Traffic.Green != "ecs-svc/2" || s.Traffic.Blue != "ecs-svc/2" || s.TargetGroupOf(s.Primary(), 0) != green {
		t.Fatalf("after the rollback: primary %s, traffic %+v", s.Primary().ID, s.Traffic)
	}
	complete()
	s.StartDeployment("ecs-svc/4", time.Unix(5, 0))
	if tg := s.TargetGroupOf(s.Primary(), 0); tg != blue {
		t.Fatalf("deployment after the rollback: group %s, want %s", tg, blue)
	}
}

// TestRollingDeploymentTakesNewTargetGroup: a ROLLING deployment after
// the load balancers changed registers with the new target group.
func TestRollingDeploymentTakesNewTargetGroup(t *testing.T) {
	port := 8080
	s := &Service{Name: "web", DesiredCount: 1, DeploymentConfiguration: DeploymentConfiguration{Strategy: DeploymentStrategyRolling},
		LoadBalancers: []LoadBalancer{{TargetGroupARN: "tg-old", ContainerName: "web", ContainerPort: &port}}}
	s.Deployments = []Deployment{s.newDeployment("ecs-svc/1", time.Unix(1, 0))}
	s.beginShift(&s.Deployments[0], nil, time.Unix(1, 0))
	s.LoadBalancers[0].TargetGroupARN = "tg-new"
	s.StartDeployment("ecs-svc/2", time.Unix(2, 0))
	if tg := s.TargetGroupOf(s.Primary(), 0); tg != "tg-new" || s.Traffic != nil {
		t.Fatalf("new deployment's group %s, traffic %+v", tg, s.Traffic)
	}
}
