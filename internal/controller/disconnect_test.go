package controller

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestDisconnectDecision(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	away := InstanceInfo{ARN: instARN}
	running := task("run", ecs.TaskRunning, ecs.TaskRunning)
	stopped := task("done", ecs.TaskStopped, ecs.TaskStopped)
	elsewhere := task("moved", ecs.TaskRunning, ecs.TaskRunning)
	elsewhere.Instance = "other"
	tasks := []TaskInfo{running, stopped, elsewhere}
	for _, tc := range []struct {
		name     string
		inst     InstanceInfo
		found    bool
		since    time.Time
		isAway   bool
		wantWait time.Duration
		wantStop []string
	}{
		{"timeout passed", away, true, now.Add(-3 * time.Minute), true, 0, []string{"run"}},
		{"not yet", away, true, now.Add(-time.Minute), true, 2 * time.Minute, nil},
		{"connected again", InstanceInfo{ARN: instARN, Connected: true}, true, now.Add(-time.Hour), true, 0, nil},
		{"deregistered", away, false, now.Add(-time.Hour), true, 0, nil},
		{"never seen away", away, true, time.Time{}, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, stop := disconnectDecision(tc.inst, tc.found, tasks, tc.since, tc.isAway, now, 3*time.Minute)
			var got []string
			for _, s := range stop {
				got = append(got, s.ID)
			}
			if wait != tc.wantWait || !slices.Equal(got, tc.wantStop) {
				t.Errorf("decision = %v, %v; want %v, %v", wait, got, tc.wantWait, tc.wantStop)
			}
		})
	}
	if wait, stop := disconnectDecision(away, true, []TaskInfo{stopped}, now.Add(-time.Minute), true, now, 3*time.Minute); wait != 0 || stop != nil {
		t.Errorf("an instance with only STOPPED tasks is waited for: %v, %v", wait, stop)
	}
}

// disconnectRig runs a Disconnect over a fake source in the bubble.
type disconnectRig struct {
	src     *fakeSource
	mu      sync.Mutex
	stopped map[string]time.Time // task ID → when
}

func newDisconnectRig(t *testing.T, timeout time.Duration) (*disconnectRig, func()) {
	return newDisconnectRigRecorded(t, timeout, false)
}

func newDisconnectRigRecorded(t *testing.T, timeout time.Duration, recorded bool) (*disconnectRig, func()) {
	r := &disconnectRig{src: newFakeSource(), stopped: map[string]time.Time{}}
	d := NewDisconnect(DisconnectConfig{Source: r.src, Timeout: timeout, Recorded: recorded, Stopper: stopperFunc(func(_ context.Context, ti TaskInfo, reason string, now time.Time) (bool, error) {
		if reason != StopReasonAgentDisconnected {
			t.Errorf("stopped with reason %q", reason)
		}
		r.mu.Lock()
		r.stopped[ti.ID] = now
		r.mu.Unlock()
		ti.Desired, ti.Last, ti.StoppedAt, ti.StoppedReason = ecs.TaskStopped, ecs.TaskStopped, now, reason
		r.src.putTask(ti)
		return true, nil
	})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := func() {
		go func() { defer close(done); _ = d.Run(ctx) }()
		synctest.Wait()
	}
	t.Cleanup(func() { cancel(); <-done })
	return r, start
}

func (r *disconnectRig) stops() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Time{}
	for k, v := range r.stopped {
		out[k] = v
	}
	return out
}

func TestDisconnectStopsTasksAfterTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRig(t, 3*time.Minute)
		r.src.putInstance(InstanceInfo{ARN: instARN, Scope: scope, Cluster: "c1", Connected: true})
		r.src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		start()
		t0 := time.Now()
		r.src.putInstance(InstanceInfo{ARN: instARN, Scope: scope, Cluster: "c1", Connected: false})
		time.Sleep(3*time.Minute - time.Second)
		synctest.Wait()
		if len(r.stops()) != 0 {
			t.Fatal("tasks stopped before the timeout")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := r.stops()
		if at, ok := got["t1"]; !ok || at.Sub(t0) != 3*time.Minute {
			t.Fatalf("stops %v; want t1 stopped 3m after the agent left", got)
		}
	})
}

func TestDisconnectSparesAnAgentThatCameBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRig(t, 3*time.Minute)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: true})
		r.src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		start()
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: false})
		time.Sleep(2 * time.Minute)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: true})
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(r.stops()) != 0 {
			t.Fatalf("stopped %v though the agent came back", r.stops())
		}
	})
}

