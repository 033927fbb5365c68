package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

var errNoChange = errors.New("no change")

// fakeServices is a ServiceSource and ServicePlane over one in-memory
// service and its tasks.
type fakeServices struct {
	mu      sync.Mutex
	svc     *ecs.Service
	tasks   map[string]*ecs.Task
	fns     []func(ServiceRef)
	next    int
	tokens  map[string][]string
	runs    int // StartServiceTasks calls that started tasks
	failAll string
	insts   []*ecs.ContainerInstance
}

func (f *fakeServices) ClusterInstances(ServiceRef) []*ecs.ContainerInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*ecs.ContainerInstance
	for _, ci := range f.insts {
		c := *ci
		out = append(out, &c)
	}
	return out
}

// StartServiceTasksOn starts one task on each instance; like placement,
// a token seen before returns that start's tasks and starts nothing.
func (f *fakeServices) StartServiceTasksOn(_ context.Context, _ ecs.Scope, svc *ecs.Service, dep string, insts []string, token string) (ServiceStart, error) {
	f.mu.Lock()
	var out ServiceStart
	if ids, ok := f.tokens[token]; ok && token != "" {
		f.mu.Unlock()
		out.TaskIDs = ids
		return out, nil
	}
	d := svc.Deployment(dep)
	for _, in := range insts {
		f.next++
		id := fmt.Sprintf("t%03d", f.next)
		f.tasks[id] = &ecs.Task{ID: id, StartedBy: dep, Group: svc.Group(), TaskDefinitionARN: d.TaskDefinition,
			ContainerInstanceARN: in, LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning, CreatedAt: time.Now()}
		out.TaskIDs = append(out.TaskIDs, id)
	}
	if token != "" {
		f.tokens[token] = out.TaskIDs
	}
	f.runs++
	f.mu.Unlock()
	f.changed()
	return out, nil
}

func newFakeServices(svc *ecs.Service) *fakeServices {
	return &fakeServices{svc: svc, tasks: map[string]*ecs.Task{}, tokens: map[string][]string{}}
}

var svcRef = ServiceRef{Scope: ecs.Scope{Account: "1", Region: "r"}, Cluster: "c", Name: "web"}

func (f *fakeServices) changed() {
	f.mu.Lock()
	fns := slices.Clone(f.fns)
	f.mu.Unlock()
	for _, fn := range fns {
		fn(svcRef)
	}
}

func (f *fakeServices) Service(ServiceRef) (*ecs.Service, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.svc.Copy(), f.svc != nil
}
func (f *fakeServices) ServiceRefs() []ServiceRef { return []ServiceRef{svcRef} }
func (f *fakeServices) ServiceTasks(ServiceRef) []*ecs.Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*ecs.Task
	for _, t := range f.tasks {
		c := *t
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *ecs.Task) int { return strings.Compare(a.ID, b.ID) })
	return out
}
func (f *fakeServices) OnServiceChange(fn func(ServiceRef)) { f.fns = append(f.fns, fn) }
func (f *fakeServices) WaitSynced(context.Context) error    { return nil }

func (f *fakeServices) StartServiceTasks(_ context.Context, _ ecs.Scope, svc *ecs.Service, dep string, n int, token string) (ServiceStart, error) {
	f.mu.Lock()
	var out ServiceStart
	if ids, ok := f.tokens[token]; ok {
		f.mu.Unlock()
		out.TaskIDs = ids
		return out, nil
	}
	if f.failAll != "" {
		f.mu.Unlock()
		out.Failures = []string{f.failAll}
		return out, nil
	}
	d := svc.Deployment(dep)
	if d == nil {
		d = svc.TaskSetDeployment(dep)
	}
	for range n {
		f.next++
		id := fmt.Sprintf("t%03d", f.next)
		inst := ""
		for _, ci := range f.insts {
			if ci.Status == ecs.InstanceActive {
				inst = ci.ARN
				break
			}
		}
		f.tasks[id] = &ecs.Task{ID: id, StartedBy: dep, Group: svc.Group(), TaskDefinitionARN: d.TaskDefinition,
			ContainerInstanceARN: inst, LastStatus: ecs.TaskPending, DesiredStatus: ecs.TaskRunning, CreatedAt: time.Now(),
			Containers: []ecs.Container{{Name: "web", NetworkInterfaces: []ecs.NetworkInterface{{PrivateIPv4Address: fmt.Sprintf("10.0.0.%d", f.next)}}}}}
		out.TaskIDs = append(out.TaskIDs, id)
	}
	f.tokens[token] = out.TaskIDs
	f.runs++
	f.mu.Unlock()
	f.changed()
	return out, nil
}

