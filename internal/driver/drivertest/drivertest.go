package drivertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

// Env describes what the suite may assume about a driver.
type Env struct {
	// Image is a local busybox-like image; see the package documentation.
	Image string
	// MissingImage is an image reference whose pull fails quickly, e.g.
	// one on a registry at 127.0.0.1:1 where nothing listens.
	MissingImage string

	// Exec: the driver really runs the containers' commands, so exit codes,
	// output, environment, users, signals and health checks are real.
	Exec bool
	// OOM: hard memory limits are enforced by the kernel's OOM killer.
	OOM bool
	// Network: networking is real: containers of one task network share
	// localhost, and the host reaches task IPs and published ports.
	Network bool
	// SharedTaskLimits: a task's containers share its TaskResources (one
	// memory limit for all of them, as with a task cgroup) rather than
	// each getting a copy. Needs OOM too.
	SharedTaskLimits bool

	// Prefix starts the names of everything the suite creates; it defaults
	// to "berth-conformance-<random>".
	Prefix string
	// Timeout bounds each check; 0 means 90 seconds.
	Timeout time.Duration
}

// Label that the suite puts on everything it creates, with Env.Prefix as
// the value.
const LabelSuite = "berth.conformance"

// Run runs the conformance suite against d. Checks run in parallel.
func Run(t *testing.T, d driver.Driver, env Env) {
	t.Helper()
	if env.Image == "" {
		t.Fatal("drivertest: Env.Image is required")
	}
	if env.MissingImage == "" {
		env.MissingImage = "127.0.0.1:1/berth-conformance/missing:latest"
	}
	if env.Prefix == "" {
		env.Prefix = "berth-conformance-" + randomHex(4)
	}
	if env.Timeout == 0 {
		env.Timeout = 90 * time.Second
	}
	s := &suite{d: d, env: env}
	checks := []struct {
		name string
		fn   func(*testing.T)
		need bool // capabilities present
	}{
		{"Images", s.testImages, true},
		{"Lifecycle", s.testLifecycle, true},
		{"CreateIdempotent", s.testCreateIdempotent, true},
		{"ListByLabel", s.testListByLabel, true},
		{"Events", s.testEvents, true},
		{"Volumes", s.testVolumes, true},
		{"Stats", s.testStats, true},
		{"TaskNetwork", s.testTaskNetwork, true},
		{"TaskNetworkJoinByName", s.testTaskNetworkJoinByName, true},
		{"BridgePorts", s.testBridgePorts, true},
		{"ExitCode", s.testExitCode, env.Exec},
		{"StopTimeoutKills", s.testStopTimeout, env.Exec},
		{"ContainerConfig", s.testContainerConfig, env.Exec},
		{"ReadonlyRootAndUlimits", s.testReadonlyAndUlimits, env.Exec},
		{"HealthCheck", s.testHealthCheck, env.Exec},
		{"SharedVolume", s.testSharedVolume, env.Exec},
		{"OOMKilled", s.testOOM, env.OOM},
		{"TaskResources", s.testTaskResources, true},
		{"TaskMemoryOOM", s.testTaskMemoryOOM, env.OOM},
		{"TaskCPULimit", s.testTaskCPULimit, env.Exec},
		{"TaskLimitsShared", s.testTaskLimitsShared, env.OOM && env.SharedTaskLimits},
	}
	t.Run("conformance", func(t *testing.T) {
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) {
				if !c.need {
					t.Skip("driver lacks the capability (see drivertest.Env)")
				}
				t.Parallel()
				c.fn(t)
			})
		}
	})
}

