package server

import (
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/elbproxy"
)

// nlbMetrics publishes the AWS/NetworkELB metrics from the ELBv2 data
// plane's flow counters, once a (scaled) minute like albMetrics: per
// network load balancer (LoadBalancer=net/<name>/<id>) ActiveFlowCount
// (the flows open at the snapshot), NewFlowCount and ProcessedBytes (the
// period's differences); per target group an NLB forwards to
// (TargetGroup=targetgroup/<name>/<id>, alone and with LoadBalancer)
// HealthyHostCount and UnHealthyHostCount. Every period, zeros included.
// Only the onMetrics caller (the data plane controller's goroutine) uses
// it.
type nlbMetrics struct {
	elbPublisher
	prev map[string]elbproxy.FlowCounters
}

func newNLBMetrics(plane *cwcp.Plane, log *slog.Logger) *nlbMetrics {
	return &nlbMetrics{elbPublisher: elbPublisher{cw: plane, now: time.Now, log: log, namespace: "AWS/NetworkELB", lbType: "net"},
		prev: map[string]elbproxy.FlowCounters{}}
}

func (n *nlbMetrics) onMetrics(m elbproxy.Metrics) {
	now := n.now()
	byScope := map[cw.Scope][]cw.Datum{}
	next := map[string]elbproxy.FlowCounters{}
	for _, lb := range m.NetworkLoadBalancers {
		next[lb.ARN] = lb.FlowCounters
		sc, dim, ok := n.lbDimension(lb.ARN)
		if !ok {
			continue
		}
		prev := n.prev[lb.ARN]
		newFlows, bytes := lb.NewFlows-prev.NewFlows, lb.ProcessedBytes-prev.ProcessedBytes
		if newFlows < 0 || bytes < 0 { // a new proxy: its counters restarted
			newFlows, bytes = lb.NewFlows, lb.ProcessedBytes
		}
		dims := []cw.Dimension{{Name: "LoadBalancer", Value: dim}}
		byScope[sc] = append(byScope[sc],
			count(now, "ActiveFlowCount", dims, float64(lb.ActiveFlows)),
			count(now, "NewFlowCount", dims, float64(newFlows)),
			cw.Datum{Metric: cw.Metric{Name: "ProcessedBytes", Dimensions: dims}, Time: now, Unit: "Bytes",
				Agg: cw.Agg{Count: 1, Sum: float64(bytes), Min: float64(bytes), Max: float64(bytes)}})
	}
	for _, g := range m.NetworkTargetGroups {
		sc, dimSets, ok := n.groupDimensions(g)
		if !ok {
			continue
		}
		for _, dims := range dimSets {
			byScope[sc] = append(byScope[sc], hostCounts(now, dims, g)...)
		}
	}
	n.prev = next
	n.publish(byScope)
}
