package runner

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

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/ecs"
)

func TestLifecycleBridge(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("web", func(c *ecs.ContainerDefinition) {
		c.PortMappings = []ecs.PortMapping{{ContainerPort: ptr(80), Protocol: "tcp"}}
	}))
	h.r.Apply(TaskSpec{Task: task, Definition: td})

	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	web := container(run, "web")
	if web.LastStatus != ecs.ContainerRunning || web.RuntimeID == "" {
		t.Fatalf("web = %+v", web)
	}
	if len(web.NetworkBindings) != 1 || web.NetworkBindings[0].ContainerPort != 80 || web.NetworkBindings[0].HostPort < 32768 {
		t.Errorf("bindings = %+v, want a dynamic host port for 80", web.NetworkBindings)
	}
	if run.StartedAt.IsZero() || run.PullStartedAt.IsZero() || run.PullStoppedAt.IsZero() {
		t.Errorf("timestamps not set: %+v", run)
	}
	if run.HealthStatus != ecs.HealthUnknown {
		t.Errorf("health = %s, want UNKNOWN without health checks", run.HealthStatus)
	}

	h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "Task stopped by user"), Definition: td})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopUserInitiated || st.Reason != "Task stopped by user" {
		t.Errorf("stop code/reason = %q/%q", st.StopCode, st.Reason)
	}
	if got := exitCode(container(st, "web")); got != "0" {
		t.Errorf("web exit code = %s, want 0", got)
	}
	if st.ExecutionStoppedAt.IsZero() || st.StoppedAt.IsZero() || st.StoppingAt.IsZero() {
		t.Errorf("stop timestamps not set: %+v", st)
	}
	h.waitGone(task.ARN)
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers left after cleanup", n)
	}
	checkMonotonic(t, h.history(task.ARN))
	if got := statuses(h.history(task.ARN)); !slices.Equal(got, []string{"PENDING", "RUNNING", "STOPPING", "STOPPED"}) {
		t.Errorf("statuses = %v", got)
	}
}

func TestLifecycleAWSVPC(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("awsvpc",
		cdef("web", func(c *ecs.ContainerDefinition) {
			c.PortMappings = []ecs.PortMapping{{ContainerPort: ptr(8080), HostPort: ptr(8080), Protocol: "tcp"}}
		}),
		cdef("sidecar", nonEssential))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	if !strings.HasPrefix(run.PrivateIPv4, "172.31.") || run.MACAddress == "" {
		t.Errorf("private IP/MAC = %q/%q", run.PrivateIPv4, run.MACAddress)
	}
	web := container(run, "web")
	if len(web.NetworkBindings) != 1 || web.NetworkBindings[0].BindIP != "127.0.0.1" || web.NetworkBindings[0].ContainerPort != 8080 {
		t.Errorf("web bindings = %+v", web.NetworkBindings)
	}
	nets, _ := d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	if len(nets) != 1 || nets[0].Labels[driver.LabelInstance] != testInstance {
		t.Fatalf("task networks = %+v", nets)
	}

	h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, ""), Definition: td})
	h.waitStatus(task.ARN, ecs.TaskStopped)
	nets, _ = d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	if len(nets) != 0 {
		t.Errorf("task network left after STOPPED: %+v", nets)
	}
	h.waitGone(task.ARN)
	got := statuses(h.history(task.ARN))
	want := []string{"PROVISIONING", "PENDING", "RUNNING", "STOPPING", "DEPROVISIONING", "STOPPED"}
	// PROVISIONING and PENDING may be collapsed when the network is quick.
	for _, s := range got {
		if !slices.Contains(want, s) {
			t.Errorf("unexpected status %s in %v", s, got)
		}
	}
	if !slices.Contains(got, "DEPROVISIONING") || got[len(got)-1] != "STOPPED" {
		t.Errorf("statuses = %v", got)
	}
	checkMonotonic(t, h.history(task.ARN))
}

func TestContainerExit(t *testing.T) {
	tests := []struct {
		name       string
		behavior   map[string]fake.Behavior
		wantStatus string
		wantCode   string
		wantReason string
		app        string // app's exit code
		appReason  string
		sidecar    string // sidecar's exit code
	}{
		{
			name:       "essential exits",
			behavior:   map[string]fake.Behavior{"app": {ExitAfter: 20 * time.Millisecond, ExitCode: 3}, "sidecar": {StopExitCode: 143}},
			wantStatus: ecs.TaskStopped, wantCode: ecs.StopEssentialContainerExited, wantReason: ecs.EssentialContainerExitedReason,
			app: "3", sidecar: "143",
		},
		{
			name:       "essential OOM-killed",
			behavior:   map[string]fake.Behavior{"app": {ExitAfter: 20 * time.Millisecond, OOM: true}},
			wantStatus: ecs.TaskStopped, wantCode: ecs.StopEssentialContainerExited, wantReason: ecs.EssentialContainerExitedReason,
			app: "137", appReason: ReasonOutOfMemory, sidecar: "0",
		},
		{
			name:       "non-essential exits",
			behavior:   map[string]fake.Behavior{"sidecar": {ExitAfter: 20 * time.Millisecond, ExitCode: 1}},
			wantStatus: ecs.TaskRunning,
			app:        "nil", sidecar: "1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := newFake()
				behaviors(d, tc.behavior)
				h := runHarness(t, d)
				task := newTask()
				h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app"), cdef("sidecar", nonEssential))})
				got := h.waitFor(task.ARN, "sidecar or task stopped", func(c TaskChange) bool {
					return c.LastStatus == ecs.TaskStopped || container(c, "sidecar").LastStatus == ecs.ContainerStopped
				})
				if tc.wantStatus == ecs.TaskRunning {
					// Let a wrong stop show: the runner has reacted to the
					// exit once every goroutine of the bubble is blocked.
					synctest.Wait()
					got, _ = h.r.Task(task.ARN)
				}
				if got.LastStatus != tc.wantStatus || got.StopCode != tc.wantCode || got.Reason != tc.wantReason {
					t.Errorf("task = %s %q %q, want %s %q %q", got.LastStatus, got.StopCode, got.Reason, tc.wantStatus, tc.wantCode, tc.wantReason)
				}
				if a := container(got, "app"); exitCode(a) != tc.app || a.Reason != tc.appReason {
					t.Errorf("app exit %s %q, want %s %q", exitCode(a), a.Reason, tc.app, tc.appReason)
				}
				if s := container(got, "sidecar"); exitCode(s) != tc.sidecar {
					t.Errorf("sidecar exit %s, want %s", exitCode(s), tc.sidecar)
				}
			})
		})
	}
}