type suite struct {
	d   driver.Driver
	env Env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// name returns a unique object name for this test.
func (s *suite) name(t *testing.T, suffix string) string {
	base := t.Name()
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	n := s.env.Prefix + "-" + strings.ToLower(base) + "-" + suffix
	return unsafeName.ReplaceAllString(n, "-")
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), s.env.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// labels returns the labels the agent would set, plus the suite's.
func (s *suite) labels(t *testing.T, container string) map[string]string {
	return map[string]string{
		driver.LabelTaskARN:       "arn:aws:ecs:us-east-1:000000000000:task/conformance/" + strings.ReplaceAll(s.name(t, "task"), "/", "-"),
		driver.LabelContainerName: container,
		driver.LabelCluster:       "conformance",
		driver.LabelInstance:      "local",
		LabelSuite:                s.env.Prefix,
	}
}

// spec returns a container spec running cmd under sh -c.
func (s *suite) spec(t *testing.T, suffix, cmd string) driver.ContainerSpec {
	return driver.ContainerSpec{
		Name:    s.name(t, suffix),
		Image:   s.env.Image,
		Command: []string{"sh", "-c", cmd},
		Labels:  s.labels(t, suffix),
	}
}

// Commands.
const (
	// cmdServe runs until SIGTERM, then exits 0.
	cmdServe = "trap 'exit 0' TERM; while :; do sleep 1; done"
)

// create creates a container and removes it when the test ends.
func (s *suite) create(t *testing.T, ctx context.Context, spec driver.ContainerSpec) string {
	t.Helper()
	id, err := s.d.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", spec.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.d.RemoveContainer(ctx, id); err != nil {
			t.Errorf("cleanup: RemoveContainer(%s): %v", spec.Name, err)
		}
	})
	return id
}

// run creates and starts a container.
func (s *suite) run(t *testing.T, ctx context.Context, spec driver.ContainerSpec) string {
	t.Helper()
	id := s.create(t, ctx, spec)
	if err := s.d.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer(%s): %v", spec.Name, err)
	}
	return id
}

