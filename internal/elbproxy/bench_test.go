package elbproxy

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkALBForward sends GET / through an ALB listener to one target
// from parallel keep-alive clients, all in this process (for profiling;
// the figures against peers in separate processes are bench/elbproxy's).
func BenchmarkALBForward(b *testing.B) {
	h := newHarness(b)
	tgt := newBackend(b, "hello")
	lb, url := alb(b, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", tgt)}})
	h.waitState("tg", tgt.key(), StateHealthy)
	c := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url + "/")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkRequestCounters is the counter work one forwarded request adds
// on the hot path (the load balancer's and the group's request count,
// status class and response time), from parallel goroutines sharing the
// counters as a listener's connections do. Compare with
// BenchmarkALBForward's time per request.
func BenchmarkRequestCounters(b *testing.B) {
	var lb, g counters
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := time.Now()
			lb.requests.Add(1)
			g.requests.Add(1)
			took := time.Since(start)
			g.targetResponse(200, took)
			lb.targetResponse(200, took)
		}
	})
}
