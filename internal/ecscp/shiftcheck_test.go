package ecscp

import (
	"context"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// fakeLBs is an ELBv2 account: target groups with the load balancers
// that forward to them, rules with their load balancer.
type fakeLBs struct {
	groups map[string][]string
	rules  map[string]string
}

func (f fakeLBs) TargetGroupLoadBalancers(_ context.Context, _ ecs.Scope, arn string) ([]string, bool, error) {
	lbs, ok := f.groups[arn]
	return lbs, ok, nil
}

func (f fakeLBs) RuleLoadBalancer(_ context.Context, _ ecs.Scope, arn string) (string, bool, error) {
	lb, ok := f.rules[arn]
	return lb, ok, nil
}

func TestCheckShiftResources(t *testing.T) {
	const (
		blue, green, lone = "tg-blue", "tg-green", "tg-lone"
		prod, test, other = "rule-prod", "rule-test", "rule-other"
		albA, albB        = "alb-a", "alb-b"
	)
	p := &Plane{lbs: fakeLBs{
		groups: map[string][]string{blue: {albA}, green: {albA, albB}, lone: nil},
		rules:  map[string]string{prod: albA, test: albA, other: albB},
	}}
	lb := func(tg, alt, prodRule, testRule string) []ecs.LoadBalancer {
		return []ecs.LoadBalancer{{TargetGroupARN: tg, AdvancedConfiguration: &ecs.AdvancedConfiguration{
			AlternateTargetGroupARN: alt, ProductionListenerRule: prodRule, TestListenerRule: testRule}}}
	}
	for _, c := range []struct {
		name string
		lbs  []ecs.LoadBalancer
		want string // "" = accepted
	}{
		{"ok", lb(blue, green, prod, test), ""},
		{"no test rule", lb(blue, green, prod, ""), ""},
		{"rolling, any group", []ecs.LoadBalancer{{TargetGroupARN: "tg-missing"}}, ""},
		{"missing group", lb(blue, "tg-missing", prod, ""), "The target group with targetGroupArn tg-missing does not exist."},
		{"group without load balancer", lb(blue, lone, prod, ""), "The target group with targetGroupArn tg-lone does not have an associated load balancer."},
		{"missing rule", lb(blue, green, "rule-missing", ""), "The productionListenerRule rule-missing does not exist."},
		{"missing test rule", lb(blue, green, prod, "rule-missing"), "The testListenerRule rule-missing does not exist."},
		{"rule of another load balancer", lb(blue, green, other, ""), "The productionListenerRule rule-other belongs to load balancer alb-b, which the target group with targetGroupArn tg-blue is not associated with."},
	} {
		err := p.checkShiftResources(context.Background(), ecs.Scope{}, c.lbs)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !fault.Is(err, fault.InvalidParameter) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want InvalidParameter %q", c.name, err, c.want)
		}
	}
	// No lookup: nothing is checked.
	if err := (&Plane{}).checkShiftResources(context.Background(), ecs.Scope{}, lb(blue, "tg-missing", prod, "")); err != nil {
		t.Errorf("without a lookup: %v", err)
	}
}