func TestDependsOn(t *testing.T) {
	short := 20 * time.Millisecond
	tests := []struct {
		name     string
		dep      []func(*ecs.ContainerDefinition) // on "dep"
		cond     string
		behavior fake.Behavior // of "dep"
		// started: app starts after dep's event of this type; "" means
		// app never starts and the task fails to start.
		after   driver.EventType
		reason  string
		timeout bool
	}{
		{name: "START", cond: "START", after: driver.EventStart},
		{name: "COMPLETE after failure", cond: "COMPLETE", dep: []func(*ecs.ContainerDefinition){nonEssential},
			behavior: fake.Behavior{ExitAfter: short, ExitCode: 1}, after: driver.EventDie},
		{name: "SUCCESS", cond: "SUCCESS", dep: []func(*ecs.ContainerDefinition){nonEssential},
			behavior: fake.Behavior{ExitAfter: short}, after: driver.EventDie},
		{name: "SUCCESS never", cond: "SUCCESS", dep: []func(*ecs.ContainerDefinition){nonEssential},
			behavior: fake.Behavior{ExitAfter: short, ExitCode: 2}, reason: "dependency [dep] for target [app] as dependency did not exit successfully (exit code 2) (condition SUCCESS)"},
		{name: "COMPLETE never: never starts", cond: "COMPLETE", dep: []func(*ecs.ContainerDefinition){nonEssential},
			behavior: fake.Behavior{StartError: errors.New("no such file")}, reason: "dependency [dep] for target [app] because dependency will never start (condition COMPLETE)"},
		{name: "HEALTHY", cond: "HEALTHY", dep: []func(*ecs.ContainerDefinition){withHealthCheck},
			behavior: fake.Behavior{HealthAfter: short}, after: driver.EventHealthStatus},
		{name: "HEALTHY never: exits", cond: "HEALTHY", dep: []func(*ecs.ContainerDefinition){withHealthCheck, nonEssential},
			behavior: fake.Behavior{HealthAfter: time.Hour, ExitAfter: short}, reason: "dependency [dep] for target [app] as dependency stopped before it was healthy"},
		{name: "HEALTHY never: unhealthy", cond: "HEALTHY", dep: []func(*ecs.ContainerDefinition){withHealthCheck, nonEssential},
			behavior: fake.Behavior{Health: driver.HealthUnhealthy, HealthAfter: short}, reason: "dependency [dep] for target [app] as dependency is UNHEALTHY (condition HEALTHY)"},
		{name: "HEALTHY never: no health check", cond: "HEALTHY", dep: []func(*ecs.ContainerDefinition){nonEssential},
			reason: "dependency [dep] for target [app] as dependency has no health check"},
		{name: "HEALTHY never: startTimeout", cond: "HEALTHY",
			dep:      []func(*ecs.ContainerDefinition){withHealthCheck, func(c *ecs.ContainerDefinition) { c.StartTimeout = ptr(1) }},
			behavior: fake.Behavior{HealthAfter: time.Hour}, reason: "dependency [dep] for target [app] has timed out (condition HEALTHY, startTimeout 1s)", timeout: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFake()
			behaviors(d, map[string]fake.Behavior{"dep": tc.behavior})
			h := runHarness(t, d)
			task := newTask()
			td := taskDef("bridge", cdef("app", dependsOn("dep", tc.cond)), cdef("dep", tc.dep...))
			h.r.Apply(TaskSpec{Task: task, Definition: td})
			if tc.reason == "" {
				h.waitStatus(task.ARN, ecs.TaskRunning)
				depAt, appAt := -1, -1
				// The harness records events on its own goroutine: let it
				// catch up with the runner.
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && (depAt < 0 || appAt < 0); time.Sleep(time.Millisecond) {
					h.mu.Lock()
					evs := slices.Clone(h.events)
					h.mu.Unlock()
					depAt, appAt = -1, -1
					for i, ev := range evs {
						name := ev.Labels[driver.LabelContainerName]
						if name == "dep" && ev.Type == tc.after && depAt < 0 {
							depAt = i
						}
						if name == "app" && ev.Type == driver.EventStart && appAt < 0 {
							appAt = i
						}
					}
				}
				if depAt < 0 || appAt < 0 || appAt < depAt {
					t.Errorf("app started at event %d, dep's %s at %d; want app after", appAt, tc.after, depAt)
				}
				return
			}
			st := h.waitStatus(task.ARN, ecs.TaskStopped)
			app := container(st, "app")
			if st.StopCode != ecs.StopTaskFailedToStart || !strings.Contains(st.Reason, tc.reason) || !strings.HasPrefix(st.Reason, "CannotStartContainerError: ") {
				t.Errorf("task stopped with %q %q, want TaskFailedToStart and a reason about %q", st.StopCode, st.Reason, tc.reason)
			}
			if app.Reason != st.Reason || app.ExitCode != nil {
				t.Errorf("app = %+v", app)
			}
			if starts := h.eventsOf(driver.EventStart); slices.Contains(starts, "app") {
				t.Errorf("app was started: %v", starts)
			}
			if tc.timeout && st.StoppingAt.Sub(st.PullStoppedAt) < 900*time.Millisecond {
				t.Errorf("gave up after %v, before the 1s startTimeout", st.StoppingAt.Sub(st.PullStoppedAt))
			}
		})
	}
}

