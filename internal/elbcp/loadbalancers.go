package elbcp

import (
	"context"
	"slices"
	"sort"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// CreateLoadBalancer creates a load balancer, or returns the existing one
// of that name if it was created with the same settings (as AWS does).
func (p *Plane) CreateLoadBalancer(ctx context.Context, sc elb.Scope, req elb.CreateLoadBalancer) (*elb.LoadBalancer, error) {
	id := randomHex(16)
	dnsID := randomDigits(10)
	var out *elb.LoadBalancer
	reserved := ""
	p.creating.Lock()
	defer p.creating.Unlock()
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		addr, err := p.nextAddress(ctx)
		if err != nil {
			return err
		}
		if reserved != "" && reserved != addr {
			p.releaseAddress(ctx, reserved) // an earlier attempt's
		}
		reserved = addr
		lb, err := elb.NewLoadBalancer(sc, req, id, dnsID, addr, p.now())
		if err != nil {
			return err
		}
		if cur := st.LoadBalancers[lb.Name]; cur != nil {
			if cur.Type == lb.Type && cur.Scheme == lb.Scheme && slices.Equal(cur.Subnets, lb.Subnets) {
				out = cur
				return nil
			}
			return elb.Coded(elb.CodeDuplicateLBName, "A load balancer with the name '%s' already exists", lb.Name)
		}
		if len(st.LoadBalancers) >= elb.MaxLoadBalancers {
			return elb.Coded(elb.CodeTooManyLoadBalancers, "You have reached the limit of %d load balancers in %s", elb.MaxLoadBalancers, sc.Region)
		}
		tx.ClaimAddress(addr, lb.ARN)
		tx.PutLoadBalancer(lb)
		out = lb
		return nil
	})
	if err != nil || out.Address != reserved {
		p.releaseAddress(ctx, reserved) // no load balancer was created with it
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LoadBalancers returns the load balancers named by ARN or name (all if
// both are empty), ordered by name. Any unknown one is LoadBalancerNotFound.
func (p *Plane) LoadBalancers(ctx context.Context, sc elb.Scope, arns, names []string) ([]*elb.LoadBalancer, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	if len(arns) > 0 && len(names) > 0 {
		return nil, elb.Validationf("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var out []*elb.LoadBalancer
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			lb, _, err := lbByARN(st, a)
			if err != nil {
				return nil, err
			}
			out = append(out, lb)
		}
		return out, nil
	case len(names) > 0:
		for _, n := range names {
			lb := st.LoadBalancers[n]
			if lb == nil {
				return nil, elb.LoadBalancerNotFound()
			}
			out = append(out, lb)
		}
		return out, nil
	}
	for _, lb := range st.LoadBalancers {
		out = append(out, lb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteLoadBalancer deletes a load balancer with its listeners and rules.
// Deleting one that does not exist succeeds (as on AWS); deletion
// protection refuses.
func (p *Plane) DeleteLoadBalancer(ctx context.Context, sc elb.Scope, arn string) error {
	freed := ""
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		freed = ""
		lb, a, err := lbByARN(st, arn)
		if err != nil {
			if a.Kind != "" {
				return nil
			}
			return err
		}
		if lb.Attr("deletion_protection.enabled") == "true" {
			return elb.Coded(elb.CodeOperationNotPermitted, "Load balancer '%s' cannot be deleted because deletion protection is enabled; set the attribute deletion_protection.enabled to false first", arn)
		}
		for _, l := range st.Listeners {
			if l.LoadBalancerARN == lb.ARN {
				tx.DeleteListener(lb.ID, l)
			}
		}
		for _, r := range st.Rules {
			if l := st.Listeners[r.ListenerARN]; l != nil && l.LoadBalancerARN == lb.ARN {
				tx.DeleteRule(lb.ID, l.ID, r)
			}
		}
		tx.DeleteLoadBalancer(lb)
		freed = lb.Address
		return nil
	})
	if err == nil {
		p.releaseAddress(ctx, freed)
	}
	return err
}

// LoadBalancerAttributes returns every attribute of a load balancer.
func (p *Plane) LoadBalancerAttributes(ctx context.Context, sc elb.Scope, arn string) ([]elb.Attribute, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	lb, _, err := lbByARN(st, arn)
	if err != nil {
		return nil, err
	}
	return elb.LBAttributes(lb.Type, lb.Attributes), nil
}

// ModifyLoadBalancerAttributes sets attributes and returns them all.
func (p *Plane) ModifyLoadBalancerAttributes(ctx context.Context, sc elb.Scope, arn string, attrs []elb.Attribute) ([]elb.Attribute, error) {
	var out []elb.Attribute
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		lb, _, err := lbByARN(st, arn)
		if err != nil {
			return err
		}
		set, err := elb.ApplyLBAttributes(lb.Type, lb.Attributes, attrs)
		if err != nil {
			return err
		}
		lb.Attributes = set
		tx.PutLoadBalancer(lb)
		out = elb.LBAttributes(lb.Type, set)
		return nil
	})
	return out, err
}

// MarkActive moves a provisioning load balancer to active (the data-plane
// controller calls it once the load balancer is served).
func (p *Plane) MarkActive(ctx context.Context, sc elb.Scope, name string) error {
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		lb := st.LoadBalancers[name]
		if lb == nil || lb.State == elb.StateActive {
			return nil
		}
		lb.State = elb.StateActive
		tx.PutLoadBalancer(lb)
		return nil
	})
}
