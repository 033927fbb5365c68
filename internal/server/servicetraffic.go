package server

import (
	"context"
	"sync/atomic"

	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/elbcp"
)

// serviceTraffic is the service scheduler's TrafficRouter over the ELBv2
// control plane: blue/green deployments move traffic by the weights of a
// listener rule's forward. applied is the data plane's applied store
// revision (elbsync.Controller.Applied: it runs on the leader, as the
// scheduler does); written is the revision of the last change made.
type serviceTraffic struct {
	p       *elbcp.Plane
	applied func() int64
	written atomic.Int64
}

var _ controller.TrafficRouter = (*serviceTraffic)(nil)

func (s *serviceTraffic) SetForwardWeights(ctx context.Context, sc ecs.Scope, rule string, groups []controller.WeightedGroup) (bool, error) {
	gs := make([]elbcp.WeightedGroup, len(groups))
	for i, g := range groups {
		gs[i] = elbcp.WeightedGroup{ARN: g.ARN, Weight: g.Weight}
	}
	changed, rev, err := s.p.SetForwardWeights(ctx, elbScope(sc), rule, gs)
	for cur := s.written.Load(); rev > cur && !s.written.CompareAndSwap(cur, rev); cur = s.written.Load() {
	}
	return changed, err
}

// Settled reports whether the data plane serves every weight change made.
func (s *serviceTraffic) Settled(context.Context) bool {
	return s.applied == nil || s.applied() >= s.written.Load()
}

// elbLookup is the ECS plane's LoadBalancerLookup over the ELBv2 control
// plane.
type elbLookup struct{ p *elbcp.Plane }

var _ ecscp.LoadBalancerLookup = elbLookup{}

func (l elbLookup) TargetGroupLoadBalancers(ctx context.Context, sc ecs.Scope, arn string) ([]string, bool, error) {
	return l.p.TargetGroupLoadBalancers(ctx, elbScope(sc), arn)
}

func (l elbLookup) RuleLoadBalancer(ctx context.Context, sc ecs.Scope, arn string) (string, bool, error) {
	return l.p.RuleLoadBalancer(ctx, elbScope(sc), arn)
}
