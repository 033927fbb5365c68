package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestServicesShiftReplacesDeadTasksOfBothSets: during a BLUE_GREEN
// deployment a blue task whose container exits (while blue serves
// production in SCALE_UP, and again in the bake, when blue only waits
// for a rollback) is replaced by a task of blue's revision in blue's
// target group, a green task that exits is replaced in green's, with
// ECS's events; CLEAN_UP then scales blue in and nothing replaces it.
func TestServicesShiftReplacesDeadTasksOfBothSets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := testService(t, 2, false)
		port, bake := 8080, 1
		svc.LoadBalancers = []ecs.LoadBalancer{{TargetGroupARN: blueTG, ContainerName: "web", ContainerPort: &port,
			AdvancedConfiguration: &ecs.AdvancedConfiguration{AlternateTargetGroupARN: greenTG, ProductionListenerRule: "rule"}}}
		svc.Deployments[0].TargetGroups = []string{blueTG}
		svc.DeploymentConfiguration.Strategy, svc.DeploymentConfiguration.BakeTimeInMinutes = ecs.DeploymentStrategyBlueGreen, &bake
		f := newFakeServices(svc)
		router := &fakeRouter{weights: map[string]int{blueTG: 100, greenTG: 0}}
		tg := &fakeTargets{state: map[Target]string{}, groupOf: map[Target]string{}}
		ids := 0
		s := NewServices(ServicesConfig{Source: f, Plane: f, NoChange: errNoChange, Targets: tg, Traffic: router,
			ShiftMinute: 10 * time.Second, NewID: func() string { ids++; return fmt.Sprint("e", ids) },
			NewDeploymentID: func() string { return "ecs-svc/x" }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		defer func() { cancel(); <-done }()
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
		if s := f.service(); !s.Steady {
			t.Fatalf("first deployment not steady: %+v", s)
		}
		// live returns the running tasks of deployment dep.
		live := func(dep string) (out []*ecs.Task) {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, task := range f.tasks {
				if task.StartedBy == dep && task.DesiredStatus == ecs.TaskRunning && task.LastStatus == ecs.TaskRunning {
					out = append(out, task)
				}
			}
			slices.SortFunc(out, func(a, b *ecs.Task) int { return strings.Compare(a.ID, b.ID) })
			return out
		}
		// kill makes a task's essential container exit, as docker kill
		// would, and returns the task's ID.
		kill := func(dep string) string {
			ts := live(dep)
			if len(ts) == 0 {
				t.Fatalf("no running task of %s to kill", dep)
			}
			f.mu.Lock()
			task := f.tasks[ts[0].ID]
			task.LastStatus, task.DesiredStatus = ecs.TaskStopped, ecs.TaskStopped
			task.StopCode, task.StoppedReason = ecs.StopEssentialContainerExited, "Essential container in task exited"
			f.mu.Unlock()
			f.changed()
			return task.ID
		}
		groupOf := func(task *ecs.Task) string {
			tg.mu.Lock()
			defer tg.mu.Unlock()
			return tg.groupOf[Target{ID: task.Containers[0].NetworkInterfaces[0].PrivateIPv4Address, Port: 8080}]
		}
		// checkSet checks that dep runs 2 tasks, every one in group.
		checkSet := func(when, dep, group string) {
			t.Helper()
			ts := live(dep)
			if len(ts) != 2 {
				t.Fatalf("%s: %d tasks of %s running, want 2", when, len(ts), dep)
			}
			for _, task := range ts {
				if g := groupOf(task); g != group {
					t.Fatalf("%s: task %s of %s is in %q, want %s", when, task.ID, dep, g, group)
				}
			}
		}
		stage := func() string {
			if st := f.service().Traffic; st != nil {
				return st.Stage
			}
			return ""
		}

		f.mu.Lock()
		f.svc.TaskDefinition = ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.svc.StartDeployment("ecs-svc/2", time.Now())
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		if st := stage(); st != ecs.StageScaleUp {
			t.Fatalf("stage %q after the deployment began, want SCALE_UP", st)
		}
		// SCALE_UP: blue serves production; one of its tasks dies.
		dead := []string{kill("ecs-svc/1")}
		step()
		checkSet("SCALE_UP", "ecs-svc/1", blueTG)
		for i := 0; i < 10 && stage() != ecs.StageBakeTime; i++ {
			step()
		}
		if st := stage(); st != ecs.StageBakeTime {
			t.Fatalf("stage %q, want BAKE_TIME", st)
		}
		// The bake: a blue and a green task die.
		dead = append(dead, kill("ecs-svc/1"), kill("ecs-svc/2"))
		step()
		if st := stage(); st != ecs.StageBakeTime {
			t.Fatalf("stage %q after the replacements, want BAKE_TIME still", st)
		}
		checkSet("BAKE_TIME", "ecs-svc/1", blueTG)
		checkSet("BAKE_TIME", "ecs-svc/2", greenTG)
		if w, _ := router.get(greenTG); w != 1 {
			t.Fatalf("green's weight %d during the bake", w)
		}
		sv := f.service()
		msgs := messages(sv)
		for _, id := range dead {
			if want := fmt.Sprintf("(service web) (task %s) stopped: Essential container in task exited.", id); !slices.Contains(msgs, want) {
				t.Errorf("no event %q in %q", want, msgs)
			}
		}
		started := 0
		for _, m := range msgs {
			if strings.HasPrefix(m, "(service web) has started ") {
				started++
			}
		}
		if started < 3 { // the first deployment, green's scale-up, the replacements
			t.Errorf("events: %q", msgs)
		}
		if b := sv.Deployment("ecs-svc/1"); b == nil || b.RunningCount != 2 {
			t.Fatalf("blue deployment %+v", b)
		}
		// The bake ends: blue leaves and is not replaced.
		for i := 0; i < 20 && f.service().Traffic != nil; i++ {
			step()
		}
		s2 := f.service()
		if s2.Traffic != nil || len(live("ecs-svc/1")) != 0 || s2.Primary().ID != "ecs-svc/2" || s2.Primary().RolloutState != ecs.RolloutCompleted {
			t.Fatalf("after the shift: traffic %+v, %d blue tasks, deployments %+v", s2.Traffic, len(live("ecs-svc/1")), s2.Deployments)
		}
		checkSet("after the shift", "ecs-svc/2", greenTG)
	})
}