func (f *fakeServices) StopServiceTask(_ context.Context, _ ecs.Scope, _, id, reason string) error {
	f.mu.Lock()
	if t := f.tasks[id]; t != nil && t.DesiredStatus != ecs.TaskStopped {
		t.DesiredStatus, t.StopCode, t.StoppedReason = ecs.TaskStopped, ecs.StopServiceSchedulerInitiated, reason
	}
	f.mu.Unlock()
	f.changed()
	return nil
}

func (f *fakeServices) UpdateServiceState(_ context.Context, _ ecs.Scope, _, _ string, fn func(*ecs.Service) error) error {
	f.mu.Lock()
	c := f.svc.Copy()
	err := fn(c)
	if errors.Is(err, errNoChange) {
		f.mu.Unlock()
		return nil
	}
	if err == nil {
		f.svc = c
	}
	f.mu.Unlock()
	if err == nil {
		f.changed()
	}
	return err
}

// agent moves tasks as an agent would: pending → RUNNING (healthy),
// stop requested → STOPPED; the tasks of task definition bad exit at once.
func (f *fakeServices) agent(bad string) {
	f.mu.Lock()
	for _, t := range f.tasks {
		switch {
		case t.DesiredStatus == ecs.TaskStopped && t.LastStatus != ecs.TaskStopped:
			t.LastStatus, t.StoppedAt = ecs.TaskStopped, time.Now()
		case t.LastStatus == ecs.TaskPending && t.TaskDefinitionARN != bad:
			t.LastStatus, t.StartedAt = ecs.TaskRunning, time.Now()
		case t.LastStatus == ecs.TaskPending:
			t.LastStatus, t.DesiredStatus, t.StopCode, t.StoppedReason = ecs.TaskStopped, ecs.TaskStopped, ecs.StopEssentialContainerExited, "Essential container in task exited"
		}
	}
	f.mu.Unlock()
	f.changed()
}

func (f *fakeServices) live(td string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tasks {
		if t.LastStatus != ecs.TaskStopped && t.DesiredStatus == ecs.TaskRunning && (td == "" || t.TaskDefinitionARN == td) {
			n++
		}
	}
	return n
}

func (f *fakeServices) service() *ecs.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.svc.Copy()
}

func testService(t *testing.T, desired int, cb bool) *ecs.Service {
	sc := ecs.Scope{Account: "1", Region: "r"}
	cl := &ecs.Cluster{Name: "c", ARN: sc.ClusterARN("c")}
	td := &ecs.TaskDefinition{ARN: sc.TaskDefinitionARN("web", 1), Family: "web", Revision: 1, Compatibilities: []string{ecs.LaunchEC2}, NetworkMode: "bridge"}
	dc := &ecs.DeploymentConfiguration{DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: cb, Rollback: cb}}
	s, err := ecs.NewService(sc, cl, ecs.ServiceSpec{Name: "web", TaskDefinition: td, DesiredCount: &desired, LaunchType: ecs.LaunchEC2, DeploymentConfiguration: dc}, "ecs-svc/1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runScheduler runs the scheduler over f until the test ends.
func runScheduler(t *testing.T, f *fakeServices) {
	ids := 0
	s := NewServices(ServicesConfig{Source: f, Plane: f, NoChange: errNoChange,
		NewID:           func() string { ids++; return fmt.Sprint("e", ids) },
		NewDeploymentID: func() string { ids++; return fmt.Sprint("ecs-svc/rb", ids) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	synctest.Wait()
}

func messages(s *ecs.Service) []string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Message)
	}
	return out
}

func TestServicesKeepDesiredCountAndReplaceStoppedTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 3, false))
		runScheduler(t, f)
		if n := f.live(""); n != 3 {
			t.Fatalf("%d tasks started, want 3", n)
		}
		f.agent("")
		synctest.Wait()
		s := f.service()
		if s.RunningCount != 3 || s.PendingCount != 0 || s.Deployments[0].RolloutState != ecs.RolloutCompleted {
			t.Fatalf("after running: %+v", s)
		}
		if m := messages(s); m[0] != "(service web) has reached a steady state." || !strings.HasPrefix(m[2], "(service web) has started 3 tasks: (task t001)") {
			t.Fatalf("events: %q", m)
		}
		// A task's essential container exits: the event tells why, and a
		// replacement starts.
		f.mu.Lock()
		f.tasks["t002"].LastStatus, f.tasks["t002"].DesiredStatus = ecs.TaskStopped, ecs.TaskStopped
		f.tasks["t002"].StopCode, f.tasks["t002"].StoppedReason = ecs.StopEssentialContainerExited, "Essential container in task exited"
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		if n := f.live(""); n != 3 {
			t.Fatalf("%d live after a stop, want 3", n)
		}
		m := messages(f.service())
		if !slices.Contains(m, "(service web) (task t002) stopped: Essential container in task exited.") || !slices.Contains(m, "(service web) has started 1 tasks: (task t004).") {
			t.Fatalf("events: %q", m)
		}
		// Reported once, however often the scheduler looks again.
		f.changed()
		synctest.Wait()
		n := 0
		for _, msg := range messages(f.service()) {
			if strings.Contains(msg, "(task t002) stopped") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the stop is told %d times", n)
		}
	})
}

func TestServicesRollingDeploymentStaysWithinBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 4, false))
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		// A new revision with 150% / 50%: at most 6 tasks, at least 2 healthy.
		f.mu.Lock()
		s := f.svc
		s.TaskDefinition = ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		mx, mn := 150, 50
		s.DeploymentConfiguration.MaximumPercent, s.DeploymentConfiguration.MinimumHealthyPercent = &mx, &mn
		s.StartDeployment("ecs-svc/2", time.Now())
		f.mu.Unlock()
		f.changed()
		for step := 0; step < 20; step++ {
			synctest.Wait()
			if n := f.live(""); n > 6 {
				t.Fatalf("step %d: %d tasks, maximum 6", step, n)
			}
			running := 0
			f.mu.Lock()
			for _, t := range f.tasks {
				if t.LastStatus == ecs.TaskRunning && t.DesiredStatus == ecs.TaskRunning {
					running++
				}
			}
			f.mu.Unlock()
			if running < 2 {
				t.Fatalf("step %d: %d healthy, minimum 2", step, running)
			}
			f.agent("")
		}
		synctest.Wait()
		s = f.service()
		if len(s.Deployments) != 1 || s.Deployments[0].ID != "ecs-svc/2" || s.Deployments[0].RolloutState != ecs.RolloutCompleted {
			t.Fatalf("deployments: %+v", s.Deployments)
		}
		if n := f.live(s.TaskDefinition); n != 4 || f.live("") != 4 {
			t.Fatalf("%d tasks on the new revision (%d live), want 4", n, f.live(""))
		}
	})
}

func TestServicesCircuitBreakerRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 2, true))
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		rev1 := f.service().TaskDefinition
		rev2 := ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.mu.Lock()
		f.svc.TaskDefinition = rev2
		f.svc.StartDeployment("ecs-svc/bad", time.Now())
		f.mu.Unlock()
		f.changed()
		// The new revision's tasks exit at once, until the breaker trips.
		for range 10 {
			synctest.Wait()
			f.agent(rev2)
		}
		synctest.Wait()
		s := f.service()
		bad := s.Deployment("ecs-svc/bad")
		if s.TaskDefinition != rev1 || s.Primary().TaskDefinition != rev1 {
			t.Fatalf("not rolled back: %s", s.TaskDefinition)
		}
		if bad != nil && bad.RolloutState != ecs.RolloutFailed {
			t.Fatalf("bad deployment: %+v", bad)
		}
		m := messages(s)
		if !slices.Contains(m, "(service web) (deployment ecs-svc/bad) deployment failed: tasks failed to start.") ||
			!slices.Contains(m, "(service web) rolling back to deployment ecs-svc/1.") {
			t.Fatalf("events: %q", m)
		}
		for range 5 {
			f.agent("")
			synctest.Wait()
		}
		if n := f.live(rev1); n != 2 {
			t.Fatalf("%d tasks on the old revision, want 2", n)
		}
		// The old deployment is the primary again and kept its tasks.
		f.mu.Lock()
		kept := f.tasks["t001"].DesiredStatus == ecs.TaskRunning && f.tasks["t002"].DesiredStatus == ecs.TaskRunning
		f.mu.Unlock()
		if !kept || f.service().Primary().ID != "ecs-svc/1" {
			t.Fatalf("rollback replaced the old tasks (kept %v, primary %s)", kept, f.service().Primary().ID)
		}
		if s := f.service(); s.Primary().RolloutState != ecs.RolloutCompleted || len(s.Deployments) != 1 {
			t.Fatalf("primary: %+v", s.Primary())
		}
	})
}

func TestServicesUnplaceableRetriesWithOneEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 1, false))
		f.failAll = "No Container Instances were found in your cluster."
		runScheduler(t, f)
		time.Sleep(2 * time.Minute) // four retries
		synctest.Wait()
		want := "(service web) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster."
		if m := messages(f.service()); len(m) != 1 || m[0] != want {
			t.Fatalf("events: %q", m)
		}
		f.mu.Lock()
		f.failAll = ""
		f.mu.Unlock()
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if f.live("") != 1 {
			t.Fatal("not placed on retry")
		}
	})
}

func TestServicesStartTokenIsStable(t *testing.T) {
	a := []*ecs.Task{{ID: "b", LastStatus: ecs.TaskRunning, DesiredStatus: ecs.TaskRunning}, {ID: "a", LastStatus: ecs.TaskStopped, DesiredStatus: ecs.TaskStopped}}
	b := []*ecs.Task{a[1], a[0]}
	if startToken("d", a) != startToken("d", b) {
		t.Error("the token depends on the order of the tasks")
	}
	if startToken("d", a) == startToken("d", a[:1]) || startToken("d", a) == startToken("e", a) {
		t.Error("different states share a token")
	}
}

func TestServicesDrainThenInactive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 2, false))
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		f.mu.Lock()
		f.svc.Status, f.svc.DesiredCount = ecs.ServiceDraining, 0
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		if f.live("") != 0 {
			t.Fatal("tasks left running")
		}
		f.agent("")
		synctest.Wait()
		if s := f.service(); s.Status != ecs.ServiceInactive {
			t.Fatalf("status %s", s.Status)
		}
	})
}

func TestServicesDaemonOneTaskPerInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := testService(t, 0, false)
		svc.SchedulingStrategy = ecs.SchedulingDaemon
		zero, hundred := 0, 100
		svc.DeploymentConfiguration.MaximumPercent, svc.DeploymentConfiguration.MinimumHealthyPercent = &hundred, &zero
		f := newFakeServices(svc)
		for i := range 3 {
			f.insts = append(f.insts, &ecs.ContainerInstance{ARN: fmt.Sprintf("ci-%d", i), Status: ecs.InstanceActive, AgentConnected: true})
		}
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		perInst := func() map[string]int {
			f.mu.Lock()
			defer f.mu.Unlock()
			m := map[string]int{}
			for _, t := range f.tasks {
				if t.DesiredStatus == ecs.TaskRunning {
					m[t.ContainerInstanceARN]++
				}
			}
			return m
		}
		if m := perInst(); len(m) != 3 || m["ci-0"] != 1 || m["ci-1"] != 1 || m["ci-2"] != 1 {
			t.Fatalf("tasks per instance: %v", m)
		}
		if s := f.service(); s.DesiredCount != 3 || s.RunningCount != 3 || !s.Steady {
			t.Fatalf("service: desired %d running %d steady %v", s.DesiredCount, s.RunningCount, s.Steady)
		}
		// An instance drains: its task stops, the desired count follows.
		f.mu.Lock()
		f.insts[1].Status = ecs.InstanceDraining
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		f.agent("")
		synctest.Wait()
		if m := perInst(); len(m) != 2 || m["ci-1"] != 0 {
			t.Fatalf("after draining ci-1: %v", m)
		}
		if s := f.service(); s.DesiredCount != 2 {
			t.Fatalf("desired %d", s.DesiredCount)
		}
		// A new revision: each instance's old task stops, then the new one
		// starts there.
		rev2 := ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.mu.Lock()
		f.svc.TaskDefinition = rev2
		f.svc.StartDeployment("ecs-svc/2", time.Now())
		f.mu.Unlock()
		f.changed()
		for range 5 {
			synctest.Wait()
			if m := perInst(); m["ci-0"] > 1 || m["ci-2"] > 1 {
				t.Fatalf("two tasks on an instance: %v", m)
			}
			f.agent("")
		}
		synctest.Wait()
		if n := f.live(rev2); n != 2 {
			t.Fatalf("%d tasks on revision 2, want 2", n)
		}
		if s := f.service(); len(s.Deployments) != 1 || s.Primary().RolloutState != ecs.RolloutCompleted {
			t.Fatalf("deployments %+v", s.Deployments)
		}
	})
}

// staleView is a fakeServices whose scheduler sees the tasks of an older
// moment: a successor leader whose cache has not yet caught up.
type staleView struct {
	*fakeServices
	tasks []*ecs.Task
}

func (v *staleView) ServiceTasks(ServiceRef) []*ecs.Task { return v.tasks }

