package elbproxy

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
)

// Config configures a Proxy.
type Config struct {
	Logger *slog.Logger
	// OnHealth receives every change of a target's health (see the package
	// doc); nil drops them.
	OnHealth func(HealthReport)
	// FrontAddr is the shared front's address; the zero value means
	// 127.0.0.1. NoFront turns the shared front off (tests on random ports).
	FrontAddr netip.Addr
	NoFront   bool
}

// ErrStopped is Apply's error for every listener once Run has returned.
var ErrStopped = errors.New("elbproxy: the data plane has stopped")

// Proxy is the data plane. New, then Run in a goroutine, then Apply any
// number of times.
type Proxy struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	stopped bool
}

// New returns a Proxy serving nothing until Apply.
func New(cfg Config) *Proxy {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.FrontAddr.IsValid() {
		cfg.FrontAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return &Proxy{cfg: cfg, log: cfg.Logger}
}

// Run serves until ctx ends, then closes every listener and connection,
// stops the health checks and returns when every goroutine has stopped.
func (p *Proxy) Run(ctx context.Context) error {
	<-ctx.Done()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	return nil
}

// Apply makes the data plane serve spec and returns one status per
// listener in spec, in order.
func (p *Proxy) Apply(spec Spec) []ListenerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ListenerStatus
	for _, lb := range spec.LoadBalancers {
		for _, l := range lb.Listeners {
			st := ListenerStatus{ListenerARN: l.ARN, Addr: netip.AddrPortFrom(lb.Address, uint16(l.Port)).String()}
			st.Err = errors.New("elbproxy: listeners are not served yet (work in progress)")
			if p.stopped {
				st.Err = ErrStopped
			}
			out = append(out, st)
		}
	}
	return out
}
