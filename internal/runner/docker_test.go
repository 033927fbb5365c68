package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/ecs"
)

// dockerRunner returns a Docker driver (skipping the test without Docker,
// failing it in CI) and a config scoped to a fresh instance ARN, whose
// leftovers are removed when the test ends.
func dockerRunner(t *testing.T, mods ...func(*docker.Options)) (*docker.Driver, string, func(*Config)) {
	t.Helper()
	d := dockertest.New(t, mods...)
	image := dockertest.Busybox(t, d)
	instance := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:container-instance/test/%s-%d", dockerName(t.Name()), time.Now().UnixNano())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sel := map[string]string{driver.LabelInstance: instance}
		states, _ := d.ListContainers(ctx, sel)
		for _, st := range states {
			_ = d.RemoveContainer(ctx, st.ID)
		}
		for _, st := range states {
			_ = d.RemoveTaskResources(ctx, TaskResourcesID(ecs.TaskIDFromARN(st.Labels[driver.LabelTaskARN])))
		}
		nets, _ := d.ListTaskNetworks(ctx, sel)
		for _, n := range nets {
			_ = d.RemoveTaskNetwork(ctx, n.ID)
		}
	})
	return d, image, func(c *Config) {
		c.Logger = dockertest.Logger(t)
		c.InstanceARN = instance
	}
}