func TestHealth(t *testing.T) {
	d := newFake()
	behaviors(d, map[string]fake.Behavior{
		"web":     {HealthAfter: time.Hour},
		"sidecar": {Health: driver.HealthUnhealthy}, // non-essential: does not count
	})
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("web", withHealthCheck), cdef("sidecar", withHealthCheck, nonEssential), cdef("plain"))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	if run.HealthStatus != ecs.HealthUnknown {
		t.Errorf("health while starting = %s, want UNKNOWN", run.HealthStatus)
	}
	h.waitFor(task.ARN, "sidecar UNHEALTHY", func(c TaskChange) bool { return container(c, "sidecar").HealthStatus == ecs.HealthUnhealthy })
	web := container(run, "web").RuntimeID

	steps := []struct {
		set  driver.HealthStatus
		want string
	}{
		{driver.HealthHealthy, ecs.HealthHealthy},
		{driver.HealthUnhealthy, ecs.HealthUnhealthy},
		{driver.HealthHealthy, ecs.HealthHealthy},
	}
	for _, s := range steps {
		if err := d.SetHealth(web, s.set, ""); err != nil {
			t.Fatal(err)
		}
		got := h.waitFor(task.ARN, "task "+s.want, func(c TaskChange) bool { return c.HealthStatus == s.want })
		if c := container(got, "web").HealthStatus; c != s.want {
			t.Errorf("web health = %s, want %s", c, s.want)
		}
		if c := container(got, "plain").HealthStatus; c != ecs.HealthUnknown {
			t.Errorf("plain health = %s, want UNKNOWN", c)
		}
	}
	if got, _ := h.r.Task(task.ARN); got.LastStatus != ecs.TaskRunning {
		t.Errorf("an unhealthy task is only reported, not stopped; status = %s", got.LastStatus)
	}
}

func TestPullFailure(t *testing.T) {
	d := newFake()
	const msg = "pull access denied for nosuch, repository does not exist or may require 'docker login'"
	d.FailPull("nosuch:1", msg)
	h := runHarness(t, d)
	task := newTask()
	h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", func(c *ecs.ContainerDefinition) { c.Image = "nosuch:1" }), cdef("sidecar", nonEssential))})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	want := "CannotPullContainerError: " + msg
	if st.StopCode != ecs.StopTaskFailedToStart || st.Reason != want {
		t.Errorf("task = %q %q, want TaskFailedToStart %q", st.StopCode, st.Reason, want)
	}
	if app := container(st, "app"); app.Reason != want || app.RuntimeID != "" || app.LastStatus != ecs.ContainerStopped {
		t.Errorf("app = %+v", app)
	}
	if st.PullStartedAt.IsZero() || st.PullStoppedAt.IsZero() || !st.StartedAt.IsZero() {
		t.Errorf("timestamps = pull %v..%v started %v", st.PullStartedAt, st.PullStoppedAt, st.StartedAt)
	}
	checkMonotonic(t, h.history(task.ARN))
	h.waitGone(task.ARN)
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers left", n)
	}
}

