package runner

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
)

// oomDaemon is a fake Docker daemon with one exited, memory-limited
// container c1 whose state says OOMKilled false (as Docker 20.10's can
// when the OOM kill is delivered after the exit) and whose event log has
// its "oom" event once logged is set. The runner sees it through the real
// Docker driver.
type oomDaemon struct {
	mu       sync.Mutex
	exitCode int
	logged   bool
	finished time.Time
}

func (f *oomDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		w.Header().Set("Api-Version", "1.41")
	case strings.HasSuffix(r.URL.Path, "/containers/c1/json"):
		json.NewEncoder(w).Encode(map[string]any{
			"Id": "c1", "Name": "/app", "Created": f.finished.Add(-time.Minute).Format(time.RFC3339Nano),
			"State": map[string]any{"Status": "exited", "ExitCode": f.exitCode, "OOMKilled": false,
				"StartedAt": f.finished.Add(-30 * time.Second).Format(time.RFC3339Nano), "FinishedAt": f.finished.Format(time.RFC3339Nano)},
			"HostConfig": map[string]any{"Memory": 16 << 20},
			"Config":     map[string]any{"Image": "img", "Labels": map[string]string{driver.LabelContainerName: "app"}},
		})
	case strings.HasSuffix(r.URL.Path, "/events"):
		if f.logged {
			json.NewEncoder(w).Encode(map[string]any{"Type": "container", "Action": "oom",
				"Actor": map[string]any{"ID": "c1"}, "timeNano": f.finished.UnixNano()})
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *oomDaemon) logOOM() { f.mu.Lock(); defer f.mu.Unlock(); f.logged = true }

// oomTask is a task run with one running container app (c1) on a Docker
// driver talking to f.
func oomTask(t *testing.T, f *oomDaemon) (*taskRun, *ctr) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	d, err := docker.New(docker.Options{Host: "tcp://" + strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	r := &Runner{cfg: Config{Driver: d}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &ctr{name: "app", id: "c1", essential: true, phase: phRunning}
	c.markStarted()
	return &taskRun{r: r, arn: "arn:aws:ecs:us-east-1:123456789012:task/c/t1", ctrs: []*ctr{c}}, c
}

func event(typ driver.EventType, code int) driver.ContainerEvent {
	return driver.ContainerEvent{Type: typ, ContainerID: "c1", ExitCode: code,
		Labels: map[string]string{driver.LabelContainerName: "app"}}
}

// A container OOM-killed whose exit code is not 137 (a shell or init
// parent exits with its own code after the kernel killed its child) and
// whose OOM the daemon reports after the exit still stops with ECS's
// OutOfMemoryError reason.
func TestLateOOMEventAnyExitCode(t *testing.T) {
	for _, code := range []int{1, 0, 137} {
		f := &oomDaemon{exitCode: code, finished: time.Now()}
		tr, c := oomTask(t, f)
		tr.handleEvent(t.Context(), event(driver.EventDie, code))
		if c.phase != phStopped || c.exitCode == nil || *c.exitCode != code || c.reason != "" {
			t.Fatalf("exit %d before the oom event: phase %v, exit %v, reason %q; want stopped, %d, none", code, c.phase, c.exitCode, c.reason, code)
		}
		f.logOOM()
		tr.handleEvent(t.Context(), event(driver.EventOOM, 0))
		if c.reason != ReasonOutOfMemory || *c.exitCode != code {
			t.Errorf("exit %d, late oom event: reason %q, exit %d; want %q, %d", code, c.reason, *c.exitCode, ReasonOutOfMemory, code)
		}
	}
}

// The driver finds an OOM kill in the daemon's event log when the state
// does not say OOMKilled: the die event then stops the container with the
// OutOfMemoryError reason whatever the exit code.
func TestOOMFoundAtExitAnyExitCode(t *testing.T) {
	f := &oomDaemon{exitCode: 2, finished: time.Now(), logged: true}
	tr, c := oomTask(t, f)
	tr.handleEvent(t.Context(), event(driver.EventDie, 2))
	if c.reason != ReasonOutOfMemory || c.exitCode == nil || *c.exitCode != 2 {
		t.Errorf("reason %q, exit %v; want %q, 2", c.reason, c.exitCode, ReasonOutOfMemory)
	}
}

// Without an OOM kill, an exit has no reason, and an oom event about a
// run being restarted does not give the next run one.
func TestNoOOMNoReason(t *testing.T) {
	f := &oomDaemon{exitCode: 1, finished: time.Now()}
	tr, c := oomTask(t, f)
	tr.handleEvent(t.Context(), event(driver.EventDie, 1))
	if c.reason != "" {
		t.Errorf("plain exit: reason %q; want none", c.reason)
	}

	f2 := &oomDaemon{exitCode: 137, finished: time.Now()}
	tr2, c2 := oomTask(t, f2)
	c2.restarting = true
	tr2.handleEvent(t.Context(), event(driver.EventOOM, 0))
	if c2.oom || c2.reason != "" {
		t.Errorf("oom event while restarting: oom %v, reason %q; want neither", c2.oom, c2.reason)
	}
}

// A late oom event about an exit whose restart is due gives that exit its
// reason, should the restart not happen (the task stops first).
func TestLateOOMEventRestartDue(t *testing.T) {
	f := &oomDaemon{exitCode: 1, finished: time.Now()}
	tr, c := oomTask(t, f)
	c.restartDue, c.restartExit = true, 1
	tr.handleEvent(t.Context(), event(driver.EventOOM, 0))
	if c.restartReason != ReasonOutOfMemory {
		t.Errorf("restart reason %q; want %q", c.restartReason, ReasonOutOfMemory)
	}
}
