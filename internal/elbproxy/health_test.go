package elbproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testwait"
)

func TestStreak(t *testing.T) {
	hc := HealthCheck{HealthyThreshold: 3, UnhealthyThreshold: 2}
	ok := checkResult{ok: true}
	bad := checkResult{reason: ReasonResponseCodeMismatch, description: "Health checks failed with these codes: [500]"}
	slow := checkResult{reason: ReasonTimeout, description: description(ReasonTimeout)}
	var s streak
	h := healthOf(StateInitial, ReasonRegistrationInProgress)
	steps := []struct {
		r      checkResult
		state  State
		reason string
	}{
		{ok, StateInitial, ReasonInitialHealthChecking},
		{ok, StateInitial, ReasonInitialHealthChecking},
		{ok, StateHealthy, ""},
		{bad, StateHealthy, ""},
		{ok, StateHealthy, ""},
		{bad, StateHealthy, ""},
		{bad, StateUnhealthy, ReasonResponseCodeMismatch},
		{slow, StateUnhealthy, ReasonTimeout},
		{ok, StateUnhealthy, ReasonTimeout},
		{ok, StateUnhealthy, ReasonTimeout},
		{ok, StateHealthy, ""},
	}
	for i, st := range steps {
		h = s.observe(h, st.r, hc)
		if h.State != st.state || h.Reason != st.reason {
			t.Fatalf("step %d: %+v, want %s %s", i, h, st.state, st.reason)
		}
	}
	// initial goes unhealthy after the unhealthy threshold.
	s = streak{}
	h = healthOf(StateInitial, ReasonRegistrationInProgress)
	h = s.observe(h, bad, hc)
	h = s.observe(h, bad, hc)
	if h.State != StateUnhealthy || h.Description == "" {
		t.Fatalf("initial after 2 failures: %+v", h)
	}
}

func TestMatcher(t *testing.T) {
	for _, tc := range []struct {
		m    string
		code int
		want bool
	}{
		{"", 200, true}, {"", 204, false}, {"200-299", 204, true}, {"200-299", 302, false},
		{"200,302", 302, true}, {"200,302", 301, false}, {"200-204, 404", 404, true},
	} {
		m, err := parseMatcher(tc.m)
		if err != nil {
			t.Fatalf("%q: %v", tc.m, err)
		}
		if got := m.match(tc.code); got != tc.want {
			t.Errorf("matcher %q code %d = %v", tc.m, tc.code, got)
		}
	}
	for _, bad := range []string{"abc", "299-200", "700", "200-"} {
		if _, err := parseMatcher(bad); err == nil {
			t.Errorf("parseMatcher(%q) = nil error", bad)
		}
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		fold bool
		want bool
	}{
		{"/api/*", "/api/x/y", false, true}, {"/api/*", "/apix", false, false}, {"*", "", false, true},
		{"/v?/x", "/v1/x", false, true}, {"/v?/x", "/v12/x", false, false}, {"*.example.com", "A.EXAMPLE.COM", true, true},
		{"a*b*c", "aXXbYYc", false, true}, {"a*b*c", "aXXbYY", false, false}, {"/A", "/a", false, false},
		{"*.Example.COM", "a.example.com", true, true}, {"A?C", "abd", true, false},
	} {
		if got := wildcard(tc.p, tc.s, tc.fold); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// TestHealthShift: a target whose health endpoint fails is taken out and
// traffic shifts to the other, with no failed request meanwhile.
func TestHealthShift(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	lb, url := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", a, b)}})
	h.waitState("tg", a.key(), StateHealthy)
	h.waitState("tg", b.key(), StateHealthy)

	stop := make(chan struct{})
	var failed, sent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := client()
		for n := 0; n < 100000; n++ {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := c.Get(url + "/")
			sent.Add(1)
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
			}
		}
	}()
	b.healthy.Store(false)
	got := h.waitState("tg", b.key(), StateUnhealthy)
	if got.Reason != ReasonResponseCodeMismatch || got.Description != "Health checks failed with these codes: [500]" {
		t.Errorf("unhealthy health = %+v", got)
	}
	close(stop) // requests already sent to b may still arrive there
	wg.Wait()
	bHits := b.hits.Load()
	c := client()
	for range 20 {
		if _, body := get(t, c, url+"/"); body != "a" {
			t.Fatalf("request went to %q after b turned unhealthy", body)
		}
	}
	if b.hits.Load() != bHits {
		t.Fatalf("b got %d requests after it turned unhealthy", b.hits.Load()-bHits)
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed while b was taken out", failed.Load(), sent.Load())
	}
	t.Logf("%d requests during the shift, none failed", sent.Load())

	// Back to healthy: b gets traffic again.
	b.healthy.Store(true)
	h.waitState("tg", b.key(), StateHealthy)
	seen := map[string]bool{}
	for range 4 {
		_, body := get(t, c, url+"/")
		seen[body] = true
	}
	if !seen["b"] {
		t.Fatal("b got no traffic after turning healthy again")
	}
}

// TestFailOpen: when no target is healthy, traffic goes to all of them.
func TestFailOpen(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	a.healthy.Store(false)
	b.healthy.Store(false)
	lb, url := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", a, b)}})
	h.waitState("tg", a.key(), StateUnhealthy)
	h.waitState("tg", b.key(), StateUnhealthy)
	seen := map[string]int{}
	c := client()
	for range 10 {
		code, body := get(t, c, url+"/")
		if code != 200 {
			t.Fatalf("status %d with all targets unhealthy, want fail-open 200", code)
		}
		seen[body]++
	}
	if seen["a"] != 5 || seen["b"] != 5 {
		t.Fatalf("fail-open spread %v, want 5/5", seen)
	}
}