func TestImagePullPolicy(t *testing.T) {
	const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1"
	const local = "localhost:4566/web:1"
	tests := []struct {
		name      string
		behavior  PullBehavior
		present   bool
		failPull  bool
		wantPulls int
		wantStop  bool
	}{
		{name: "prefer-cached, absent", behavior: PullPreferCached, wantPulls: 1},
		{name: "prefer-cached, present", behavior: PullPreferCached, present: true, wantPulls: 0},
		{name: "always, present", behavior: PullAlways, present: true, wantPulls: 1},
		{name: "always, failing, present", behavior: PullAlways, present: true, failPull: true, wantPulls: 1, wantStop: true},
		{name: "default, failing, present", behavior: PullDefault, present: true, failPull: true, wantPulls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFake()
			if tc.present {
				d.AddImage(local)
			}
			var mu sync.Mutex
			var pulls []string
			var auths []driver.RegistryAuth
			d.OnPull = func(ctx context.Context, ref string, auth driver.RegistryAuth) error {
				mu.Lock()
				defer mu.Unlock()
				pulls = append(pulls, ref)
				auths = append(auths, auth)
				if tc.failPull {
					return errors.New("registry unreachable")
				}
				return nil
			}
			h := runHarness(t, d, func(c *Config) {
				c.PullBehavior = tc.behavior
				c.ImageRewrite = func(image string) string {
					return strings.Replace(image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "localhost:4566", 1)
				}
				c.RegistryAuth = func(_ context.Context, _ *ecs.Task, image string) (driver.RegistryAuth, bool, error) {
					if strings.Contains(image, ".dkr.ecr.") {
						return driver.RegistryAuth{Username: "AWS", Password: "token", ServerAddress: "localhost:4566"}, true, nil
					}
					return driver.RegistryAuth{}, false, nil
				}
			})
			task := newTask()
			h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", func(c *ecs.ContainerDefinition) { c.Image = ecr }))})
			want := ecs.TaskRunning
			if tc.wantStop {
				want = ecs.TaskStopped
			}
			got := h.waitFor(task.ARN, want, func(c TaskChange) bool { return c.LastStatus == ecs.TaskRunning || c.LastStatus == ecs.TaskStopped })
			if got.LastStatus != want {
				t.Fatalf("status = %s (%s), want %s", got.LastStatus, got.Reason, want)
			}
			if tc.wantStop && got.Reason != "CannotPullContainerError: registry unreachable" {
				t.Errorf("reason = %q", got.Reason)
			}
			if img := container(got, "app").Image; img != local {
				t.Errorf("image = %s, want %s", img, local)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(pulls) != tc.wantPulls {
				t.Fatalf("pulls = %v, want %d", pulls, tc.wantPulls)
			}
			for i := range pulls {
				if pulls[i] != local || auths[i].Password != "token" {
					t.Errorf("pulled %s with %+v, want %s with the ECR token", pulls[i], auths[i], local)
				}
			}
		})
	}
}

// TestExecutionRoleFailures: registry auth that cannot be had (the
// execution role) stops the task even when the image is cached, and a log
// driver that cannot start stops it with ECS's words per launch type.
func TestExecutionRoleFailures(t *testing.T) {
	roleErr := fmt.Errorf("%w: ECS was unable to assume the role 'r'", ErrExecutionRole)
	t.Run("registry auth", func(t *testing.T) {
		d := newFake()
		d.AddImage("localhost:4566/web:1")
		h := runHarness(t, d, func(c *Config) {
			c.RegistryAuth = func(_ context.Context, _ *ecs.Task, image string) (driver.RegistryAuth, bool, error) {
				return driver.RegistryAuth{}, false, roleErr
			}
		})
		task := newTask()
		h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", func(c *ecs.ContainerDefinition) { c.Image = "localhost:4566/web:1" }))})
		st := h.waitStatus(task.ARN, ecs.TaskStopped)
		if want := "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ECS was unable to assume the role 'r'"; st.Reason != want {
			t.Errorf("reason = %q, want %q", st.Reason, want)
		}
	})
	for _, tc := range []struct {
		launchType string
		err        error
		want       string
	}{
		{"FARGATE", errors.New("failed to create Cloudwatch log stream: AccessDeniedException: no"),
			"ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: no : exit status 1"},
		{"EC2", errors.New("failed to create Cloudwatch log stream: AccessDeniedException: no"),
			"CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create Cloudwatch log stream: AccessDeniedException: no"},
		{"FARGATE", roleErr, "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ECS was unable to assume the role 'r'"},
	} {
		t.Run("log setup "+tc.launchType, func(t *testing.T) {
			d := newFake()
			h := runHarness(t, d, func(c *Config) {
				c.LogSetup = func(context.Context, *ecs.Task, string, *ecs.LogConfiguration) error { return tc.err }
			})
			task := newTask()
			task.LaunchType = tc.launchType
			h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("app", func(c *ecs.ContainerDefinition) {
				c.LogConfiguration = &ecs.LogConfiguration{LogDriver: "awslogs"}
			}))})
			if st := h.waitStatus(task.ARN, ecs.TaskStopped); st.Reason != tc.want {
				t.Errorf("reason = %q, want %q", st.Reason, tc.want)
			}
		})
	}
}

func TestStopOrderAndTimeouts(t *testing.T) {
	d := newFake()
	behaviors(d, map[string]fake.Behavior{"db": {IgnoreSIGTERM: true}})
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge",
		cdef("proxy", dependsOn("app", "START")),
		cdef("app", dependsOn("db", "START"), func(c *ecs.ContainerDefinition) { c.StopTimeout = ptr(5) }),
		cdef("db"),
		cdef("logger", nonEssential))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	h.waitStatus(task.ARN, ecs.TaskRunning)
	if starts := h.waitEvents(driver.EventStart, 4); slices.Index(starts, "db") > slices.Index(starts, "app") || slices.Index(starts, "app") > slices.Index(starts, "proxy") {
		t.Errorf("start order = %v, want db before app before proxy", starts)
	}

	h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopServiceSchedulerInitiated, "Scaling activity"), Definition: td})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	// The harness records events through its own subscription, which may
	// lag the runner's report: wait for all four.
	dies := h.waitEvents(driver.EventDie, 4)
	if slices.Index(dies, "proxy") > slices.Index(dies, "app") || slices.Index(dies, "app") > slices.Index(dies, "db") {
		t.Errorf("stop order = %v, want proxy before app before db", dies)
	}
	if got := exitCode(container(st, "db")); got != "137" {
		t.Errorf("db (ignores SIGTERM) exit code = %s, want 137", got)
	}
	timeouts := map[string]time.Duration{}
	for _, s := range d.stopCalls() {
		timeouts[s.name] = s.timeout
	}
	want := map[string]time.Duration{"proxy": 30 * time.Second, "app": 5 * time.Second, "db": 30 * time.Second, "logger": 30 * time.Second}
	for name, w := range want {
		if timeouts[name] != w {
			t.Errorf("%s stopped with timeout %v, want %v", name, timeouts[name], w)
		}
	}
}

