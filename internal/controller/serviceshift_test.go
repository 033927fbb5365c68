package controller

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// fakeRouter is a listener rule: it keeps the weights it was given and
// when they last changed.
type fakeRouter struct {
	mu      sync.Mutex
	weights map[string]int // target group → weight
	movedAt time.Time
	changes int
	// onSet, if set, is told of each change before it is made.
	onSet func(gs []WeightedGroup)
}

func (r *fakeRouter) SetForwardWeights(_ context.Context, _ ecs.Scope, rule string, gs []WeightedGroup) (bool, error) {
	if r.onSet != nil {
		r.onSet(gs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, g := range gs {
		if w, ok := r.weights[g.ARN]; !ok || w != g.Weight {
			changed = true
		}
		r.weights[g.ARN] = g.Weight
	}
	if changed {
		r.movedAt, r.changes = time.Now(), r.changes+1
	}
	return changed, nil
}

func (r *fakeRouter) Settled(context.Context) bool { return true }

func (r *fakeRouter) get(tg string) (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.weights[tg], r.movedAt
}

const (
	blueTG  = "arn:aws:elasticloadbalancing:r:1:targetgroup/blue/1"
	greenTG = "arn:aws:elasticloadbalancing:r:1:targetgroup/green/2"
)

// TestServicesShiftThroughListenerRule drives a BLUE_GREEN deployment and
// a rollback during the next one through the scheduler on a fake clock:
// green starts at full size next to blue, the rule's weights move only
// once green's targets are healthy, blue keeps running through the bake,
// and no task of a revision leaves before the weights left it (by at
// least shiftSettle).
func TestServicesShiftThroughListenerRule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := testService(t, 2, false)
		port, bake := 8080, 1
		svc.LoadBalancers = []ecs.LoadBalancer{{TargetGroupARN: blueTG, ContainerName: "web", ContainerPort: &port,
			AdvancedConfiguration: &ecs.AdvancedConfiguration{AlternateTargetGroupARN: greenTG, ProductionListenerRule: "rule"}}}
		svc.Deployments[0].TargetGroups = []string{blueTG}
		svc.DeploymentConfiguration.Strategy, svc.DeploymentConfiguration.BakeTimeInMinutes = ecs.DeploymentStrategyBlueGreen, &bake
		f := newFakeServices(svc)
		router := &fakeRouter{weights: map[string]int{blueTG: 100, greenTG: 0}}
		// A target leaves its group only once the rule sends the group
		// nothing, and the weights had shiftSettle to reach the data
		// plane.
		var deregs int
		var badDereg string
		tg := &fakeTargets{state: map[Target]string{}, onDereg: func(group string, t Target) {
			deregs++
			if w, at := router.get(group); (w != 0 || time.Since(at) < shiftSettle) && badDereg == "" {
				badDereg = fmt.Sprintf("target %v deregistered from %s while it has weight %d (moved %v ago)", t, group, w, time.Since(at))
			}
		}}
		// Traffic goes to a revision only once all its targets are
		// healthy.
		var badMove string
		router.onSet = func(gs []WeightedGroup) {
			f.mu.Lock()
			defer f.mu.Unlock()
			cur := f.svc
			for _, g := range gs {
				if g.Weight == 0 {
					continue
				}
				healthy := 0
				for _, task := range f.tasks {
					d := cur.Deployment(task.StartedBy)
					if d == nil || cur.TargetGroupOf(d, 0) != g.ARN || task.DesiredStatus != ecs.TaskRunning {
						continue
					}
					ip := task.Containers[0].NetworkInterfaces[0].PrivateIPv4Address
					tg.mu.Lock()
					if tg.state[Target{ID: ip, Port: 8080}] == TargetHealthy {
						healthy++
					}
					tg.mu.Unlock()
				}
				if healthy < 2 && badMove == "" {
					badMove = fmt.Sprintf("weight %d to %s with %d healthy targets", g.Weight, g.ARN, healthy)
				}
			}
		}
		ids := 0
		s := NewServices(ServicesConfig{Source: f, Plane: f, NoChange: errNoChange, Targets: tg, Traffic: router,
			ShiftMinute: 10 * time.Second, NewID: func() string { ids++; return fmt.Sprint("e", ids) },
			NewDeploymentID: func() string { return "ecs-svc/x" }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		// step is one round of the world: the agent moves the tasks, the
		// targets settle, and the bubble's fake clock moves on by two
		// target polls (no real time passes: it advances once every
		// goroutine of the bubble is blocked), so the scheduler's next
		// poll has run when synctest.Wait returns.
		step := func() {
			synctest.Wait()
			f.agent("")
			synctest.Wait()
			tg.settle()
			time.Sleep(2 * targetPoll)
			synctest.Wait()
		}
		for range 3 {
			step()
		}
		if s := f.service(); !s.Steady || s.Traffic != nil {
			t.Fatalf("first deployment: steady %v, traffic %+v", s.Steady, s.Traffic)
		}
		// leaves checks that no live task of deployment dep was asked to
		// stop before the rule's weight on its group went to 0 and
		// settled.
		running := func(dep string) (n int) {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, task := range f.tasks {
				if task.StartedBy == dep && task.DesiredStatus == ecs.TaskRunning && task.LastStatus == ecs.TaskRunning {
					n++
				}
			}
			return n
		}
		checkLeaves := func(dep, group string, stepNo int) {
			f.mu.Lock()
			defer f.mu.Unlock()
			w, at := router.get(group)
			for _, task := range f.tasks {
				if task.StartedBy == dep && task.DesiredStatus == ecs.TaskStopped && (w != 0 || time.Since(at) < shiftSettle) {
					t.Fatalf("step %d: task %s of %s stopped while its group has weight %d (moved %v ago)", stepNo, task.ID, dep, w, time.Since(at))
				}
			}
		}

		// BLUE_GREEN to revision 2.
		f.mu.Lock()
		f.svc.TaskDefinition = ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.svc.StartDeployment("ecs-svc/2", time.Now())
		f.mu.Unlock()
		f.changed()
		began := time.Now()
		var bakeSeen bool
		for i := 0; i < 60 && f.service().Traffic != nil; i++ {
			step()
			st := f.service().Traffic
			if g, _ := router.get(greenTG); g > 0 && tg.count(TargetHealthy) < 4 && st != nil && st.Stage != ecs.StageCleanUp {
				t.Fatalf("step %d: green has weight %d before its targets are healthy", i, g)
			}
			if st != nil && st.Stage == ecs.StageBakeTime {
				bakeSeen = true
				if n := running("ecs-svc/1"); n != 2 {
					t.Fatalf("step %d: %d blue tasks running during the bake, want 2", i, n)
				}
			}
			checkLeaves("ecs-svc/1", blueTG, i)
		}
		s2 := f.service()
		if !bakeSeen || s2.Traffic != nil || len(s2.Deployments) != 1 || s2.Primary().ID != "ecs-svc/2" ||
			s2.Primary().RolloutState != ecs.RolloutCompleted || s2.History("ecs-svc/2").Status != ecs.SDSuccessful {
			t.Fatalf("after the shift (bake seen %v): traffic %+v, deployments %+v", bakeSeen, s2.Traffic, s2.Deployments)
		}
		if took := time.Since(began); took < 10*time.Second {
			t.Fatalf("the deployment took %v, less than its bake", took)
		}
		if g, _ := router.get(greenTG); g != 1 || running("ecs-svc/2") != 2 {
			t.Fatalf("green's weight %d, %d green tasks", g, running("ecs-svc/2"))
		}

		// BLUE_GREEN to revision 3, rolled back during its bake.
		f.mu.Lock()
		f.svc.TaskDefinition = ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 3)
		f.svc.StartDeployment("ecs-svc/3", time.Now())
		f.mu.Unlock()
		f.changed()
		for i := 0; i < 30; i++ {
			step()
			if st := f.service().Traffic; st != nil && st.Stage == ecs.StageBakeTime {
				break
			}
		}
		if st := f.service().Traffic; st == nil || st.Stage != ecs.StageBakeTime || st.Green != "ecs-svc/3" {
			t.Fatalf("no bake of revision 3: %+v", st)
		}
		if b, _ := router.get(blueTG); b != 1 {
			t.Fatalf("revision 3 (blue group) has weight %d during its bake", b)
		}
		f.mu.Lock()
		if to := f.svc.RollBack("Service deployment stopped by user request.", "ecs-svc/y", time.Now()); to != "ecs-svc/2" {
			f.mu.Unlock()
			t.Fatalf("rolled back to %q", to)
		}
		f.mu.Unlock()
		f.changed()
		for i := 0; i < 30 && f.service().Traffic != nil; i++ {
			step()
			if g, _ := router.get(greenTG); g != 1 {
				t.Fatalf("step %d of the rollback: revision 2's group has weight %d", i, g)
			}
			if n := running("ecs-svc/2"); n != 2 {
				t.Fatalf("step %d of the rollback: %d tasks of revision 2 running", i, n)
			}
			checkLeaves("ecs-svc/3", blueTG, i)
		}
		tg.mu.Lock()
		if badDereg != "" || deregs != 4 {
			t.Errorf("%d deregistrations: %s", deregs, badDereg)
		}
		if badMove != "" {
			t.Error(badMove)
		}
		tg.mu.Unlock()
		s3 := f.service()
		if s3.Traffic != nil || len(s3.Deployments) != 1 || s3.Primary().ID != "ecs-svc/2" || running("ecs-svc/3") != 0 ||
			s3.History("ecs-svc/3").Status != ecs.SDRollbackSuccessful {
			t.Fatalf("after the rollback: traffic %+v, deployments %+v, history %+v", s3.Traffic, s3.Deployments, s3.History("ecs-svc/3"))
		}
	})
}
