package ecscp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// LoadBalancerLookup reads the ELBv2 resources a blue/green service names
// (the server implements it over the ELBv2 control plane).
type LoadBalancerLookup interface {
	// TargetGroupLoadBalancers returns the load balancers whose listeners
	// or rules forward to a target group; found is false when it does
	// not exist.
	TargetGroupLoadBalancers(ctx context.Context, sc ecs.Scope, arn string) (lbs []string, found bool, err error)
	// RuleLoadBalancer returns the load balancer of a listener rule (or
	// listener); found is false when it does not exist.
	RuleLoadBalancer(ctx context.Context, sc ecs.Scope, arn string) (lb string, found bool, err error)
}

// checkShiftResources checks the ELBv2 resources of each load balancer
// with an advancedConfiguration, as ECS does when a blue/green service is
// created or its load balancers change: both target groups exist and are
// associated with a load balancer, and the production and test listener
// rules exist on a load balancer both groups are associated with. No
// lookup configured: no check.
func (p *Plane) checkShiftResources(ctx context.Context, sc ecs.Scope, lbs []ecs.LoadBalancer) error {
	if p.lbs == nil {
		return nil
	}
	for _, lb := range lbs {
		ac := lb.AdvancedConfiguration
		if ac == nil || lb.TargetGroupARN == "" {
			continue
		}
		var groupLBs [][]string
		for _, tg := range []string{lb.TargetGroupARN, ac.AlternateTargetGroupARN} {
			on, found, err := p.lbs.TargetGroupLoadBalancers(ctx, sc, tg)
			if err != nil {
				return err
			}
			if !found {
				return fault.New(fault.InvalidParameter, "The target group with targetGroupArn %s does not exist.", tg)
			}
			if len(on) == 0 {
				return fault.New(fault.InvalidParameter, "The target group with targetGroupArn %s does not have an associated load balancer.", tg)
			}
			groupLBs = append(groupLBs, on)
		}
		for _, r := range []struct{ field, arn string }{{"productionListenerRule", ac.ProductionListenerRule}, {"testListenerRule", ac.TestListenerRule}} {
			if r.arn == "" {
				continue
			}
			on, found, err := p.lbs.RuleLoadBalancer(ctx, sc, r.arn)
			if err != nil {
				return err
			}
			if !found {
				return fault.New(fault.InvalidParameter, "The %s %s does not exist.", r.field, r.arn)
			}
			for i, tg := range []string{lb.TargetGroupARN, ac.AlternateTargetGroupARN} {
				if !slices.Contains(groupLBs[i], on) {
					return fault.New(fault.InvalidParameter, "The %s %s belongs to load balancer %s, which the target group with targetGroupArn %s is not associated with.", r.field, r.arn, on, tg)
				}
			}
		}
	}
	return nil
}
