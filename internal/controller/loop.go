package controller

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// loop runs one reconciler over its own work queue. The queue lives only
// while the loop runs (a leader-only reconciler's queue lives for one
// leadership term): keys added while it does not run are dropped, and
// the seed function queues every key that may need work when it starts,
// so nothing is lost (the reconcilers are level-based).
type loop struct {
	name    string
	workers int
	rec     Reconciler
	log     *slog.Logger
	q       atomic.Pointer[Queue]
}

func (l *loop) add(key string) {
	if q := l.q.Load(); q != nil {
		q.Add(key)
	}
}

func (l *loop) addAfter(key string, d time.Duration) {
	if q := l.q.Load(); q != nil {
		q.AddAfter(key, d)
	}
}

// run seeds a fresh queue and reconciles its keys until ctx ends.
func (l *loop) run(ctx context.Context, seed func(add func(string), addAfter func(string, time.Duration))) {
	q := NewQueue()
	l.q.Store(q)
	defer l.q.CompareAndSwap(q, nil)
	if seed != nil {
		seed(q.Add, q.AddAfter)
	}
	Work(ctx, l.name, q, l.workers, l.rec, l.log)
}
