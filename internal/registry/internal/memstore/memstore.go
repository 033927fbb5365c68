// Package memstore is a small in-memory store.Store for the registry's
// tests. It follows the contract (revisions, CAS Txn, consistent List,
// Watch from a revision) but keeps everything in memory.
package memstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/store"
)

// Store is an in-memory store.Store.
type Store struct {
	mu       sync.Mutex
	rev      int64
	kv       map[string]store.KV
	history  []store.Event
	watchers map[*watcher]struct{}
	closed   bool
	// TxnHook, when set, runs at the start of every Txn (outside the lock);
	// tests use it to interleave operations deterministically.
	TxnHook func(cmps []store.Compare, ops []store.Op)
}

type watcher struct {
	prefix string
	ch     chan store.Event
	ctx    context.Context
}

// New returns an empty store.
func New() *Store {
	return &Store{kv: map[string]store.KV{}, watchers: map[*watcher]struct{}{}}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func cloneKV(kv store.KV) store.KV { kv.Value = clone(kv.Value); return kv }

func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.KV{}, store.ErrClosed
	}
	kv, ok := s.kv[key]
	if !ok {
		return store.KV{}, fmt.Errorf("%w: %s", store.ErrNotFound, key)
	}
	return cloneKV(kv), nil
}

func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, 0, store.ErrClosed
	}
	keys := make([]string, 0)
	for k := range s.kv {
		if strings.HasPrefix(k, prefix) && (opts.StartAfter == "" || k > opts.StartAfter) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if opts.Limit > 0 && len(keys) > opts.Limit {
		keys = keys[:opts.Limit]
	}
	out := make([]store.KV, len(keys))
	for i, k := range keys {
		out[i] = cloneKV(s.kv[k])
	}
	return out, s.rev, nil
}

func (s *Store) Txn(ctx context.Context, cmps []store.Compare, ops []store.Op) (int64, error) {
	if err := store.ValidateTxn(cmps, ops); err != nil {
		return 0, err
	}
	if h := s.TxnHook; h != nil {
		h(cmps, ops)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	for _, c := range cmps {
		kv, ok := s.kv[c.Key]
		if c.ModRevision == 0 && ok || c.ModRevision != 0 && (!ok || kv.ModRevision != c.ModRevision) {
			return 0, fmt.Errorf("%w: %s", store.ErrConflict, c.Key)
		}
	}
	changed := false
	for _, op := range ops {
		if _, ok := s.kv[op.Key]; ok || !op.Delete {
			changed = true
		}
	}
	if !changed {
		return s.rev, nil
	}
	s.rev++
	var events []store.Event
	for _, op := range ops {
		old, ok := s.kv[op.Key]
		if op.Delete {
			if !ok {
				continue
			}
			delete(s.kv, op.Key)
			events = append(events, store.Event{Type: store.EventDelete, KV: store.KV{Key: op.Key, CreateRevision: old.CreateRevision, ModRevision: s.rev}})
			continue
		}
		kv := store.KV{Key: op.Key, Value: clone(op.Value), CreateRevision: s.rev, ModRevision: s.rev}
		if ok {
			kv.CreateRevision = old.CreateRevision
		}
		s.kv[op.Key] = kv
		events = append(events, store.Event{Type: store.EventPut, KV: cloneKV(kv)})
	}
	s.history = append(s.history, events...)
	for w := range s.watchers {
		for _, e := range events {
			if strings.HasPrefix(e.KV.Key, w.prefix) {
				s.deliver(w, e)
			}
		}
	}
	return s.rev, nil
}

// deliver sends without blocking forever: a consumer that does not keep up
// loses its watch (the channel closes), as the contract allows.
func (s *Store) deliver(w *watcher, e store.Event) {
	e.KV = cloneKV(e.KV)
	select {
	case w.ch <- e:
	default:
		delete(s.watchers, w)
		close(w.ch)
	}
}

func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	w := &watcher{prefix: prefix, ch: make(chan store.Event, 1024), ctx: ctx}
	if fromRev > 0 {
		for _, e := range s.history {
			if e.KV.ModRevision > fromRev && strings.HasPrefix(e.KV.Key, prefix) {
				select {
				case w.ch <- cloneEvent(e):
				default:
					return nil, store.ErrCompacted
				}
			}
		}
	}
	s.watchers[w] = struct{}{}
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.watchers[w]; ok {
			delete(s.watchers, w)
			close(w.ch)
		}
	}()
	return w.ch, nil
}

func cloneEvent(e store.Event) store.Event { e.KV = cloneKV(e.KV); return e }

func (s *Store) Revision(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, store.ErrClosed
	}
	return s.rev, nil
}

func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for w := range s.watchers {
		close(w.ch)
	}
	s.watchers = nil
	return nil
}

var _ store.Store = (*Store)(nil)
