package runner

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/ecs"
)

// skewClock is the fake driver's clock: real time plus a skew that tests
// advance, so that a container "runs" for minutes in an instant (the
// runner measures runs with the driver's StartedAt and FinishedAt).
type skewClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *skewClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *skewClock) advance(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

func newSkewedFake() (*recDriver, *skewClock) {
	clk := &skewClock{}
	return &recDriver{Driver: fake.New(fake.Options{Logger: quiet, Images: []string{testImage}, Now: clk.now})}, clk
}

func withRestart(period int, ignored ...int) func(*ecs.ContainerDefinition) {
	return func(c *ecs.ContainerDefinition) {
		c.RestartPolicy = &ecs.RestartPolicy{Enabled: true, IgnoredExitCodes: ignored, RestartAttemptPeriod: ptr(period)}
	}
}

func TestRestartPolicyPlan(t *testing.T) {
	task := newTask()
	td := taskDef("bridge",
		cdef("a", withRestart(90, 0, 143)),
		cdef("b", func(c *ecs.ContainerDefinition) { c.RestartPolicy = &ecs.RestartPolicy{Enabled: true} }),
		cdef("c", func(c *ecs.ContainerDefinition) {
			c.RestartPolicy = &ecs.RestartPolicy{Enabled: false, RestartAttemptPeriod: ptr(60)}
		}),
	)
	p, err := buildPlan(Config{}, TaskSpec{Task: task, Definition: td})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := p.containers[0], p.containers[1], p.containers[2]
	if a.restart == nil || a.restart.period != 90*time.Second || !reflect.DeepEqual(a.restart.ignored, []int{0, 143}) {
		t.Errorf("a: restart = %+v", a.restart)
	}
	if got := a.spec.Labels[LabelRestartPolicy]; got != "1m30s:0,143" {
		t.Errorf("a: label = %q", got)
	}
	if !reflect.DeepEqual(parseRestartPolicy(a.spec.Labels[LabelRestartPolicy]), a.restart) {
		t.Errorf("label does not round-trip: %+v", parseRestartPolicy(a.spec.Labels[LabelRestartPolicy]))
	}
	if b.restart == nil || b.restart.period != 300*time.Second || b.spec.Labels[LabelRestartPolicy] != "5m0s" {
		t.Errorf("b (ECS's default period of 300s): restart = %+v, label %q", b.restart, b.spec.Labels[LabelRestartPolicy])
	}
	if _, ok := c.spec.Labels[LabelRestartPolicy]; c.restart != nil || ok {
		t.Errorf("c (disabled): restart = %+v", c.restart)
	}
	if parseRestartPolicy("") != nil || parseRestartPolicy("soon") != nil {
		t.Error("garbage labels parsed as policies")
	}
}

// TestRestartPolicy: an essential container that ran for its
// restartAttemptPeriod is restarted in place and the task goes on; one that
// exits sooner is not, and stops the task as usual.
func TestRestartPolicy(t *testing.T) {
	d, clk := newSkewedFake()
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("app", withRestart(60, 0)), cdef("side", nonEssential))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	id := container(run, "app").RuntimeID

	for n := 1; n <= 2; n++ {
		clk.advance(61 * time.Second)
		if err := d.Exit(id, 3); err != nil {
			t.Fatal(err)
		}
		got := h.waitFor(task.ARN, "a restart", func(c TaskChange) bool { return container(c, "app").RestartCount == n })
		h.waitEvents(driver.EventStart, 2+n) // app's restart, after app and side
		app := container(got, "app")
		if got.LastStatus != ecs.TaskRunning || app.LastStatus != ecs.ContainerRunning || app.RuntimeID != id || app.ExitCode != nil {
			t.Fatalf("after restart %d: task %s, app %+v", n, got.LastStatus, app)
		}
		if st, err := d.InspectContainer(context.Background(), id); err != nil || st.Status != driver.StatusRunning {
			t.Fatalf("app after restart %d: %+v, %v", n, st, err)
		}
	}

	// Too soon after its last restart: no restart.
	clk.advance(30 * time.Second)
	if err := d.Exit(id, 4); err != nil {
		t.Fatal(err)
	}
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	app := container(st, "app")
	if exitCode(app) != "4" || app.RestartCount != 2 || st.StopCode != ecs.StopEssentialContainerExited {
		t.Errorf("stopped: app exit %s restarts %d, stop code %s", exitCode(app), app.RestartCount, st.StopCode)
	}
	checkMonotonic(t, h.history(task.ARN))
	h.waitGone(task.ARN)
}

