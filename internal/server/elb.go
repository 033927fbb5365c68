package server

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbsync"
	"github.com/berth-dev/berth/internal/store"
)

// bindProbe checks that a listener's address can be bound (elbproxy.
// CheckBind binds it for a moment): a port that is privileged or taken is
// an InvalidConfigurationRequest that says why and what to do. A port held
// by a listener deleted a moment ago is released by the data plane's next
// pass, so "in use" is checked again for up to a second.
type bindProbe struct{}

func (bindProbe) CheckBind(ctx context.Context, at netip.AddrPort) error {
	deadline := time.Now().Add(time.Second)
	for {
		err := elbproxy.CheckBind(at.Addr(), int(at.Port()))
		if err == nil {
			return nil
		}
		var be *elbproxy.BindError
		if errors.As(err, &be) && be.Reason == elbproxy.BindInUse && time.Now().Before(deadline) {
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		return elb.Configf("berth cannot serve this listener: %v", err)
	}
}

// newELBDataPlane returns the controller that serves the load balancers'
// listeners (leader-only) and hands the proxy's counters to onMetrics
// every metricPeriod.
func newELBDataPlane(plane *elbcp.Plane, kv store.Store, instances elbsync.InstanceAddresses, certs elbsync.Certificates, onMetrics func(elbproxy.Metrics), metricPeriod time.Duration, log *slog.Logger) *elbsync.Controller {
	return elbsync.New(elbsync.Config{
		Plane: plane, Store: kv, Logger: log, OnMetrics: onMetrics, MetricPeriod: metricPeriod, Instances: instances, Certificates: certs,
		NewProxy: func(onHealth func(elbproxy.HealthReport)) elbsync.Proxy {
			return elbproxy.New(elbproxy.Config{Logger: log, OnHealth: onHealth})
		},
	})
}
