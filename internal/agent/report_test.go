package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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
	time.Sleep(fakeLatency)
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

// fakeLatency is how long the fake ECS takes to answer (fake time).
const fakeLatency = 5 * time.Millisecond

// handlerTransport serves requests with a handler in memory: no network,
// so that the reporter runs inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// startReporter runs the agent's report loop against f; call it inside a
// synctest bubble.
func startReporter(t *testing.T, f *fakeECS) *Agent {
	t.Helper()
	f.inflight = map[string]int{}
	a := New(Config{ServerURL: "http://ecs.test", Cluster: "c"})
	a.api.http.Transport = handlerTransport{f}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { a.reportLoop(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// waitCalls waits (in fake time) until f has recorded n reports.
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
		time.Sleep(time.Millisecond)
	}
}

const taskARN = "arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef"

// A report that changes neither the task's status nor its health waits
// for the next status change, which carries it. Fake time: the delays
// are exact.
func TestReportDetailsRideWithStatusChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeECS{}
		a := startReporter(t, f)
		a.mu.Lock()
		a.known[taskARN] = knownState{status: ecs.TaskPending, health: ecs.HealthUnknown}
		a.mu.Unlock()

		start := time.Now()
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending, HealthStatus: ecs.HealthUnknown, PullStartedAt: start})
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending, PullStartedAt: start, PullStoppedAt: start,
			Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerPending}}})
		time.Sleep(reportDelay - time.Millisecond)
		synctest.Wait()
		if calls, _ := f.snapshot(); len(calls) != 0 {
			t.Fatalf("details sent before reportDelay: %+v", calls)
		}
		running := time.Now()
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, PullStartedAt: start, PullStoppedAt: start, StartedAt: start,
			Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerRunning}}})
		calls := waitCalls(t, f, 1, time.Second)
		if _, at := f.snapshot(); at[0].Sub(running) != fakeLatency {
			t.Errorf("RUNNING answered %s after the change; want at once (the fake's %s)", at[0].Sub(running), fakeLatency)
		}
		if c := calls[0]; c.Status != ecs.TaskRunning || c.PullStartedAt == nil || len(c.Containers) != 1 || c.Containers[0].RuntimeID != "abc" {
			t.Errorf("report = %+v", c)
		}
		time.Sleep(10 * reportDelay)
		synctest.Wait()
		if calls, _ := f.snapshot(); len(calls) != 1 {
			t.Errorf("%d reports; want 1 (the details rode with RUNNING): %+v", len(calls), calls)
		}

		// Details alone are sent after reportDelay.
		before := time.Now()
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, StartedAt: start,
			Containers: []runner.ContainerChange{{Name: "app", RuntimeID: "abc", LastStatus: ecs.ContainerRunning,
				NetworkBindings: []ecs.NetworkBinding{{ContainerPort: 80, HostPort: 32768}}}}})
		waitCalls(t, f, 2, 2*reportDelay)
		if _, at := f.snapshot(); at[1].Sub(before) != reportDelay+fakeLatency {
			t.Errorf("details answered after %s; want %s", at[1].Sub(before), reportDelay+fakeLatency)
		}
	})
}

// A task the agent knows nothing about (no payload yet, e.g. adopted
// after a restart) is reported at once, and so is a health change.
func TestReportUnknownTaskAndHealthAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeECS{}
		a := startReporter(t, f)
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, HealthStatus: ecs.HealthUnknown})
		waitCalls(t, f, 1, fakeLatency)
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning, HealthStatus: ecs.HealthHealthy})
		calls := waitCalls(t, f, 2, fakeLatency)
		if calls[1].Status != ecs.TaskRunning || calls[1].Task != taskARN {
			t.Errorf("report = %+v", calls[1])
		}
	})
}

// Failed reports are retried until acknowledged; a task never has two
// reports in flight; reports of different tasks go out concurrently.
func TestReportRetriesAndOrdering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeECS{failures: 2}
		a := startReporter(t, f)
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskPending})
		synctest.Wait() // PENDING is in flight
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskRunning})
		calls := waitCalls(t, f, 1, 5*time.Second)
		if calls[len(calls)-1].Status != ecs.TaskRunning {
			t.Errorf("last report = %+v; want RUNNING", calls[len(calls)-1])
		}
		start := time.Now()
		for i := range 20 {
			arn := strings.TrimSuffix(taskARN, "cdef") + string(rune('a'+i%26)) + "xyz"
			a.report(runner.TaskChange{TaskARN: arn, LastStatus: ecs.TaskStopped})
		}
		a.report(runner.TaskChange{TaskARN: taskARN, LastStatus: ecs.TaskStopped})
		waitCalls(t, f, len(calls)+21, 5*time.Second)
		// 21 reports, maxSubmits at a time: ceil(21/8) rounds of the fake's latency.
		if _, at := f.snapshot(); at[len(at)-1].Sub(start) > 3*fakeLatency {
			t.Errorf("21 reports took %s; want %s (%d at once)", at[len(at)-1].Sub(start), 3*fakeLatency, maxSubmits)
		}
		f.mu.Lock()
		overlap := f.overlap
		f.mu.Unlock()
		if overlap {
			t.Error("two reports of one task were in flight at once")
		}
		// Everything is idle once every goroutine of the bubble blocks.
		synctest.Wait()
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.pending) != 0 || len(a.inflight) != 0 {
			t.Errorf("pending %d, inflight %d after delivery", len(a.pending), len(a.inflight))
		}
		if _, ok := a.known[taskARN]; ok {
			t.Error("a STOPPED task is still remembered")
		}
	})
}