// TestRestartPolicyExceptions: ignored exit codes, OOM kills, and exits
// once the task is stopping.
func TestRestartPolicyExceptions(t *testing.T) {
	t.Run("ignored exit code", func(t *testing.T) {
		d, clk := newSkewedFake()
		h := runHarness(t, d)
		task := newTask()
		h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", withRestart(60, 0, 2)))})
		run := h.waitStatus(task.ARN, ecs.TaskRunning)
		clk.advance(time.Hour)
		if err := d.Exit(container(run, "app").RuntimeID, 2); err != nil {
			t.Fatal(err)
		}
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if app := container(st, "app"); exitCode(app) != "2" || app.RestartCount != 0 {
			t.Errorf("app = exit %s, %d restarts; want 2, none", exitCode(app), app.RestartCount)
		}
	})
	t.Run("OOM kill is restarted", func(t *testing.T) {
		d, clk := newSkewedFake()
		h := runHarness(t, d)
		task := newTask()
		h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", withRestart(60)))})
		run := h.waitStatus(task.ARN, ecs.TaskRunning)
		clk.advance(time.Minute)
		if err := d.OOMKill(container(run, "app").RuntimeID); err != nil {
			t.Fatal(err)
		}
		got := h.waitFor(task.ARN, "a restart", func(c TaskChange) bool { return container(c, "app").RestartCount == 1 })
		if app := container(got, "app"); got.LastStatus != ecs.TaskRunning || app.Reason != "" {
			t.Errorf("after the restart: task %s, app %+v", got.LastStatus, app)
		}
		// Its next run ends normally: no stale OOM reason.
		h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, ""), Definition: taskDef("bridge", cdef("app", withRestart(60)))})
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if app := container(st, "app"); app.Reason != "" || exitCode(app) != "0" {
			t.Errorf("stopped app = %+v", app)
		}
	})
	t.Run("not once stopping", func(t *testing.T) {
		d, clk := newSkewedFake()
		h := runHarness(t, d)
		task := newTask()
		td := taskDef("bridge", cdef("app"), cdef("worker", nonEssential, withRestart(60)))
		behaviors(d, map[string]fake.Behavior{"worker": {StopExitCode: 143}})
		h.r.Apply(TaskSpec{Task: task, Definition: td})
		h.waitStatus(task.ARN, ecs.TaskRunning)
		clk.advance(time.Hour)
		h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "bye"), Definition: td})
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if w := container(st, "worker"); exitCode(w) != "143" || w.RestartCount != 0 {
			t.Errorf("worker = exit %s, %d restarts; want 143, none", exitCode(w), w.RestartCount)
		}
		if starts := h.eventsOf(driver.EventStart); len(starts) != 2 {
			t.Errorf("start events %v; want app and worker once", starts)
		}
	})
	t.Run("essential exit stops the others for good", func(t *testing.T) {
		d, clk := newSkewedFake()
		h := runHarness(t, d)
		task := newTask()
		td := taskDef("bridge", cdef("app"), cdef("worker", withRestart(60)))
		h.r.Apply(TaskSpec{Task: task, Definition: td})
		run := h.waitStatus(task.ARN, ecs.TaskRunning)
		clk.advance(time.Hour)
		if err := d.Exit(container(run, "app").RuntimeID, 1); err != nil {
			t.Fatal(err)
		}
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if w := container(st, "worker"); w.RestartCount != 0 || w.LastStatus != ecs.ContainerStopped {
			t.Errorf("worker = %+v", w)
		}
	})
}

// TestRestartPolicyAfterAdoption: the policy travels in the container's
// labels, so a runner that adopted the task restarts it too.
func TestRestartPolicyAfterAdoption(t *testing.T) {
	d, clk := newSkewedFake()
	h1 := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("app", withRestart(60)))
	h1.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h1.waitStatus(task.ARN, ecs.TaskRunning)
	h1.stop()

	id := container(run, "app").RuntimeID
	clk.advance(2 * time.Minute)
	if err := d.Exit(id, 1); err != nil { // while no runner runs
		t.Fatal(err)
	}
	r2, h2 := newRunner(t, d)
	if _, err := r2.Adopt(context.Background()); err != nil {
		t.Fatal(err)
	}
	h2.start()
	got := h2.waitFor(task.ARN, "a restart", func(c TaskChange) bool { return container(c, "app").RestartCount == 1 })
	if got.LastStatus != ecs.TaskRunning {
		t.Errorf("adopted task after the restart: %s", got.LastStatus)
	}
	if st, err := d.InspectContainer(context.Background(), id); err != nil || st.Status != driver.StatusRunning {
		t.Errorf("app: %+v, %v; want running", st, err)
	}
}