// waitFor polls the container until cond holds.
func (s *suite) waitFor(t *testing.T, ctx context.Context, id, what string, cond func(driver.ContainerState) bool) driver.ContainerState {
	t.Helper()
	var last driver.ContainerState
	for {
		st, err := s.d.InspectContainer(ctx, id)
		if err != nil {
			t.Fatalf("InspectContainer: %v", err)
		}
		if cond(st) {
			return st
		}
		last = st
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last state: %+v%s", what, last, s.logs(id))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitOutput polls the container's output until it contains want.
func (s *suite) waitOutput(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	lr, ok := s.d.(driver.LogReader)
	if !ok {
		t.Fatalf("waiting for %q in a container's output needs a driver.LogReader", want)
	}
	for {
		rc, err := lr.Logs(ctx, id, driver.LogOptions{})
		if err != nil {
			t.Fatalf("Logs: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 64<<10))
		rc.Close()
		if err == nil && strings.Contains(string(b), want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %q in the output%s", want, s.logs(id))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func exited(st driver.ContainerState) bool { return st.Status == driver.StatusExited }

// waitExit waits for the container to exit and returns its state.
func (s *suite) waitExit(t *testing.T, ctx context.Context, id string) driver.ContainerState {
	t.Helper()
	return s.waitFor(t, ctx, id, "exit", exited)
}

// logs returns the container's output for failure messages, if the driver
// can read it.
func (s *suite) logs(id string) string {
	lr, ok := s.d.(driver.LogReader)
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := lr.Logs(ctx, id, driver.LogOptions{})
	if err != nil {
		return "\n(logs: " + err.Error() + ")"
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 4096))
	return "\noutput:\n" + string(b)
}

func (s *suite) testImages(t *testing.T) {
	ctx := s.ctx(t)
	if p, ok := s.d.(driver.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}
	ok, err := s.d.ImagePresent(ctx, s.env.Image)
	if err != nil || !ok {
		t.Errorf("ImagePresent(%s) = %v, %v; want true, nil", s.env.Image, ok, err)
	}
	ok, err = s.d.ImagePresent(ctx, s.env.MissingImage)
	if err != nil || ok {
		t.Errorf("ImagePresent(%s) = %v, %v; want false, nil", s.env.MissingImage, ok, err)
	}
	err = s.d.PullImage(ctx, s.env.MissingImage, driver.RegistryAuth{Username: "AWS", Password: "secret", ServerAddress: "127.0.0.1:1"})
	var pe *driver.PullError
	switch {
	case err == nil:
		t.Errorf("PullImage(%s) succeeded; want a failure", s.env.MissingImage)
	case !errors.As(err, &pe):
		t.Errorf("PullImage(%s) = %v (%T); want a *driver.PullError", s.env.MissingImage, err, err)
	case pe.Message == "" || err.Error() != pe.Message:
		t.Errorf("PullError message %q, Error() %q; want the daemon's message", pe.Message, err.Error())
	default:
		t.Logf("pull failure reported as: CannotPullContainerError: %v", err)
	}
}

func (s *suite) testLifecycle(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "app", cmdServe)
	spec.Env = map[string]string{"A": "1"}
	spec.StopTimeout = 5 * time.Second
	id := s.create(t, ctx, spec)

	st, err := s.d.InspectContainer(ctx, id)
	if err != nil {
		t.Fatalf("InspectContainer: %v", err)
	}
	if st.ID != id || st.Name != spec.Name || st.Status != driver.StatusCreated || st.Image != spec.Image {
		t.Errorf("created: got %+v; want id %s, name %s, status created, image %s", st, id, spec.Name, spec.Image)
	}
	for k, v := range spec.Labels {
		if st.Labels[k] != v {
			t.Errorf("label %s = %q; want %q", k, st.Labels[k], v)
		}
	}
	for k := range st.Labels {
		if strings.HasPrefix(k, driver.LabelDriverPrefix) {
			t.Errorf("driver label %s leaked into ContainerState.Labels", k)
		}
	}
	if st.CreatedAt.IsZero() || !st.StartedAt.IsZero() {
		t.Errorf("created: CreatedAt %v, StartedAt %v; want set, zero", st.CreatedAt, st.StartedAt)
	}

	if err := s.d.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	if err := s.d.StartContainer(ctx, id); err != nil {
		t.Errorf("StartContainer on a running container: %v; want nil", err)
	}
	st = s.waitFor(t, ctx, id, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	if st.StartedAt.IsZero() || st.Health != driver.HealthNone || st.NetworkMode != driver.NetworkModeBridge {
		t.Errorf("running: StartedAt %v, Health %q, NetworkMode %q; want set, none, bridge", st.StartedAt, st.Health, st.NetworkMode)
	}

	if err := s.d.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st = s.waitExit(t, ctx, id)
	if st.ExitCode != 0 || st.OOMKilled || st.FinishedAt.IsZero() {
		t.Errorf("stopped: exit %d, OOMKilled %v, FinishedAt %v; want 0, false, set", st.ExitCode, st.OOMKilled, st.FinishedAt)
	}
	if err := s.d.StopContainer(ctx, id, time.Second); err != nil {
		t.Errorf("StopContainer on a stopped container: %v; want nil", err)
	}

	if err := s.d.RemoveContainer(ctx, id); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := s.d.InspectContainer(ctx, id); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("InspectContainer after remove: %v; want ErrNotFound", err)
	}
	if err := s.d.RemoveContainer(ctx, id); err != nil {
		t.Errorf("RemoveContainer twice: %v; want nil", err)
	}
	if err := s.d.StartContainer(ctx, id); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("StartContainer after remove: %v; want ErrNotFound", err)
	}
}

func (s *suite) testCreateIdempotent(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "app", cmdServe)
	id := s.create(t, ctx, spec)
	again, err := s.d.CreateContainer(ctx, spec)
	if err != nil || again != id {
		t.Errorf("CreateContainer retry = %q, %v; want %q, nil", again, err, id)
	}
	other := spec
	other.Labels = s.labels(t, "someone-else")
	if _, err := s.d.CreateContainer(ctx, other); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("CreateContainer with a taken name and other labels: %v; want ErrConflict", err)
	}
	list, err := s.d.ListContainers(ctx, map[string]string{LabelSuite: s.env.Prefix, driver.LabelTaskARN: spec.Labels[driver.LabelTaskARN]})
	if err != nil || len(list) != 1 {
		t.Errorf("ListContainers after retried create = %d containers, %v; want exactly 1", len(list), err)
	}
}

func (s *suite) testListByLabel(t *testing.T) {
	ctx := s.ctx(t)
	a := s.spec(t, "a", cmdServe)
	b := s.spec(t, "b", "exit 0")
	idA := s.run(t, ctx, a)
	idB := s.create(t, ctx, b) // never started: still listed

	task := a.Labels[driver.LabelTaskARN]
	list, err := s.d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: task, LabelSuite: s.env.Prefix})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	got := map[string]driver.ContainerState{}
	for _, c := range list {
		got[c.ID] = c
	}
	if len(list) != 2 || got[idA].Name != a.Name || got[idB].Name != b.Name {
		t.Fatalf("ListContainers(task) = %+v; want %s and %s", list, a.Name, b.Name)
	}
	if got[idA].Labels[driver.LabelContainerName] != "a" || got[idB].Status != driver.StatusCreated {
		t.Errorf("listed states lack labels or status: %+v", list)
	}
	list, err = s.d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: task, driver.LabelContainerName: "b"})
	if err != nil || len(list) != 1 || list[0].ID != idB {
		t.Errorf("ListContainers(task, b) = %+v, %v; want only %s", list, err, b.Name)
	}
	list, err = s.d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: task + "-nope"})
	if err != nil || len(list) != 0 {
		t.Errorf("ListContainers(no such task) = %+v, %v; want none", list, err)
	}
}

