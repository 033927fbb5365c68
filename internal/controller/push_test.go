package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestToSend(t *testing.T) {
	running := task("run", ecs.TaskRunning, ecs.TaskRunning)
	stopping := task("stopping", ecs.TaskStopped, ecs.TaskRunning)
	stoppedByUser := task("user", ecs.TaskStopped, ecs.TaskStopped)
	stoppedByUser.StoppedReason = "Task stopped by user"
	stoppedAway := task("away", ecs.TaskStopped, ecs.TaskStopped)
	stoppedAway.StoppedReason = StopReasonAgentDisconnected
	all := []TaskInfo{running, stopping, stoppedByUser, stoppedAway}
	for _, tc := range []struct {
		name string
		sent map[string]string
		want []string
	}{
		{"fresh session: everything it may still run", map[string]string{}, []string{"run", "stopping", "away"}},
		{"sent in the current desired status", map[string]string{running.Key: ecs.TaskRunning, stopping.Key: ecs.TaskStopped, stoppedAway.Key: ecs.TaskStopped}, nil},
		{"desired status changed since it was sent", map[string]string{running.Key: ecs.TaskRunning, stopping.Key: ecs.TaskRunning, stoppedAway.Key: ecs.TaskRunning}, []string{"stopping", "away"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ti := range toSend(all, tc.sent) {
				got = append(got, ti.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("toSend = %v; want %v", got, tc.want)
			}
		})
	}
}

// runPush runs a push reconciler in the bubble until the test ends.
func runPush(t *testing.T, src *fakeSource, hub *fakeSessions) *Push {
	p := NewPush(PushConfig{Source: src, Sessions: hub, Loader: sourceLoader(src), RetryAfter: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	synctest.Wait() // running: its queue takes keys
	return p
}

func ids(msgs [][]Assignment) [][]string {
	var out [][]string
	for _, m := range msgs {
		ids := []string{}
		for _, a := range m {
			ids = append(ids, a.Task.ID+":"+a.Task.DesiredStatus)
		}
		slices.Sort(ids)
		out = append(out, ids)
	}
	return out
}

func TestPushSendsNewSessionEverythingOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		s := &fakeSession{}
		hub := &fakeSessions{m: map[string]*fakeSession{instARN: s}}
		p := runPush(t, src, hub)
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskPending))
		p.SessionStarted(instARN, s)
		synctest.Wait()
		if got := ids(s.messages()); len(got) != 1 || !slices.Equal(got[0], []string{"t1:RUNNING"}) {
			t.Fatalf("sent %v; want [[t1:RUNNING]]", got)
		}
		// A status report changes nothing the agent needs.
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		synctest.Wait()
		if n := len(s.messages()); n != 1 {
			t.Fatalf("a lastStatus change was pushed again: %d messages", n)
		}
		// StopTask: the new desired status is pushed.
		src.putTask(task("t1", ecs.TaskStopped, ecs.TaskRunning))
		synctest.Wait()
		if got := ids(s.messages()); len(got) != 2 || !slices.Equal(got[1], []string{"t1:STOPPED"}) {
			t.Fatalf("sent %v; want the stop second", got)
		}
	})
}

func TestPushGreetsAnEmptyInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		s := &fakeSession{}
		p := runPush(t, src, &fakeSessions{m: map[string]*fakeSession{instARN: s}})
		p.SessionStarted(instARN, s)
		synctest.Wait()
		if got := s.messages(); len(got) != 1 || len(got[0]) != 0 {
			t.Fatalf("sent %v; want one empty greeting", got)
		}
	})
}