func TestStopWhilePulling(t *testing.T) {
	d := newFake()
	pulling := make(chan struct{})
	d.OnPull = func(ctx context.Context, ref string, auth driver.RegistryAuth) error {
		close(pulling)
		<-ctx.Done()
		return ctx.Err()
	}
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("app", func(c *ecs.ContainerDefinition) { c.Image = "slow:1" }))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	<-pulling
	h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "bye"), Definition: td})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopUserInitiated || st.Reason != "bye" || container(st, "app").Reason != "" {
		t.Errorf("stopped task = %+v", st)
	}
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers created", n)
	}
}

func TestReapplyIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newFake()
		h := runHarness(t, d)
		task := newTask()
		td := taskDef("awsvpc", cdef("a"), cdef("b", dependsOn("a", "START")))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { h.r.Apply(TaskSpec{Task: task, Definition: td}) })
		}
		wg.Wait()
		h.waitStatus(task.ARN, ecs.TaskRunning)
		for range 5 {
			h.r.Apply(TaskSpec{Task: task, Definition: td})
		}
		synctest.Wait() // the runner has handled the Applies

		if n := containerCount(t, d, task.ARN); n != 2 {
			t.Errorf("%d containers, want 2", n)
		}
		if starts := h.eventsOf(driver.EventStart); len(starts) != 2 {
			t.Errorf("start events = %v, want one per container", starts)
		}
		if nets, _ := d.ListTaskNetworks(context.Background(), nil); len(nets) != 1 {
			t.Errorf("%d task networks, want 1", len(nets))
		}

		// A stopped task is never started again, whatever is applied.
		h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, ""), Definition: td})
		h.waitGone(task.ARN)
		h.r.Apply(TaskSpec{Task: task, Definition: td})
		synctest.Wait()
		if got, _ := h.r.Task(task.ARN); got.LastStatus != ecs.TaskStopped {
			t.Errorf("re-applied stopped task is %s", got.LastStatus)
		}
		if n := containerCount(t, d, task.ARN); n != 0 {
			t.Errorf("%d containers after re-applying a stopped task", n)
		}
	})
}

func TestAdoptAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newFake()
		h1 := runHarness(t, d)
		task := newTask()
		td := taskDef("awsvpc",
			cdef("web", dependsOn("db", "START")),
			cdef("db", func(c *ecs.ContainerDefinition) { c.StopTimeout = ptr(7) }),
			cdef("init", nonEssential), // will have exited before the restart
		)
		behaviors(d, map[string]fake.Behavior{"init": {ExitAfter: time.Millisecond}})
		h1.r.Apply(TaskSpec{Task: task, Definition: td})
		before := h1.waitFor(task.ARN, "RUNNING with init exited", func(c TaskChange) bool {
			return c.LastStatus == ecs.TaskRunning && container(c, "init").LastStatus == ecs.ContainerStopped
		})
		h1.stop() // the agent goes away; its containers stay

		total, running := d.Count()
		r2, h2 := newRunner(t, d)
		adopted, err := r2.Adopt(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(adopted) != 1 {
			t.Fatalf("adopted %d tasks, want 1", len(adopted))
		}
		a := adopted[0]
		if a.TaskARN != task.ARN || a.LastStatus != ecs.TaskRunning || a.PrivateIPv4 != before.PrivateIPv4 {
			t.Errorf("adopted = %+v", a)
		}
		for _, name := range []string{"web", "db", "init"} {
			if got, want := container(a, name), container(before, name); got.RuntimeID != want.RuntimeID || got.LastStatus != want.LastStatus || exitCode(got) != exitCode(want) {
				t.Errorf("adopted %s = %+v, want %+v", name, got, want)
			}
		}
		h2.start()
		h2.r.Apply(TaskSpec{Task: task, Definition: td})
		h2.r.Apply(TaskSpec{Task: task, Definition: td})
		synctest.Wait()
		if got, _ := r2.Task(task.ARN); got.LastStatus != ecs.TaskRunning {
			t.Errorf("after re-apply: %s", got.LastStatus)
		}
		if t2, r2n := d.Count(); t2 != total || r2n != running {
			t.Errorf("containers %d (%d running), want %d (%d running): duplicates?", t2, r2n, total, running)
		}
		if starts := h2.eventsOf(driver.EventStart); len(starts) != 0 {
			t.Errorf("containers started after adoption: %v", starts)
		}
		if len(h2.history(task.ARN)) != 0 {
			t.Errorf("OnChange called without a change: %+v", h2.history(task.ARN))
		}

		h2.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, ""), Definition: td})
		h2.waitGone(task.ARN)
		if total, _ := d.Count(); total != 0 {
			t.Errorf("%d containers left", total)
		}
	})
}

