package controller

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// externalService returns an EXTERNAL service of desired count n.
func externalService(t *testing.T, n int) *ecs.Service {
	t.Helper()
	sc := ecs.Scope{Account: "1", Region: "r"}
	cl := &ecs.Cluster{Name: "c", ARN: sc.ClusterARN("c")}
	s, err := ecs.NewService(sc, cl, ecs.ServiceSpec{Name: "web", DesiredCount: &n,
		DeploymentController: &ecs.DeploymentController{Type: ecs.DeploymentControllerExternal}}, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func taskDef(rev int) *ecs.TaskDefinition {
	sc := ecs.Scope{Account: "1", Region: "r"}
	return &ecs.TaskDefinition{ARN: sc.TaskDefinitionARN("web", rev), Family: "web", Revision: rev, Compatibilities: []string{ecs.LaunchEC2}, NetworkMode: "bridge"}
}

// perSet counts the live tasks of each task set (startedBy).
func (f *fakeServices) perSet() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for _, t := range f.tasks {
		if t.DesiredStatus == ecs.TaskRunning && t.LastStatus != ecs.TaskStopped {
			m[t.StartedBy]++
		}
	}
	return m
}

// edit changes the service as an API call would, and tells the scheduler.
func (f *fakeServices) edit(t *testing.T, fn func(*ecs.Service) error) {
	t.Helper()
	f.mu.Lock()
	err := fn(f.svc)
	f.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	f.changed()
}

// settle lets the agent move tasks until nothing changes (bounded).
func (f *fakeServices) settle() {
	for range 6 {
		synctest.Wait()
		f.agent("")
	}
	synctest.Wait()
}

// TestServicesTaskSets: an EXTERNAL service's task sets are each kept at
// ceil(desired × scale%) tasks started by the task set's ID; scaling a
// task set or the service moves its tasks; a deleted task set's tasks
// stop and it leaves; counts, stability and events as ECS shows them.
func TestServicesTaskSets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := ecs.Scope{Account: "1", Region: "r"}
		f := newFakeServices(externalService(t, 4))
		runScheduler(t, f)
		if s := f.service(); len(s.Deployments) != 0 || f.live("") != 0 {
			t.Fatalf("an EXTERNAL service without task sets: deployments %v, %d tasks", s.Deployments, f.live(""))
		}
		f.edit(t, func(s *ecs.Service) error {
			_, err := s.AddTaskSet(sc, "ecs-svc/1", ecs.TaskSetSpec{TaskDefinition: taskDef(1), LaunchType: ecs.LaunchEC2}, time.Now())
			return err
		})
		f.settle()
		if m := f.perSet(); m["ecs-svc/1"] != 4 || len(m) != 1 {
			t.Fatalf("tasks per task set: %v; want 4 of ecs-svc/1", m)
		}
		s := f.service()
		ts := s.TaskSet("ecs-svc/1")
		if ts.RunningCount != 4 || ts.PendingCount != 0 || ts.ComputedDesiredCount != 4 || ts.StabilityStatus != ecs.StabilitySteady || s.RunningCount != 4 || !s.Steady {
			t.Fatalf("task set %+v; service running %d steady %v", ts, s.RunningCount, s.Steady)
		}
		if !hasPrefix(messages(s), "(service web, taskSet ecs-svc/1) has started 4 tasks:") || !hasPrefix(messages(s), "(service web) has reached a steady state.") {
			t.Fatalf("events: %q", messages(s))
		}

		// A second task set at 50%, made primary; the first scaled to 0.
		f.edit(t, func(s *ecs.Service) error {
			_, err := s.AddTaskSet(sc, "ecs-svc/2", ecs.TaskSetSpec{TaskDefinition: taskDef(2), LaunchType: ecs.LaunchEC2, Scale: &ecs.Scale{Value: 50, Unit: ecs.ScalePercent}}, time.Now())
			return err
		})
		f.settle()
		if m := f.perSet(); m["ecs-svc/1"] != 4 || m["ecs-svc/2"] != 2 {
			t.Fatalf("tasks per task set: %v; want 4 and 2", m)
		}
		f.edit(t, func(s *ecs.Service) error {
			if _, err := s.SetPrimaryTaskSet("ecs-svc/2", time.Now()); err != nil {
				return err
			}
			_, err := s.ScaleTaskSet("ecs-svc/1", ecs.Scale{Value: 0, Unit: ecs.ScalePercent}, time.Now())
			return err
		})
		f.settle()
		s = f.service()
		if m := f.perSet(); m["ecs-svc/1"] != 0 || m["ecs-svc/2"] != 2 {
			t.Fatalf("after scaling ecs-svc/1 to 0: %v", m)
		}
		if s.TaskDefinition != taskDef(2).ARN || s.TaskSet("ecs-svc/2").Status != ecs.TaskSetPrimary || s.TaskSet("ecs-svc/1").Status != ecs.TaskSetActive {
			t.Fatalf("primary: service definition %s, sets %+v", s.TaskDefinition, s.TaskSets)
		}
		if !hasPrefix(messages(s), "(service web, taskSet ecs-svc/1) has stopped 4 running tasks:") {
			t.Fatalf("events: %q", messages(s))
		}

		// The service's desired count moves the task sets: ceil(5 × 50%) = 3.
		f.edit(t, func(s *ecs.Service) error { s.SetDesiredCount(5, time.Now()); return nil })
		f.settle()
		if m := f.perSet(); m["ecs-svc/2"] != 3 {
			t.Fatalf("after desired 5: %v; want 3 tasks of ecs-svc/2", m)
		}

		// Deleting ecs-svc/1 (scaled to 0) removes it; force-deleting the
		// primary stops its tasks.
		f.edit(t, func(s *ecs.Service) error {
			if _, err := s.DeleteTaskSet("ecs-svc/2", false, time.Now()); err == nil {
				t.Error("a task set scaled above 0 was deleted without force")
			}
			_, err := s.DeleteTaskSet("ecs-svc/1", false, time.Now())
			return err
		})
		f.settle()
		if s := f.service(); s.TaskSet("ecs-svc/1") != nil || len(s.TaskSets) != 1 {
			t.Fatalf("task sets after deleting ecs-svc/1: %+v", s.TaskSets)
		}
		f.edit(t, func(s *ecs.Service) error { _, err := s.DeleteTaskSet("ecs-svc/2", true, time.Now()); return err })
		f.settle()
		if s := f.service(); len(s.TaskSets) != 0 || f.live("") != 0 || s.RunningCount != 0 {
			t.Fatalf("after force-deleting ecs-svc/2: sets %+v, %d tasks live, running %d", s.TaskSets, f.live(""), s.RunningCount)
		}
	})
}

