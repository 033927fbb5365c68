package docker

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// fakeDaemon answers a container inspect and the event log queries of the
// late-OOM check, as Docker 20.10 does when the OOM came after the exit:
// OOMKilled false in the state, an "oom" event in the log.
type fakeDaemon struct {
	mu         sync.Mutex
	finished   time.Time
	memory     int64
	oomLogged  bool // the log has the container's oom event
	eventCalls int
	lastQuery  string
}

func (f *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		w.Header().Set("Api-Version", "1.41")
	case strings.HasSuffix(r.URL.Path, "/containers/c1/json"):
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"Id": "c1", "Name": "/app", "Created": f.finished.Add(-time.Minute).Format(time.RFC3339Nano),
			"State": map[string]any{"Status": "exited", "ExitCode": 0, "OOMKilled": false,
				"StartedAt": f.finished.Add(-30 * time.Second).Format(time.RFC3339Nano), "FinishedAt": f.finished.Format(time.RFC3339Nano)},
			"HostConfig": map[string]any{"Memory": f.memory},
			"Config":     map[string]any{"Image": "img", "Labels": map[string]string{}},
		})
	case strings.HasSuffix(r.URL.Path, "/events"):
		f.eventCalls++
		f.lastQuery = r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		if f.oomLogged {
			json.NewEncoder(w).Encode(events.Message{Type: events.ContainerEventType, Action: "oom",
				Actor: events.Actor{ID: "c1"}, TimeNano: f.finished.UnixNano()})
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeDaemon) set(fn func(f *fakeDaemon)) { f.mu.Lock(); defer f.mu.Unlock(); fn(f) }

func (f *fakeDaemon) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return f.eventCalls }

func newFakeDaemonDriver(t *testing.T, f *fakeDaemon) *Driver {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	d, err := New(Options{Host: "tcp://" + strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestLateOOMEvent(t *testing.T) {
	ctx := t.Context()
	f := &fakeDaemon{finished: time.Now(), memory: 16 << 20}
	d := newFakeDaemonDriver(t, f)

	// Just after the exit, no oom event yet: not OOM-killed, and the answer
	// is not kept (the event may still come).
	st, err := d.InspectContainer(ctx, "c1")
	if err != nil || st.OOMKilled {
		t.Fatalf("before the late event: OOMKilled %v, %v; want false", st.OOMKilled, err)
	}
	var q string
	f.set(func(f *fakeDaemon) { q = f.lastQuery })
	if !strings.Contains(q, "oom") || !strings.Contains(q, "c1") || !strings.Contains(q, "until") {
		t.Errorf("event query %q does not ask for c1's oom events up to now", q)
	}
	// The late oom event comes: the next inspect says OOM-killed.
	f.set(func(f *fakeDaemon) { f.oomLogged = true })
	if st, _ := d.InspectContainer(ctx, "c1"); !st.OOMKilled {
		t.Fatal("after the late oom event: OOMKilled false; want true")
	}
	// A positive answer is final: no more queries.
	n := f.calls()
	if st, _ := d.InspectContainer(ctx, "c1"); !st.OOMKilled || f.calls() != n {
		t.Errorf("again: OOMKilled %v after %d more queries; want true after none", st.OOMKilled, f.calls()-n)
	}
}

func TestLateOOMSettled(t *testing.T) {
	ctx := t.Context()
	f := &fakeDaemon{finished: time.Now().Add(-time.Minute), memory: 16 << 20}
	d := newFakeDaemonDriver(t, f)
	if st, _ := d.InspectContainer(ctx, "c1"); st.OOMKilled {
		t.Fatal("OOMKilled true without an oom event")
	}
	// Long after the exit the answer is final: kept, not asked again.
	n := f.calls()
	if st, _ := d.InspectContainer(ctx, "c1"); st.OOMKilled || f.calls() != n {
		t.Errorf("settled: OOMKilled %v after %d more queries; want false after none", st.OOMKilled, f.calls()-n)
	}
	// Removing the container forgets it.
	d.ooms.forget("c1")
	d.InspectContainer(ctx, "c1")
	if f.calls() != n+1 {
		t.Errorf("after forget: %d queries; want 1", f.calls()-n)
	}
}

func TestLateOOMNeedsAMemoryLimit(t *testing.T) {
	f := &fakeDaemon{finished: time.Now(), oomLogged: true}
	d := newFakeDaemonDriver(t, f)
	if st, _ := d.InspectContainer(t.Context(), "c1"); st.OOMKilled || f.calls() != 0 {
		t.Errorf("no memory limit: OOMKilled %v after %d event queries; want false after none", st.OOMKilled, f.calls())
	}
}