func TestApplyAfterRestartWithoutAdopt(t *testing.T) {
	d := newFake()
	h1 := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("web"))
	h1.r.Apply(TaskSpec{Task: task, Definition: td})
	before := h1.waitStatus(task.ARN, ecs.TaskRunning)
	h1.stop()

	h2 := runHarness(t, d)
	h2.r.Apply(TaskSpec{Task: task, Definition: td})
	after := h2.waitStatus(task.ARN, ecs.TaskRunning)
	if container(after, "web").RuntimeID != container(before, "web").RuntimeID {
		t.Errorf("runtime ID changed: %s → %s", container(before, "web").RuntimeID, container(after, "web").RuntimeID)
	}
	if total, _ := d.Count(); total != 1 {
		t.Errorf("%d containers, want 1", total)
	}
	if starts := h2.eventsOf(driver.EventStart); len(starts) != 0 {
		t.Errorf("started again: %v", starts)
	}
}

func TestAdoptOrphans(t *testing.T) {
	d := newFake()
	h1 := runHarness(t, d)
	orphan, kept, exits := newTask(), newTask(), newTask()
	td := taskDef("awsvpc", cdef("web", dependsOn("db", "START")), cdef("db"))
	for _, task := range []*ecs.Task{orphan, kept, exits} {
		h1.r.Apply(TaskSpec{Task: task, Definition: td})
		h1.waitStatus(task.ARN, ecs.TaskRunning)
	}
	h1.stop()

	// Another instance's container is none of this runner's business.
	other := runHarness(t, d, func(c *Config) { c.InstanceARN = "other" })
	foreign := newTask()
	other.r.Apply(TaskSpec{Task: foreign, Definition: taskDef("bridge", cdef("x"))})
	other.waitStatus(foreign.ARN, ecs.TaskRunning)

	r2, h2 := newRunner(t, d, func(c *Config) { c.OrphanGrace = 200 * time.Millisecond })
	adopted, err := r2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 3 {
		t.Fatalf("adopted %d tasks, want 3: %+v", len(adopted), adopted)
	}
	h2.start()
	h2.r.Apply(TaskSpec{Task: kept, Definition: td})

	// An essential container of an adopted task exits before its spec
	// comes back: the task stops, dependents first.
	web := container(adopted[slices.IndexFunc(adopted, func(c TaskChange) bool { return c.TaskARN == exits.ARN })], "db").RuntimeID
	if err := d.Exit(web, 9); err != nil {
		t.Fatal(err)
	}
	st := h2.waitStatus(exits.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopEssentialContainerExited || exitCode(container(st, "db")) != "9" {
		t.Errorf("exited adopted task = %+v", st)
	}

	o := h2.waitStatus(orphan.ARN, ecs.TaskStopped)
	if o.Reason != ReasonOrphan {
		t.Errorf("orphan reason = %q", o.Reason)
	}
	h2.waitGone(orphan.ARN)
	if n := containerCount(t, d, orphan.ARN); n != 0 {
		t.Errorf("orphan has %d containers left", n)
	}
	if nets, _ := d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: orphan.ARN}); len(nets) != 0 {
		t.Errorf("orphan's task network left: %+v", nets)
	}
	if got, _ := r2.Task(kept.ARN); got.LastStatus != ecs.TaskRunning {
		t.Errorf("re-applied task is %s", got.LastStatus)
	}
	if n := containerCount(t, d, foreign.ARN); n != 1 {
		t.Errorf("foreign task has %d containers", n)
	}
	if _, ok := r2.Task(foreign.ARN); ok {
		t.Error("foreign task adopted")
	}
}

func TestContainerRemovedOutside(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	task := newTask()
	h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("web"))})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	if err := d.RemoveContainer(context.Background(), container(run, "web").RuntimeID); err != nil {
		t.Fatal(err)
	}
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopEssentialContainerExited || exitCode(container(st, "web")) != "137" {
		t.Errorf("task = %+v", st)
	}
}

