package controller

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestRetentionWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	stopped := task("s", ecs.TaskStopped, ecs.TaskStopped)
	stopped.StoppedAt = now.Add(-50 * time.Minute)
	old := stopped
	old.StoppedAt = now.Add(-2 * time.Hour)
	for _, tc := range []struct {
		name  string
		t     TaskInfo
		found bool
		want  time.Duration
	}{
		{"young", stopped, true, 10 * time.Minute},
		{"due", old, true, 0},
		{"running", task("r", ecs.TaskRunning, ecs.TaskRunning), true, -1},
		{"gone", old, false, -1},
	} {
		if got := retentionWait(tc.t, tc.found, now, time.Hour); got != tc.want {
			t.Errorf("%s: wait %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetentionDeletesStoppedTasksWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		var mu sync.Mutex
		deleted := map[string]time.Time{}
		r := NewRetention(RetentionConfig{Source: src, Retention: time.Hour, Deleter: deleterFunc(func(_ context.Context, sc ecs.Scope, cluster, id string) error {
			if sc != scope || cluster != "c1" {
				t.Errorf("deleted task %s of %v cluster %s; want cluster c1 of %v", id, sc, cluster, scope)
			}
			mu.Lock()
			deleted[id] = time.Now()
			mu.Unlock()
			src.deleteTask(task(id, ecs.TaskStopped, ecs.TaskStopped).Key)
			return nil
		})})
		// Stopped before this server leads, 30 minutes ago.
		early := task("early", ecs.TaskStopped, ecs.TaskStopped)
		early.StoppedAt = time.Now().Add(-30 * time.Minute)
		src.putTask(early)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(ctx) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		t0 := time.Now()
		late := task("late", ecs.TaskRunning, ecs.TaskRunning)
		src.putTask(late)
		src.putTask(task("running", ecs.TaskRunning, ecs.TaskRunning))
		time.Sleep(10 * time.Minute)
		late.Desired, late.Last, late.StoppedAt = ecs.TaskStopped, ecs.TaskStopped, time.Now()
		src.putTask(late)

		count := func() int { synctest.Wait(); mu.Lock(); defer mu.Unlock(); return len(deleted) }
		time.Sleep(20*time.Minute - time.Second)
		if n := count(); n != 0 {
			t.Fatalf("deleted %d tasks before their time", n)
		}
		time.Sleep(time.Second)
		if n := count(); n != 1 {
			t.Fatalf("deleted %d tasks at +30m; want early only", n)
		}
		time.Sleep(40*time.Minute - time.Second)
		if n := count(); n != 1 {
			t.Fatalf("deleted %d tasks before +70m; want 1", n)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if at := deleted["early"]; at.Sub(t0) != 30*time.Minute {
			t.Errorf("early deleted at +%v; want +30m", at.Sub(t0))
		}
		if at := deleted["late"]; at.Sub(t0) != 70*time.Minute {
			t.Errorf("late deleted at +%v; want +70m", at.Sub(t0))
		}
		if _, ok := deleted["running"]; ok {
			t.Error("a running task was deleted")
		}
	})
}
