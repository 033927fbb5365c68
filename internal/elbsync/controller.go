package elbsync

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/store"
)

// Proxy is the data plane as the controller uses it (*elbproxy.Proxy).
type Proxy interface {
	Run(ctx context.Context) error
	Apply(spec elbproxy.Spec) []elbproxy.ListenerStatus
}

// Plane is what the controller needs of the control plane (*elbcp.Plane).
type Plane interface {
	Snapshot(ctx context.Context) ([]*elbstore.State, int64, error)
	MarkActive(ctx context.Context, sc elb.Scope, name string) error
	ReportHealth(ctx context.Context, sc elb.Scope, tgID, id string, port int, h elb.Health) error
	SweepDrained(ctx context.Context, now time.Time) (time.Time, error)
}

var _ Plane = (*elbcp.Plane)(nil)

// Config configures a Controller.
type Config struct {
	Plane Plane
	// Store is watched under elbstore.Prefix.
	Store store.Store
	// NewProxy makes the data plane, reporting health changes to onHealth.
	NewProxy func(onHealth func(elbproxy.HealthReport)) Proxy
	Logger   *slog.Logger
	Now      func() time.Time
	// Retry is the pause after a failed pass (1s if zero).
	Retry time.Duration
	// OnMetrics, when set, receives the proxy's counters every
	// MetricPeriod (a minute if zero), if the proxy has them
	// (*elbproxy.Proxy does).
	OnMetrics    func(elbproxy.Metrics)
	MetricPeriod time.Duration
	// Instances resolves instance targets to their hosts' addresses; nil:
	// no instance target carries traffic. A target it cannot resolve is
	// reported unused (Target.InvalidState) and looked up again every
	// Retry; resolved ones are looked up again every InstanceRecheck (5s
	// if zero), so that an instance that reconnected from another
	// address is reached there without a restart.
	Instances       InstanceAddresses
	InstanceRecheck time.Duration
	// Certificates reads TLS listeners' certificates (nil: TLS
	// listeners are not served).
	Certificates Certificates
}

// MetricsSource is a proxy that counts its requests (*elbproxy.Proxy).
type MetricsSource interface {
	Metrics() elbproxy.Metrics
}

// Controller keeps the data plane in step with the store.
type Controller struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	pending map[reportKey]elbproxy.HealthReport // latest report per target, not yet stored
	wake    chan struct{}                       // a report is pending
	// applied is the store revision of the state the proxy serves.
	applied atomic.Int64
}

// Applied returns the store revision of the ELB state the data plane
// serves now: every write up to it (a listener rule's new weights, say)
// reaches requests.
func (c *Controller) Applied() int64 { return c.applied.Load() }

type reportKey struct {
	tg string
	t  elbproxy.TargetKey
}

// New returns a Controller.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InstanceRecheck <= 0 {
		cfg.InstanceRecheck = 5 * time.Second
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.MetricPeriod <= 0 {
		cfg.MetricPeriod = time.Minute
	}
	return &Controller{cfg: cfg, log: cfg.Logger, pending: map[reportKey]elbproxy.HealthReport{}, wake: make(chan struct{}, 1)}
}

// NeedLeaderElection makes the controller leader-only.
func (c *Controller) NeedLeaderElection() bool { return true }

// report queues a health change (called from the proxy's goroutines).
func (c *Controller) report(r elbproxy.HealthReport) {
	c.mu.Lock()
	c.pending[reportKey{r.TargetGroupARN, r.Target}] = r
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run serves until ctx ends: it starts a proxy, applies the stored state
// at once and on every change, and stores health reports. It returns
// once the proxy and its own goroutines have stopped.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	proxy := c.cfg.NewProxy(c.report)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := proxy.Run(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("elb data plane stopped", "err", err)
		}
	})
	wg.Go(func() { c.storeReports(ctx) })
	if src, ok := proxy.(MetricsSource); ok && c.cfg.OnMetrics != nil {
		wg.Go(func() { c.publishMetrics(ctx, src) })
	}
	c.reconcileLoop(ctx, proxy)
	cancel()
	wg.Wait()
	return nil
}

// reconcileLoop applies the state at start, on every store change under
// the ELB prefix and when a draining target is due.
func (c *Controller) reconcileLoop(ctx context.Context, proxy Proxy) {
	var events <-chan store.Event
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if events == nil {
			_, rev, err := c.cfg.Plane.Snapshot(ctx)
			if err == nil {
				events, err = c.cfg.Store.Watch(ctx, elbstore.Prefix, rev)
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.Warn("elb data plane: watching the store", "err", err)
				if !sleep(ctx, c.cfg.Retry) {
					return
				}
				continue
			}
		}
		next, err := c.pass(ctx, proxy)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("elb data plane: applying the configuration", "err", err)
			next = c.cfg.Now().Add(c.cfg.Retry)
		}
		resetTimer(timer, next, c.cfg.Now())
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				events = nil // compacted or ended: watch again from a fresh read
			}
			drain(events)
		case <-timer.C:
		}
	}
}