func TestVolumesAndSecrets(t *testing.T) {
	d := newFake()
	var mu sync.Mutex
	envs := map[string]map[string]string{}
	d.OnStart = func(id string, spec driver.ContainerSpec) fake.Behavior {
		mu.Lock()
		envs[spec.Labels[driver.LabelContainerName]] = spec.Env
		mu.Unlock()
		return fake.Behavior{}
	}
	h := runHarness(t, d, func(c *Config) {
		c.Secrets = func(ctx context.Context, task *ecs.Task, container string, secrets []ecs.Secret) (map[string]string, error) {
			out := map[string]string{}
			for _, s := range secrets {
				if s.ValueFrom == "bad" {
					return nil, errors.New("secret not found")
				}
				out[s.Name] = "resolved:" + s.ValueFrom
			}
			return out, nil
		}
	})
	task := newTask()
	td := taskDef("bridge",
		cdef("web", func(c *ecs.ContainerDefinition) {
			c.MountPoints = []ecs.MountPoint{{SourceVolume: "scratch", ContainerPath: "/scratch"}, {SourceVolume: "cache", ContainerPath: "/cache"}}
			c.Secrets = []ecs.Secret{{Name: "DB_PASSWORD", ValueFrom: "arn:secret"}}
		}))
	td.Volumes = []ecs.Volume{
		{Name: "scratch", Host: &ecs.HostVolumeProperties{}},
		{Name: "cache", DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{Scope: "shared"}},
	}
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	h.waitStatus(task.ARN, ecs.TaskRunning)
	mu.Lock()
	if got := envs["web"]["DB_PASSWORD"]; got != "resolved:arn:secret" {
		t.Errorf("DB_PASSWORD = %q", got)
	}
	mu.Unlock()
	scratch := TaskVolumeName("app", 3, "scratch", task.ID)
	if !d.VolumeExists(scratch) || !d.VolumeExists("cache") {
		t.Errorf("volumes not created: scratch %v cache %v", d.VolumeExists(scratch), d.VolumeExists("cache"))
	}
	h.r.Apply(TaskSpec{Task: stopped(task, "", ""), Definition: td})
	h.waitGone(task.ARN)
	if d.VolumeExists(scratch) {
		t.Error("task-scoped volume left after cleanup")
	}
	if !d.VolumeExists("cache") {
		t.Error("shared volume removed")
	}

	// A secret that cannot be resolved fails the task.
	bad := newTask()
	td2 := taskDef("bridge", cdef("web", func(c *ecs.ContainerDefinition) { c.Secrets = []ecs.Secret{{Name: "X", ValueFrom: "bad"}} }))
	h.r.Apply(TaskSpec{Task: bad, Definition: td2})
	st := h.waitStatus(bad.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopTaskFailedToStart || st.Reason != "ResourceInitializationError: unable to pull secrets or registry auth: secret not found" {
		t.Errorf("task = %q %q", st.StopCode, st.Reason)
	}
}

func TestCleanupRetention(t *testing.T) {
	d := newFake()
	h := runHarness(t, d, func(c *Config) { c.CleanupAfter = 300 * time.Millisecond })
	task := newTask()
	td := taskDef("bridge", cdef("web"))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	h.waitStatus(task.ARN, ecs.TaskRunning)
	h.r.Apply(TaskSpec{Task: stopped(task, "", ""), Definition: td})
	stoppedAt := time.Now()
	h.waitStatus(task.ARN, ecs.TaskStopped)
	if n := containerCount(t, d, task.ARN); n != 1 {
		t.Errorf("%d containers right after STOPPED, want 1 kept for inspection", n)
	}
	h.waitGone(task.ARN)
	if since := time.Since(stoppedAt); since < 250*time.Millisecond {
		t.Errorf("cleaned up after %v, want ≥ 300ms", since)
	}
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers after cleanup", n)
	}
}

func TestApplyBeforeRunAndInvalidSpecs(t *testing.T) {
	d := newFake()
	r, h := newRunner(t, d)
	task := newTask()
	r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("web"))})
	noDef := newTask()
	r.Apply(TaskSpec{Task: noDef})
	r.Apply(TaskSpec{}) // ignored
	h.start()
	h.waitStatus(task.ARN, ecs.TaskRunning)
	st := h.waitStatus(noDef.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopTaskFailedToStart || !strings.HasPrefix(st.Reason, "ResourceInitializationError") {
		t.Errorf("task without definition = %q %q", st.StopCode, st.Reason)
	}
	if err := r.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run = %v", err)
	}
	if n := len(r.Tasks()); n != 2 {
		t.Errorf("Tasks() has %d tasks, want 2", n)
	}
}

func TestManyTasks(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	td := taskDef("awsvpc", cdef("a"), cdef("b", dependsOn("a", "START")))
	var tasks []*ecs.Task
	for range 200 {
		task := newTask()
		tasks = append(tasks, task)
		h.r.Apply(TaskSpec{Task: task, Definition: td})
	}
	for _, task := range tasks {
		h.waitStatus(task.ARN, ecs.TaskRunning)
	}
	if total, running := d.Count(); total != 400 || running != 400 {
		t.Errorf("containers %d/%d, want 400 running", running, total)
	}
	for _, task := range tasks {
		h.r.Apply(TaskSpec{Task: stopped(task, "", ""), Definition: td})
	}
	for _, task := range tasks {
		h.waitGone(task.ARN)
	}
	if total, _ := d.Count(); total != 0 {
		t.Errorf("%d containers left", total)
	}
}

func TestAdoptStoppedTask(t *testing.T) {
	d := newFake()
	behaviors(d, map[string]fake.Behavior{"web": {ExitAfter: time.Millisecond, ExitCode: 4}})
	h1 := runHarness(t, d, func(c *Config) { c.CleanupAfter = time.Hour })
	task := newTask()
	h1.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("web"))})
	h1.waitStatus(task.ARN, ecs.TaskStopped)
	h1.stop()

	r2, h2 := newRunner(t, d, func(c *Config) { c.CleanupAfter = 100 * time.Millisecond })
	adopted, err := r2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 1 || adopted[0].LastStatus != ecs.TaskStopped || adopted[0].StopCode != ecs.StopEssentialContainerExited ||
		exitCode(container(adopted[0], "web")) != "4" {
		t.Fatalf("adopted = %+v", adopted)
	}
	h2.start()
	h2.waitGone(task.ARN)
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers left", n)
	}
	checkMonotonic(t, h2.history(task.ARN))
}

func TestApplyCopiesTheSpec(t *testing.T) {
	d := newFake()
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("bridge", cdef("web"))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	// The agent keeps using its objects; the runner must not share them.
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			task.LastStatus = ecs.TaskRunning
			task.Overrides.ContainerOverrides = append(task.Overrides.ContainerOverrides[:0], ecs.ContainerOverride{Name: "web"})
			td.ContainerDefinitions[0].Command = []string{"changed"}
		}
	})
	h.waitStatus(task.ARN, ecs.TaskRunning)
	wg.Wait()
}

