package controller

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestQueueDeduplicates(t *testing.T) {
	q := NewQueue()
	q.Add("a")
	q.Add("b")
	q.Add("a")
	if q.Len() != 2 {
		t.Fatalf("len %d, want 2", q.Len())
	}
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("got %q first", k)
	}
	// Added while processing: queued again only after Done.
	q.Add("a")
	if q.Len() != 1 {
		t.Fatalf("a key being processed was queued twice: len %d", q.Len())
	}
	q.Done("a")
	if q.Len() != 2 {
		t.Fatalf("a key added during processing was lost: len %d", q.Len())
	}
	q.ShutDown()
	if _, ok := q.Get(); ok {
		t.Fatal("Get after ShutDown")
	}
}

func TestQueueAddAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue()
		defer q.ShutDown()
		q.AddAfter("x", 20*time.Millisecond)
		time.Sleep(20*time.Millisecond - time.Nanosecond)
		if q.Len() != 0 {
			t.Fatal("queued before its time")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if k, ok := q.Get(); !ok || k != "x" {
			t.Fatalf("got %q, %v", k, ok)
		}
	})
}

// TestWorkNeverRunsAKeyConcurrently hammers one key from many adders and
// checks that its reconciler never overlaps itself.
func TestWorkNeverRunsAKeyConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue()
		var running, overlaps, runs atomic.Int32
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			Work(ctx, "test", q, 4, func(context.Context, string) (time.Duration, error) {
				if running.Add(1) > 1 {
					overlaps.Add(1)
				}
				runs.Add(1)
				time.Sleep(time.Millisecond) // the work takes time (fake clock)
				running.Add(-1)
				return 0, nil
			}, slog.New(slog.DiscardHandler))
		})
		for range 200 {
			q.Add("same")
			time.Sleep(50 * time.Microsecond)
		}
		synctest.Wait()
		cancel()
		wg.Wait()
		if overlaps.Load() != 0 {
			t.Fatalf("the key ran concurrently %d times", overlaps.Load())
		}
		if runs.Load() < 2 {
			t.Fatalf("ran %d times; want the adds during processing to rerun it", runs.Load())
		}
	})
}

// TestWorkBacksOffAndStopsOnCancel: a failing key is retried with a
// growing delay, and cancelling ends Work without waiting for a retry.
func TestWorkBacksOffAndStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue()
		var at []time.Duration
		t0 := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Work(ctx, "test", q, 1, func(context.Context, string) (time.Duration, error) {
				at = append(at, time.Since(t0))
				return 0, context.DeadlineExceeded
			}, slog.New(slog.DiscardHandler))
		}()
		q.Add("k")
		time.Sleep(time.Second)
		synctest.Wait()
		want := []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond}
		if len(at) != len(want) {
			t.Fatalf("attempts at %v; want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("attempts at %v; want %v", at, want)
			}
		}
		cancel()
		<-done // returns at once, although a retry is pending
	})
}
