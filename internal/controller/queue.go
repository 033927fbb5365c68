package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Queue is a deduplicating work queue of keys. A key added while it is
// queued is queued once; a key added while it is being processed is queued
// again when its processing is done, so the same key is never processed
// twice at once and no change is lost.
type Queue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	order      []string
	queued     map[string]bool
	processing map[string]bool
	redo       map[string]bool
	timers     map[string]*time.Timer
	closed     bool
}

// NewQueue returns an empty queue.
func NewQueue() *Queue {
	q := &Queue{queued: map[string]bool{}, processing: map[string]bool{}, redo: map[string]bool{}, timers: map[string]*time.Timer{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues key.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.closed {
		return
	}
	if q.processing[key] {
		q.redo[key] = true
		return
	}
	if q.queued[key] {
		return
	}
	q.queued[key] = true
	q.order = append(q.order, key)
	q.cond.Signal()
}

// AddAfter queues key after d. Several pending AddAfter calls of one key
// each fire; the queue deduplicates them.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		q.mu.Lock()
		if q.timers[key+"\x00"+d.String()] == t {
			delete(q.timers, key+"\x00"+d.String())
		}
		q.addLocked(key)
		q.mu.Unlock()
	})
	q.timers[key+"\x00"+d.String()] = t
}

// Get blocks until a key is available or the queue is shut down.
func (q *Queue) Get() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	key := q.order[0]
	q.order[0] = ""
	q.order = q.order[1:]
	delete(q.queued, key)
	q.processing[key] = true
	return key, true
}

// Done marks key processed, queueing it again if it was added meanwhile.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if q.redo[key] {
		delete(q.redo, key)
		q.addLocked(key)
	}
}

// Len returns the number of queued keys.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// ShutDown stops the queue: Get returns false from now on.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, t := range q.timers {
		t.Stop()
	}
	q.cond.Broadcast()
}

// Reconciler brings one key's observed state to its desired state. It
// returns how long to wait before looking at the key again (0: not until it
// changes) or an error (retried with backoff).
type Reconciler func(ctx context.Context, key string) (time.Duration, error)

// Work runs workers goroutines that reconcile the queue's keys until ctx
// ends; it shuts the queue down and waits for them.
func Work(ctx context.Context, name string, q *Queue, workers int, rec Reconciler, log *slog.Logger) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[string]int{}
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, ok := q.Get()
				if !ok {
					return
				}
				after, err := rec(ctx, key)
				if err != nil && ctx.Err() == nil {
					mu.Lock()
					failures[key]++
					n := failures[key]
					mu.Unlock()
					backoff := min(time.Duration(1<<min(n, 10))*50*time.Millisecond, 30*time.Second)
					log.Warn("reconcile failed; retrying", "controller", name, "key", key, "error", err, "in", backoff)
					after = backoff
				} else {
					mu.Lock()
					delete(failures, key)
					mu.Unlock()
				}
				q.Done(key)
				if after > 0 {
					q.AddAfter(key, after)
				}
			}
		}()
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}
