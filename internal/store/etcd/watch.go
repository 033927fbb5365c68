package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
)

// Watch implements store.Store on an etcd watch from fromRev+1.
//
// etcd creates a watch asynchronously and reports a compacted start
// revision only in the stream, while the contract wants both settled when
// Watch returns. So Watch first reads the namespace at the start revision
// (one linearizable point read): etcd answers ErrCompacted exactly when a
// watch from there would be refused, and for a "from now" watch (fromRev
// 0) the read's revision is the start, so every write acknowledged before
// Watch returns is excluded and every later one delivered. A compaction
// racing this check closes the channel instead (rule 2 of the contract).
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	if fromRev < 0 {
		return nil, fmt.Errorf("%w: negative watch revision %d", store.ErrInvalidArgument, fromRev)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.enter() {
		return nil, store.ErrClosed
	}
	defer s.leave()

	if fromRev == 0 {
		rev, err := s.revision(ctx)
		if err != nil {
			return nil, err
		}
		fromRev = rev
	} else if _, err := s.cli.Get(ctx, s.ns, clientv3.WithRev(fromRev+1), clientv3.WithCountOnly()); err != nil &&
		!errors.Is(err, rpctypes.ErrFutureRev) {
		return nil, s.fail(ctx, err)
	}

	wctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(s.stopped, cancel)
	out := make(chan store.Event, 64)
	w := s.progress.add(fromRev)
	start, end, ok := s.rangeOf(prefix)
	var in clientv3.WatchChan
	if ok {
		in = s.cli.Watch(clientv3.WithRequireLeader(wctx), start, clientv3.WithRange(end), clientv3.WithRev(fromRev+1))
	}
	s.watches.Add(1)
	go func() {
		defer s.watches.Done()
		defer close(out)
		defer stopOnClose()
		defer cancel()
		defer s.progress.remove(w)
		s.forward(wctx, in, out, w)
	}()
	return out, nil
}

// forward converts etcd watch responses to store events until ctx ends or
// the etcd watch ends (compaction, lost leader, closed client). A nil in
// (a prefix that holds no key) delivers nothing until ctx ends.
func (s *Store) forward(ctx context.Context, in clientv3.WatchChan, out chan<- store.Event, w *watchState) {
	for {
		var resp clientv3.WatchResponse
		select {
		case <-ctx.Done():
			return
		case r, ok := <-in:
			if !ok {
				return
			}
			resp = r
		}
		if resp.Err() != nil || resp.Canceled {
			return
		}
		if resp.IsProgressNotify() {
			// Every change up to the header's revision was delivered.
			if rev := resp.Header.Revision; rev > w.delivered() {
				select {
				case out <- store.Event{Type: store.EventProgress, KV: store.KV{ModRevision: rev}}:
					s.progress.delivered(w, rev)
				case <-ctx.Done():
					return
				}
			}
			continue
		}
		// etcd sends all events of a revision in one response (it never
		// splits a revision unless asked to fragment), so the last event
		// of each revision in a response is the revision's Last.
		for i, ev := range resp.Events {
			e := store.Event{KV: store.KV{Key: string(ev.Kv.Key[len(s.ns):]), ModRevision: ev.Kv.ModRevision}}
			e.Last = i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != ev.Kv.ModRevision
			if ev.Type == mvccpb.DELETE {
				e.Type = store.EventDelete
			} else {
				e.Type = store.EventPut
				e.KV.Value = clone(ev.Kv.Value)
				e.KV.CreateRevision = ev.Kv.CreateRevision
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
			if e.Last {
				s.progress.delivered(w, e.KV.ModRevision)
			}
		}
	}
}
