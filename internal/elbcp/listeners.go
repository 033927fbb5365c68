package elbcp

import (
	"context"
	"reflect"
	"slices"
	"sort"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// checkActions builds actions for lb and checks the target groups they
// forward to exist and may take lb's traffic.
func checkActions(st *elbstore.State, lb *elb.LoadBalancer, in []elb.ActionInput) ([]elb.Action, error) {
	acts, err := elb.BuildActions(lb.Type, in)
	if err != nil {
		return nil, err
	}
	used := usedBy(st)
	for _, arn := range elb.TargetGroupARNs(acts) {
		tg, err := tgByARN(st, arn)
		if err != nil {
			return nil, err
		}
		if err := elb.CheckForwardTarget(lb, tg, used[arn]); err != nil {
			return nil, err
		}
	}
	return acts, nil
}

// checkListenerGroups checks the protocols of the groups a network
// listener forwards to.
func checkListenerGroups(st *elbstore.State, protocol string, acts []elb.Action) error {
	for _, arn := range elb.TargetGroupARNs(acts) {
		tg, err := tgByARN(st, arn)
		if err != nil {
			return err
		}
		if err := elb.CheckListenerGroup(protocol, tg); err != nil {
			return err
		}
	}
	return nil
}

// checkPort probes a listener's TCP port (a UDP listener's port is not
// probed: the data plane reports a UDP port it cannot bind).
func (p *Plane) checkPort(ctx context.Context, lb *elb.LoadBalancer, port int, protocol string) error {
	if p.ports == nil || protocol == elb.ProtocolUDP {
		return nil
	}
	return p.ports.CheckBind(ctx, elb.BindAddress(lb, port))
}

// CreateListener creates a listener. A port berth cannot bind is an
// InvalidConfigurationRequest that says why.
func (p *Plane) CreateListener(ctx context.Context, sc elb.Scope, lbARN string, in elb.ListenerInput) (*elb.Listener, error) {
	id, ruleID := randomHex(16), randomHex(16)
	var out *elb.Listener
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		lb, a, err := lbByARN(st, lbARN)
		if err != nil {
			return err
		}
		if in.Port == nil {
			return elb.Validationf("A port must be specified for the listener")
		}
		if err := elb.CheckListener(lb, *in.Port, in.Protocol, len(in.Certificates)); err != nil {
			return err
		}
		policy, err := elb.CheckSSLPolicy(lb, in.Protocol, in.SslPolicy)
		if err != nil {
			return err
		}
		if err := p.checkCertificates(ctx, sc, in.Certificates); err != nil {
			return err
		}
		if err := elb.CheckTags(in.Tags); err != nil {
			return err
		}
		acts, err := checkActions(st, lb, in.DefaultActions)
		if err != nil {
			return err
		}
		if err := checkListenerGroups(st, in.Protocol, acts); err != nil {
			return err
		}
		n := 0
		for _, l := range st.Listeners {
			if l.LoadBalancerARN != lb.ARN {
				continue
			}
			n++
			if l.Port == *in.Port {
				if l.Protocol == in.Protocol && sameActions(l.DefaultActions, acts) && slices.Equal(l.Certificates, in.Certificates) && l.SslPolicy == policy {
					out = l
					return nil
				}
				return elb.Coded(elb.CodeDuplicateListener, "A listener already exists on port %d of load balancer '%s'", *in.Port, lb.Name)
			}
		}
		if n >= elb.MaxListenersPerLB {
			return elb.Coded(elb.CodeTooManyListeners, "A load balancer can have at most %d listeners", elb.MaxListenersPerLB)
		}
		if err := p.checkPort(ctx, lb, *in.Port, in.Protocol); err != nil {
			return err
		}
		l := &elb.Listener{ARN: elb.ListenerARN(a, id).String(), ID: id, LoadBalancerARN: lb.ARN, Port: *in.Port,
			Protocol: in.Protocol, DefaultActions: acts, DefaultRuleID: ruleID, Tags: in.Tags,
			Certificates: in.Certificates, SslPolicy: policy}
		tx.PutListener(lb.ID, l)
		out = l
		return nil
	})
	return out, err
}

