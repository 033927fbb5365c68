package elbsync

import (
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbstore"
)

// InstanceAddresses resolves instance targets (target type instance):
// the address of the host whose EC2 instance ID is id in scope sc; ok is
// false when no registered container instance has that ID or its address
// is not known.
type InstanceAddresses interface {
	InstanceAddress(sc elb.Scope, id string) (addr string, ok bool)
}

// Unresolved is an instance target that BuildSpec left out of the Spec:
// its instance is not a registered container instance with a known
// address.
type Unresolved struct {
	Scope  elb.Scope
	TGID   string
	Target *elb.Target
}

// BuildSpec converts the stored state of every scope to the data plane's
// Spec: load balancers with their listeners and rules (by priority), and
// every target group with its settings and targets. Instance targets are
// dialled at their host's address (instances); those it cannot resolve
// are left out and returned (with a nil instances, every instance target
// is).
func BuildSpec(states []*elbstore.State, instances InstanceAddresses) (elbproxy.Spec, []Unresolved) {
	var spec elbproxy.Spec
	var unresolved []Unresolved
	for _, st := range states {
		lbs := make([]*elb.LoadBalancer, 0, len(st.LoadBalancers))
		for _, lb := range st.LoadBalancers {
			lbs = append(lbs, lb)
		}
		sort.Slice(lbs, func(i, j int) bool { return lbs[i].Name < lbs[j].Name })
		for _, lb := range lbs {
			spec.LoadBalancers = append(spec.LoadBalancers, lbSpec(st, lb))
		}
		tgs := make([]*elb.TargetGroup, 0, len(st.TargetGroups))
		for _, tg := range st.TargetGroups {
			tgs = append(tgs, tg)
		}
		sort.Slice(tgs, func(i, j int) bool { return tgs[i].Name < tgs[j].Name })
		for _, tg := range tgs {
			pt, un := tgSpec(st.Scope, tg, st.Targets[tg.ID], instances)
			spec.TargetGroups = append(spec.TargetGroups, pt)
			unresolved = append(unresolved, un...)
		}
	}
	return spec, unresolved
}

func lbSpec(st *elbstore.State, lb *elb.LoadBalancer) elbproxy.LoadBalancer {
	addr, _ := netip.ParseAddr(lb.Address)
	out := elbproxy.LoadBalancer{ARN: lb.ARN, Name: lb.Name, Type: elbproxy.LBType(lb.Type), DNSName: lb.DNSName, Address: addr}
	if lb.Type == elb.TypeApplication {
		out.IdleTimeout = seconds(lb.Attr("idle_timeout.timeout_seconds"))
	}
	var ls []*elb.Listener
	for _, l := range st.Listeners {
		if l.LoadBalancerARN == lb.ARN {
			ls = append(ls, l)
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Port < ls[j].Port })
	for _, l := range ls {
		pl := elbproxy.Listener{ARN: l.ARN, Protocol: l.Protocol, Port: l.Port, DefaultActions: actions(l.DefaultActions), TLS: tlsSpec(l)}
		var rules []*elb.Rule
		for _, r := range st.Rules {
			if r.ListenerARN == l.ARN {
				rules = append(rules, r)
			}
		}
		elb.SortRules(rules)
		for _, r := range rules {
			pl.Rules = append(pl.Rules, elbproxy.Rule{ARN: r.ARN, Priority: r.Priority, Conditions: conditions(r.Conditions), Actions: actions(r.Actions)})
		}
		out.Listeners = append(out.Listeners, pl)
	}
	return out
}

func conditions(in []elb.Condition) []elbproxy.Condition {
	out := make([]elbproxy.Condition, len(in))
	for i, c := range in {
		pc := elbproxy.Condition{Field: c.Field, Values: c.Values, HeaderName: c.HeaderName}
		for _, q := range c.Query {
			pc.QueryValues = append(pc.QueryValues, elbproxy.KeyValue{Key: q.Key, Value: q.Value})
		}
		out[i] = pc
	}
	return out
}

