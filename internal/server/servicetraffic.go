package server

import (
	"context"

	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/elbcp"
)

// serviceTraffic is the service scheduler's TrafficRouter over the ELBv2
// control plane: blue/green deployments move traffic by the weights of a
// listener rule's forward.
type serviceTraffic struct{ p *elbcp.Plane }

var _ controller.TrafficRouter = serviceTraffic{}

func (s serviceTraffic) SetForwardWeights(ctx context.Context, sc ecs.Scope, rule string, groups []controller.WeightedGroup) (bool, error) {
	gs := make([]elbcp.WeightedGroup, len(groups))
	for i, g := range groups {
		gs[i] = elbcp.WeightedGroup{ARN: g.ARN, Weight: g.Weight}
	}
	return s.p.SetForwardWeights(ctx, elbScope(sc), rule, gs)
}