func (s *suite) testEvents(t *testing.T) {
	ctx := s.ctx(t)
	evctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := s.d.WaitEvents(evctx)
	if err != nil {
		t.Fatalf("WaitEvents: %v", err)
	}
	spec := s.spec(t, "app", "trap 'exit 7' TERM; while :; do sleep 1; done")
	wantExit := 0 // drivers that do not execute commands exit 0 on stop
	if s.env.Exec {
		spec.Command = []string{"sh", "-c", "sleep 0.5; exit 7"}
		wantExit = 7
	}
	id := s.run(t, ctx, spec)
	if !s.env.Exec {
		if err := s.d.StopContainer(ctx, id, 10*time.Second); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
	}
	var sawStart bool
	for !t.Failed() {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event channel closed early")
			}
			if ev.ContainerID != id {
				continue
			}
			if ev.Name != spec.Name || ev.Labels[driver.LabelTaskARN] != spec.Labels[driver.LabelTaskARN] || ev.Time.IsZero() {
				t.Errorf("event %+v lacks name, labels or time", ev)
			}
			switch ev.Type {
			case driver.EventStart:
				sawStart = true
			case driver.EventDie:
				if !sawStart {
					t.Errorf("die event before start event")
				}
				if ev.ExitCode != wantExit {
					t.Errorf("die event exit code %d; want %d", ev.ExitCode, wantExit)
				}
				cancel()
				// The channel must close after cancellation.
				for range events {
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("timed out waiting for the die event")
		}
	}
}

func (s *suite) testVolumes(t *testing.T) {
	ctx := s.ctx(t)
	name := s.name(t, "vol")
	labels := map[string]string{LabelSuite: s.env.Prefix}
	if err := s.d.CreateVolume(ctx, name, labels); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	if err := s.d.CreateVolume(ctx, name, labels); err != nil {
		t.Errorf("CreateVolume twice: %v; want nil", err)
	}
	if err := s.d.RemoveVolume(ctx, name); err != nil {
		t.Errorf("RemoveVolume: %v", err)
	}
	if err := s.d.RemoveVolume(ctx, name); err != nil {
		t.Errorf("RemoveVolume twice: %v; want nil", err)
	}
}

