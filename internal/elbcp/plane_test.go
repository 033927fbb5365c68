package elbcp_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/hostaddr"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = elb.Scope{Account: "123456789012", Region: "eu-west-1"}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newPlane(t *testing.T) (*elbcp.Plane, *clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return elbcp.New(elbcp.Config{Repo: elbstore.New(st), Now: clk.Now}), clk
}

func code(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

func mustLB(t *testing.T, p *elbcp.Plane, name, typ string) *elb.LoadBalancer {
	t.Helper()
	subnets := []string{"subnet-a", "subnet-b"}
	lb, err := p.CreateLoadBalancer(context.Background(), sc, elb.CreateLoadBalancer{Name: name, Type: typ, Subnets: subnets})
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

func mustTG(t *testing.T, p *elbcp.Plane, name, proto string) *elb.TargetGroup {
	t.Helper()
	port := 8080
	tg, err := p.CreateTargetGroup(context.Background(), sc, elb.CreateTargetGroup{Name: name, Protocol: proto, Port: &port, VpcID: "vpc-1", TargetType: elb.TargetTypeIP})
	if err != nil {
		t.Fatal(err)
	}
	return tg.TargetGroup
}

func forward(tg string) []elb.ActionInput {
	return []elb.ActionInput{{Type: elb.ActionForward, TargetGroupARN: tg}}
}

func TestAddressesAreUniqueAndReleased(t *testing.T) {
	p, _ := newPlane(t)
	a := mustLB(t, p, "a", "")
	b := mustLB(t, p, "b", elb.TypeNetwork)
	if a.Address != "127.77.0.1" || b.Address != "127.77.0.2" {
		t.Fatalf("addresses %s %s", a.Address, b.Address)
	}
	if err := p.DeleteLoadBalancer(context.Background(), sc, a.ARN); err != nil {
		t.Fatal(err)
	}
	c := mustLB(t, p, "c", "")
	if c.Address != "127.77.0.1" {
		t.Fatalf("released address not reused: %s", c.Address)
	}
	again, err := p.CreateLoadBalancer(context.Background(), sc, elb.CreateLoadBalancer{Name: "c", Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil || again.ARN != c.ARN {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
}

func TestTargetGroupInUseAndAssociation(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	lb := mustLB(t, p, "web", "")
	other := mustLB(t, p, "other", "")
	tg := mustTG(t, p, "tg", elb.ProtocolHTTP)
	port := 18080
	l, err := p.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP", DefaultActions: forward(tg.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteTargetGroup(ctx, sc, tg.ARN); code(err) != elb.CodeResourceInUse {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := p.CreateListener(ctx, sc, other.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP", DefaultActions: forward(tg.ARN)}); code(err) != elb.CodeTGAssociationLimit {
		t.Fatalf("second load balancer: %v", err)
	}
	views, _ := p.TargetGroups(ctx, sc, lb.ARN, nil, nil)
	if len(views) != 1 || len(views[0].LoadBalancerARNs) != 1 {
		t.Fatalf("groups of lb: %+v", views)
	}
	if err := p.DeleteListener(ctx, sc, l.ARN); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteTargetGroup(ctx, sc, tg.ARN); err != nil {
		t.Fatalf("delete unused: %v", err)
	}
}

func TestRulesPrioritiesAndDefault(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	lb := mustLB(t, p, "web", "")
	tg := mustTG(t, p, "tg", elb.ProtocolHTTP)
	port := 18081
	l, err := p.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP", DefaultActions: forward(tg.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	conds := []elb.Condition{{Field: elb.FieldPathPattern, Values: []string{"/a"}}}
	r1, err := p.CreateRule(ctx, sc, l.ARN, elbcp.RuleInput{Priority: 1, Conditions: &conds, Actions: forward(tg.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := p.CreateRule(ctx, sc, l.ARN, elbcp.RuleInput{Priority: 2, Conditions: &conds, Actions: forward(tg.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateRule(ctx, sc, l.ARN, elbcp.RuleInput{Priority: 2, Conditions: &conds, Actions: forward(tg.ARN)}); code(err) != elb.CodePriorityInUse {
		t.Fatalf("duplicate priority: %v", err)
	}
	// Swapping two priorities in one call is allowed.
	if _, err := p.SetRulePriorities(ctx, sc, []elbcp.RulePriority{{r1.ARN, 2}, {r2.ARN, 1}}); err != nil {
		t.Fatal(err)
	}
	rules, _ := p.Rules(ctx, sc, l.ARN, nil)
	if len(rules) != 3 || rules[0].ARN != r2.ARN || !rules[2].IsDefault {
		t.Fatalf("order after swap: %+v", rules)
	}
	if _, err := p.SetRulePriorities(ctx, sc, []elbcp.RulePriority{{r1.ARN, 1}}); code(err) != elb.CodePriorityInUse {
		t.Fatalf("collision: %v", err)
	}
	if err := p.DeleteRule(ctx, sc, rules[2].ARN); code(err) != elb.CodeOperationNotPermitted {
		t.Fatalf("delete default: %v", err)
	}
	// ModifyRule on the default rule changes the listener's default actions.
	fixed := []elb.ActionInput{{Type: elb.ActionFixedResponse, FixedResponse: &elb.FixedResponse{StatusCode: "404"}}}
	if _, err := p.ModifyRule(ctx, sc, rules[2].ARN, elbcp.RuleInput{Actions: fixed}); err != nil {
		t.Fatal(err)
	}
	ls, _ := p.Listeners(ctx, sc, "", []string{l.ARN})
	if ls[0].DefaultActions[0].Type != elb.ActionFixedResponse {
		t.Fatalf("listener default: %+v", ls[0].DefaultActions)
	}
	if err := p.DeleteListener(ctx, sc, l.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Rules(ctx, sc, "", []string{r1.ARN}); code(err) != elb.CodeRuleNotFound {
		t.Fatalf("rule outlived its listener: %v", err)
	}
}

func TestDeregistrationDrainsThenSweeps(t *testing.T) {
	ctx := context.Background()
	p, clk := newPlane(t)
	lb := mustLB(t, p, "web", "")
	tg := mustTG(t, p, "tg", elb.ProtocolHTTP)
	targets := []elb.TargetRef{{ID: "10.0.0.1"}, {ID: "10.0.0.2"}}
	if err := p.RegisterTargets(ctx, sc, tg.ARN, targets); err != nil {
		t.Fatal(err)
	}
	th, _ := p.TargetHealth(ctx, sc, tg.ARN, nil)
	if th[0].Health != elb.NotInUse {
		t.Fatalf("unused group: %+v", th[0].Health)
	}
	port := 18082
	if _, err := p.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP", DefaultActions: forward(tg.ARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ModifyTargetGroupAttributes(ctx, sc, tg.ARN, []elb.Attribute{{Key: "deregistration_delay.timeout_seconds", Value: "30"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.ReportHealth(ctx, sc, tg.ID, "10.0.0.1", 8080, elb.Health{State: elb.HealthHealthy}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeregisterTargets(ctx, sc, tg.ARN, targets[:1]); err != nil {
		t.Fatal(err)
	}
	// A late health report does not undo the draining.
	_ = p.ReportHealth(ctx, sc, tg.ID, "10.0.0.1", 8080, elb.Health{State: elb.HealthHealthy})
	th, _ = p.TargetHealth(ctx, sc, tg.ARN, nil)
	if th[0].Health != elb.Draining || th[1].Health != elb.Registered {
		t.Fatalf("after deregister: %+v", th)
	}
	clk.Add(29 * time.Second)
	next, err := p.SweepDrained(ctx, clk.Now())
	if err != nil || !next.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("next due %v, %v", next, err)
	}
	clk.Add(time.Second)
	if _, err := p.SweepDrained(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	th, _ = p.TargetHealth(ctx, sc, tg.ARN, nil)
	if len(th) != 1 || th[0].Target.ID != "10.0.0.2" {
		t.Fatalf("after the delay: %+v", th)
	}
}

func TestConcurrentListenersOnOnePort(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	lb := mustLB(t, p, "web", "")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			port := 18090
			body := string(rune('a' + i))
			_, errs[i] = p.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP",
				DefaultActions: []elb.ActionInput{{Type: elb.ActionFixedResponse, FixedResponse: &elb.FixedResponse{StatusCode: "200", MessageBody: body}}}})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case code(err) != elb.CodeDuplicateListener:
			t.Fatalf("unexpected: %v", err)
		}
	}
	ls, _ := p.Listeners(ctx, sc, lb.ARN, nil)
	if ok != 1 || len(ls) != 1 {
		t.Fatalf("%d created, %d stored", ok, len(ls))
	}
}

// TestAddressesUniquePerHost: two servers on one host, each with its own
// store (data directory), give their load balancers different addresses.
func TestAddressesUniquePerHost(t *testing.T) {
	dir := t.TempDir()
	mk := func(owner string) *elbcp.Plane {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		hosts := hostaddr.New(hostaddr.Config{Dir: dir, Owner: owner, DataDir: t.TempDir()})
		return elbcp.New(elbcp.Config{Repo: elbstore.New(st), Addresses: hosts, AddressBase: netip.MustParseAddr("127.77.250.1")})
	}
	one, two := mk("one"), mk("two")
	a := mustLB(t, one, "a", "")
	b := mustLB(t, two, "b", "")
	if a.Address == b.Address {
		t.Fatalf("two servers both gave %s", a.Address)
	}
	// A name taken in one's store: no address is kept for the failed create.
	if _, err := one.CreateLoadBalancer(context.Background(), sc, elb.CreateLoadBalancer{Name: "a", Type: elb.TypeNetwork, Subnets: []string{"subnet-x"}}); code(err) != elb.CodeDuplicateLBName {
		t.Fatalf("duplicate name: %v", err)
	}
	// Deleting a frees its address for the other server.
	if err := one.DeleteLoadBalancer(context.Background(), sc, a.ARN); err != nil {
		t.Fatal(err)
	}
	if c := mustLB(t, two, "c", ""); c.Address != a.Address {
		t.Fatalf("after one deleted %s, two got %s", a.Address, c.Address)
	}
}
