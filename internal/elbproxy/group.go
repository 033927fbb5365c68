package elbproxy

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// group is one target group's live state: its targets, their health and
// the balancer's memory. mu guards settings, used, targets, order and
// every target's fields marked "g.mu".
type group struct {
	arn string
	id  string // short stable id for cookies
	p   *Proxy

	stats counters // requests forwarded to the group (atomics)
	lbs   []string // ARNs of the ALBs forwarding here; p.mu
	nlbs  []string // ARNs of the NLBs forwarding here; p.mu

	mu       sync.Mutex
	settings TargetGroup // without Targets
	used     bool
	targets  map[TargetKey]*target
	order    []*target // targets sorted by key, for round robin
	rr       int       // least_outstanding_requests tie breaker
	closed   bool
}

// target is one registered target.
type target struct {
	key  TargetKey
	addr string // host:port to dial
	tls  bool   // an HTTPS or TLS group: connections to the target are TLS
	g    *group

	// ctx ends when the target is removed or its drain deadline passes:
	// its requests and connections in flight are cut then.
	ctx    context.Context
	cancel context.CancelFunc

	outstanding atomic.Int64 // requests or connections in flight

	// g.mu:
	health       Health
	healthySince time.Time
	draining     bool
	deadline     time.Time
	drainTimer   *time.Timer
	cw           int                // smooth weighted round robin's current weight
	stopCheck    context.CancelFunc // stops the health check loop; nil when none runs
	streak       streak
}

func newGroup(p *Proxy, arn string) *group {
	return &group{arn: arn, id: shortID(arn), p: p, targets: map[TargetKey]*target{}}
}

// update makes the group match tg; used says whether a listener forwards
// to it. Called under p.mu.
func (g *group) update(tg TargetGroup, used bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	old := g.settings
	g.settings = tg
	g.settings.Targets = nil
	checkChanged := old.HealthCheck != tg.HealthCheck || old.Protocol != tg.Protocol
	usedChanged := g.used != used
	g.used = used

	seen := map[TargetKey]bool{}
	for _, st := range tg.Targets {
		port := st.Port
		if port == 0 {
			port = tg.Port
		}
		key := TargetKey{ID: st.ID, Port: port}
		seen[key] = true
		t := g.targets[key]
		if t != nil && !st.Draining && t.ctx.Err() != nil {
			// Registered again after its drain deadline: a new target.
			g.removeTarget(t)
			t = nil
		}
		if t != nil && !st.Draining && !t.draining && t.addr != targetAddr(st, key) {
			// Its host moved (an instance that reconnected from another
			// address): a new target at the new address, with the health
			// it had; connections to the old address end.
			st.Health = t.health
			g.removeTarget(t)
			t = nil
		}
		if t == nil {
			t = g.addTarget(key, st, now)
			continue
		}
		switch {
		case st.Draining && !t.draining:
			g.drain(t, st.DrainDeadline)
		case st.Draining && !st.DrainDeadline.Equal(t.deadline):
			g.drain(t, st.DrainDeadline)
		case !st.Draining && t.draining:
			// Registered again while draining: checked from the start.
			t.draining = false
			t.drainTimer.Stop()
			g.setHealth(t, healthOf(StateInitial, ReasonRegistrationInProgress), now)
			g.startCheck(t)
		case !t.draining && (checkChanged || usedChanged):
			g.restart(t, now)
		}
	}
	for key, t := range g.targets {
		if !seen[key] {
			g.removeTarget(t)
		}
	}
	g.order = g.order[:0]
	for _, t := range g.targets {
		g.order = append(g.order, t)
	}
	slices.SortFunc(g.order, func(a, b *target) int {
		if a.key.ID != b.key.ID {
			if a.key.ID < b.key.ID {
				return -1
			}
			return 1
		}
		return a.key.Port - b.key.Port
	})
}

// targetAddr is the host:port a spec target is dialed at.
func targetAddr(st Target, key TargetKey) string {
	host := st.Address
	if host == "" {
		host = st.ID
	}
	return net.JoinHostPort(host, strconv.Itoa(key.Port))
}

func (g *group) addTarget(key TargetKey, st Target, now time.Time) *target {
	t := &target{key: key, addr: targetAddr(st, key), g: g,
		tls: g.settings.Protocol == ProtoHTTPS || g.settings.Protocol == ProtoTLS}
	t.ctx, t.cancel = context.WithCancel(g.p.ctx)
	g.targets[key] = t
	if st.Draining {
		t.health = st.Health
		g.drain(t, st.DrainDeadline)
		return t
	}
	if st.Health.State != "" && st.Health.State != StateDraining {
		// Known from before a restart: keep it while checks resume.
		t.health = st.Health
		if t.health.State == StateHealthy {
			t.healthySince = now.Add(-g.settings.SlowStart)
		}
		g.restart(t, now)
		return t
	}
	g.restart(t, now)
	return t
}

// restart sets a non-draining target's health from the group's state and
// (re)starts its checks, keeping a checked state it already has.
func (g *group) restart(t *target, now time.Time) {
	g.stopCheckOf(t)
	switch {
	case !g.used:
		g.setHealth(t, healthOf(StateUnused, ReasonNotInUse), now)
	case !g.settings.HealthCheck.Enabled:
		g.setHealth(t, healthOf(StateUnavailable, ReasonHealthCheckDisabled), now)
	default:
		switch t.health.State {
		case StateHealthy, StateUnhealthy, StateInitial:
		default:
			g.setHealth(t, healthOf(StateInitial, ReasonRegistrationInProgress), now)
		}
		g.startCheck(t)
	}
}