func (s *suite) testStats(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "app", "x=$(head -c 2000000 /dev/zero | tr '\\0' a); "+cmdServe)
	spec.MemoryMiB = 64
	id := s.run(t, ctx, spec)
	s.waitFor(t, ctx, id, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	st, err := s.d.Stats(ctx, id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Time.IsZero() {
		t.Errorf("Stats.Time is zero")
	}
	if s.env.Exec {
		if st.MemoryUsageBytes == 0 || st.MemoryLimitBytes != 64<<20 || st.SystemCPUUsageNanos == 0 || st.OnlineCPUs == 0 {
			t.Errorf("Stats = %+v; want memory usage, a 64 MiB limit, system CPU and online CPUs", st)
		}
	}
}

func (s *suite) testExitCode(t *testing.T) {
	ctx := s.ctx(t)
	id := s.run(t, ctx, s.spec(t, "app", "exit 3"))
	st := s.waitExit(t, ctx, id)
	if st.ExitCode != 3 || st.OOMKilled {
		t.Errorf("exit code %d, OOMKilled %v; want 3, false", st.ExitCode, st.OOMKilled)
	}
	// Docker may record StartedAt a hair after a quick process finished,
	// so only their presence is checked.
	if st.StartedAt.IsZero() || st.FinishedAt.IsZero() {
		t.Errorf("StartedAt %v, FinishedAt %v; want both set", st.StartedAt, st.FinishedAt)
	}
}

func (s *suite) testStopTimeout(t *testing.T) {
	ctx := s.ctx(t)
	// The shell ignores SIGTERM, so only SIGKILL ends it.
	id := s.run(t, ctx, s.spec(t, "app", "trap '' TERM; echo ready; while :; do sleep 1; done"))
	s.waitFor(t, ctx, id, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	const timeout = 2 * time.Second
	start := time.Now()
	if err := s.d.StopContainer(ctx, id, timeout); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st := s.waitExit(t, ctx, id)
	elapsed := time.Since(start)
	if elapsed < timeout-200*time.Millisecond || elapsed > timeout+15*time.Second {
		t.Errorf("stop took %v; want about %v", elapsed, timeout)
	}
	if st.ExitCode != 137 {
		t.Errorf("exit code %d; want 137 (SIGKILL)", st.ExitCode)
	}
}

func (s *suite) testContainerConfig(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "app", "")
	spec.Entrypoint = []string{"sh", "-c"}
	spec.Command = []string{`test "$FOO" = "bar baz" || { echo "FOO=$FOO"; exit 10; }
test "$(pwd)" = /tmp || { echo "pwd=$(pwd)"; exit 11; }
test "$(id -u):$(id -g)" = 65534:65534 || { echo "id=$(id)"; exit 12; }
test "$EMPTY" = "" || exit 13
echo "config-ok $FOO"`}
	spec.Env = map[string]string{"FOO": "bar baz", "EMPTY": ""}
	spec.WorkingDir = "/tmp"
	spec.User = "65534:65534"
	id := s.run(t, ctx, spec)
	st := s.waitExit(t, ctx, id)
	if st.ExitCode != 0 {
		t.Fatalf("config check exited %d; want 0 (10: env, 11: workdir, 12: user)%s", st.ExitCode, s.logs(id))
	}
	if lr, ok := s.d.(driver.LogReader); ok {
		rc, err := lr.Logs(ctx, id, driver.LogOptions{})
		if err != nil {
			t.Fatalf("Logs: %v", err)
		}
		defer rc.Close()
		out, err := io.ReadAll(rc)
		if err != nil || strings.TrimSpace(string(out)) != "config-ok bar baz" {
			t.Errorf("Logs = %q, %v; want %q", out, err, "config-ok bar baz")
		}
	}
}

func (s *suite) testReadonlyAndUlimits(t *testing.T) {
	ctx := s.ctx(t)
	spec := s.spec(t, "app", `if touch /probe 2>/dev/null; then echo "root fs writable"; exit 10; fi
test "$(ulimit -n)" = 1000 || { echo "nofile=$(ulimit -n)"; exit 11; }
test "$(ulimit -Hn)" = 2000 || { echo "hard nofile=$(ulimit -Hn)"; exit 12; }
echo tmp > /scratch/ok || exit 13`)
	spec.ReadonlyRootFilesystem = true
	spec.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 1000, Hard: 2000}}
	spec.Mounts = []driver.Mount{{Type: driver.MountTypeTmpfs, Target: "/scratch", SizeMiB: 1}}
	spec.CPUShares = 256
	spec.MemoryMiB = 64
	spec.MemoryReservationMiB = 32
	spec.Init = true
	id := s.run(t, ctx, spec)
	if st := s.waitExit(t, ctx, id); st.ExitCode != 0 {
		t.Errorf("exited %d; want 0 (10: root fs writable, 11/12: ulimits, 13: tmpfs)%s", st.ExitCode, s.logs(id))
	}
}

func (s *suite) testHealthCheck(t *testing.T) {
	ctx := s.ctx(t)
	check := func(cmd string) *driver.HealthCheck {
		return &driver.HealthCheck{
			Command:  []string{"CMD-SHELL", cmd},
			Interval: 500 * time.Millisecond,
			Timeout:  5 * time.Second,
			Retries:  2,
		}
	}
	good := s.spec(t, "good", cmdServe)
	good.HealthCheck = check("test -d /tmp")
	bad := s.spec(t, "bad", cmdServe)
	bad.HealthCheck = check("echo broken; exit 1")
	execForm := s.spec(t, "exec", cmdServe)
	execForm.HealthCheck = check("")
	execForm.HealthCheck.Command = []string{"CMD", "test", "-d", "/tmp"}

	evctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := s.d.WaitEvents(evctx)
	if err != nil {
		t.Fatalf("WaitEvents: %v", err)
	}
	idGood := s.run(t, ctx, good)
	idBad := s.run(t, ctx, bad)
	idExec := s.run(t, ctx, execForm)

	st := s.waitFor(t, ctx, idGood, "healthy", func(st driver.ContainerState) bool { return st.Health == driver.HealthHealthy })
	if st.Status != driver.StatusRunning {
		t.Errorf("healthy container status %q; want running", st.Status)
	}
	s.waitFor(t, ctx, idExec, "healthy (CMD form)", func(st driver.ContainerState) bool { return st.Health == driver.HealthHealthy })
	st = s.waitFor(t, ctx, idBad, "unhealthy", func(st driver.ContainerState) bool {
		if st.Health == driver.HealthHealthy {
			t.Fatalf("failing health check reported healthy")
		}
		return st.Health == driver.HealthUnhealthy
	})
	if st.HealthOutput != "broken" {
		t.Errorf("HealthOutput = %q; want %q", st.HealthOutput, "broken")
	}
	want := map[string]driver.HealthStatus{idGood: driver.HealthHealthy, idBad: driver.HealthUnhealthy}
	for len(want) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event channel closed early")
			}
			if h, ok := want[ev.ContainerID]; ok && ev.Type == driver.EventHealthStatus && ev.Health == h {
				delete(want, ev.ContainerID)
			}
		case <-ctx.Done():
			t.Fatalf("no health_status events for %v", want)
		}
	}
}