// TestServicesDaemonStartsSurviveLeaderHandover: two schedulers (a leader
// and the successor that takes over before it sees the first one's
// starts) decide a DAEMON service's starts on the same state: their
// StartTask client tokens are the same, so each instance gets one task,
// not two.
func TestServicesDaemonStartsSurviveLeaderHandover(t *testing.T) {
	svc := testService(t, 0, false)
	svc.SchedulingStrategy = ecs.SchedulingDaemon
	zero, hundred := 0, 100
	svc.DeploymentConfiguration.MaximumPercent, svc.DeploymentConfiguration.MinimumHealthyPercent = &hundred, &zero
	f := newFakeServices(svc)
	for i := range 2 {
		f.insts = append(f.insts, &ecs.ContainerInstance{ARN: fmt.Sprintf("ci-%d", i), Status: ecs.InstanceActive, AgentConnected: true})
	}
	view := &staleView{fakeServices: f}
	for _, leader := range []string{"old", "new"} {
		s := NewServices(ServicesConfig{Source: view, Plane: f, NoChange: errNoChange,
			NewID: func() string { return "e" }, NewDeploymentID: func() string { return "ecs-svc/rb" }})
		if _, err := s.Reconcile(t.Context(), svcRef.Key()); err != nil {
			t.Fatalf("%s leader: %v", leader, err)
		}
	}
	per := map[string]int{}
	for _, task := range f.ServiceTasks(svcRef) {
		per[task.ContainerInstanceARN]++
	}
	if len(per) != 2 || per["ci-0"] != 1 || per["ci-1"] != 1 {
		t.Fatalf("tasks per instance after the handover: %v; want one on each", per)
	}
	if daemonStartToken("d", []string{"a", "b"}, nil) != daemonStartToken("d", []string{"b", "a"}, nil) ||
		daemonStartToken("d", []string{"a"}, nil) == daemonStartToken("d", []string{"b"}, nil) {
		t.Error("the DAEMON token does not name the instances regardless of order")
	}
}

func TestServicesReplaceTasksOfDrainingInstanceFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 2, false))
		f.insts = []*ecs.ContainerInstance{{ARN: "ci-a", Status: ecs.InstanceActive, AgentConnected: true}}
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		if n := f.live(""); n != 2 {
			t.Fatalf("%d tasks", n)
		}
		// ci-a drains, ci-b joins: the replacements start on ci-b before
		// the tasks on ci-a stop (minimumHealthyPercent 100).
		f.mu.Lock()
		f.insts[0].Status = ecs.InstanceDraining
		f.insts = append(f.insts, &ecs.ContainerInstance{ARN: "ci-b", Status: ecs.InstanceActive, AgentConnected: true})
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		running := func(inst string) (n int) {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, t := range f.tasks {
				if t.ContainerInstanceARN == inst && t.DesiredStatus == ecs.TaskRunning && t.LastStatus == ecs.TaskRunning {
					n++
				}
			}
			return n
		}
		if running("ci-a") != 2 {
			t.Fatalf("tasks on the draining instance stopped before their replacements ran: %d left", running("ci-a"))
		}
		for range 4 {
			f.agent("")
			synctest.Wait()
		}
		if a, b := running("ci-a"), running("ci-b"); a != 0 || b != 2 {
			t.Fatalf("after draining: %d on ci-a, %d on ci-b", a, b)
		}
		if s := f.service(); !s.Steady || s.RunningCount != 2 {
			t.Fatalf("service: steady %v running %d", s.Steady, s.RunningCount)
		}
	})
}

func TestServicesScaleInSparesProtectedTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeServices(testService(t, 3, false))
		runScheduler(t, f)
		f.agent("")
		synctest.Wait()
		// The newest task (scale-in's first pick) is protected for an hour.
		f.mu.Lock()
		f.tasks["t003"].ProtectedUntil = time.Now().Add(time.Hour)
		f.svc.DesiredCount = 1
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		f.agent("")
		synctest.Wait()
		f.mu.Lock()
		kept := f.tasks["t003"].DesiredStatus == ecs.TaskRunning
		f.mu.Unlock()
		if !kept || f.live("") != 1 {
			t.Fatalf("protected task stopped (kept %v), %d live", kept, f.live(""))
		}
		// Scaled to 0: the protected task stays until its protection ends.
		f.mu.Lock()
		f.svc.DesiredCount = 0
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		if f.live("") != 1 {
			t.Fatal("the protected task stopped before its protection ended")
		}
		time.Sleep(time.Hour + time.Second)
		synctest.Wait()
		if f.live("") != 0 {
			t.Fatal("the task outlived its protection")
		}
	})
}
