package elbsync_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/elbsync"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = elb.Scope{Account: "123456789012", Region: "eu-west-1"}

// fakeProxy records the specs applied and fails the listeners it is told to.
type fakeProxy struct {
	mu       sync.Mutex
	specs    []elbproxy.Spec
	fail     map[int]bool // listener ports that do not bind
	onHealth func(elbproxy.HealthReport)
	running  bool
}

func (f *fakeProxy) Run(ctx context.Context) error {
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}

func (f *fakeProxy) Apply(spec elbproxy.Spec) []elbproxy.ListenerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, spec)
	var out []elbproxy.ListenerStatus
	for _, lb := range spec.LoadBalancers {
		for _, l := range lb.Listeners {
			st := elbproxy.ListenerStatus{ListenerARN: l.ARN}
			if f.fail[l.Port] {
				st.Err = errors.New("port taken")
			}
			out = append(out, st)
		}
	}
	return out
}

func (f *fakeProxy) last() elbproxy.Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.specs) == 0 {
		return elbproxy.Spec{}
	}
	return f.specs[len(f.specs)-1]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestControllerAppliesMarksActiveStoresHealthAndSweeps(t *testing.T) {
	ctx := t.Context()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plane := elbcp.New(elbcp.Config{Repo: elbstore.New(st)})
	proxy := &fakeProxy{fail: map[int]bool{18999: true}}
	ctrl := elbsync.New(elbsync.Config{Plane: plane, Store: st, NewProxy: func(h func(elbproxy.HealthReport)) elbsync.Proxy {
		proxy.onHealth = h
		return proxy
	}})

	good, _ := plane.CreateLoadBalancer(ctx, sc, elb.CreateLoadBalancer{Name: "good", Subnets: []string{"subnet-a", "subnet-b"}})
	bad, _ := plane.CreateLoadBalancer(ctx, sc, elb.CreateLoadBalancer{Name: "bad", Subnets: []string{"subnet-a", "subnet-b"}})
	port := 8080
	tgv, err := plane.CreateTargetGroup(ctx, sc, elb.CreateTargetGroup{Name: "tg", Protocol: "HTTP", Port: &port, VpcID: "v", TargetType: "ip"})
	if err != nil {
		t.Fatal(err)
	}
	tg := tgv.TargetGroup
	p1, p2 := 18998, 18999
	fwd := []elb.ActionInput{{Type: elb.ActionForward, TargetGroupARN: tg.ARN}}
	if _, err := plane.CreateListener(ctx, sc, good.ARN, elb.ListenerInput{Port: &p1, Protocol: "HTTP", DefaultActions: fwd}); err != nil {
		t.Fatal(err)
	}
	fixed := []elb.ActionInput{{Type: elb.ActionFixedResponse, FixedResponse: &elb.FixedResponse{StatusCode: "503"}}}
	if _, err := plane.CreateListener(ctx, sc, bad.ARN, elb.ListenerInput{Port: &p2, Protocol: "HTTP", DefaultActions: fixed}); err != nil {
		t.Fatal(err)
	}
	if err := plane.RegisterTargets(ctx, sc, tg.ARN, []elb.TargetRef{{ID: "10.0.0.1"}, {ID: "10.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	// Started after the setup, so that "bad" is never seen without its
	// failing listener.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = ctrl.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	eventually(t, "the spec with both targets", func() bool {
		s := proxy.last()
		return len(s.LoadBalancers) == 2 && len(s.TargetGroups) == 1 && len(s.TargetGroups[0].Targets) == 2
	})
	eventually(t, "good active", func() bool {
		lbs, _ := plane.LoadBalancers(ctx, sc, []string{good.ARN}, nil)
		return lbs[0].State == elb.StateActive
	})
	lbs, _ := plane.LoadBalancers(ctx, sc, []string{bad.ARN}, nil)
	if lbs[0].State != elb.StateProvisioning {
		t.Fatalf("a load balancer whose listener is not served went %s", lbs[0].State)
	}

	proxy.onHealth(elbproxy.HealthReport{TargetGroupARN: tg.ARN, Target: elbproxy.TargetKey{ID: "10.0.0.1", Port: 8080},
		Health: elbproxy.Health{State: elbproxy.StateHealthy}})
	proxy.onHealth(elbproxy.HealthReport{TargetGroupARN: tg.ARN, Target: elbproxy.TargetKey{ID: "10.0.0.2", Port: 8080},
		Health: elbproxy.Health{State: elbproxy.StateUnhealthy, Reason: elb.ReasonTimeout, Description: "Request timed out"}})
	eventually(t, "health stored", func() bool {
		th, _ := plane.TargetHealth(ctx, sc, tg.ARN, nil)
		return len(th) == 2 && th[0].Health.State == elb.HealthHealthy && th[1].Health.Reason == elb.ReasonTimeout
	})

	if _, err := plane.ModifyTargetGroupAttributes(ctx, sc, tg.ARN, []elb.Attribute{{Key: "deregistration_delay.timeout_seconds", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := plane.DeregisterTargets(ctx, sc, tg.ARN, []elb.TargetRef{{ID: "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the draining target in the spec", func() bool {
		ts := proxy.last().TargetGroups[0].Targets
		return len(ts) == 2 && ts[0].Draining && !ts[0].DrainDeadline.IsZero()
	})
	eventually(t, "the drained target gone after its delay", func() bool {
		ts := proxy.last().TargetGroups[0].Targets
		return len(ts) == 1 && ts[0].ID == "10.0.0.2"
	})
}

func TestBuildSpec(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plane := elbcp.New(elbcp.Config{Repo: elbstore.New(st)})
	lb, _ := plane.CreateLoadBalancer(ctx, sc, elb.CreateLoadBalancer{Name: "web", Subnets: []string{"subnet-a", "subnet-b"}})
	port := 8080
	a, _ := plane.CreateTargetGroup(ctx, sc, elb.CreateTargetGroup{Name: "a", Protocol: "HTTP", Port: &port, VpcID: "v", TargetType: "ip"})
	b, _ := plane.CreateTargetGroup(ctx, sc, elb.CreateTargetGroup{Name: "b", Protocol: "HTTP", Port: &port, VpcID: "v", TargetType: "ip"})
	w80, w20, on, dur := 80, 20, true, 60
	lp := 18080
	l, err := plane.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &lp, Protocol: "HTTP", DefaultActions: []elb.ActionInput{{Type: elb.ActionForward,
		Forward: &elb.ForwardInput{TargetGroups: []elb.WeightedTargetGroupInput{{ARN: a.ARN, Weight: &w80}, {ARN: b.ARN, Weight: &w20}},
			Stickiness: &elb.StickinessInput{Enabled: &on, DurationSeconds: &dur}}}}})
	if err != nil {
		t.Fatal(err)
	}
	conds := []elb.Condition{{Field: elb.FieldPathPattern, Values: []string{"/r/*"}}}
	redirect := []elb.ActionInput{{Type: elb.ActionRedirect, Redirect: &elb.Redirect{Protocol: "HTTPS", StatusCode: "HTTP_302"}}}
	if _, err := plane.CreateRule(ctx, sc, l.ARN, elbcp.RuleInput{Priority: 7, Conditions: &conds, Actions: redirect}); err != nil {
		t.Fatal(err)
	}
	if _, err := plane.ModifyLoadBalancerAttributes(ctx, sc, lb.ARN, []elb.Attribute{{Key: "idle_timeout.timeout_seconds", Value: "15"}}); err != nil {
		t.Fatal(err)
	}
	states, _, err := plane.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := elbsync.BuildSpec(states, nil)
	if len(spec.LoadBalancers) != 1 || len(spec.TargetGroups) != 2 {
		t.Fatalf("%+v", spec)
	}
	slb := spec.LoadBalancers[0]
	if slb.Address.String() != "127.77.0.1" || slb.IdleTimeout != 15*time.Second || slb.DNSName != lb.DNSName || len(slb.Listeners) != 1 {
		t.Fatalf("%+v", slb)
	}
	sl := slb.Listeners[0]
	f := sl.DefaultActions[0].Forward
	if f == nil || f.TargetGroups[0].Weight != 80 || f.TargetGroups[1].Weight != 20 || f.Stickiness != time.Minute {
		t.Fatalf("forward %+v", f)
	}
	if len(sl.Rules) != 1 || sl.Rules[0].Priority != 7 || sl.Rules[0].Actions[0].Redirect.StatusCode != 302 || sl.Rules[0].Conditions[0].Values[0] != "/r/*" {
		t.Fatalf("rules %+v", sl.Rules)
	}
	hc := spec.TargetGroups[0].HealthCheck
	if hc.Interval != 30*time.Second || hc.Timeout != 5*time.Second || hc.Port != 0 || hc.Matcher != "200" || spec.TargetGroups[0].DeregistrationDelay != 300*time.Second {
		t.Fatalf("health check %+v", spec.TargetGroups[0])
	}
}
