package fake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
)

const image = "app:1"

func newDriver(t testing.TB) *fake.Driver {
	d := fake.New(fake.Options{Images: []string{image}})
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func spec(name string) driver.ContainerSpec {
	return driver.ContainerSpec{
		Name:   name,
		Image:  image,
		Labels: map[string]string{driver.LabelTaskARN: "task/" + name, driver.LabelContainerName: name},
	}
}

func start(t testing.TB, d *fake.Driver, s driver.ContainerSpec) string {
	t.Helper()
	ctx := context.Background()
	id, err := d.CreateContainer(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// next returns the next event about id.
func next(t *testing.T, events <-chan driver.ContainerEvent, id string) driver.ContainerEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.ContainerID == id {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event for %s", id)
		}
	}
}

func TestScriptedExitAndOOM(t *testing.T) {
	d := newDriver(t)
	d.OnStart = func(id string, s driver.ContainerSpec) fake.Behavior {
		switch s.Name {
		case "exits":
			return fake.Behavior{ExitAfter: time.Millisecond, ExitCode: 2}
		case "ooms":
			return fake.Behavior{ExitAfter: time.Millisecond, OOM: true}
		}
		return fake.Behavior{}
	}
	events, err := d.WaitEvents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	exits := start(t, d, spec("exits"))
	if ev := next(t, events, exits); ev.Type != driver.EventStart {
		t.Fatalf("first event %+v; want start", ev)
	}
	if ev := next(t, events, exits); ev.Type != driver.EventDie || ev.ExitCode != 2 || ev.Labels[driver.LabelContainerName] != "exits" {
		t.Fatalf("event %+v; want die with exit code 2 and labels", ev)
	}
	st, _ := d.InspectContainer(t.Context(), exits)
	if st.Status != driver.StatusExited || st.ExitCode != 2 || st.OOMKilled {
		t.Errorf("state %+v; want exited 2", st)
	}

	ooms := start(t, d, spec("ooms"))
	next(t, events, ooms) // start
	if ev := next(t, events, ooms); ev.Type != driver.EventOOM {
		t.Fatalf("event %+v; want oom", ev)
	}
	if ev := next(t, events, ooms); ev.Type != driver.EventDie || ev.ExitCode != 137 {
		t.Fatalf("event %+v; want die 137", ev)
	}
	st, _ = d.InspectContainer(t.Context(), ooms)
	if !st.OOMKilled || st.ExitCode != 137 {
		t.Errorf("state %+v; want OOM-killed", st)
	}
}

func TestHealthTransitions(t *testing.T) {
	d := newDriver(t)
	d.OnStart = func(id string, s driver.ContainerSpec) fake.Behavior {
		return fake.Behavior{Health: driver.HealthUnhealthy, HealthAfter: 5 * time.Millisecond}
	}
	events, _ := d.WaitEvents(t.Context())
	s := spec("web")
	s.HealthCheck = &driver.HealthCheck{Command: []string{"CMD-SHELL", "true"}}
	id := start(t, d, s)
	st, _ := d.InspectContainer(t.Context(), id)
	if st.Health != driver.HealthStarting {
		t.Errorf("health %q right after start; want starting", st.Health)
	}
	next(t, events, id) // start
	if ev := next(t, events, id); ev.Type != driver.EventHealthStatus || ev.Health != driver.HealthUnhealthy {
		t.Fatalf("event %+v; want health_status unhealthy", ev)
	}
	if err := d.SetHealth(id, driver.HealthHealthy, "ok"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, events, id); ev.Health != driver.HealthHealthy {
		t.Fatalf("event %+v; want healthy", ev)
	}
	st, _ = d.InspectContainer(t.Context(), id)
	if st.Health != driver.HealthHealthy || st.HealthOutput != "ok" {
		t.Errorf("state %+v; want healthy with output", st)
	}

	plain := start(t, d, spec("plain"))
	if st, _ := d.InspectContainer(t.Context(), plain); st.Health != driver.HealthNone {
		t.Errorf("container without health check has health %q", st.Health)
	}
}

func TestStopBehaviors(t *testing.T) {
	d := newDriver(t)
	d.OnStart = func(id string, s driver.ContainerSpec) fake.Behavior {
		if s.Name == "stubborn" {
			return fake.Behavior{IgnoreSIGTERM: true, Output: "ignoring you\n"}
		}
		return fake.Behavior{StopExitCode: 143}
	}
	ctx := t.Context()
	stubborn := start(t, d, spec("stubborn"))
	polite := start(t, d, spec("polite"))
	for _, id := range []string{stubborn, polite} {
		if err := d.StopContainer(ctx, id, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := d.InspectContainer(ctx, stubborn); st.ExitCode != 137 {
		t.Errorf("stubborn exit %d; want 137", st.ExitCode)
	}
	if st, _ := d.InspectContainer(ctx, polite); st.ExitCode != 143 {
		t.Errorf("polite exit %d; want 143", st.ExitCode)
	}
	rc, err := d.Logs(ctx, stubborn, driver.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 64)
	n, _ := rc.Read(buf)
	if string(buf[:n]) != "ignoring you\n" {
		t.Errorf("logs %q", buf[:n])
	}
}

func TestStartErrorAndMissingImage(t *testing.T) {
	d := newDriver(t)
	boom := errors.New("boom")
	d.OnStart = func(string, driver.ContainerSpec) fake.Behavior { return fake.Behavior{StartError: boom} }
	ctx := t.Context()
	id, err := d.CreateContainer(ctx, spec("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartContainer(ctx, id); !errors.Is(err, boom) {
		t.Errorf("StartContainer = %v; want boom", err)
	}
	if st, _ := d.InspectContainer(ctx, id); st.Status != driver.StatusCreated {
		t.Errorf("status %q after failed start; want created", st.Status)
	}
	s := spec("b")
	s.Image = "not-pulled:1"
	if _, err := d.CreateContainer(ctx, s); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("CreateContainer with a missing image = %v; want ErrNotFound", err)
	}
	if err := d.PullImage(ctx, "not-pulled:1", driver.RegistryAuth{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateContainer(ctx, s); err != nil {
		t.Errorf("CreateContainer after pull: %v", err)
	}
}

func TestPullHooks(t *testing.T) {
	d := newDriver(t)
	var gotAuth driver.RegistryAuth
	d.OnPull = func(ctx context.Context, ref string, auth driver.RegistryAuth) error {
		gotAuth = auth
		if ref == "private:1" {
			return errors.New("no basic auth credentials")
		}
		return nil
	}
	auth := driver.RegistryAuth{Username: "AWS", Password: "pw", ServerAddress: "example"}
	err := d.PullImage(t.Context(), "private:1", auth)
	var pe *driver.PullError
	if !errors.As(err, &pe) || pe.Message != "no basic auth credentials" || gotAuth != auth {
		t.Errorf("PullImage = %v (auth %+v); want PullError with the hook's message", err, gotAuth)
	}
	if ok, _ := d.ImagePresent(t.Context(), "private:1"); ok {
		t.Error("failed pull made the image present")
	}
	if ok, _ := d.ImagePresent(t.Context(), "app:1"); !ok {
		t.Error("preloaded image missing")
	}
	if ok, _ := d.ImagePresent(t.Context(), "app"); ok {
		t.Error("app (app:latest) reported present; only app:1 is")
	}
}

func TestVolumeInUse(t *testing.T) {
	d := newDriver(t)
	ctx := t.Context()
	s := spec("a")
	s.Mounts = []driver.Mount{{Type: driver.MountTypeVolume, Source: "data", Target: "/data"}}
	id := start(t, d, s)
	if !d.VolumeExists("data") {
		t.Error("mounting a volume did not create it")
	}
	if err := d.RemoveVolume(ctx, "data"); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("RemoveVolume in use = %v; want ErrConflict", err)
	}
	_ = d.RemoveContainer(ctx, id)
	if err := d.RemoveVolume(ctx, "data"); err != nil || d.VolumeExists("data") {
		t.Errorf("RemoveVolume = %v", err)
	}
}

func TestAWSVPCWithoutNetwork(t *testing.T) {
	d := newDriver(t)
	s := spec("a")
	s.Network = driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: "nope"}
	id, err := d.CreateContainer(t.Context(), s)
	if err != nil {
		t.Fatalf("CreateContainer joining a task network not created yet = %v; want it created (Docker resolves it at start)", err)
	}
	if err := d.StartContainer(t.Context(), id); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("StartContainer joining a missing task network = %v; want ErrNotFound", err)
	}
}

func TestCloseEndsEventStreams(t *testing.T) {
	d := fake.New(fake.Options{})
	events, _ := d.WaitEvents(context.Background())
	_ = d.Close()
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event channel not closed by Close")
	}
}

func TestConcurrentUse(t *testing.T) {
	d := newDriver(t)
	d.OnStart = func(id string, s driver.ContainerSpec) fake.Behavior {
		return fake.Behavior{ExitAfter: time.Millisecond}
	}
	ctx := t.Context()
	events, _ := d.WaitEvents(ctx)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s := spec(fmt.Sprintf("c%d", i))
			s.HealthCheck = &driver.HealthCheck{Command: []string{"CMD", "true"}}
			id, err := d.CreateContainer(ctx, s)
			if err != nil {
				t.Error(err)
				return
			}
			_ = d.StartContainer(ctx, id)
			_ = d.StartContainer(ctx, id)
			_, _ = d.InspectContainer(ctx, id)
			_, _ = d.ListContainers(ctx, map[string]string{driver.LabelContainerName: s.Name})
			_ = d.StopContainer(ctx, id, 0)
		})
	}
	wg.Wait()
	dies := 0
	timeout := time.After(10 * time.Second)
	for dies < n {
		select {
		case ev := <-events:
			if ev.Type == driver.EventDie {
				dies++
			}
		case <-timeout:
			t.Fatalf("saw %d die events; want %d", dies, n)
		}
	}
	if total, running := d.Count(); total != n || running != 0 {
		t.Errorf("Count = %d, %d; want %d, 0", total, running, n)
	}
}

