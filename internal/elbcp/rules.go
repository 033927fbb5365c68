package elbcp

import (
	"context"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// defaultRule is a listener's default rule.
func defaultRule(l *elb.Listener) *elb.Rule {
	la, _ := elb.ParseARN(l.ARN, elb.KindListener)
	return &elb.Rule{ARN: elb.RuleARN(la, l.DefaultRuleID).String(), ID: l.DefaultRuleID, ListenerARN: l.ARN,
		IsDefault: true, Actions: l.DefaultActions}
}

// ruleByARN finds a rule (or a listener's default rule) by ARN.
func ruleByARN(st *elbstore.State, arn string) (*elb.Rule, *elb.Listener, elb.ARN, error) {
	a, err := elb.ParseARN(arn, elb.KindRule)
	if err != nil {
		return nil, nil, a, err
	}
	la := elb.ListenerARN(a, a.ListenerID)
	la.ID = ""
	l := st.Listeners[la.String()]
	if l == nil {
		return nil, nil, a, elb.RuleNotFound()
	}
	if r := st.Rules[arn]; r != nil {
		return r, l, a, nil
	}
	if l.DefaultRuleID == a.ID {
		return defaultRule(l), l, a, nil
	}
	return nil, nil, a, elb.RuleNotFound()
}

func lbOf(st *elbstore.State, l *elb.Listener) (*elb.LoadBalancer, error) {
	a, err := elb.ParseARN(l.LoadBalancerARN, elb.KindLoadBalancer)
	if err != nil {
		return nil, err
	}
	lb := st.LoadBalancers[a.Name]
	if lb == nil {
		return nil, elb.ListenerNotFound()
	}
	return lb, nil
}

// RuleInput is a CreateRule or ModifyRule request (nil: keep).
type RuleInput struct {
	Priority   int
	Conditions *[]elb.Condition
	Actions    []elb.ActionInput
	Tags       []elb.Tag
}

// CreateRule adds a rule to an application load balancer's listener.
func (p *Plane) CreateRule(ctx context.Context, sc elb.Scope, listenerARN string, in RuleInput) (*elb.Rule, error) {
	id := randomHex(16)
	var out *elb.Rule
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		l, a, err := listenerByARN(st, listenerARN)
		if err != nil {
			return err
		}
		lb, err := lbOf(st, l)
		if err != nil {
			return err
		}
		if lb.Type != elb.TypeApplication {
			return elb.Validationf("Rules are supported only by application load balancers' listeners")
		}
		if err := elb.CheckPriority(in.Priority); err != nil {
			return err
		}
		var conds []elb.Condition
		if in.Conditions != nil {
			conds = *in.Conditions
		}
		if err := elb.CheckConditions(conds); err != nil {
			return err
		}
		if err := elb.CheckTags(in.Tags); err != nil {
			return err
		}
		acts, err := checkActions(st, lb, in.Actions)
		if err != nil {
			return err
		}
		n := 0
		for _, r := range st.Rules {
			if l2 := st.Listeners[r.ListenerARN]; l2 != nil && l2.LoadBalancerARN == lb.ARN {
				n++
			}
			if r.ListenerARN == listenerARN && r.Priority == in.Priority {
				return elb.Coded(elb.CodePriorityInUse, "Priority '%d' is currently in use", in.Priority)
			}
		}
		if n >= elb.MaxRulesPerALB {
			return elb.Coded(elb.CodeTooManyRules, "A load balancer can have at most %d rules (not counting default rules)", elb.MaxRulesPerALB)
		}
		r := &elb.Rule{ARN: elb.RuleARN(a, id).String(), ID: id, ListenerARN: listenerARN, Priority: in.Priority,
			Conditions: conds, Actions: acts, Tags: in.Tags}
		tx.PutRule(a.LBID, a.ListenerID, r)
		out = r
		return nil
	})
	return out, err
}