func actions(in []elb.Action) []elbproxy.Action {
	out := make([]elbproxy.Action, len(in))
	for i, a := range in {
		pa := elbproxy.Action{Type: a.Type, Order: a.Order}
		if f := a.Forward; f != nil {
			pf := &elbproxy.Forward{}
			for _, t := range f.TargetGroups {
				pf.TargetGroups = append(pf.TargetGroups, elbproxy.WeightedTargetGroup{ARN: t.ARN, Weight: t.Weight})
			}
			if f.Stickiness.Enabled {
				pf.Stickiness = time.Duration(f.Stickiness.DurationSeconds) * time.Second
			}
			pa.Forward = pf
		}
		if r := a.Redirect; r != nil {
			code := 301
			if r.StatusCode == "HTTP_302" {
				code = 302
			}
			pa.Redirect = &elbproxy.Redirect{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Path: r.Path, Query: r.Query, StatusCode: code}
		}
		if fr := a.FixedResponse; fr != nil {
			code, _ := strconv.Atoi(fr.StatusCode)
			pa.FixedResponse = &elbproxy.FixedResponse{StatusCode: code, ContentType: fr.ContentType, Body: fr.MessageBody}
		}
		out[i] = pa
	}
	return out
}

func tgSpec(sc elb.Scope, tg *elb.TargetGroup, targets map[string]*elb.Target, instances InstanceAddresses) (elbproxy.TargetGroup, []Unresolved) {
	h := tg.HealthCheck
	port := 0
	if h.Port != elb.TrafficPort {
		port, _ = strconv.Atoi(h.Port)
	}
	delay := seconds(tg.Attr("deregistration_delay.timeout_seconds"))
	out := elbproxy.TargetGroup{ARN: tg.ARN, Name: tg.Name, Protocol: tg.Protocol, Port: tg.Port,
		HealthCheck: elbproxy.HealthCheck{Enabled: h.Enabled, Protocol: h.Protocol, Port: port, Path: h.Path,
			Interval: time.Duration(h.IntervalSeconds) * time.Second, Timeout: time.Duration(h.TimeoutSeconds) * time.Second,
			HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold, Matcher: h.Matcher},
		DeregistrationDelay: delay,
	}
	if elb.IsHTTP(tg.Protocol) {
		out.SlowStart = seconds(tg.Attr("slow_start.duration_seconds"))
		out.Algorithm = tg.Attr("load_balancing.algorithm.type")
		out.Stickiness = elbproxy.Stickiness{Enabled: tg.Attr("stickiness.enabled") == "true", Type: tg.Attr("stickiness.type"),
			Duration: seconds(tg.Attr("stickiness.lb_cookie.duration_seconds"))}
	}
	keys := make([]string, 0, len(targets))
	for k := range targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var unresolved []Unresolved
	for _, k := range keys {
		t := targets[k]
		pt := elbproxy.Target{ID: t.ID, Port: t.Port, Health: elbproxy.Health{State: elbproxy.State(t.Health.State),
			Reason: t.Health.Reason, Description: t.Health.Description}}
		if tg.TargetType == elb.TargetTypeInstance {
			addr, ok := "", false
			if instances != nil {
				addr, ok = instances.InstanceAddress(sc, t.ID)
			}
			if !ok {
				unresolved = append(unresolved, Unresolved{Scope: sc, TGID: tg.ID, Target: t})
				continue
			}
			pt.Address = addr
		}
		if t.Draining() {
			pt.Draining, pt.DrainDeadline = true, t.DrainingSince.Add(delay)
		}
		out.Targets = append(out.Targets, pt)
	}
	return out, unresolved
}

func seconds(v string) time.Duration {
	n, _ := strconv.Atoi(v)
	return time.Duration(n) * time.Second
}