// drain stops new traffic to t; its in-flight work is cut at deadline.
func (g *group) drain(t *target, deadline time.Time) {
	g.stopCheckOf(t)
	t.draining = true
	t.deadline = deadline
	g.setHealth(t, healthOf(StateDraining, ReasonDeregistrationInProgress), time.Now())
	if t.drainTimer != nil {
		t.drainTimer.Stop()
	}
	t.drainTimer = time.AfterFunc(time.Until(deadline), t.cancel)
}

func (g *group) removeTarget(t *target) {
	g.stopCheckOf(t)
	if t.drainTimer != nil {
		t.drainTimer.Stop()
	}
	t.cancel()
	delete(g.targets, t.key)
}

// close forgets every target (the group left the Spec or the proxy stops).
func (g *group) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for _, t := range g.targets {
		g.removeTarget(t)
	}
	g.order = nil
}

// setHealth records t's health and reports a change. g.mu held.
func (g *group) setHealth(t *target, h Health, now time.Time) {
	if h == t.health {
		return
	}
	if h.State == StateHealthy && t.health.State != StateHealthy {
		t.healthySince = now
		if !g.othersHealthy(t) {
			// As on AWS: no slow start when no other target is healthy.
			t.healthySince = now.Add(-g.settings.SlowStart)
		}
	}
	t.health = h
	g.p.report(HealthReport{TargetGroupARN: g.arn, Target: t.key, Health: h, At: now})
}

// othersHealthy reports whether a target other than t is healthy. g.mu held.
func (g *group) othersHealthy(t *target) bool {
	for _, o := range g.targets {
		if o != t && !o.draining && o.health.State == StateHealthy {
			return true
		}
	}
	return false
}

func (g *group) stopCheckOf(t *target) {
	if t.stopCheck != nil {
		t.stopCheck()
		t.stopCheck = nil
	}
	t.streak = streak{}
}

// startCheck starts t's health check loop. g.mu held.
func (g *group) startCheck(t *target) {
	hc := g.settings.HealthCheck
	addr := t.addr
	if hc.Port != 0 {
		host, _, _ := net.SplitHostPort(t.addr)
		addr = net.JoinHostPort(host, strconv.Itoa(hc.Port))
	}
	if hc.Protocol == "" {
		hc.Protocol = g.settings.Protocol
	}
	ctx, cancel := context.WithCancel(t.ctx)
	t.stopCheck = cancel
	g.p.goroutine(func() { g.checkLoop(ctx, t, hc, addr) })
}

func (g *group) checkLoop(ctx context.Context, t *target, hc HealthCheck, addr string) {
	c := newChecker(hc)
	defer c.close()
	interval := hc.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		r := c.check(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		g.mu.Lock()
		if ctx.Err() == nil { // not stopped while checking
			g.setHealth(t, t.streak.observe(t.health, r, hc), time.Now())
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// routable reports whether t takes new traffic when not failing open. g.mu held.
func (t *target) routable() bool {
	return !t.draining && (t.health.State == StateHealthy || t.health.State == StateUnavailable)
}

// candidates returns the targets that take new traffic: the routable ones,
// or (AWS fails open) every non-draining target when none is; nil when the
// group has no non-draining target. g.mu held.
func (g *group) candidates(buf []*target) []*target {
	buf = buf[:0]
	for _, t := range g.order {
		if t.routable() {
			buf = append(buf, t)
		}
	}
	if len(buf) > 0 {
		return buf
	}
	for _, t := range g.order {
		if !t.draining {
			buf = append(buf, t)
		}
	}
	return buf
}

// weight is t's share in slow start (1..100, 100 when out of it). g.mu held.
func (g *group) weight(t *target, now time.Time) int {
	ss := g.settings.SlowStart
	if ss <= 0 || t.health.State != StateHealthy {
		return 100
	}
	el := now.Sub(t.healthySince)
	if el >= ss {
		return 100
	}
	return max(1, int(100*el/ss))
}

// pick chooses a target for a new request, preferring sticky when it still
// takes traffic; nil when the group has no target.
func (g *group) pick(sticky TargetKey) *target {
	g.mu.Lock()
	defer g.mu.Unlock()
	var arr [16]*target
	cands := g.candidates(arr[:0])
	if len(cands) == 0 {
		return nil
	}
	if sticky.ID != "" {
		for _, t := range cands {
			if t.key == sticky {
				return t
			}
		}
	}
	now := time.Now()
	if g.settings.Algorithm == LeastOutstandingRequests {
		return g.leastOutstanding(cands, now)
	}
	// Smooth weighted round robin (nginx's): even spread, exact shares.
	var best *target
	total := 0
	for _, t := range cands {
		w := g.weight(t, now)
		t.cw += w
		total += w
		if best == nil || t.cw > best.cw {
			best = t
		}
	}
	best.cw -= total
	return best
}

func (g *group) leastOutstanding(cands []*target, now time.Time) *target {
	g.rr++
	var best *target
	var bestScore int64
	for i := range cands {
		t := cands[(i+g.rr)%len(cands)]
		score := (t.outstanding.Load() + 1) * 100 / int64(g.weight(t, now))
		if best == nil || score < bestScore {
			best, bestScore = t, score
		}
	}
	return best
}

// pickFlow chooses a target for a new NLB flow by its hash.
func (g *group) pickFlow(hash uint32) *target {
	g.mu.Lock()
	defer g.mu.Unlock()
	var arr [16]*target
	cands := g.candidates(arr[:0])
	if len(cands) == 0 {
		return nil
	}
	return cands[hash%uint32(len(cands))]
}

func (g *group) stickiness() Stickiness {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.settings.Stickiness
}

// lookup returns the target with key, nil if none.
func (g *group) lookup(key TargetKey) *target {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.targets[key]
}