// Rules returns a listener's rules (by priority, the default last) or the
// rules named.
func (p *Plane) Rules(ctx context.Context, sc elb.Scope, listenerARN string, arns []string) ([]*elb.Rule, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	switch {
	case listenerARN != "" && len(arns) > 0:
		return nil, elb.Validationf("Rule ARNs and a listener ARN cannot be specified at the same time")
	case listenerARN == "" && len(arns) == 0:
		return nil, elb.Validationf("You must specify either rule ARNs or a listener ARN")
	}
	var out []*elb.Rule
	if len(arns) > 0 {
		for _, a := range arns {
			r, _, _, err := ruleByARN(st, a)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	l, _, err := listenerByARN(st, listenerARN)
	if err != nil {
		return nil, err
	}
	for _, r := range st.Rules {
		if r.ListenerARN == listenerARN {
			out = append(out, r)
		}
	}
	out = append(out, defaultRule(l))
	elb.SortRules(out)
	return out, nil
}

// ModifyRule replaces a rule's conditions and/or actions (a default
// rule's actions are its listener's default actions).
func (p *Plane) ModifyRule(ctx context.Context, sc elb.Scope, arn string, in RuleInput) (*elb.Rule, error) {
	var out *elb.Rule
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		r, l, a, err := ruleByARN(st, arn)
		if err != nil {
			return err
		}
		lb, err := lbOf(st, l)
		if err != nil {
			return err
		}
		if in.Conditions != nil {
			if r.IsDefault {
				return elb.Coded(elb.CodeOperationNotPermitted, "The conditions of a default rule cannot be modified")
			}
			if err := elb.CheckConditions(*in.Conditions); err != nil {
				return err
			}
			r.Conditions = *in.Conditions
		}
		if len(in.Actions) > 0 {
			acts, err := checkActions(st, lb, in.Actions)
			if err != nil {
				return err
			}
			r.Actions = acts
		}
		if r.IsDefault {
			l.DefaultActions = r.Actions
			tx.PutListener(a.LBID, l)
		} else {
			tx.PutRule(a.LBID, a.ListenerID, r)
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteRule deletes a rule (not a default rule).
func (p *Plane) DeleteRule(ctx context.Context, sc elb.Scope, arn string) error {
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		r, _, a, err := ruleByARN(st, arn)
		if err != nil {
			return err
		}
		if r.IsDefault {
			return elb.Coded(elb.CodeOperationNotPermitted, "A default rule cannot be deleted; delete its listener instead")
		}
		tx.DeleteRule(a.LBID, a.ListenerID, r)
		return nil
	})
}

// RulePriority is one pair of SetRulePriorities.
type RulePriority struct {
	RuleARN  string
	Priority int
}

// SetRulePriorities changes the priorities of rules at once; the result
// must leave every priority of a listener unique.
func (p *Plane) SetRulePriorities(ctx context.Context, sc elb.Scope, pairs []RulePriority) ([]*elb.Rule, error) {
	var out []*elb.Rule
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		if len(pairs) == 0 {
			return elb.Validationf("At least one rule priority must be specified")
		}
		out = out[:0]
		changed := map[string]*elb.Rule{}
		for _, pr := range pairs {
			r, _, _, err := ruleByARN(st, pr.RuleARN)
			if err != nil {
				return err
			}
			if r.IsDefault {
				return elb.Coded(elb.CodeOperationNotPermitted, "The priority of a default rule cannot be changed")
			}
			if err := elb.CheckPriority(pr.Priority); err != nil {
				return err
			}
			if changed[r.ARN] != nil {
				return elb.Validationf("Rule '%s' is listed more than once", r.ARN)
			}
			r.Priority = pr.Priority
			changed[r.ARN] = r
			out = append(out, r)
		}
		seen := map[string]map[int]bool{}
		for _, r := range st.Rules {
			if seen[r.ListenerARN] == nil {
				seen[r.ListenerARN] = map[int]bool{}
			}
			if seen[r.ListenerARN][r.Priority] {
				return elb.Coded(elb.CodePriorityInUse, "Priority '%d' is currently in use", r.Priority)
			}
			seen[r.ListenerARN][r.Priority] = true
		}
		for _, r := range out {
			a, _ := elb.ParseARN(r.ARN, elb.KindRule)
			tx.PutRule(a.LBID, a.ListenerID, r)
		}
		return nil
	})
	return out, err
}