// TestDraining: a deregistered target gets no new requests, its slow
// in-flight request finishes, and its connections are cut at the deadline.
func TestDraining(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseAll() // before the backends close (cleanups), even on a failure
	slowStarted := make(chan struct{}, 1)
	a := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slowStarted <- struct{}{}
			<-release
		}
		io.WriteString(w, "a")
	})
	b := newBackend(t, "b")
	lb, url := alb(t, forwardTo("tg"))
	g := tg("tg", a, b)
	g.Algorithm = LeastOutstandingRequests // the slow request pins a
	spec := Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}}
	h.apply(spec)
	h.waitState("tg", a.key(), StateHealthy)
	h.waitState("tg", b.key(), StateHealthy)

	c := client()
	type result struct {
		code int
		body string
		err  error
	}
	slowDone := make(chan result, 1)
	var slowOn string
	for slowOn != "a" {
		// Least outstanding with ties in rotation: retry until a has it.
		go func() {
			resp, err := c.Get(url + "/slow")
			if err != nil {
				slowDone <- result{err: err}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			slowDone <- result{code: resp.StatusCode, body: string(body)}
		}()
		select {
		case <-slowStarted:
			slowOn = "a"
		case r := <-slowDone:
			if r.body != "b" {
				t.Fatalf("slow request: %+v", r)
			}
		}
	}

	g.Targets[0].Draining = true
	g.Targets[0].DrainDeadline = time.Now().Add(time.Minute)
	g.Algorithm = RoundRobin // a has no edge from its outstanding request now
	spec.TargetGroups = []TargetGroup{g}
	h.apply(spec)
	if got := h.waitState("tg", a.key(), StateDraining); got.Reason != ReasonDeregistrationInProgress {
		t.Fatalf("draining health %+v", got)
	}
	for range 10 {
		if _, body := get(t, c, url+"/"); body != "b" {
			t.Fatalf("new request went to draining target %q", body)
		}
	}
	releaseAll()
	if r := <-slowDone; r.err != nil || r.code != 200 || r.body != "a" {
		t.Fatalf("in-flight request on the draining target: %+v", r)
	}

	// The deadline cuts what is still in flight: 502 for the client.
	hang := make(chan struct{})
	cc := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) { <-hang })
	defer close(hang)
	g2 := tg("tg2", cc)
	lb.Listeners[0].DefaultActions = forwardTo("tg2")
	spec = Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g2}}
	h.apply(spec)
	h.waitState("tg2", cc.key(), StateHealthy)
	cut := make(chan int, 1)
	go func() {
		resp, err := c.Get(url + "/")
		if err != nil {
			cut <- -1
			return
		}
		resp.Body.Close()
		cut <- resp.StatusCode
	}()
	testwait.Until(t, 10*time.Second, func() (bool, string) {
		n := cc.hits.Load()
		return n == 1, fmt.Sprintf("the target got %d requests, want 1", n)
	})
	g2.Targets[0].Draining = true
	g2.Targets[0].DrainDeadline = time.Now().Add(100 * time.Millisecond)
	spec.TargetGroups = []TargetGroup{g2}
	h.apply(spec)
	if code := <-cut; code != http.StatusBadGateway {
		t.Fatalf("request cut at the drain deadline: %d, want 502", code)
	}
}

func TestUnusedAndDisabled(t *testing.T) {
	h := newHarness(t)
	a := newBackend(t, "a")
	h.apply(Spec{TargetGroups: []TargetGroup{tg("tg", a)}})
	if got := h.waitState("tg", a.key(), StateUnused); got.Reason != ReasonNotInUse {
		t.Fatalf("unused: %+v", got)
	}
	lb, _ := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", a)}})
	h.waitState("tg", a.key(), StateHealthy)
	g := tg("tg", a)
	g.HealthCheck.Enabled = false
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	if got := h.waitState("tg", a.key(), StateUnavailable); got.Reason != ReasonHealthCheckDisabled {
		t.Fatalf("disabled: %+v", got)
	}
}

func TestHealthTimeoutAndTCP(t *testing.T) {
	h := newHarness(t)
	hang := make(chan struct{})
	defer close(hang)
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	g := tg("tg", slow)
	g.HealthCheck.Timeout = 100 * time.Millisecond
	g.HealthCheck.Path = "/hang"
	lb, _ := alb(t, forwardTo("tg", "tg-tcp"))
	gt := tg("tg-tcp", slow)
	gt.HealthCheck.Protocol = ProtoTCP
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g, gt}})
	if got := h.waitState("tg", slow.key(), StateUnhealthy); got.Reason != ReasonTimeout {
		t.Fatalf("timeout: %+v", got)
	}
	h.waitState("tg-tcp", slow.key(), StateHealthy) // TCP connect succeeds
}

func TestHTTPSHealthCheck(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	ln, err := net.Listen("tcp", netip.AddrPortFrom(testAddr(t), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.StartTLS() // a self-signed certificate
	defer srv.Close()
	ap := netip.MustParseAddrPort(ln.Addr().String())
	g := TargetGroup{ARN: "tg", Protocol: ProtoHTTP, Port: int(ap.Port()), Targets: []Target{{ID: ap.Addr().String()}}, HealthCheck: fastCheck()}
	g.HealthCheck.Protocol = "HTTPS"
	lb, _ := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", TargetKey{ap.Addr().String(), int(ap.Port())}, StateHealthy)
	g.HealthCheck.Path = "/nope"
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	if got := h.waitState("tg", TargetKey{ap.Addr().String(), int(ap.Port())}, StateUnhealthy); got.Description != "Health checks failed with these codes: [404]" {
		t.Fatalf("unhealthy: %+v", got)
	}
}
