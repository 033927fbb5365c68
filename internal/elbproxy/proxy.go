package elbproxy

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"
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

	// ctx is the proxy's lifetime: Run cancels it when its own ends, which
	// stops every goroutine started below it (tracked in wg).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex // guards the fields below; Apply holds it throughout
	stopped   bool
	groups    map[string]*group        // by target group ARN
	listeners map[string]*listener     // by listener ARN
	fronts    map[int]*front           // by port
	lbStats   map[string]*counters     // ALBs' request counters, by ARN
	nlbStats  map[string]*flowCounters // NLBs' flow counters, by ARN

	repMu   sync.Mutex // guards reports
	reports []HealthReport
	repWake chan struct{} // one slot: reports has news

	bufs bufPool     // copy buffers shared by every listener
	idle *idlePoller // the fast path's idle connections
}

// New returns a Proxy serving nothing until Apply.
func New(cfg Config) *Proxy {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.FrontAddr.IsValid() {
		cfg.FrontAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel,
		groups: map[string]*group{}, listeners: map[string]*listener{}, fronts: map[int]*front{}, lbStats: map[string]*counters{}, nlbStats: map[string]*flowCounters{},
		repWake: make(chan struct{}, 1), bufs: newBufPool(),
	}
	p.idle = &idlePoller{p: p}
	return p
}

// Run serves until ctx ends, then closes every listener and connection,
// stops the health checks and returns when every goroutine has stopped.
// Health reports are delivered while Run runs.
func (p *Proxy) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() { defer close(done); p.deliver() }()
	select {
	case <-ctx.Done():
	case <-p.ctx.Done():
	}
	p.mu.Lock()
	p.stopped = true
	for _, l := range p.listeners {
		l.close()
	}
	for _, f := range p.fronts {
		f.close()
	}
	for _, g := range p.groups {
		g.close()
	}
	p.listeners, p.fronts, p.groups = nil, nil, nil
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	<-done
	return nil
}

// goroutine runs f as one of the proxy's goroutines (Run waits for it).
func (p *Proxy) goroutine(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// report queues a health report for delivery in order.
func (p *Proxy) report(r HealthReport) {
	if p.cfg.OnHealth == nil {
		return
	}
	p.repMu.Lock()
	p.reports = append(p.reports, r)
	p.repMu.Unlock()
	select {
	case p.repWake <- struct{}{}:
	default:
	}
}

// deliver calls OnHealth with the queued reports, one at a time, until the
// proxy's context ends.
func (p *Proxy) deliver() {
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.repWake:
		}
		p.repMu.Lock()
		batch := p.reports
		p.reports = nil
		p.repMu.Unlock()
		for _, r := range batch {
			p.cfg.OnHealth(r)
		}
	}
}

// Apply makes the data plane serve spec and returns one status per
// listener in spec, in order (see the package doc).
func (p *Proxy) Apply(spec Spec) []ListenerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ListenerStatus
	if p.stopped {
		for _, lb := range spec.LoadBalancers {
			for _, l := range lb.Listeners {
				out = append(out, ListenerStatus{ListenerARN: l.ARN, Addr: hostPort(lb.Address, l.Port), Err: ErrStopped})
			}
		}
		return out
	}
	p.applyGroups(spec)
	p.applyStats(spec)
	p.applyFlowStats(spec)

	want := map[string]bool{}
	for _, lb := range spec.LoadBalancers {
		for _, l := range lb.Listeners {
			want[l.ARN] = true
		}
	}
	for arn, l := range p.listeners {
		if !want[arn] {
			l.close()
			delete(p.listeners, arn)
		}
	}
	for _, lb := range spec.LoadBalancers {
		for _, l := range lb.Listeners {
			out = append(out, p.applyListener(lb, l))
		}
	}
	p.applyFronts(out)
	return out
}

func (p *Proxy) applyGroups(spec Spec) {
	used := map[string]bool{}
	for _, lb := range spec.LoadBalancers {
		for _, l := range lb.Listeners {
			for _, a := range l.DefaultActions {
				markUsed(used, a)
			}
			for _, r := range l.Rules {
				for _, a := range r.Actions {
					markUsed(used, a)
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, tg := range spec.TargetGroups {
		seen[tg.ARN] = true
		g := p.groups[tg.ARN]
		if g == nil {
			g = newGroup(p, tg.ARN)
			p.groups[tg.ARN] = g
		}
		g.update(tg, used[tg.ARN])
	}
	for arn, g := range p.groups {
		if !seen[arn] {
			g.close()
			delete(p.groups, arn)
		}
	}
}

func markUsed(used map[string]bool, a Action) {
	if a.Type == ActionForward && a.Forward != nil {
		for _, w := range a.Forward.TargetGroups {
			used[w.ARN] = true
		}
	}
}

// applyListener opens, keeps or reopens one listener and gives it its
// routes. p.mu held.
func (p *Proxy) applyListener(lb LoadBalancer, l Listener) ListenerStatus {
	st := ListenerStatus{ListenerARN: l.ARN, Addr: hostPort(lb.Address, l.Port)}
	ident := listenerIdentity(lb, l)
	cur := p.listeners[l.ARN]
	if cur != nil && cur.ident != ident {
		cur.close()
		delete(p.listeners, l.ARN)
		cur = nil
	}
	if err := checkProtocol(lb, l); err != nil {
		st.Err = err
		return st
	}
	if cur == nil {
		var err error
		cur, err = p.openListener(lb, l, ident)
		if err != nil {
			st.Err = err
			p.log.Warn("listener not serving", "listener", l.ARN, "addr", st.Addr, "err", err)
			return st
		}
		p.listeners[l.ARN] = cur
	}
	cur.setRoutes(p, lb, l)
	return st
}

func checkProtocol(lb LoadBalancer, l Listener) error {
	switch {
	case lb.Type == Application && l.Protocol == ProtoHTTP:
	case lb.Type == Network && l.Protocol == ProtoTCP:
	case lb.Type == Network && (l.Protocol == ProtoUDP || l.Protocol == ProtoTCPUDP):
	case lb.Type == Application && l.Protocol == ProtoHTTPS, lb.Type == Network && l.Protocol == ProtoTLS:
		if l.TLS == nil {
			return fmt.Errorf("elbproxy: the %s listener has no certificate", l.Protocol)
		}
	case lb.Type != Application && lb.Type != Network:
		return fmt.Errorf("elbproxy: load balancer type %q is not served (application or network)", lb.Type)
	default:
		return fmt.Errorf("elbproxy: a %s listener on a %s load balancer is not served by berth (HTTP or HTTPS on application, TCP, TLS, UDP or TCP_UDP on network)", l.Protocol, lb.Type)
	}
	if !lb.Address.Is4() || !lb.Address.IsLoopback() {
		return fmt.Errorf("elbproxy: load balancer address %v is not in 127.0.0.0/8", lb.Address)
	}
	return nil
}

func listenerIdentity(lb LoadBalancer, l Listener) string {
	id := string(lb.Type) + "|" + hostPort(lb.Address, l.Port) + "|" + l.Protocol
	if lb.Type == Application {
		id += "|" + idleTimeout(lb).String()
	}
	return id
}

func idleTimeout(lb LoadBalancer) time.Duration {
	switch {
	case lb.IdleTimeout > 0:
		return lb.IdleTimeout
	case lb.Type == Network:
		return 350 * time.Second
	}
	return 60 * time.Second
}

func hostPort(a netip.Addr, port int) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// shortID is a short stable id of an ARN, for cookies.
func shortID(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}