func hasPrefix(msgs []string, p string) bool {
	for _, m := range msgs {
		if len(m) >= len(p) && m[:len(p)] == p {
			return true
		}
	}
	return false
}

// TestComputedDesiredCountRoundsUp: desired × scale%, rounded up as ECS
// documents (1.2 → 2), exact products not pushed up by float error.
func TestComputedDesiredCountRoundsUp(t *testing.T) {
	for _, c := range []struct {
		desired int
		scale   float64
		want    int
	}{{4, 100, 4}, {4, 50, 2}, {6, 20, 2}, {5, 50, 3}, {3, 33.3, 1}, {3, 33.34, 2}, {10, 0, 0}, {0, 100, 0}, {7, 100.0 / 7 * 3, 3}} {
		if got := ecs.ComputedDesiredCount(c.desired, ecs.Scale{Value: c.scale, Unit: ecs.ScalePercent}); got != c.want {
			t.Errorf("ComputedDesiredCount(%d, %v%%) = %d, want %d", c.desired, c.scale, got, c.want)
		}
	}
}

// TestServicesTaskSetsDrainWithTheService: deleting an EXTERNAL service
// drains its task sets: their tasks stop, the counts follow, and the
// INACTIVE service keeps no task set.
func TestServicesTaskSetsDrainWithTheService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(externalService(t, 2))
		runScheduler(t, f)
		f.edit(t, func(s *ecs.Service) error {
			_, err := s.AddTaskSet(ecs.Scope{Account: "1", Region: "r"}, "ecs-svc/1", ecs.TaskSetSpec{TaskDefinition: taskDef(1), LaunchType: ecs.LaunchEC2}, time.Now())
			return err
		})
		f.settle()
		if n := f.live(""); n != 2 {
			t.Fatalf("%d tasks, want 2", n)
		}
		f.edit(t, func(s *ecs.Service) error {
			s.Status, s.DesiredCount = ecs.ServiceDraining, 0
			s.DrainTaskSets(time.Now())
			return nil
		})
		f.settle()
		if s := f.service(); s.Status != ecs.ServiceInactive || len(s.TaskSets) != 0 || f.live("") != 0 {
			t.Fatalf("after the delete: status %s, task sets %+v, %d tasks live", s.Status, s.TaskSets, f.live(""))
		}
	})
}

// TestServicesTaskSetStartsSurviveLeaderHandover: a successor leader that
// decides a task set's starts on the same (stale) state as its
// predecessor gets the same client token, so the task set is not
// started twice.
func TestServicesTaskSetStartsSurviveLeaderHandover(t *testing.T) {
	svc := externalService(t, 3)
	if _, err := svc.AddTaskSet(ecs.Scope{Account: "1", Region: "r"}, "ecs-svc/1", ecs.TaskSetSpec{TaskDefinition: taskDef(1), LaunchType: ecs.LaunchEC2}, time.Now()); err != nil {
		t.Fatal(err)
	}
	f := newFakeServices(svc)
	view := &staleView{fakeServices: f}
	for _, leader := range []string{"old", "new"} {
		s := NewServices(ServicesConfig{Source: view, Plane: f, NoChange: errNoChange,
			NewID: func() string { return "e" }, NewDeploymentID: func() string { return "ecs-svc/rb" }})
		if _, err := s.Reconcile(t.Context(), svcRef.Key()); err != nil {
			t.Fatalf("%s leader: %v", leader, err)
		}
	}
	if m := f.perSet(); m["ecs-svc/1"] != 3 {
		t.Fatalf("tasks per task set after the handover: %v; want 3", m)
	}
}
