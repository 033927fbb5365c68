package elbcp

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// TargetGroupView is a target group with the load balancers using it.
type TargetGroupView struct {
	*elb.TargetGroup
	LoadBalancerARNs []string
}

// CreateTargetGroup creates a target group, or returns the existing one
// of that name if it has the same settings.
func (p *Plane) CreateTargetGroup(ctx context.Context, sc elb.Scope, req elb.CreateTargetGroup) (*TargetGroupView, error) {
	id := randomHex(16)
	var out *TargetGroupView
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := elb.NewTargetGroup(sc, req, id, p.now())
		if err != nil {
			return err
		}
		if cur := st.TargetGroups[tg.Name]; cur != nil {
			if cur.Protocol == tg.Protocol && cur.Port == tg.Port && cur.VpcID == tg.VpcID && cur.TargetType == tg.TargetType && cur.HealthCheck == tg.HealthCheck {
				out = &TargetGroupView{cur, usedBy(st)[cur.ARN]}
				return nil
			}
			return elb.Coded(elb.CodeDuplicateTGName, "A target group with the name '%s' already exists", tg.Name)
		}
		if len(st.TargetGroups) >= elb.MaxTargetGroups {
			return elb.Coded(elb.CodeTooManyTargetGroups, "You have reached the limit of %d target groups in %s", elb.MaxTargetGroups, sc.Region)
		}
		tx.PutTargetGroup(tg)
		out = &TargetGroupView{TargetGroup: tg}
		return nil
	})
	return out, err
}

// TargetGroups returns the target groups named by ARN or name, or those
// a load balancer uses, or all; ordered by name (by the order asked for
// ARNs and names).
func (p *Plane) TargetGroups(ctx context.Context, sc elb.Scope, lbARN string, arns, names []string) ([]*TargetGroupView, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, given := range []bool{lbARN != "", len(arns) > 0, len(names) > 0} {
		if given {
			n++
		}
	}
	if n > 1 {
		return nil, elb.Validationf("Only one of LoadBalancerArn, TargetGroupArns and Names can be specified")
	}
	used := usedBy(st)
	var out []*TargetGroupView
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			tg, err := tgByARN(st, a)
			if err != nil {
				return nil, err
			}
			out = append(out, &TargetGroupView{tg, used[tg.ARN]})
		}
		return out, nil
	case len(names) > 0:
		for _, name := range names {
			tg := st.TargetGroups[name]
			if tg == nil {
				return nil, elb.TargetGroupNotFound()
			}
			out = append(out, &TargetGroupView{tg, used[tg.ARN]})
		}
		return out, nil
	case lbARN != "":
		if _, _, err := lbByARN(st, lbARN); err != nil {
			return nil, err
		}
	}
	for _, tg := range st.TargetGroups {
		if lbARN != "" && !contains(used[tg.ARN], lbARN) {
			continue
		}
		out = append(out, &TargetGroupView{tg, used[tg.ARN]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// TargetGroup returns one target group by ARN.
func (p *Plane) TargetGroup(ctx context.Context, sc elb.Scope, arn string) (*TargetGroupView, error) {
	tgs, err := p.TargetGroups(ctx, sc, "", []string{arn}, nil)
	if err != nil {
		return nil, err
	}
	return tgs[0], nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// ModifyTargetGroup changes a target group's health check.
func (p *Plane) ModifyTargetGroup(ctx context.Context, sc elb.Scope, arn string, hc elb.HealthCheckInput) (*TargetGroupView, error) {
	var out *TargetGroupView
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := tgByARN(st, arn)
		if err != nil {
			return err
		}
		if err := tg.SetHealthCheck(hc, false); err != nil {
			return err
		}
		tx.PutTargetGroup(tg)
		out = &TargetGroupView{tg, usedBy(st)[tg.ARN]}
		return nil
	})
	return out, err
}

// DeleteTargetGroup deletes a target group that no listener or rule
// uses, with its targets. Deleting one that does not exist succeeds (the
// operation declares no not-found error on AWS).
func (p *Plane) DeleteTargetGroup(ctx context.Context, sc elb.Scope, arn string) error {
	if _, err := elb.ParseARN(arn, elb.KindTargetGroup); err != nil {
		return err
	}
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := tgByARN(st, arn)
		if err != nil {
			return nil
		}
		if lbs := usedBy(st)[arn]; len(lbs) > 0 {
			return elb.Coded(elb.CodeResourceInUse, "Target group '%s' is currently in use by a listener or a rule of load balancer '%s'; delete or change those first", arn, lbs[0])
		}
		tx.DeleteTargetGroup(tg)
		return nil
	})
}

// TargetGroupAttributes returns every attribute of a target group.
func (p *Plane) TargetGroupAttributes(ctx context.Context, sc elb.Scope, arn string) ([]elb.Attribute, error) {
	tg, err := p.TargetGroup(ctx, sc, arn)
	if err != nil {
		return nil, err
	}
	return elb.TGAttributes(tg.TargetGroup), nil
}