// TestPushStopsTasksStoppedWhileAway is issue 8's fault 4: an agent away
// past the disconnect timeout had its tasks marked STOPPED; when it comes
// back (a new session) it must be told at once, or their containers run
// on until its orphan grace ends.
func TestPushStopsTasksStoppedWhileAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		first := &fakeSession{}
		hub := &fakeSessions{m: map[string]*fakeSession{instARN: first}}
		p := runPush(t, src, hub)
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskRunning))
		byUser := task("t2", ecs.TaskStopped, ecs.TaskStopped)
		byUser.StoppedReason = "Task stopped by user"
		src.putTask(byUser)
		p.SessionStarted(instARN, first)
		synctest.Wait()

		// The agent goes away; the disconnect timeout stops its task.
		p.SessionEnded(first)
		hub.mu.Lock()
		delete(hub.m, instARN)
		hub.mu.Unlock()
		away := task("t1", ecs.TaskStopped, ecs.TaskStopped)
		away.StoppedReason = StopReasonAgentDisconnected
		src.putTask(away)
		synctest.Wait()

		// It comes back.
		second := &fakeSession{}
		hub.mu.Lock()
		hub.m[instARN] = second
		hub.mu.Unlock()
		p.SessionStarted(instARN, second)
		synctest.Wait()
		if got := ids(second.messages()); len(got) != 1 || !slices.Equal(got[0], []string{"t1:STOPPED"}) {
			t.Fatalf("the returning agent was sent %v; want [[t1:STOPPED]] at once", got)
		}
	})
}

func TestPushRetriesAFailedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		var fail atomic.Bool
		fail.Store(true)
		s := &fakeSession{send: func([]Assignment) error {
			if fail.Load() {
				return errors.New("broken pipe")
			}
			return nil
		}}
		p := runPush(t, src, &fakeSessions{m: map[string]*fakeSession{instARN: s}})
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskPending))
		p.SessionStarted(instARN, s)
		synctest.Wait()
		if n := len(s.messages()); n != 0 {
			t.Fatalf("%d messages through a failing session", n)
		}
		fail.Store(false)
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if n := len(s.messages()); n != 0 {
			t.Fatal("retried before RetryAfter")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := ids(s.messages()); len(got) != 1 || !slices.Equal(got[0], []string{"t1:RUNNING"}) {
			t.Fatalf("after the retry: sent %v", got)
		}
	})
}

func TestPushIgnoresInstancesWithoutSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		loads := 0
		p := NewPush(PushConfig{Source: src, Sessions: &fakeSessions{m: map[string]*fakeSession{}},
			Loader: loaderFunc(func(context.Context, TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error) { loads++; return nil, nil, nil })})
		src.putTask(task("t1", ecs.TaskRunning, ecs.TaskPending))
		if after, err := p.Reconcile(t.Context(), instARN); after != 0 || err != nil || loads != 0 {
			t.Fatalf("Reconcile = %v, %v after %d loads; want nothing done", after, err, loads)
		}
	})
}

// A session remembers what it was sent only of tasks that still exist:
// those deleted (after the task retention) are forgotten, so a long-lived
// session, such as the managed capacity's, does not grow with every task
// it ever ran (issue 8, fault 7).
func TestPushForgetsDeletedTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		s := &fakeSession{}
		p := runPush(t, src, &fakeSessions{m: map[string]*fakeSession{instARN: s}})
		p.SessionStarted(instARN, s)
		const n = 100
		for i := range n {
			src.putTask(task(fmt.Sprint("t", i), ecs.TaskRunning, ecs.TaskPending))
		}
		synctest.Wait()
		sent := func() int {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.state[s].sent)
		}
		if got := sent(); got != n {
			t.Fatalf("the session remembers %d tasks sent, want %d", got, n)
		}
		for i := range n {
			src.putTask(task(fmt.Sprint("t", i), ecs.TaskStopped, ecs.TaskStopped))
		}
		synctest.Wait()
		for i := range n {
			src.deleteTask(task(fmt.Sprint("t", i), "", "").Key)
		}
		synctest.Wait()
		if got := sent(); got != 0 {
			t.Fatalf("the session still remembers %d deleted tasks", got)
		}
	})
}
