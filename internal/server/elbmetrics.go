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

// elbPublisher is what the AWS/ApplicationELB and AWS/NetworkELB
// publishers (albMetrics, nlbMetrics) share: the load balancer and target
// group dimensions of one load balancer type, the host counts, and the
// put of a period's data per account and region in batches of 1000. Each
// publisher keeps its own metric lists and previous snapshot.
type elbPublisher struct {
	cw        *cwcp.Plane
	now       func() time.Time
	log       *slog.Logger
	namespace string // AWS/ApplicationELB or AWS/NetworkELB
	lbType    string // the load balancer ARNs' type: app or net
}

// lbDimension is a load balancer's scope and LoadBalancer dimension
// (<type>/<name>/<id>); ok is false for another type's load balancer.
func (p *elbPublisher) lbDimension(arn string) (cw.Scope, string, bool) {
	return loadBalancerDimension(arn, p.lbType)
}

// groupDimensions is a target group's scope and the dimension sets its
// metrics go under: TargetGroup alone and with the LoadBalancer of each
// load balancer of p's type that forwards to it.
func (p *elbPublisher) groupDimensions(g elbproxy.TargetGroupMetrics) (cw.Scope, [][]cw.Dimension, bool) {
	sc, tgDim, ok := tgDimension(g.ARN)
	if !ok {
		return cw.Scope{}, nil, false
	}
	dimSets := [][]cw.Dimension{{{Name: "TargetGroup", Value: tgDim}}}
	for _, lbARN := range g.LoadBalancerARNs {
		if _, lbDim, ok := p.lbDimension(lbARN); ok {
			dimSets = append(dimSets, []cw.Dimension{{Name: "LoadBalancer", Value: lbDim}, {Name: "TargetGroup", Value: tgDim}})
		}
	}
	return sc, dimSets, true
}

// publish puts each scope's data into p's namespace, at most 1000 data
// per call; a failure is logged (the next period publishes again).
func (p *elbPublisher) publish(byScope map[cw.Scope][]cw.Datum) {
	for sc, data := range byScope {
		for len(data) > 0 {
			n := min(len(data), 1000)
			if err := p.cw.PublishServiceMetrics(sc, p.namespace, data[:n]); err != nil {
				p.log.Warn("publishing "+p.namespace+" metrics", "account", sc.Account, "region", sc.Region, "err", err)
			}
			data = data[n:]
		}
	}
}

// hostCounts is a target group's HealthyHostCount and UnHealthyHostCount.
func hostCounts(now time.Time, dims []cw.Dimension, g elbproxy.TargetGroupMetrics) []cw.Datum {
	return []cw.Datum{
		count(now, "HealthyHostCount", dims, float64(g.Healthy)),
		count(now, "UnHealthyHostCount", dims, float64(g.Unhealthy)),
	}
}

func count(now time.Time, name string, dims []cw.Dimension, v float64) cw.Datum {
	return cw.Datum{Metric: cw.Metric{Name: name, Dimensions: dims}, Time: now, Unit: "Count",
		Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}}
}

// loadBalancerDimension is a load balancer's scope and its LoadBalancer
// dimension (<lbType>/<name>/<id>), when its ARN's type is lbType (app
// or net).
func loadBalancerDimension(arn, lbType string) (cw.Scope, string, bool) {
	a, err := elb.ParseARN(arn, elb.KindLoadBalancer)
	if err != nil || a.LBType != lbType {
		return cw.Scope{}, "", false
	}
	_, res, _ := strings.Cut(strings.SplitN(arn, ":", 6)[5], "loadbalancer/")
	return cw.Scope{Account: a.Scope.Account, Region: a.Scope.Region}, res, true
}

// tgDimension is a target group's scope and its TargetGroup dimension
// (targetgroup/<name>/<id>).
func tgDimension(arn string) (cw.Scope, string, bool) {
	a, err := elb.ParseARN(arn, elb.KindTargetGroup)
	if err != nil {
		return cw.Scope{}, "", false
	}
	return cw.Scope{Account: a.Scope.Account, Region: a.Scope.Region}, strings.SplitN(arn, ":", 6)[5], true
}
