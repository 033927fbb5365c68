package server

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/elbproxy"
)

func TestALBDimensions(t *testing.T) {
	sc, d, ok := lbDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
	if !ok || d != "app/web/50dc6c495c0c9188" || sc.Account != "123456789012" || sc.Region != "eu-west-1" {
		t.Errorf("load balancer: %v %q %v", sc, d, ok)
	}
	if _, _, ok := lbDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/tcp/50dc6c495c0c9188"); ok {
		t.Error("a network load balancer got an AWS/ApplicationELB dimension")
	}
	sc, d, ok = tgDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067")
	if !ok || d != "targetgroup/web-tg/73e2d6bc24d8a067" || sc.Account != "123456789012" {
		t.Errorf("target group: %v %q %v", sc, d, ok)
	}
}

func TestALBDelta(t *testing.T) {
	prev := elbproxy.Counters{Requests: 10, Target2XX: 8, ELB5XX: 2, TargetResponses: 8, TargetResponseTime: 8 * time.Millisecond}
	cur := elbproxy.Counters{Requests: 25, Target2XX: 20, Target5XX: 1, ELB5XX: 4, TargetResponses: 21, TargetResponseTime: 30 * time.Millisecond}
	got := delta(cur, prev)
	want := elbproxy.Counters{Requests: 15, Target2XX: 12, Target5XX: 1, ELB5XX: 2, TargetResponses: 13, TargetResponseTime: 22 * time.Millisecond}
	if got != want {
		t.Errorf("delta %+v, want %+v", got, want)
	}
	// A new proxy starts from zero: its whole count is the period's.
	restarted := elbproxy.Counters{Requests: 3, Target2XX: 3, TargetResponses: 3}
	if got := delta(restarted, prev); got != restarted {
		t.Errorf("after a restart %+v, want %+v", got, restarted)
	}
}