func (s *suite) testSharedVolume(t *testing.T) {
	ctx := s.ctx(t)
	vol := s.name(t, "vol")
	if err := s.d.CreateVolume(ctx, vol, map[string]string{LabelSuite: s.env.Prefix}); err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	mounts := []driver.Mount{{Type: driver.MountTypeVolume, Source: vol, Target: "/data"}}
	writer := s.spec(t, "writer", "echo shared-data > /data/file")
	writer.Mounts = mounts
	idWriter := s.run(t, ctx, writer)
	if st := s.waitExit(t, ctx, idWriter); st.ExitCode != 0 {
		t.Fatalf("writer exited %d%s", st.ExitCode, s.logs(idWriter))
	}
	reader := s.spec(t, "reader", `test "$(cat /data/file)" = shared-data && ! touch /data/other 2>/dev/null`)
	reader.Mounts = []driver.Mount{{Type: driver.MountTypeVolume, Source: vol, Target: "/data", ReadOnly: true}}
	idReader := s.run(t, ctx, reader)
	if st := s.waitExit(t, ctx, idReader); st.ExitCode != 0 {
		t.Fatalf("reader exited %d: the volume's data is not shared or not read-only%s", st.ExitCode, s.logs(idReader))
	}
	// Remove the containers before the volume.
	for _, id := range []string{idWriter, idReader} {
		if err := s.d.RemoveContainer(ctx, id); err != nil {
			t.Errorf("RemoveContainer: %v", err)
		}
	}
	if err := s.d.RemoveVolume(ctx, vol); err != nil {
		t.Errorf("RemoveVolume: %v", err)
	}
}

func (s *suite) testOOM(t *testing.T) {
	ctx := s.ctx(t)
	evctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := s.d.WaitEvents(evctx)
	if err != nil {
		t.Fatalf("WaitEvents: %v", err)
	}
	spec := s.spec(t, "app", "head -c 200m /dev/zero | tail; echo survived")
	spec.MemoryMiB = 16
	id := s.run(t, ctx, spec)
	st := s.waitExit(t, ctx, id)
	if !st.OOMKilled {
		// A runtime may deliver the OOM kill after the exit (Docker 20.10
		// now and then does): once its oom event came, the state must say
		// so.
		s.waitEvent(t, ctx, events, id, driver.EventOOM)
		if st, err = s.d.InspectContainer(ctx, id); err != nil {
			t.Fatalf("InspectContainer: %v", err)
		}
		t.Logf("the OOM kill came after the exit; OOMKilled after its event: %v", st.OOMKilled)
	}
	if !st.OOMKilled {
		t.Errorf("OOMKilled false (exit code %d); want true%s", st.ExitCode, s.logs(id))
	}
	if st.ExitCode != 137 {
		t.Logf("exit code %d after OOM kill", st.ExitCode)
	}
}

// waitEvent waits for an event of type typ about container id.
func (s *suite) waitEvent(t *testing.T, ctx context.Context, events <-chan driver.ContainerEvent, id string, typ driver.EventType) {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event channel closed before the %s event", typ)
			}
			if ev.ContainerID == id && ev.Type == typ {
				return
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for the %s event of %s%s", typ, id, s.logs(id))
		}
	}
}