// seedDefinition loads testdata/seed/task-def.json and makes it run busybox
// httpd on 8080 with a /health file, a busybox health check every second,
// and init so that SIGTERM stops httpd.
func seedDefinition(t *testing.T, image string) *ecs.TaskDefinition {
	t.Helper()
	b, err := os.ReadFile("../../testdata/seed/task-def.json")
	if err != nil {
		t.Fatal(err)
	}
	var td ecs.TaskDefinition
	if err := json.Unmarshal(b, &td); err != nil {
		t.Fatal(err)
	}
	if err := ecs.PrepareTaskDefinition(&td); err != nil {
		t.Fatalf("seed task definition: %v", err)
	}
	td.Revision = 1
	c := &td.ContainerDefinitions[0]
	c.Image = image
	c.EntryPoint = []string{"sh", "-c"}
	c.Command = []string{`mkdir -p /www && echo ok > /www/health && echo "$ENV $DB_PASSWORD" > /www/env && exec httpd -f -p 8080 -h /www`}
	c.HealthCheck.Command = []string{"CMD-SHELL", "wget -q -O- http://localhost:8080/health || exit 1"}
	c.HealthCheck.Interval, c.HealthCheck.Timeout, c.HealthCheck.Retries = ptr(1), ptr(2), ptr(3)
	c.LinuxParameters = &ecs.LinuxParameters{InitProcessEnabled: ptr(true)}
	return &td
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for range 20 {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

func TestDockerSeedTask(t *testing.T) {
	d, image, scope := dockerRunner(t)
	td := seedDefinition(t, image)
	secrets := func(c *Config) {
		c.Secrets = func(ctx context.Context, task *ecs.Task, container string, secrets []ecs.Secret) (map[string]string, error) {
			return map[string]string{"DB_PASSWORD": "s3cr3t"}, nil
		}
	}
	h := runHarness(t, d, scope, secrets)
	task := newTask()
	task.Overrides.ContainerOverrides = []ecs.ContainerOverride{{Name: "web", Environment: []ecs.KeyValuePair{{Name: "ENV", Value: "staging"}}}}
	spec := TaskSpec{Task: task, Definition: td}
	h.r.Apply(spec)

	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	healthy := h.waitFor(task.ARN, "HEALTHY", func(c TaskChange) bool { return c.HealthStatus == ecs.HealthHealthy })
	t.Logf("RUNNING after %v, HEALTHY after %v", run.StartedAt.Sub(run.PullStartedAt), time.Since(run.PullStartedAt))
	web := container(healthy, "web")
	if healthy.PrivateIPv4 == "" || web.HealthStatus != ecs.HealthHealthy || web.RuntimeID == "" {
		t.Fatalf("task = %+v", healthy)
	}
	if got := httpGet(t, "http://"+healthy.PrivateIPv4+":8080/health"); got != "ok\n" {
		t.Errorf("GET task IP /health = %q", got)
	}
	if got := httpGet(t, "http://"+healthy.PrivateIPv4+":8080/env"); got != "staging s3cr3t\n" {
		t.Errorf("GET /env = %q, want the override and the secret", got)
	}
	// As on ECS, an awsvpc task's ports are reached at its address; the
	// Docker driver publishes them on 127.0.0.1 only where it cannot plumb
	// the task's network itself.
	if len(web.NetworkBindings) > 1 || len(web.NetworkBindings) == 1 && web.NetworkBindings[0].BindIP != "127.0.0.1" {
		t.Fatalf("bindings = %+v; want none, or one on 127.0.0.1", web.NetworkBindings)
	}
	if os.Geteuid() == 0 && len(web.NetworkBindings) != 0 {
		t.Errorf("bindings = %+v; want none (berth plumbs the task's network as root)", web.NetworkBindings)
	}
	for _, b := range web.NetworkBindings {
		if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", b.HostPort)); got != "ok\n" {
			t.Errorf("GET published port /health = %q", got)
		}
	}

	// The agent restarts: a new runner adopts the task without duplicates.
	h.stop()
	r2, h2 := newRunner(t, d, scope, secrets)
	adopted, err := r2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 1 || adopted[0].LastStatus != ecs.TaskRunning || adopted[0].HealthStatus != ecs.HealthHealthy ||
		container(adopted[0], "web").RuntimeID != web.RuntimeID || adopted[0].PrivateIPv4 != healthy.PrivateIPv4 {
		t.Fatalf("adopted = %+v", adopted)
	}
	h2.start()
	h2.r.Apply(spec)
	h2.waitIdle(task.ARN) // whatever the runner does for the Apply is done
	states, _ := d.ListContainers(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	nets, _ := d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	if len(states) != 1 || states[0].ID != web.RuntimeID || states[0].Status != driver.StatusRunning || len(nets) != 1 {
		t.Fatalf("after re-adoption: %d containers, %d task networks", len(states), len(nets))
	}
	if got := httpGet(t, "http://"+healthy.PrivateIPv4+":8080/health"); got != "ok\n" {
		t.Errorf("GET task IP /health after re-adoption = %q", got)
	}

	stopAt := time.Now()
	h2.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, "Task stopped by user"), Definition: td})
	st := h2.waitStatus(task.ARN, ecs.TaskStopped)
	t.Logf("STOPPED after %v", time.Since(stopAt))
	if w := container(st, "web"); w.ExitCode == nil || *w.ExitCode != 143 {
		t.Errorf("web exit code = %s, want 143 (SIGTERM through init)", exitCode(w))
	}
	if st.StopCode != ecs.StopUserInitiated || st.ExecutionStoppedAt.IsZero() {
		t.Errorf("stopped task = %+v", st)
	}
	h2.waitGone(task.ARN)
	states, _ = d.ListContainers(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	nets, _ = d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	if len(states) != 0 || len(nets) != 0 {
		t.Errorf("left after cleanup: %d containers, %d task networks", len(states), len(nets))
	}
	if left := taskCgroupDirs(t, d, task.ID); len(left) > 0 {
		t.Errorf("task cgroup left after cleanup: %v", left)
	}
	checkMonotonic(t, append(h.history(task.ARN), h2.history(task.ARN)...))
}

func TestDockerOutOfMemory(t *testing.T) {
	d, image, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	task := newTask()
	td := taskDef("bridge", ecs.ContainerDefinition{
		Name: "hog", Image: image, Memory: ptr(16),
		Command: []string{"sh", "-c", "tail /dev/zero"},
	})
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	hog := container(st, "hog")
	if !strings.Contains(hog.Reason, "OutOfMemory") || exitCode(hog) != "137" {
		t.Errorf("hog = %s %q, want 137 and an OutOfMemoryError", exitCode(hog), hog.Reason)
	}
	if st.StopCode != ecs.StopEssentialContainerExited || st.Reason != ecs.EssentialContainerExitedReason {
		t.Errorf("task = %q %q", st.StopCode, st.Reason)
	}
	h.waitGone(task.ARN)
}

