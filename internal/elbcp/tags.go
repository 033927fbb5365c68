package elbcp

import (
	"context"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// tagged finds a taggable resource by ARN and returns its tags and a
// function that writes new ones.
func tagged(st *elbstore.State, tx *elbstore.Tx, arn string) ([]elb.Tag, func([]elb.Tag), error) {
	switch elb.ResourceKind(arn) {
	case elb.KindLoadBalancer:
		lb, _, err := lbByARN(st, arn)
		if err != nil {
			return nil, nil, err
		}
		return lb.Tags, func(t []elb.Tag) { lb.Tags = t; tx.PutLoadBalancer(lb) }, nil
	case elb.KindTargetGroup:
		tg, err := tgByARN(st, arn)
		if err != nil {
			return nil, nil, err
		}
		return tg.Tags, func(t []elb.Tag) { tg.Tags = t; tx.PutTargetGroup(tg) }, nil
	case elb.KindListener:
		l, a, err := listenerByARN(st, arn)
		if err != nil {
			return nil, nil, err
		}
		return l.Tags, func(t []elb.Tag) { l.Tags = t; tx.PutListener(a.LBID, l) }, nil
	case elb.KindRule:
		r, l, a, err := ruleByARN(st, arn)
		if err != nil {
			return nil, nil, err
		}
		if r.IsDefault {
			return nil, nil, elb.Coded(elb.CodeOperationNotPermitted, "Default rules cannot be tagged")
		}
		_ = l
		return r.Tags, func(t []elb.Tag) { r.Tags = t; tx.PutRule(a.LBID, a.ListenerID, r) }, nil
	}
	return nil, nil, elb.Validationf("'%s' is not a valid load balancer, target group, listener or rule ARN", arn)
}

// AddTags adds or replaces tags on resources, all or none.
func (p *Plane) AddTags(ctx context.Context, sc elb.Scope, arns []string, tags []elb.Tag) error {
	if len(arns) == 0 || len(tags) == 0 {
		return elb.Validationf("At least one resource ARN and one tag must be specified")
	}
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		for _, arn := range arns {
			cur, set, err := tagged(st, tx, arn)
			if err != nil {
				return err
			}
			next, err := elb.MergeTags(cur, tags)
			if err != nil {
				return err
			}
			set(next)
		}
		return nil
	})
}

// RemoveTags removes tag keys from resources.
func (p *Plane) RemoveTags(ctx context.Context, sc elb.Scope, arns []string, keys []string) error {
	if len(arns) == 0 || len(keys) == 0 {
		return elb.Validationf("At least one resource ARN and one tag key must be specified")
	}
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		for _, arn := range arns {
			cur, set, err := tagged(st, tx, arn)
			if err != nil {
				return err
			}
			set(elb.RemoveTags(cur, keys))
		}
		return nil
	})
}

// ResourceTags is the tags of one resource.
type ResourceTags struct {
	ARN  string
	Tags []elb.Tag
}

// Tags returns the tags of resources (at most 20 ARNs, as AWS).
func (p *Plane) Tags(ctx context.Context, sc elb.Scope, arns []string) ([]ResourceTags, error) {
	if len(arns) == 0 || len(arns) > 20 {
		return nil, elb.Validationf("Between 1 and 20 resource ARNs must be specified")
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	tx := &elbstore.Tx{}
	out := make([]ResourceTags, 0, len(arns))
	for _, arn := range arns {
		cur, _, err := tagged(st, tx, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, ResourceTags{arn, cur})
	}
	return out, nil
}