func TestOpenByName(t *testing.T) {
	r := driver.NewRegistry()
	r.Register("fake", fake.Open)
	d, err := r.Open("fake", driver.Config{Params: map[string]string{"images": "a:1,b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ok, _ := d.ImagePresent(t.Context(), "b:latest"); !ok {
		t.Error("images param not honoured")
	}
}

// BenchmarkTasks runs b.N tasks of two containers, each in its own task
// network, through their whole lifecycle while an event consumer drains
// the stream: 10,000 tasks take well under a second.
func BenchmarkTasks(b *testing.B) {
	d := fake.New(fake.Options{Images: []string{image}})
	defer d.Close()
	ctx := b.Context()
	events, _ := d.WaitEvents(ctx)
	done := make(chan int)
	go func() {
		n := 0
		for range events {
			n++
		}
		done <- n
	}()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tn, err := d.CreateTaskNetwork(ctx, driver.TaskNetworkSpec{
			Name:         fmt.Sprintf("task-%d", i),
			PortMappings: []driver.PortMapping{{ContainerPort: 80}},
		})
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		for _, c := range []string{"app", "sidecar"} {
			s := spec(fmt.Sprintf("task-%d-%s", i, c))
			s.Network = driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: tn.ID}
			id, err := d.CreateContainer(ctx, s)
			if err != nil {
				b.Fatal(err)
			}
			if err := d.StartContainer(ctx, id); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			if _, err := d.InspectContainer(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		for _, id := range ids {
			_ = d.StopContainer(ctx, id, time.Second)
			_ = d.RemoveContainer(ctx, id)
		}
		_ = d.RemoveTaskNetwork(ctx, tn.ID)
	}
	_ = d.Close()
	<-done
}

// BenchmarkListAtScale lists one task's containers among 10,000 running.
func BenchmarkListAtScale(b *testing.B) {
	d := fake.New(fake.Options{Images: []string{image}})
	defer d.Close()
	ctx := b.Context()
	for i := range 10000 {
		start(b, d, spec(fmt.Sprintf("c%d", i)))
	}
	sel := map[string]string{driver.LabelTaskARN: "task/c42"}
	for b.Loop() {
		list, _ := d.ListContainers(ctx, sel)
		if len(list) != 1 {
			b.Fatal(len(list))
		}
	}
}

func TestTaskResourcesBookkeeping(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	r := driver.TaskResources{ID: "t1", CPUUnits: 512, MemoryMiB: 1024}
	s := spec("a")
	s.TaskResources = &r
	id := start(t, d, s)
	r.MemoryMiB = 1 // the driver keeps its own copy
	got, ok := d.TaskResources("t1")
	if !ok || got.CPUUnits != 512 || got.MemoryMiB != 1024 {
		t.Fatalf("TaskResources(t1) = %+v, %v", got, ok)
	}
	if err := d.RemoveTaskResources(ctx, "t1"); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("RemoveTaskResources while a container runs: %v; want ErrConflict", err)
	}
	if err := d.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveTaskResources(ctx, "t1"); err != nil {
		t.Errorf("RemoveTaskResources: %v", err)
	}
	if _, ok := d.TaskResources("t1"); ok {
		t.Error("task resources still present after RemoveTaskResources")
	}
	zero := spec("b")
	zero.TaskResources = &driver.TaskResources{ID: "t2"}
	start(t, d, zero)
	if _, ok := d.TaskResources("t2"); ok {
		t.Error("task resources without limits were recorded")
	}
	bad := spec("c")
	bad.TaskResources = &driver.TaskResources{ID: "a/b", MemoryMiB: 8}
	if _, err := d.CreateContainer(ctx, bad); err == nil {
		t.Error("CreateContainer with an invalid task resources ID: no error")
	}
}

func TestPruneTaskResources(t *testing.T) {
	now := time.Now()
	d := fake.New(fake.Options{Images: []string{image}, Now: func() time.Time { return now }})
	ctx := context.Background()
	for _, name := range []string{"used", "old"} {
		s := spec(name)
		s.TaskResources = &driver.TaskResources{ID: name, MemoryMiB: 64}
		start(t, d, s)
	}
	if err := d.RemoveContainer(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if removed, _ := d.PruneTaskResources(ctx, time.Minute); len(removed) != 0 {
		t.Errorf("pruned %v before a minute passed", removed)
	}
	now = now.Add(2 * time.Minute)
	removed, err := d.PruneTaskResources(ctx, time.Minute)
	if err != nil || len(removed) != 1 || removed[0] != "old" {
		t.Errorf("pruned %v, %v; want [old]", removed, err)
	}
	if _, ok := d.TaskResources("used"); !ok {
		t.Error("task resources in use were pruned")
	}
}
