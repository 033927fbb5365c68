package etcd

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// progressInterval is how often progress is asked for while a watch is
// behind a revision that Revision or List handed out.
const progressInterval = 50 * time.Millisecond

// etcd's revision counter is cluster-wide: a write outside the namespace
// moves it with no event for berth's watches, so a consumer waiting for
// a Revision() value (the state cache's Sync) would wait for berth's next
// own write. progress closes that gap: whenever Revision or List hands
// out a revision that some watch has not delivered yet, the pump asks
// etcd for watch progress (a progress request on the watch stream) until
// every watch has delivered up to it; forward turns etcd's progress
// notifications into store.EventProgress.
type progress struct {
	mu       sync.Mutex
	wanted   int64 // highest revision handed out
	watchers map[*watchState]struct{}
	kick     chan struct{}
}

// watchState is one watch's delivered revision.
type watchState struct{ last atomic.Int64 }

func (w *watchState) delivered() int64 { return w.last.Load() }

func (p *progress) init() {
	p.watchers = map[*watchState]struct{}{}
	p.kick = make(chan struct{}, 1)
}

// add registers a watch that has delivered up to from. A watch that
// starts behind a revision already handed out wakes the pump: the
// Revision call may have come before the watch existed (a cache that
// synced from its List and had not yet started watching), and nothing
// else would ask for its progress.
func (p *progress) add(from int64) *watchState {
	w := &watchState{}
	w.last.Store(from)
	p.mu.Lock()
	p.watchers[w] = struct{}{}
	behind := from < p.wanted
	p.mu.Unlock()
	if behind {
		p.wake()
	}
	return w
}

func (p *progress) remove(w *watchState) {
	p.mu.Lock()
	delete(p.watchers, w)
	p.mu.Unlock()
}

func (p *progress) delivered(w *watchState, rev int64) {
	if rev > w.last.Load() {
		w.last.Store(rev)
	}
}

// want records a revision handed out and wakes the pump.
func (p *progress) want(rev int64) {
	p.mu.Lock()
	if rev > p.wanted {
		p.wanted = rev
	}
	p.mu.Unlock()
	p.wake()
}

func (p *progress) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// behind reports whether some watch has not delivered the highest
// revision handed out.
func (p *progress) behind() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.watchers {
		if w.last.Load() < p.wanted {
			return true
		}
	}
	return false
}

// pump asks for progress while a watch is behind, until ctx ends. etcd
// answers a progress request only when every watch of the stream has
// caught up, so it asks again every progressInterval until they have.
func (p *progress) pump(ctx context.Context, request func(context.Context) error) {
	t := time.NewTimer(progressInterval)
	defer t.Stop()
	var retry <-chan time.Time // armed only while a watch is behind
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-retry:
		}
		retry = nil
		if p.behind() {
			_ = request(ctx) // a failed or unanswered request is repeated
			t.Reset(progressInterval)
			retry = t.C
		}
	}
}

// requestProgress asks etcd for a progress notification on the watch
// stream that Watch uses (streams are keyed by the context's metadata,
// here the require-leader flag).
func (s *Store) requestProgress(ctx context.Context) error {
	return s.cli.RequestProgress(clientv3.WithRequireLeader(ctx))
}