// taskCgroupDirs returns the directories of task id's cgroup on the host,
// in every hierarchy (none if the driver uses no task cgroups).
func taskCgroupDirs(t *testing.T, d *docker.Driver, id string) []string {
	t.Helper()
	parent, err := d.TaskCgroupParent(context.Background(), TaskResourcesID(id))
	if err != nil {
		t.Fatal(err)
	}
	if parent == "" {
		return nil
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
	if v2, _ := filepath.Glob("/sys/fs/cgroup" + parent); len(v2) > 0 {
		dirs = append(dirs, v2...)
	}
	return dirs
}

// cgroupFile reads a file of task id's cgroup in the hierarchy of
// controller (cgroup v1; "" for v2).
func cgroupFile(t *testing.T, d *docker.Driver, id, controller, name string) string {
	t.Helper()
	for _, dir := range taskCgroupDirs(t, d, id) {
		hier := filepath.Base(strings.TrimSuffix(dir, "/berth/"+TaskResourcesID(id)))
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil || slices.Contains(strings.Split(hier, ","), controller) {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
	}
	t.Fatalf("no %s in the %s cgroup of task %s", name, controller, id)
	return ""
}

// TestDockerTaskLimits: the task-level memory and cpu (no container-level
// limits) bound the task as a whole: a hog is OOM-killed and stops the task
// as ECS reports it, a task within its size keeps running, and the task
// cgroup (64 MiB, 50ms per 100ms for 512 units) goes with the task.
func TestDockerTaskLimits(t *testing.T) {
	d, image, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	def := func(cmd string) *ecs.TaskDefinition {
		td := taskDef("bridge", ecs.ContainerDefinition{Name: "app", Image: image, Command: []string{"sh", "-c", cmd}, StopTimeout: ptr(1)})
		td.CPU, td.Memory = "512", "64"
		return td
	}
	hogTask, okTask := newTask(), newTask()
	okDef := def("x=$(head -c 8000000 /dev/zero | tr '\\0' a); echo allocated ${#x}; while :; do sleep 1; done")
	h.r.Apply(TaskSpec{Task: hogTask, Definition: def("tail /dev/zero")})
	h.r.Apply(TaskSpec{Task: okTask, Definition: okDef})

	st := h.waitFor(hogTask.ARN, "STOPPED", func(c TaskChange) bool { return c.LastStatus == ecs.TaskStopped })
	hog := container(st, "app")
	if hog.Reason != ReasonOutOfMemory || exitCode(hog) != "137" {
		t.Errorf("hog = %s %q; want 137, %q", exitCode(hog), hog.Reason, ReasonOutOfMemory)
	}
	if st.StopCode != ecs.StopEssentialContainerExited || st.Reason != ecs.EssentialContainerExitedReason {
		t.Errorf("hog task = %q %q", st.StopCode, st.Reason)
	}

	run := h.waitStatus(okTask.ARN, ecs.TaskRunning)
	waitOutput(t, d, container(run, "app").RuntimeID, "allocated 8000000") // it holds its 8 MB
	if got, _ := h.r.Task(okTask.ARN); got.LastStatus != ecs.TaskRunning {
		t.Fatalf("task within its size: %+v", got)
	}
	ins, err := d.Client().ContainerInspect(context.Background(), container(run, "app").RuntimeID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := d.TaskCgroupParent(context.Background(), okTask.ID)
	hc := ins.Container.HostConfig
	if parent == "" {
		t.Logf("no task cgroups here: per-container fallback")
		if hc.Memory != 64<<20 || hc.NanoCPUs == 0 {
			t.Errorf("fallback limits: memory %d, nanoCPUs %d", hc.Memory, hc.NanoCPUs)
		}
	} else {
		if hc.CgroupParent != parent || hc.Memory != 0 {
			t.Errorf("HostConfig: CgroupParent %q Memory %d; want %q, 0", hc.CgroupParent, hc.Memory, parent)
		}
		if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			if got := cgroupFile(t, d, okTask.ID, "", "memory.max"); got != "67108864" {
				t.Errorf("memory.max = %s", got)
			}
			if got := cgroupFile(t, d, okTask.ID, "", "cpu.max"); got != "50000 100000" {
				t.Errorf("cpu.max = %s", got)
			}
		} else {
			if got := cgroupFile(t, d, okTask.ID, "memory", "memory.limit_in_bytes"); got != "67108864" {
				t.Errorf("memory.limit_in_bytes = %s; want 67108864", got)
			}
			if got := cgroupFile(t, d, okTask.ID, "memory", "memory.usage_in_bytes"); len(got) < 7 {
				t.Errorf("memory.usage_in_bytes = %s; want the task's 8 MB charged", got)
			}
			q, p := cgroupFile(t, d, okTask.ID, "cpu", "cpu.cfs_quota_us"), cgroupFile(t, d, okTask.ID, "cpu", "cpu.cfs_period_us")
			if q != "50000" || p != "100000" {
				t.Errorf("cpu quota/period = %s/%s; want 50000/100000", q, p)
			}
		}
	}

	h.r.Apply(TaskSpec{Task: stopped(okTask, ecs.StopUserInitiated, ""), Definition: okDef})
	h.waitGone(okTask.ARN)
	h.waitGone(hogTask.ARN)
	for _, task := range []*ecs.Task{hogTask, okTask} {
		if left := taskCgroupDirs(t, d, task.ID); len(left) > 0 {
			t.Errorf("task cgroup left after cleanup: %v", left)
		}
	}
}

// TestDockerTaskLimitsFallback: without task cgroups, each container gets
// the task's limits, and an OOM kill still stops the task as ECS says.
func TestDockerTaskLimitsFallback(t *testing.T) {
	d, image, scope := dockerRunner(t, func(o *docker.Options) { o.NoTaskCgroups = true })
	h := runHarness(t, d, scope)
	task := newTask()
	td := taskDef("bridge",
		ecs.ContainerDefinition{Name: "side", Image: image, Essential: ptr(false), Command: []string{"sleep", "600"}, StopTimeout: ptr(1)},
		ecs.ContainerDefinition{Name: "hog", Image: image, Command: []string{"sh", "-c", "sleep 1; tail /dev/zero"},
			DependsOn: []ecs.ContainerDependency{{ContainerName: "side", Condition: "START"}}},
	)
	td.CPU, td.Memory = "256", "32"
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	ins, err := d.Client().ContainerInspect(context.Background(), container(run, "side").RuntimeID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := ins.Container.HostConfig; hc.CgroupParent != "" || hc.Memory != 32<<20 || hc.NanoCPUs != 25e7 {
		t.Errorf("side: CgroupParent %q, Memory %d, NanoCPUs %d; want \"\", 32 MiB, 0.25 CPU", hc.CgroupParent, hc.Memory, hc.NanoCPUs)
	}
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if hog := container(st, "hog"); hog.Reason != ReasonOutOfMemory || exitCode(hog) != "137" {
		t.Errorf("hog = %s %q", exitCode(hog), hog.Reason)
	}
	if st.StopCode != ecs.StopEssentialContainerExited || st.Reason != ecs.EssentialContainerExitedReason {
		t.Errorf("task = %q %q", st.StopCode, st.Reason)
	}
	h.waitGone(task.ARN)
}

// TestDockerRestartPolicy: a container that ran for its (here 1s)
// restartAttemptPeriod is restarted in place, the same Docker container,
// and its task keeps running until it is stopped, after which nothing
// restarts; a container that exits sooner is not restarted.
func TestDockerRestartPolicy(t *testing.T) {
	d, image, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	initOn := &ecs.LinuxParameters{InitProcessEnabled: ptr(true)}
	flappy, early := newTask(), newTask()
	flappyDef := taskDef("bridge", ecs.ContainerDefinition{
		Name: "app", Image: image, Memory: ptr(32), Command: []string{"sh", "-c", "sleep 1.5; exit 3"},
		LinuxParameters: initOn, RestartPolicy: &ecs.RestartPolicy{Enabled: true, RestartAttemptPeriod: ptr(1)},
	})
	h.r.Apply(TaskSpec{Task: flappy, Definition: flappyDef})
	h.r.Apply(TaskSpec{Task: early, Definition: taskDef("bridge", ecs.ContainerDefinition{
		Name: "app", Image: image, Memory: ptr(32), Command: []string{"sh", "-c", "sleep 0.2; exit 5"},
		LinuxParameters: initOn, RestartPolicy: &ecs.RestartPolicy{Enabled: true, RestartAttemptPeriod: ptr(60)},
	})})

	st := h.waitStatus(early.ARN, ecs.TaskStopped)
	if app := container(st, "app"); exitCode(app) != "5" || app.RestartCount != 0 || st.StopCode != ecs.StopEssentialContainerExited {
		t.Errorf("early exit: app exit %s, %d restarts, stop code %s; want 5, none, EssentialContainerExited", exitCode(app), app.RestartCount, st.StopCode)
	}

	run := h.waitStatus(flappy.ARN, ecs.TaskRunning)
	id := container(run, "app").RuntimeID
	first, err := d.InspectContainer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var got TaskChange
	for {
		got, _ = h.r.Task(flappy.ARN)
		if container(got, "app").RestartCount >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	app := container(got, "app")
	if app.RestartCount < 2 || got.LastStatus != ecs.TaskRunning || app.RuntimeID != id || app.LastStatus != ecs.ContainerRunning {
		t.Fatalf("after restarts: task %s, app %+v", got.LastStatus, app)
	}
	if now, err := d.InspectContainer(context.Background(), id); err != nil || !now.StartedAt.After(first.StartedAt) {
		t.Errorf("container %+v (%v) not started again since %v", now, err, first.StartedAt)
	}

	h.r.Apply(TaskSpec{Task: stopped(flappy, ecs.StopUserInitiated, ""), Definition: flappyDef})
	st = h.waitStatus(flappy.ARN, ecs.TaskStopped)
	restarts := container(st, "app").RestartCount
	// Until the container is removed (cleanup is immediate here), a
	// restart could still show; its destroy event comes after any start
	// event in the harness's ordered stream. The container started once,
	// then once per restart reported when the task stopped.
	h.waitGone(flappy.ARN)
	waitDestroyed(t, h, id)
	h.mu.Lock()
	starts := 0
	for _, ev := range h.events {
		if ev.Type == driver.EventStart && ev.ContainerID == id {
			starts++
		}
	}
	h.mu.Unlock()
	if starts != 1+restarts {
		t.Errorf("container started %d times, want %d (once and %d restarts until STOPPED)", starts, 1+restarts, restarts)
	}
	if after, _ := h.r.Task(flappy.ARN); container(after, "app").RestartCount != restarts {
		t.Errorf("restart count moved after STOPPED: %d → %d", restarts, container(after, "app").RestartCount)
	}
}

// waitDestroyed waits until the harness has recorded the destroy event of
// the container id.
func waitDestroyed(t *testing.T, h *harness, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.mu.Lock()
		gone := slices.ContainsFunc(h.events, func(ev driver.ContainerEvent) bool {
			return ev.Type == driver.EventDestroy && ev.ContainerID == id
		})
		h.mu.Unlock()
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no destroy event for container %s", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOutput waits until the container prints a line starting with
// prefix; it fails if the container's output ends first.
func waitOutput(t *testing.T, d *docker.Driver, id, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := d.Logs(ctx, id, driver.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return
		}
	}
	t.Fatalf("container %s did not print %q (%v)", id, prefix, sc.Err())
}

func TestDockerStopTimeoutAndOrder(t *testing.T) {
	d, image, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	task := newTask()
	td := taskDef("bridge",
		// PID 1 without a handler ignores SIGTERM: killed after 2s.
		ecs.ContainerDefinition{Name: "stubborn", Image: image, Memory: ptr(32), Command: []string{"sleep", "600"}, StopTimeout: ptr(2)},
		// With init, SIGTERM ends sleep at once; it stops first (it
		// depends on stubborn) and publishes a dynamic port.
		ecs.ContainerDefinition{Name: "polite", Image: image, Memory: ptr(32), Command: []string{"httpd", "-f", "-p", "80"},
			LinuxParameters: &ecs.LinuxParameters{InitProcessEnabled: ptr(true)},
			PortMappings:    []ecs.PortMapping{{ContainerPort: ptr(80), Protocol: "tcp"}},
			DependsOn:       []ecs.ContainerDependency{{ContainerName: "stubborn", Condition: "START"}}},
	)
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	if b := container(run, "polite").NetworkBindings; len(b) == 0 || b[0].HostPort == 0 {
		t.Errorf("polite bindings = %+v, want a dynamic host port", b)
	}
	stopAt := time.Now()
	h.r.Apply(TaskSpec{Task: stopped(task, ecs.StopUserInitiated, ""), Definition: td})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	took := time.Since(stopAt)
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("stopping took %v, want the 2s stopTimeout", took)
	}
	if got := exitCode(container(st, "stubborn")); got != "137" {
		t.Errorf("stubborn exit code = %s, want 137 (SIGKILL)", got)
	}
	if got := exitCode(container(st, "polite")); got != "143" {
		t.Errorf("polite exit code = %s, want 143 (SIGTERM)", got)
	}
	dies := h.waitEvents(driver.EventDie, 2)
	if dies[0] != "polite" {
		t.Errorf("die order = %v, want polite first", dies)
	}
	h.waitGone(task.ARN)
}

func TestDockerPullFailure(t *testing.T) {
	d, _, scope := dockerRunner(t)
	h := runHarness(t, d, scope)
	task := newTask()
	h.r.Apply(TaskSpec{Task: task, Definition: taskDef("bridge", ecs.ContainerDefinition{Name: "app", Image: dockertest.MissingImage, Memory: ptr(16)})})
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopTaskFailedToStart || !strings.HasPrefix(st.Reason, "CannotPullContainerError: ") || len(st.Reason) < len("CannotPullContainerError: ")+5 {
		t.Errorf("task = %q %q", st.StopCode, st.Reason)
	}
	if c := container(st, "app"); c.Reason != st.Reason {
		t.Errorf("container reason = %q", c.Reason)
	}
}

// BenchmarkStartLatency measures a RunTask-equivalent start on Docker:
// Apply → RUNNING reported, for an image already present, against
// `docker run -d` of the same image and command.
func BenchmarkStartLatency(b *testing.B) {
	d := dockertest.New(b)
	image := dockertest.Busybox(b, d)
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("SKIPPING: no docker CLI")
	}
	instance := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	changes := make(chan TaskChange, 1024)
	r := New(Config{
		Driver: d, Logger: quiet, Cluster: "bench", InstanceARN: instance, CleanupAfter: -1,
		OnChange: func(c TaskChange) { changes <- c },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	td := taskDef("bridge", ecs.ContainerDefinition{
		Name: "app", Image: image, Memory: ptr(32), Command: []string{"sleep", "600"}, StopTimeout: ptr(1),
		LinuxParameters: &ecs.LinuxParameters{InitProcessEnabled: ptr(true)},
	})
	waitFor := func(arn, status string) {
		for {
			select {
			case c := <-changes:
				if c.TaskARN == arn && c.LastStatus == status {
					return
				}
			case <-time.After(30 * time.Second):
				b.Fatalf("timed out waiting for %s", status)
			}
		}
	}
	var runnerTotal, dockerTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		task := newTask()
		start := time.Now()
		r.Apply(TaskSpec{Task: task, Definition: td})
		waitFor(task.ARN, ecs.TaskRunning)
		runnerTotal += time.Since(start)

		b.StopTimer()
		r.Apply(TaskSpec{Task: stopped(task, "", ""), Definition: td})
		waitFor(task.ARN, ecs.TaskStopped)
		name := fmt.Sprintf("berth-bench-%d-%d", time.Now().UnixNano(), i)
		b.StartTimer()

		start = time.Now()
		out, err := exec.Command("docker", "run", "-d", "--init", "--name", name, "-m", "32m", image, "sleep", "600").CombinedOutput()
		dockerTotal += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("docker run: %v: %s", err, out)
		}
		_ = exec.Command("docker", "rm", "-f", name).Run()
		b.StartTimer()
	}
	b.StopTimer()
	runnerMS := float64(runnerTotal.Microseconds()) / 1000 / float64(b.N)
	dockerMS := float64(dockerTotal.Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(runnerMS, "runner-ms/op")
	b.ReportMetric(dockerMS, "docker-run-ms/op")
	b.ReportMetric(runnerMS/dockerMS, "ratio")
	b.Logf("Apply→RUNNING %.1f ms, docker run -d %.1f ms, ratio %.2f (n=%d)", runnerMS, dockerMS, runnerMS/dockerMS, b.N)
}
