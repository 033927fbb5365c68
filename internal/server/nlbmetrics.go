package server

import (
	"log/slog"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/elb"
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
	cw   *cwcp.Plane
	now  func() time.Time
	log  *slog.Logger
	prev map[string]elbproxy.FlowCounters
}

func newNLBMetrics(plane *cwcp.Plane, log *slog.Logger) *nlbMetrics {
	return &nlbMetrics{cw: plane, now: time.Now, log: log, prev: map[string]elbproxy.FlowCounters{}}
}

func (n *nlbMetrics) onMetrics(m elbproxy.Metrics) {
	now := n.now()
	byScope := map[cw.Scope][]cw.Datum{}
	next := map[string]elbproxy.FlowCounters{}
	for _, lb := range m.NetworkLoadBalancers {
		next[lb.ARN] = lb.FlowCounters
		sc, dim, ok := nlbDimension(lb.ARN)
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
		sc, tgDim, ok := tgDimension(g.ARN)
		if !ok {
			continue
		}
		dimSets := [][]cw.Dimension{{{Name: "TargetGroup", Value: tgDim}}}
		for _, lbARN := range g.LoadBalancerARNs {
			if _, lbDim, ok := nlbDimension(lbARN); ok {
				dimSets = append(dimSets, []cw.Dimension{{Name: "LoadBalancer", Value: lbDim}, {Name: "TargetGroup", Value: tgDim}})
			}
		}
		for _, dims := range dimSets {
			byScope[sc] = append(byScope[sc],
				count(now, "HealthyHostCount", dims, float64(g.Healthy)),
				count(now, "UnHealthyHostCount", dims, float64(g.Unhealthy)))
		}
	}
	n.prev = next
	for sc, data := range byScope {
		for len(data) > 0 {
			k := min(len(data), 1000)
			if err := n.cw.PublishServiceMetrics(sc, "AWS/NetworkELB", data[:k]); err != nil {
				n.log.Warn("publishing AWS/NetworkELB metrics", "account", sc.Account, "region", sc.Region, "err", err)
			}
			data = data[k:]
		}
	}
}

// nlbDimension is a network load balancer's scope and its LoadBalancer
// dimension (net/<name>/<id>).
func nlbDimension(arn string) (cw.Scope, string, bool) {
	a, err := elb.ParseARN(arn, elb.KindLoadBalancer)
	if err != nil || a.LBType != "net" {
		return cw.Scope{}, "", false
	}
	_, res, _ := strings.Cut(strings.SplitN(arn, ":", 6)[5], "loadbalancer/")
	return cw.Scope{Account: a.Scope.Account, Region: a.Scope.Region}, res, true
}