// ModifyTargetGroupAttributes sets attributes and returns them all.
func (p *Plane) ModifyTargetGroupAttributes(ctx context.Context, sc elb.Scope, arn string, attrs []elb.Attribute) ([]elb.Attribute, error) {
	var out []elb.Attribute
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := tgByARN(st, arn)
		if err != nil {
			return err
		}
		if err := elb.ApplyTGAttributes(tg, attrs); err != nil {
			return err
		}
		tx.PutTargetGroup(tg)
		out = elb.TGAttributes(tg)
		return nil
	})
	return out, err
}

// RegisterTargets registers targets (registering one again is a no-op; a
// draining one comes back).
func (p *Plane) RegisterTargets(ctx context.Context, sc elb.Scope, tgARN string, refs []elb.TargetRef) error {
	now := p.now().UTC()
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := tgByARN(st, tgARN)
		if err != nil {
			return err
		}
		refs, err := elb.ResolveTargets(tg, refs)
		if err != nil {
			return err
		}
		cur := st.Targets[tg.ID]
		n := len(cur)
		for _, r := range refs {
			t := &elb.Target{ID: r.ID, Port: r.Port, AvailabilityZone: r.AvailabilityZone}
			old := cur[t.Key()]
			switch {
			case old != nil && !old.Draining():
				continue
			case old != nil:
				t = old
				t.DrainingSince = time.Time{}
				t.Health = elb.Registered
			default:
				n++
				t.RegisteredAt, t.Health = now, elb.Registered
			}
			tx.PutTarget(tg.ID, t)
		}
		if n > elb.MaxTargetsPerTG {
			return elb.Coded(elb.CodeTooManyTargets, "A target group can have at most %d targets; this request would make %d", elb.MaxTargetsPerTG, n)
		}
		return nil
	})
}

// DeregisterTargets starts draining targets; those of a group no load
// balancer uses (or with a deregistration delay of 0) leave at once.
func (p *Plane) DeregisterTargets(ctx context.Context, sc elb.Scope, tgARN string, refs []elb.TargetRef) error {
	now := p.now().UTC()
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		tg, err := tgByARN(st, tgARN)
		if err != nil {
			return err
		}
		refs, err := elb.ResolveTargets(tg, refs)
		if err != nil {
			return err
		}
		inUse := len(usedBy(st)[tg.ARN]) > 0
		delay := tg.Attr("deregistration_delay.timeout_seconds")
		for _, r := range refs {
			t := st.Targets[tg.ID][r.ID+":"+strconv.Itoa(r.Port)]
			if t == nil {
				return elb.Coded(elb.CodeInvalidTarget, "The target '%s' on port %d is not registered in target group '%s'", r.ID, r.Port, tg.Name)
			}
			switch {
			case t.Draining():
			case !inUse || delay == "0":
				tx.DeleteTarget(tg.ID, t)
			default:
				t.DrainingSince = now
				tx.PutTarget(tg.ID, t)
			}
		}
		return nil
	})
}

// TargetHealth is one row of DescribeTargetHealth.
type TargetHealth struct {
	Target          elb.Target
	HealthCheckPort string
	Health          elb.Health
}

// TargetHealth returns the health of the given targets, or of every
// registered target if refs is empty (ordered by ID and port).
func (p *Plane) TargetHealth(ctx context.Context, sc elb.Scope, tgARN string, refs []elb.TargetRef) ([]TargetHealth, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	tg, err := tgByARN(st, tgARN)
	if err != nil {
		return nil, err
	}
	inUse := len(usedBy(st)[tg.ARN]) > 0
	port := func(t elb.Target) string {
		if tg.HealthCheck.Port == elb.TrafficPort {
			return strconv.Itoa(t.Port)
		}
		return tg.HealthCheck.Port
	}
	var out []TargetHealth
	if len(refs) > 0 {
		refs, err = elb.ResolveTargets(tg, refs)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			t := st.Targets[tg.ID][r.ID+":"+strconv.Itoa(r.Port)]
			if t == nil {
				nt := elb.Target{ID: r.ID, Port: r.Port}
				out = append(out, TargetHealth{nt, port(nt), elb.NotRegistered})
				continue
			}
			out = append(out, TargetHealth{*t, port(*t), t.EffectiveHealth(inUse)})
		}
		return out, nil
	}
	for _, t := range st.Targets[tg.ID] {
		out = append(out, TargetHealth{*t, port(*t), t.EffectiveHealth(inUse)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target.ID != out[j].Target.ID {
			return out[i].Target.ID < out[j].Target.ID
		}
		return out[i].Target.Port < out[j].Target.Port
	})
	return out, nil
}
