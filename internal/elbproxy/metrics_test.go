package elbproxy

import (
	"net/http"
	"strconv"
	"testing"
)

// TestMetricsCounts sends known requests through an ALB and checks the
// load balancer's and the group's counters and host counts.
func TestMetricsCounts(t *testing.T) {
	h := newHarness(t)
	tgt := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 0 {
			code = 200
		}
		w.WriteHeader(code)
	})
	sick := newBackend(t, "sick")
	sick.healthy.Store(false)
	lb, url := alb(t, forwardTo("tg"), Rule{ARN: "r-none", Priority: 1,
		Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/none"}}}, Actions: forwardTo("empty")})
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", tgt, sick), tg("empty")}})
	h.waitState("tg", tgt.key(), StateHealthy)
	h.waitState("tg", sick.key(), StateUnhealthy)

	c := client()
	want := map[int]int{200: 5, 302: 2, 404: 3, 503: 1}
	for code, n := range want {
		for range n {
			if got, _ := get(t, c, url+"/?code="+strconv.Itoa(code)); got != code {
				t.Fatalf("status %d, want %d", got, code)
			}
		}
	}
	if got, _ := get(t, c, url+"/none"); got != http.StatusServiceUnavailable {
		t.Fatalf("empty group: status %d, want 503", got)
	}

	m := h.p.Metrics()
	if len(m.LoadBalancers) != 1 || m.LoadBalancers[0].ARN != lb.ARN {
		t.Fatalf("load balancers %+v", m.LoadBalancers)
	}
	lc := m.LoadBalancers[0].Counters
	if lc.Requests != 12 || lc.Target2XX != 5 || lc.Target3XX != 2 || lc.Target4XX != 3 || lc.Target5XX != 1 ||
		lc.ELB5XX != 1 || lc.TargetResponses != 11 || lc.TargetResponseTime <= 0 {
		t.Errorf("load balancer counters %+v", lc)
	}
	var g, empty *TargetGroupMetrics
	for i := range m.TargetGroups {
		switch m.TargetGroups[i].ARN {
		case "tg":
			g = &m.TargetGroups[i]
		case "empty":
			empty = &m.TargetGroups[i]
		}
	}
	if g == nil || empty == nil {
		t.Fatalf("target groups %+v", m.TargetGroups)
	}
	if g.Requests != 11 || g.Target2XX != 5 || g.Target5XX != 1 || g.ELB5XX != 0 || g.TargetResponses != 11 {
		t.Errorf("group counters %+v", g.Counters)
	}
	if g.Healthy != 1 || g.Unhealthy != 1 || g.Serving != 1 || len(g.LoadBalancerARNs) != 1 || g.LoadBalancerARNs[0] != lb.ARN {
		t.Errorf("group hosts %+v", g)
	}
	if empty.Requests != 1 || empty.Healthy != 0 || empty.Serving != 0 {
		t.Errorf("empty group %+v", empty)
	}
}
