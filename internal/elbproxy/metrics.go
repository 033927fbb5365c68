package elbproxy

import (
	"math"
	"sort"
	"sync/atomic"
	"time"
)

// Counters are an ALB's or a target group's request counts since the data
// plane began serving it (cumulative; a reader takes differences). They
// are what CloudWatch's AWS/ApplicationELB metrics are made of.
type Counters struct {
	Requests  int64 // RequestCount
	Target2XX int64 // HTTPCode_Target_2XX_Count
	Target3XX int64
	Target4XX int64
	Target5XX int64
	ELB5XX    int64 // HTTPCode_ELB_5XX_Count (load balancer only)
	// TargetResponseTime is the sum of the times from sending a request to
	// its target to the response's headers, over TargetResponses responses.
	TargetResponseTime time.Duration
	TargetResponses    int64
	// ResponseTimes counts the responses by time, in the buckets of
	// ResponseTimeBucket (cumulative, as the rest), for percentiles.
	ResponseTimes [ResponseTimeBuckets]int64
}

// ResponseTimeBuckets is the number of response time buckets: each is 5%
// wider than the one before, from 1 µs up (the last holds everything
// from about 5 minutes on).
const ResponseTimeBuckets = 400

const (
	rtBase  = 1.05
	rtFloor = float64(time.Microsecond)
)

// ResponseTimeBucket returns the bucket of a response time.
func ResponseTimeBucket(d time.Duration) int {
	if float64(d) <= rtFloor {
		return 0
	}
	return min(int(math.Log(float64(d)/rtFloor)/math.Log(rtBase)), ResponseTimeBuckets-1)
}

// ResponseTimeBucketValue is bucket i's representative time in seconds:
// its geometric middle, within 2.5% of every time in it.
func ResponseTimeBucketValue(i int) float64 {
	return rtFloor * math.Pow(rtBase, float64(i)+0.5) / float64(time.Second)
}

// counters is Counters on the hot path: atomic adds only.
type counters struct {
	requests, t2, t3, t4, t5, elb5, rtNanos, rtCount atomic.Int64
	rt                                               [ResponseTimeBuckets]atomic.Int64
}

func (c *counters) targetResponse(code int, took time.Duration) {
	switch code / 100 {
	case 2:
		c.t2.Add(1)
	case 3:
		c.t3.Add(1)
	case 4:
		c.t4.Add(1)
	case 5:
		c.t5.Add(1)
	}
	c.rt[ResponseTimeBucket(took)].Add(1)
	c.rtNanos.Add(int64(took))
	c.rtCount.Add(1)
}

func (c *counters) snapshot() Counters {
	s := Counters{
		Requests: c.requests.Load(), Target2XX: c.t2.Load(), Target3XX: c.t3.Load(),
		Target4XX: c.t4.Load(), Target5XX: c.t5.Load(), ELB5XX: c.elb5.Load(),
		TargetResponseTime: time.Duration(c.rtNanos.Load()), TargetResponses: c.rtCount.Load(),
	}
	for i := range c.rt {
		s.ResponseTimes[i] = c.rt[i].Load()
	}
	return s
}

// Metrics is a snapshot of the data plane's counters and target health.
type Metrics struct {
	LoadBalancers []LoadBalancerMetrics // application load balancers, by ARN
	TargetGroups  []TargetGroupMetrics  // target groups an ALB forwards to, by ARN
	// NetworkLoadBalancers and NetworkTargetGroups are the NLBs' flow
	// counters and the host counts of the groups they forward to
	// (LoadBalancerARNs: the NLBs), by ARN.
	NetworkLoadBalancers []NetworkLoadBalancerMetrics
	NetworkTargetGroups  []TargetGroupMetrics
}

// LoadBalancerMetrics are one ALB's counters.
type LoadBalancerMetrics struct {
	ARN string
	Counters
}

// TargetGroupMetrics are one target group's counters and host counts.
type TargetGroupMetrics struct {
	ARN string
	// LoadBalancerARNs are the ALBs whose listeners forward to the group.
	LoadBalancerARNs []string
	Counters
	Healthy   int // HealthyHostCount: targets in state healthy
	Unhealthy int // UnHealthyHostCount: targets in state unhealthy
	// Serving is the number of targets that take new requests (healthy,
	// or unavailable with health checks off; every non-draining target
	// when the group fails open): RequestCountPerTarget's divisor.
	Serving int
}

// Metrics returns the counters of every ALB and of every target group an
// ALB forwards to, with the groups' host counts.
func (p *Proxy) Metrics() Metrics {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out Metrics
	for arn, c := range p.lbStats {
		out.LoadBalancers = append(out.LoadBalancers, LoadBalancerMetrics{ARN: arn, Counters: c.snapshot()})
	}
	for arn, g := range p.groups {
		if len(g.lbs) == 0 {
			continue
		}
		m := TargetGroupMetrics{ARN: arn, LoadBalancerARNs: g.lbs, Counters: g.stats.snapshot()}
		g.countHosts(&m)
		out.TargetGroups = append(out.TargetGroups, m)
	}
	p.networkMetrics(&out)
	sort.Slice(out.LoadBalancers, func(i, j int) bool { return out.LoadBalancers[i].ARN < out.LoadBalancers[j].ARN })
	sort.Slice(out.TargetGroups, func(i, j int) bool { return out.TargetGroups[i].ARN < out.TargetGroups[j].ARN })
	return out
}

// countHosts sets m's host counts from g's targets.
func (g *group) countHosts(m *TargetGroupMetrics) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var arr [16]*target
	m.Serving = len(g.candidates(arr[:0]))
	for _, t := range g.targets {
		switch {
		case t.draining:
		case t.health.State == StateHealthy:
			m.Healthy++
		case t.health.State == StateUnhealthy:
			m.Unhealthy++
		}
	}
}

// applyStats keeps one counter set per ALB in spec and records which ALBs
// forward to each group. p.mu held, after applyGroups.
func (p *Proxy) applyStats(spec Spec) {
	lbsOf := keepStats(p.lbStats, spec, Application)
	for arn, g := range p.groups {
		g.lbs = lbsOf[arn]
	}
}

// keepStats keeps one counter set in stats per load balancer of type typ
// in spec (a new one zero) and drops the others'. It returns, by target
// group ARN, the sorted ARNs of those load balancers whose listeners
// forward to the group.
func keepStats[C any](stats map[string]*C, spec Spec, typ LBType) map[string][]string {
	keep := map[string]bool{}
	lbsOf := map[string][]string{}
	for _, lb := range spec.LoadBalancers {
		if lb.Type != typ {
			continue
		}
		keep[lb.ARN] = true
		if stats[lb.ARN] == nil {
			stats[lb.ARN] = new(C)
		}
		used := map[string]bool{}
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
		for arn := range used {
			lbsOf[arn] = append(lbsOf[arn], lb.ARN)
		}
	}
	for arn := range stats {
		if !keep[arn] {
			delete(stats, arn)
		}
	}
	for _, lbs := range lbsOf {
		sort.Strings(lbs)
	}
	return lbsOf
}
