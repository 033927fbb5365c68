package etcd_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/etcd"
)

// BenchmarkBackends runs the same store operations on the embedded bbolt
// store and on etcd (an embedded single-node etcd over loopback gRPC) in
// one run, so that the two read as a ratio:
//
//	go test -run '^$' -bench BenchmarkBackends ./internal/store/etcd
func BenchmarkBackends(b *testing.B) {
	srv := startEtcd(b)
	var n atomic.Int64
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"etcd", func(b *testing.B) store.Store {
			s, err := etcd.Open(b.Context(), srv.Endpoints(), etcd.Options{Namespace: fmt.Sprintf("/bench/%d", n.Add(1))})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	value := bytes.Repeat([]byte("v"), 256)
	for _, be := range backends {
		b.Run(be.name+"/Txn", func(b *testing.B) {
			s := be.open(b)
			i := 0
			for b.Loop() {
				if _, err := s.Txn(b.Context(), nil, []store.Op{{Key: fmt.Sprintf("/bench/%04d", i%1000), Value: value}}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(be.name+"/TxnParallel16", func(b *testing.B) {
			s := be.open(b)
			var mu sync.Mutex
			worker := 0
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				w := worker
				worker++
				mu.Unlock()
				for i := 0; pb.Next(); i++ {
					if _, err := s.Txn(b.Context(), nil, []store.Op{{Key: fmt.Sprintf("/bench/%d/%04d", w, i%100), Value: value}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(be.name+"/CAS", func(b *testing.B) {
			// A write guarded by a compare on the revision it last wrote.
			s := be.open(b)
			rev, err := s.Txn(b.Context(), nil, []store.Op{{Key: "/cas", Value: value}})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if rev, err = s.Txn(b.Context(), []store.Compare{{Key: "/cas", ModRevision: rev}}, []store.Op{{Key: "/cas", Value: value}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(be.name+"/Get", func(b *testing.B) {
			s := be.open(b)
			fill(b, s, 1000, value)
			i := 0
			for b.Loop() {
				if _, err := s.Get(b.Context(), fmt.Sprintf("/bench/%04d", i%1000)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(be.name+"/List100of1000", func(b *testing.B) {
			s := be.open(b)
			fill(b, s, 1000, value)
			i := 0
			for b.Loop() {
				kvs, _, err := s.List(b.Context(), fmt.Sprintf("/bench/0%d", i%10), store.ListOptions{})
				if err != nil || len(kvs) != 100 {
					b.Fatalf("list: %d keys, %v", len(kvs), err)
				}
				i++
			}
		})
		b.Run(be.name+"/TxnToWatchEvent", func(b *testing.B) {
			// From a Txn's acknowledgement to its event at a watcher.
			s := be.open(b)
			events, err := s.Watch(b.Context(), "/w/", 0)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				rev, err := s.Txn(b.Context(), nil, []store.Op{{Key: "/w/k", Value: value}})
				if err != nil {
					b.Fatal(err)
				}
				for ev := range events {
					if ev.KV.ModRevision == rev {
						break
					}
				}
			}
		})
	}
}

// fill writes n keys /bench/NNNN in transactions of at most 100 ops.
func fill(b *testing.B, s store.Store, n int, value []byte) {
	b.Helper()
	for start := 0; start < n; start += 100 {
		var ops []store.Op
		for i := start; i < min(start+100, n); i++ {
			ops = append(ops, store.Op{Key: fmt.Sprintf("/bench/%04d", i), Value: value})
		}
		if _, err := s.Txn(b.Context(), nil, ops); err != nil {
			b.Fatal(err)
		}
	}
}