// deafDriver's first event stream delivers nothing, as if events were lost,
// until the test closes it.
type deafDriver struct {
	*recDriver
	mu    sync.Mutex
	calls int
	first chan driver.ContainerEvent
}

func (d *deafDriver) WaitEvents(ctx context.Context) (<-chan driver.ContainerEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.calls == 1 {
		return d.first, nil
	}
	return d.recDriver.WaitEvents(ctx)
}

func TestLostEvents(t *testing.T) {
	for _, mode := range []string{"stream ends", "periodic resync"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := &deafDriver{recDriver: newFake(), first: make(chan driver.ContainerEvent)}
				r, _ := newRunner(t, d, func(c *Config) {
					if mode == "periodic resync" {
						c.ResyncInterval = 100 * time.Millisecond
					}
				})
				h := &harness{t: t, d: d.recDriver, r: r, changes: map[string][]TaskChange{}}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- r.Run(ctx) }()
				defer func() { cancel(); <-done }()

				task := newTask()
				r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", cdef("web"))})
				run := h.waitStatus(task.ARN, ecs.TaskRunning)
				if err := d.Exit(container(run, "web").RuntimeID, 5); err != nil {
					t.Fatal(err)
				}
				// Half a resync interval of fake time, then until the
				// runner is idle: it must not have seen the exit.
				time.Sleep(50 * time.Millisecond)
				synctest.Wait()
				if got, _ := r.Task(task.ARN); got.LastStatus != ecs.TaskRunning {
					t.Fatalf("the exit was seen without its event: %s", got.LastStatus)
				}
				if mode == "stream ends" {
					close(d.first)
				}
				st := h.waitStatus(task.ARN, ecs.TaskStopped)
				if exitCode(container(st, "web")) != "5" || st.StopCode != ecs.StopEssentialContainerExited {
					t.Errorf("task = %+v", st)
				}
			})
		})
	}
}

func TestStopUnknownTaskFindsItsContainers(t *testing.T) {
	d := newFake()
	h1 := runHarness(t, d)
	task := newTask()
	td := taskDef("awsvpc", cdef("web"))
	h1.r.Apply(TaskSpec{Task: task, Definition: td})
	h1.waitStatus(task.ARN, ecs.TaskRunning)
	h1.stop()

	// A new runner, without Adopt, is told to stop a task it never saw.
	h2 := runHarness(t, d)
	h2.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "")})
	st := h2.waitStatus(task.ARN, ecs.TaskStopped)
	if exitCode(container(st, "web")) != "0" {
		t.Errorf("task = %+v", st)
	}
	h2.waitGone(task.ARN)
	if total, _ := d.Count(); total != 0 {
		t.Errorf("%d containers left", total)
	}
	if nets, _ := d.ListTaskNetworks(context.Background(), nil); len(nets) != 0 {
		t.Errorf("task networks left: %+v", nets)
	}
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, d *recDriver, task *ecs.Task)
		wantStatus string
		wantReason string // prefix of the failed container's reason
	}{
		{
			name: "create conflict",
			setup: func(t *testing.T, d *recDriver, task *ecs.Task) {
				_, err := d.CreateContainer(context.Background(), driver.ContainerSpec{
					Name: ContainerName("app", 3, "app", task.ID), Image: testImage, Labels: map[string]string{"someone": "else"},
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: ecs.TaskStopped, wantReason: "CannotCreateContainerError: ",
		},
		{
			name: "start error",
			setup: func(t *testing.T, d *recDriver, task *ecs.Task) {
				behaviors(d, map[string]fake.Behavior{"app": {StartError: errors.New(`exec: "nope": executable file not found in $PATH`)}})
			},
			wantStatus: ecs.TaskStopped, wantReason: "CannotStartContainerError: ",
		},
		{
			name:       "non-essential pull failure",
			setup:      func(t *testing.T, d *recDriver, task *ecs.Task) { d.FailPull("side:1", "manifest unknown") },
			wantStatus: ecs.TaskRunning, wantReason: "CannotPullContainerError: manifest unknown",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFake()
			task := newTask()
			tc.setup(t, d, task)
			h := runHarness(t, d)
			failed := "app"
			td := taskDef("bridge", cdef("app"))
			if tc.wantStatus == ecs.TaskRunning {
				failed = "side"
				td = taskDef("bridge", cdef("app"), cdef("side", nonEssential, func(c *ecs.ContainerDefinition) { c.Image = "side:1" }))
			}
			h.r.Apply(TaskSpec{Task: task, Definition: td})
			got := h.waitFor(task.ARN, "failure", func(c TaskChange) bool { return container(c, failed).LastStatus == ecs.ContainerStopped })
			got = h.waitFor(task.ARN, tc.wantStatus, func(c TaskChange) bool { return c.LastStatus == tc.wantStatus })
			c := container(got, failed)
			if !strings.HasPrefix(c.Reason, tc.wantReason) || c.ExitCode != nil {
				t.Errorf("%s = %+v, want reason %q", failed, c, tc.wantReason)
			}
			if tc.wantStatus == ecs.TaskStopped && (got.StopCode != ecs.StopTaskFailedToStart || got.Reason != c.Reason) {
				t.Errorf("task = %q %q", got.StopCode, got.Reason)
			}
		})
	}
}
