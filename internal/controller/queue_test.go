package controller

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
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
	q := NewQueue()
	q.AddAfter("x", 20*time.Millisecond)
	if q.Len() != 0 {
		t.Fatal("queued before its time")
	}
	got := make(chan string)
	go func() { k, _ := q.Get(); got <- k }()
	select {
	case k := <-got:
		if k != "x" {
			t.Fatalf("got %q", k)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("AddAfter never fired")
	}
	q.ShutDown()
}

// TestWorkNeverRunsAKeyConcurrently hammers one key from many adders and
// checks that its reconciler never overlaps itself.
func TestWorkNeverRunsAKeyConcurrently(t *testing.T) {
	q := NewQueue()
	var running, overlaps, runs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		Work(ctx, "test", q, 4, func(context.Context, string) (time.Duration, error) {
			if running.Add(1) > 1 {
				overlaps.Add(1)
			}
			runs.Add(1)
			time.Sleep(time.Millisecond)
			running.Add(-1)
			return 0, nil
		}, slog.New(slog.DiscardHandler))
	}()
	for range 200 {
		q.Add("same")
		time.Sleep(50 * time.Microsecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Fatalf("the key ran concurrently %d times", overlaps.Load())
	}
	if runs.Load() == 0 {
		t.Fatal("never ran")
	}
}
