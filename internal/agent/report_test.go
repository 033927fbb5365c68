package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// fakeECS records SubmitTaskStateChange calls; the first failures calls
// answer 500.
type fakeECS struct {
	mu       sync.Mutex
	calls    []acs.SubmitTaskStateChangeInput
	at       []time.Time
	failures int
	inflight map[string]int
	overlap  bool // two reports of one task were in flight at once
}

func (f *fakeECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SubmitTaskStateChange") {
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	var in acs.SubmitTaskStateChangeInput
	_ = json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	f.inflight[in.Task]++
	if f.inflight[in.Task] > 1 {
		f.overlap = true
	}
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	f.mu.Lock()
	f.inflight[in.Task]--
	if !fail {
		f.calls = append(f.calls, in)
		f.at = append(f.at, time.Now())
	}
	f.mu.Unlock()
	if fail {
		http.Error(w, `{"__type":"ServerException","message":"try again"}`, http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(`{"acknowledgment":"ACK"}`))
}

func (f *fakeECS) snapshot() ([]acs.SubmitTaskStateChangeInput, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]acs.SubmitTaskStateChangeInput(nil), f.calls...), append([]time.Time(nil), f.at...)
}

func startReporter(t *testing.T, f *fakeECS) *Agent {
	t.Helper()
	f.inflight = map[string]int{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a := New(Config{ServerURL: srv.URL, Cluster: "c"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.reportLoop(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

func waitCalls(t *testing.T, f *fakeECS, n int, within time.Duration) []acs.SubmitTaskStateChangeInput {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		calls, _ := f.snapshot()
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reports within %s; want %d: %+v", len(calls), within, n, calls)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const taskARN = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"

// A report that changes neither the task's status nor its health waits
// for the next status change, which carries it.
func TestReportDetailsRideWithStatusChange(t *testing.T) {
	f := &fakeECS{}
	a := startReporter(t, f)
	a.mu.Lock()
	a.known[taskARN] = knownState{status: ecs.TaskPending, health: ecs.HealthUnknown}
	a.mu.Unlock()

	start := time.Now()
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending, HealthStatus: ecs.HealthUnknown, PullStartedAt: start})
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending, PullStartedAt: start, PullStoppedAt: start,
		Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerPending}}})
	time.Sleep(100 * time.Millisecond)
	if calls, _ := f.snapshot(); len(calls) != 0 {
		t.Fatalf("details sent at once: %+v", calls)
	}
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, PullStartedAt: start, PullStoppedAt: start, StartedAt: start,
		Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerRunning}}})
	calls := waitCalls(t, f, 1, 2*time.Second)
	if _, at := f.snapshot(); at[0].Sub(start) >= reportDelay {
		t.Errorf("RUNNING sent after %s; want at once", at[0].Sub(start))
	}
	if c := calls[0]; c.Status != ecs.TaskRunning || c.PullStartedAt == nil || len(c.Containers) != 1 || c.Containers[0].RuntimeID != "abc" {
		t.Errorf("report = %+v", c)
	}
	time.Sleep(reportDelay + 200*time.Millisecond)
	if calls, _ := f.snapshot(); len(calls) != 1 {
		t.Errorf("%d reports; want 1 (the details rode with RUNNING): %+v", len(calls), calls)
	}

	// Details alone are sent within reportDelay.
	before := time.Now()
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, StartedAt: start,
		Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerRunning,
			NetworkBindings: []ecs.NetworkBinding{{ContainerPort: 80, HostPort: 32768}}}}})
	waitCalls(t, f, 2, reportDelay+2*time.Second)
	if _, at := f.snapshot(); at[1].Sub(before) < reportDelay/2 {
		t.Errorf("details sent after %s; want about %s", at[1].Sub(before), reportDelay)
	}
}

// A task the agent knows nothing about (no payload yet, e.g. adopted
// after a restart) is reported at once, and so is a health change.
func TestReportUnknownTaskAndHealthAtOnce(t *testing.T) {
	f := &fakeECS{}
	a := startReporter(t, f)
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, HealthStatus: ecs.HealthUnknown})
	waitCalls(t, f, 1, reportDelay/2)
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, HealthStatus: ecs.HealthHealthy})
	calls := waitCalls(t, f, 2, reportDelay/2)
	if calls[1].Status != ecs.TaskRunning {
		t.Errorf("report = %+v", calls[1])
	}
}

// Failed reports are retried until acknowledged; a task never has two
// reports in flight; reports of different tasks go out concurrently.
func TestReportRetriesAndOrdering(t *testing.T) {
	f := &fakeECS{failures: 2}
	a := startReporter(t, f)
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending})
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning})
	calls := waitCalls(t, f, 1, 5*time.Second)
	if calls[len(calls)-1].Status != ecs.TaskRunning {
		t.Errorf("last report = %+v; want RUNNING", calls[len(calls)-1])
	}
	for i := range 20 {
		arn := strings.TrimSuffix(taskARN, "cdef") + string(rune('a'+i%26)) + "xyz"
		a.report(runner.TaskChange{TaskARN: arn, LastStatus: ecs.TaskStopped})
	}
	a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskStopped})
	waitCalls(t, f, len(calls)+21, 5*time.Second)
	f.mu.Lock()
	overlap := f.overlap
	f.mu.Unlock()
	if overlap {
		t.Error("two reports of one task were in flight at once")
	}
	// The fake records a call before it answers: wait for the agent to
	// have taken the last answers.
	deadline := time.Now().Add(5 * time.Second)
	a.mu.Lock()
	defer a.mu.Unlock()
	for (len(a.pending) != 0 || len(a.inflight) != 0) && time.Now().Before(deadline) {
		a.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		a.mu.Lock()
	}
	if len(a.pending) != 0 || len(a.inflight) != 0 {
		t.Errorf("pending %d, inflight %d after delivery", len(a.pending), len(a.inflight))
	}
	if _, ok := a.known[taskARN]; ok {
		t.Error("a STOPPED task is still remembered")
	}
}