// TestDisconnectNewLeaderGivesFullTimeout: an instance already away when
// this server starts leading gets the whole timeout from then.
func TestDisconnectNewLeaderGivesFullTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRig(t, time.Minute)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: false})
		r.src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		time.Sleep(time.Hour) // away long before this server leads
		start()
		t0 := time.Now()
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if len(r.stops()) != 0 {
			t.Fatal("a new leader stopped tasks before giving the full timeout")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if at, ok := r.stops()["t1"]; !ok || at.Sub(t0) != time.Minute {
			t.Fatalf("stops %v; want t1 one timeout after leading began", r.stops())
		}
	})
}

// TestDisconnectTaskPlacedWhileAway: a task placed on an instance whose
// timeout already ran out (it had no tasks then) is stopped at once.
func TestDisconnectTaskPlacedWhileAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRig(t, time.Minute)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: true})
		start()
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: false})
		time.Sleep(2 * time.Minute)
		r.src.putTask(task("late", ecs.TaskRunning, ecs.TaskPending))
		synctest.Wait()
		if _, ok := r.stops()["late"]; !ok {
			t.Fatalf("a task placed on a long-gone instance was left: %v", r.stops())
		}
	})
}

// TestDisconnectNewLeaderCountsFromTheRecord: with several servers
// (Recorded), a leader that takes over counts an away agent's timeout
// from the disconnection the store recorded, not from its own start; a
// recorded time ahead of this server's clock counts from now.
func TestDisconnectNewLeaderCountsFromTheRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRigRecorded(t, time.Minute, true)
		left := time.Now()
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: false, DisconnectedAt: left})
		r.src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		const ahead = "arn:aws:ecs:us-east-1:000000000000:container-instance/c1/ahead"
		r.src.putInstance(InstanceInfo{ARN: ahead, Connected: false, DisconnectedAt: left.Add(time.Hour)})
		t2 := task("t2", ecs.TaskRunning, ecs.TaskRunning)
		t2.Instance = ahead
		r.src.putTask(t2)
		time.Sleep(40 * time.Second) // the old leader dies; this one takes over
		start()
		time.Sleep(19 * time.Second)
		synctest.Wait()
		if len(r.stops()) != 0 {
			t.Fatalf("stopped %v before the recorded disconnection's timeout", r.stops())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if at, ok := r.stops()["t1"]; !ok || at.Sub(left) != time.Minute {
			t.Fatalf("stops %v; want t1 stopped one timeout after the recorded disconnection", r.stops())
		}
		if _, ok := r.stops()["t2"]; ok {
			t.Fatal("a disconnection recorded in the future was counted from then")
		}
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if _, ok := r.stops()["t2"]; !ok {
			t.Fatalf("stops %v; want t2 stopped one timeout after this leader started", r.stops())
		}
	})
}

// TestDisconnectRecordedWhileLeading: a disconnection seen while leading
// also counts from the recorded time (written by the server that held the
// session, perhaps a moment before this one's cache saw it).
func TestDisconnectRecordedWhileLeading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, start := newDisconnectRigRecorded(t, time.Minute, true)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: true})
		r.src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		start()
		left := time.Now()
		time.Sleep(30 * time.Second)
		r.src.putInstance(InstanceInfo{ARN: instARN, Connected: false, DisconnectedAt: left})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if at, ok := r.stops()["t1"]; !ok || at.Sub(left) != time.Minute {
			t.Fatalf("stops %v; want t1 stopped one timeout after the recorded disconnection", r.stops())
		}
	})
}

// A reconcile that finds nothing left to stop (its cache lagging behind
// the stops of the one just before) does not report the tasks stopped
// again: the log says once what happened.
func TestDisconnectReportsOnlyWhatItStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		src := newFakeSource()
		var calls int
		d := NewDisconnect(DisconnectConfig{Source: src, Timeout: time.Second, Logger: slog.New(slog.NewTextHandler(&log, nil)),
			Stopper: stopperFunc(func(context.Context, TaskInfo, string, time.Time) (bool, error) {
				calls++
				return calls == 1, nil // the second call finds it STOPPED already
			})})
		src.putInstance(InstanceInfo{ARN: instARN})
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		time.Sleep(2 * time.Second) // the bubble's fake clock, past the 1 s timeout
		for range 2 {
			if _, err := d.Reconcile(t.Context(), instARN); err != nil {
				t.Fatal(err)
			}
		}
		if calls != 2 {
			t.Fatalf("%d stops tried, want 2 (the cache still shows the task running)", calls)
		}
		if n := strings.Count(log.String(), "agent disconnected too long"); n != 1 {
			t.Fatalf("the stop was reported %d times, want once:\n%s", n, log.String())
		}
	})
}
