package elbsync_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/elbsync"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// meteredProxy is a fakeProxy with counters.
type meteredProxy struct {
	fakeProxy
	snaps atomic.Int64
}

func (m *meteredProxy) Metrics() elbproxy.Metrics {
	n := m.snaps.Add(1)
	return elbproxy.Metrics{LoadBalancers: []elbproxy.LoadBalancerMetrics{{ARN: "lb", Counters: elbproxy.Counters{Requests: n}}}}
}

// TestControllerHandsMetricsEveryPeriod: OnMetrics gets the proxy's
// snapshots once a MetricPeriod while Run runs; Run waits for the loop.
func TestControllerHandsMetricsEveryPeriod(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proxy := &meteredProxy{}
	var got atomic.Int64 // the last Requests seen
	var calls atomic.Int64
	ctrl := elbsync.New(elbsync.Config{Plane: elbcp.New(elbcp.Config{Repo: elbstore.New(st)}), Store: st,
		NewProxy:     func(func(elbproxy.HealthReport)) elbsync.Proxy { return proxy },
		MetricPeriod: 20 * time.Millisecond,
		OnMetrics: func(m elbproxy.Metrics) {
			calls.Add(1)
			got.Store(m.LoadBalancers[0].Requests)
		}})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = ctrl.Run(ctx); close(done) }()
	eventually(t, "three snapshots", func() bool { return calls.Load() >= 3 })
	stop()
	<-done
	after := calls.Load()
	if got.Load() != after || proxy.snaps.Load() != after {
		t.Fatalf("OnMetrics saw %d of %d snapshots in %d calls", got.Load(), proxy.snaps.Load(), after)
	}

}
