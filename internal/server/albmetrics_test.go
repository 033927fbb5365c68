package server

import (
	"math"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/elbproxy"
)

func TestALBDimensions(t *testing.T) {
	sc, d, ok := loadBalancerDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188", "app")
	if !ok || d != "app/web/50dc6c495c0c9188" || sc.Account != "123456789012" || sc.Region != "eu-west-1" {
		t.Errorf("load balancer: %v %q %v", sc, d, ok)
	}
	if _, _, ok := loadBalancerDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/tcp/50dc6c495c0c9188", "app"); ok {
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

// TestResponseTimeValues: three responses of 10 ms and one of 100 ms
// become two values whose count is 4, whose sum is the exact 130 ms, and
// whose p50 and p99 are within 5% of 10 ms and 100 ms.
func TestResponseTimeValues(t *testing.T) {
	var d elbproxy.Counters
	for _, took := range []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond} {
		d.ResponseTimes[elbproxy.ResponseTimeBucket(took)]++
		d.TargetResponseTime += took
		d.TargetResponses++
	}
	agg, parts := responseTimeValues(d)
	if len(parts) != 2 || agg.Count != 4 || math.Abs(agg.Sum-0.130) > 1e-12 {
		t.Fatalf("agg %+v parts %+v", agg, parts)
	}
	var samples []cw.Sample
	for _, p := range parts {
		if p.Min != p.Max {
			t.Fatalf("part %+v is not one value", p)
		}
		samples = append(samples, cw.Sample{Agg: p})
	}
	for _, c := range []struct{ p, want float64 }{{50, 0.010}, {75, 0.010}, {99, 0.100}} {
		got, ok := cw.Percentile(samples, c.p)
		if !ok || math.Abs(got-c.want)/c.want > 0.05 {
			t.Errorf("p%v = %v %v, want %v within 5%%", c.p, got, ok, c.want)
		}
	}
}
