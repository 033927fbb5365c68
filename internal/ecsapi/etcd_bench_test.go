package ecsapi

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/etcd"
)

// BenchmarkPlacementByStore places 10,000 tasks on 1,000 instances, as
// BenchmarkPlace10kTasksOn1kInstances does, on the bbolt store and on etcd
// (an embedded single-node etcd over loopback gRPC) in the same run, so
// that the two read as a ratio.
//
//	go test -run '^$' -bench BenchmarkPlacementByStore -benchtime=1x ./internal/ecsapi
func BenchmarkPlacementByStore(b *testing.B) {
	srv, err := etcdserver.Start(b.Context(), etcdserver.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	ns := 0
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			st, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
		{"etcd", func(b *testing.B) store.Store {
			ns++
			st, err := etcd.Open(b.Context(), srv.Endpoints(), etcd.Options{Namespace: fmt.Sprintf("/bench%d", ns)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	binpack := []ecs.PlacementStrategy{{Type: ecs.StrategyBinpack, Field: "memory"}}
	for _, clients := range []int{1, 8} {
		for _, s := range stores {
			b.Run(fmt.Sprintf("place/clients=%d/store=%s", clients, s.name), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					pb := newPlacementBenchOn(b, s.open(b), 1000)
					b.StartTimer()
					pb.place(b, 10_000, clients, binpack)
				}
			})
		}
	}
}
