package elbproxy

import (
	"sort"
	"sync/atomic"
)

// FlowCounters are an NLB's flow counts since the data plane began
// serving it: what CloudWatch's AWS/NetworkELB metrics are made of.
// NewFlows and ProcessedBytes are cumulative (a reader takes
// differences); ActiveFlows is the current number (TCP connections and
// UDP flows open now).
type FlowCounters struct {
	ActiveFlows    int64 // ActiveFlowCount
	NewFlows       int64 // NewFlowCount
	ProcessedBytes int64 // ProcessedBytes: both ways, TCP and UDP payload
}

// flowCounters is FlowCounters on the hot path: atomic adds only.
type flowCounters struct {
	active, newFlows, bytes atomic.Int64
}

func (c *flowCounters) snapshot() FlowCounters {
	return FlowCounters{ActiveFlows: c.active.Load(), NewFlows: c.newFlows.Load(), ProcessedBytes: c.bytes.Load()}
}

// NetworkLoadBalancerMetrics are one NLB's flow counters.
type NetworkLoadBalancerMetrics struct {
	ARN string
	FlowCounters
}

// applyFlowStats keeps one flow counter set per NLB in spec and records
// which NLBs forward to each group. p.mu held, after applyStats.
func (p *Proxy) applyFlowStats(spec Spec) {
	lbsOf := keepStats(p.nlbStats, spec, Network)
	for arn, g := range p.groups {
		g.nlbs = lbsOf[arn]
	}
}

// networkMetrics adds the NLBs' counters and their groups' host counts.
// p.mu held.
func (p *Proxy) networkMetrics(out *Metrics) {
	for arn, c := range p.nlbStats {
		out.NetworkLoadBalancers = append(out.NetworkLoadBalancers, NetworkLoadBalancerMetrics{ARN: arn, FlowCounters: c.snapshot()})
	}
	for arn, g := range p.groups {
		if len(g.nlbs) == 0 {
			continue
		}
		m := TargetGroupMetrics{ARN: arn, LoadBalancerARNs: g.nlbs}
		g.countHosts(&m)
		out.NetworkTargetGroups = append(out.NetworkTargetGroups, m)
	}
	sort.Slice(out.NetworkLoadBalancers, func(i, j int) bool { return out.NetworkLoadBalancers[i].ARN < out.NetworkLoadBalancers[j].ARN })
	sort.Slice(out.NetworkTargetGroups, func(i, j int) bool { return out.NetworkTargetGroups[i].ARN < out.NetworkTargetGroups[j].ARN })
}