// sameActions reports whether two action lists are the same (an
// identical CreateListener is idempotent, as on AWS).
func sameActions(a, b []elb.Action) bool { return reflect.DeepEqual(a, b) }

// Listeners returns the listeners of a load balancer, or those named,
// ordered by port (in the order asked for ARNs).
func (p *Plane) Listeners(ctx context.Context, sc elb.Scope, lbARN string, arns []string) ([]*elb.Listener, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	switch {
	case lbARN != "" && len(arns) > 0:
		return nil, elb.Validationf("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	case lbARN == "" && len(arns) == 0:
		return nil, elb.Validationf("You must specify either listener ARNs or a load balancer ARN")
	}
	var out []*elb.Listener
	if len(arns) > 0 {
		for _, a := range arns {
			l, _, err := listenerByARN(st, a)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		return out, nil
	}
	if _, _, err := lbByARN(st, lbARN); err != nil {
		return nil, err
	}
	for _, l := range st.Listeners {
		if l.LoadBalancerARN == lbARN {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out, nil
}

// ModifyListener changes a listener's port, protocol or default actions.
func (p *Plane) ModifyListener(ctx context.Context, sc elb.Scope, arn string, in elb.ListenerInput) (*elb.Listener, error) {
	var out *elb.Listener
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		l, a, err := listenerByARN(st, arn)
		if err != nil {
			return err
		}
		lb := st.LoadBalancers[a.Name]
		if lb == nil {
			return elb.ListenerNotFound()
		}
		port, proto := l.Port, l.Protocol
		if in.Port != nil {
			port = *in.Port
		}
		if in.Protocol != "" {
			proto = in.Protocol
		}
		certs, policy := l.Certificates, l.SslPolicy
		if !elb.IsTLS(proto) {
			certs, policy = nil, ""
		}
		if len(in.Certificates) > 0 {
			certs = in.Certificates
		}
		if err := elb.CheckListener(lb, port, proto, len(certs)); err != nil {
			return err
		}
		if in.SslPolicy != "" || policy == "" {
			if policy, err = elb.CheckSSLPolicy(lb, proto, in.SslPolicy); err != nil {
				return err
			}
		}
		if err := p.checkCertificates(ctx, sc, in.Certificates); err != nil {
			return err
		}
		if port != l.Port {
			for _, o := range st.Listeners {
				if o.LoadBalancerARN == lb.ARN && o.Port == port {
					return elb.Coded(elb.CodeDuplicateListener, "A listener already exists on port %d of load balancer '%s'", port, lb.Name)
				}
			}
		}
		if len(in.DefaultActions) > 0 {
			// The listener's own use of its old target groups does not
			// count against the new ones.
			delete(st.Listeners, l.ARN)
			acts, err := checkActions(st, lb, in.DefaultActions)
			st.Listeners[l.ARN] = l
			if err != nil {
				return err
			}
			l.DefaultActions = acts
		}
		if err := checkListenerGroups(st, proto, l.DefaultActions); err != nil {
			return err
		}
		if port != l.Port {
			if err := p.checkPort(ctx, lb, port, proto); err != nil {
				return err
			}
		}
		l.Port, l.Protocol, l.Certificates, l.SslPolicy = port, proto, certs, policy
		if !elb.IsTLS(proto) {
			l.ExtraCertificates = nil
		}
		tx.PutListener(lb.ID, l)
		out = l
		return nil
	})
	return out, err
}

// DeleteListener deletes a listener and its rules.
func (p *Plane) DeleteListener(ctx context.Context, sc elb.Scope, arn string) error {
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		l, a, err := listenerByARN(st, arn)
		if err != nil {
			return err
		}
		for _, r := range st.Rules {
			if r.ListenerARN == arn {
				tx.DeleteRule(a.LBID, a.ListenerID, r)
			}
		}
		tx.DeleteListener(a.LBID, l)
		return nil
	})
}