// pass applies the current state once and returns when the next draining
// target is due (zero: none).
func (c *Controller) pass(ctx context.Context, proxy Proxy) (time.Time, error) {
	next, err := c.cfg.Plane.SweepDrained(ctx, c.cfg.Now())
	if err != nil {
		return time.Time{}, err
	}
	states, rev, err := c.cfg.Plane.Snapshot(ctx)
	if err != nil {
		return time.Time{}, err
	}
	spec, unresolved := BuildSpec(states, c.cfg.Instances)
	if err := fillCertificates(ctx, &spec, c.cfg.Certificates); err != nil {
		if ctx.Err() != nil {
			return time.Time{}, err
		}
		c.log.Warn("elb data plane: reading certificates", "err", err)
	}
	statuses := proxy.Apply(spec)
	c.applied.Store(rev)
	if len(unresolved) > 0 {
		for _, u := range unresolved {
			if u.Target.Draining() || u.Target.Health == elb.InvalidState {
				continue
			}
			if err := c.cfg.Plane.ReportHealth(ctx, u.Scope, u.TGID, u.Target.ID, u.Target.Port, elb.InvalidState); err != nil {
				return time.Time{}, err
			}
		}
		if retry := c.cfg.Now().Add(c.cfg.Retry); next.IsZero() || retry.Before(next) {
			next = retry
		}
	}
	if hasInstanceTargets(spec) {
		if recheck := c.cfg.Now().Add(c.cfg.InstanceRecheck); next.IsZero() || recheck.Before(next) {
			next = recheck
		}
	}
	failed := map[string]bool{} // listener ARNs not served
	for _, s := range statuses {
		if s.Err != nil {
			failed[s.ListenerARN] = true
			c.log.Warn("elb listener not served", "listener", s.ListenerARN, "addr", s.Addr, "err", s.Err)
		} else if s.FrontErr != nil {
			c.log.Info("elb listener has no shared front", "listener", s.ListenerARN, "err", s.FrontErr)
		}
	}
	for _, st := range states {
		for _, lb := range st.LoadBalancers {
			if lb.State != elb.StateProvisioning || anyFailed(st, lb, failed) {
				continue
			}
			if err := c.cfg.Plane.MarkActive(ctx, st.Scope, lb.Name); err != nil {
				return time.Time{}, err
			}
			c.log.Info("elb load balancer active", "name", lb.Name, "dns_name", lb.DNSName, "address", lb.Address)
		}
	}
	return next, nil
}

func anyFailed(st *elbstore.State, lb *elb.LoadBalancer, failed map[string]bool) bool {
	for arn, l := range st.Listeners {
		if l.LoadBalancerARN == lb.ARN && failed[arn] {
			return true
		}
	}
	return false
}

// storeReports writes pending health reports until ctx ends.
func (c *Controller) storeReports(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		c.mu.Lock()
		batch := c.pending
		c.pending = map[reportKey]elbproxy.HealthReport{}
		c.mu.Unlock()
		for _, r := range batch {
			a, err := elb.ParseARN(r.TargetGroupARN, elb.KindTargetGroup)
			if err != nil {
				continue
			}
			h := elb.Health{State: string(r.Health.State), Reason: r.Health.Reason, Description: r.Health.Description}
			err = c.cfg.Plane.ReportHealth(ctx, a.Scope, a.ID, r.Target.ID, r.Target.Port, h)
			if err != nil && !errors.Is(err, context.Canceled) {
				c.log.Warn("elb: storing target health", "target_group", r.TargetGroupARN, "target", r.Target.ID, "err", err)
			}
		}
	}
}

// publishMetrics hands the proxy's counters to OnMetrics every
// MetricPeriod until ctx ends.
func (c *Controller) publishMetrics(ctx context.Context, src MetricsSource) {
	tick := time.NewTicker(c.cfg.MetricPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.cfg.OnMetrics(src.Metrics())
	}
}

func drain(ch <-chan store.Event) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

func resetTimer(t *time.Timer, at, now time.Time) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	if at.IsZero() {
		t.Reset(time.Hour)
		return
	}
	t.Reset(max(at.Sub(now), 0))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// hasInstanceTargets reports whether a spec has targets resolved to an
// instance's address (instance targets).
func hasInstanceTargets(spec elbproxy.Spec) bool {
	for _, g := range spec.TargetGroups {
		for _, t := range g.Targets {
			if t.Address != "" {
				return true
			}
		}
	}
	return false
}
