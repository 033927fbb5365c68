package elbcp_test

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
)

// TestSetForwardWeights: a rule's (and a listener's default) forward is
// rewritten with the weights asked, the rest of the rule kept; asking
// again changes nothing; an unknown group is refused.
func TestSetForwardWeights(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	lb := mustLB(t, p, "web", "")
	blue, green := mustTG(t, p, "blue", elb.ProtocolHTTP), mustTG(t, p, "green", elb.ProtocolHTTP)
	port := 18081
	l, err := p.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &port, Protocol: "HTTP", DefaultActions: forward(blue.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	conds := []elb.Condition{{Field: "path-pattern", Values: []string{"/*"}}}
	r, err := p.CreateRule(ctx, sc, l.ARN, elbcp.RuleInput{Priority: 5, Conditions: &conds, Actions: forward(blue.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	want := []elbcp.WeightedGroup{{ARN: blue.ARN, Weight: 800}, {ARN: green.ARN, Weight: 200}}
	changed, rev, err := p.SetForwardWeights(ctx, sc, r.ARN, want)
	if err != nil || !changed || rev == 0 {
		t.Fatalf("first change: %v %d %v", changed, rev, err)
	}
	rules, err := p.Rules(ctx, sc, "", []string{r.ARN})
	if err != nil {
		t.Fatal(err)
	}
	got := rules[0]
	if len(got.Conditions) != 1 || got.Priority != 5 || len(got.Actions) != 1 || got.Actions[0].Forward.Single {
		t.Fatalf("rule after the change: %+v", got)
	}
	for _, w := range got.Actions[0].Forward.TargetGroups {
		if (w.ARN == blue.ARN && w.Weight != 800) || (w.ARN == green.ARN && w.Weight != 200) {
			t.Fatalf("weights %+v", got.Actions[0].Forward.TargetGroups)
		}
	}
	if changed, _, err := p.SetForwardWeights(ctx, sc, r.ARN, want); err != nil || changed {
		t.Fatalf("same weights again: changed %v, %v", changed, err)
	}
	// A listener's ARN: its default actions.
	if changed, _, err := p.SetForwardWeights(ctx, sc, l.ARN, []elbcp.WeightedGroup{{ARN: blue.ARN, Weight: 0}, {ARN: green.ARN, Weight: 1}}); err != nil || !changed {
		t.Fatalf("listener: %v %v", changed, err)
	}
	ls, err := p.Listeners(ctx, sc, "", []string{l.ARN})
	if err != nil || len(ls[0].DefaultActions[0].Forward.TargetGroups) != 2 {
		t.Fatalf("listener after the change: %+v %v", ls, err)
	}
	missing := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nope/0123456789abcdef"
	if _, _, err := p.SetForwardWeights(ctx, sc, r.ARN, []elbcp.WeightedGroup{{ARN: missing, Weight: 1}}); err == nil {
		t.Fatal("an unknown target group was accepted")
	}
}
