package elbcp

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// WeightedGroup is a target group and its weight in a forward.
type WeightedGroup struct {
	ARN    string
	Weight int
}

// SetForwardWeights makes the forward action of a listener rule (or, for
// a listener's ARN, of its default actions) send traffic to groups with
// these weights, keeping the rest of the rule; a network load balancer's
// listener, which forwards to one group, gets the heaviest. It reports
// whether the rule changed (false: it already forwarded so) and, if it
// did, a store revision at or after the change (for the data plane's
// Applied). ECS's blue/green deployments move traffic through it.
func (p *Plane) SetForwardWeights(ctx context.Context, sc elb.Scope, arn string, groups []WeightedGroup) (bool, int64, error) {
	changed := false
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		changed = false
		var r *elb.Rule
		var l *elb.Listener
		var err error
		if strings.Contains(arn, ":listener-rule/") {
			r, l, _, err = ruleByARN(st, arn)
		} else {
			if l, _, err = listenerByARN(st, arn); err == nil {
				r = defaultRule(l)
			}
		}
		if err != nil {
			return err
		}
		lb, err := lbOf(st, l)
		if err != nil {
			return err
		}
		want := slices.Clone(groups)
		slices.SortFunc(want, func(a, b WeightedGroup) int { return strings.Compare(a.ARN, b.ARN) })
		if lb.Type == elb.TypeNetwork {
			best := slices.MaxFunc(want, func(a, b WeightedGroup) int { return a.Weight - b.Weight })
			want = []WeightedGroup{{ARN: best.ARN, Weight: 1}}
		}
		in := make([]elb.ActionInput, 0, len(r.Actions))
		found := false
		for _, a := range r.Actions {
			ai := actionInputOf(a)
			if a.Type == elb.ActionForward && !found {
				found = true
				if sameGroups(a.Forward, want) {
					return nil // nothing to write
				}
				ai.TargetGroupARN = ""
				ai.Forward = &elb.ForwardInput{Stickiness: ai.Forward.Stickiness}
				for _, g := range want {
					w := g.Weight
					ai.Forward.TargetGroups = append(ai.Forward.TargetGroups, elb.WeightedTargetGroupInput{ARN: g.ARN, Weight: &w})
				}
			}
			in = append(in, ai)
		}
		if !found {
			return elb.Validationf("The rule '%s' has no forward action to shift traffic with", arn)
		}
		// The rule's own use of its groups does not count against them.
		if r.IsDefault {
			delete(st.Listeners, l.ARN)
		} else {
			delete(st.Rules, r.ARN)
		}
		acts, err := checkActions(st, lb, in)
		if r.IsDefault {
			st.Listeners[l.ARN] = l
		} else {
			st.Rules[r.ARN] = r
		}
		if err != nil {
			return err
		}
		la, _ := elb.ParseARN(l.ARN, elb.KindListener)
		if r.IsDefault {
			l.DefaultActions = acts
			tx.PutListener(la.LBID, l)
		} else {
			r.Actions = acts
			tx.PutRule(la.LBID, la.ListenerID, r)
		}
		changed = true
		return nil
	})
	if err != nil || !changed {
		return false, 0, err
	}
	rev, err := p.repo.Store().Revision(ctx)
	return true, rev, err
}

func sameGroups(f *elb.Forward, want []WeightedGroup) bool {
	if f == nil || len(f.TargetGroups) != len(want) {
		return false
	}
	for _, g := range want {
		i := slices.IndexFunc(f.TargetGroups, func(w elb.WeightedTargetGroup) bool { return w.ARN == g.ARN })
		if i < 0 || f.TargetGroups[i].Weight != g.Weight {
			return false
		}
	}
	return true
}

// actionInputOf is the request form of a stored action.
func actionInputOf(a elb.Action) elb.ActionInput {
	in := elb.ActionInput{Type: a.Type, Order: a.Order, Redirect: a.Redirect, FixedResponse: a.FixedResponse}
	if f := a.Forward; f != nil {
		fi := &elb.ForwardInput{}
		for _, g := range f.TargetGroups {
			w := g.Weight
			fi.TargetGroups = append(fi.TargetGroups, elb.WeightedTargetGroupInput{ARN: g.ARN, Weight: &w})
		}
		if f.Stickiness.Enabled || f.Stickiness.DurationSeconds > 0 {
			en, d := f.Stickiness.Enabled, f.Stickiness.DurationSeconds
			fi.Stickiness = &elb.StickinessInput{Enabled: &en, DurationSeconds: &d}
		}
		in.Forward = fi
	}
	return in
}

// RuleLoadBalancer returns the load balancer of a listener rule (or, for
// a listener's ARN, of the listener); found is false when there is no
// such rule or listener. ECS checks a blue/green service's listener rules
// through it.
func (p *Plane) RuleLoadBalancer(ctx context.Context, sc elb.Scope, arn string) (lbARN string, found bool, err error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return "", false, err
	}
	var l *elb.Listener
	if strings.Contains(arn, ":listener-rule/") {
		_, l, _, err = ruleByARN(st, arn)
	} else {
		l, _, err = listenerByARN(st, arn)
	}
	if err != nil {
		return "", false, nil
	}
	return l.LoadBalancerARN, true, nil
}

// TargetGroupLoadBalancers returns the load balancers whose listeners or
// rules forward to a target group; found is false when there is no such
// group.
func (p *Plane) TargetGroupLoadBalancers(ctx context.Context, sc elb.Scope, arn string) (lbs []string, found bool, err error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, false, err
	}
	if _, err := tgByARN(st, arn); err != nil {
		return nil, false, nil
	}
	return usedBy(st)[arn], true, nil
}
