package elbproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// addrSeq hands each test its own loopback addresses (127.78.x.y).
var addrSeq atomic.Uint32

func testAddr(t testing.TB) netip.Addr {
	t.Helper()
	n := addrSeq.Add(1)
	return netip.AddrFrom4([4]byte{127, 78, byte(n / 254), byte(n%254 + 1)})
}

// freePort returns a port free on addr now.
func freePort(t testing.TB, addr netip.Addr) int {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// backend is a real HTTP server on its own loopback address.
type backend struct {
	*httptest.Server
	ip      string
	port    int
	healthy atomic.Bool // /health answers 200 while true, 500 after
	hits    atomic.Int64
}

// newBackend starts a target that answers name on every path but /health.
func newBackend(t testing.TB, name string) *backend {
	t.Helper()
	return newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	})
}

func newBackendFunc(t testing.TB, h http.HandlerFunc) *backend {
	t.Helper()
	return startBackend(t, h, (*httptest.Server).Start)
}

// startBackend is a target serving h (but for /health, which answers
// 200 while the target is healthy) on its own loopback address; start
// starts its server (plain or with TLS).
func startBackend(t testing.TB, h http.HandlerFunc, start func(*httptest.Server)) *backend {
	t.Helper()
	b := &backend{}
	b.healthy.Store(true)
	ip := testAddr(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			if !b.healthy.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			}
			return
		}
		b.hits.Add(1)
		h(w, r)
	}))
	b.Listener.Close()
	b.Listener = ln
	start(b.Server)
	t.Cleanup(b.Close)
	b.ip = ip.String()
	b.port = ln.Addr().(*net.TCPAddr).Port
	return b
}

func (b *backend) target() Target { return Target{ID: b.ip, Port: b.port} }

func (b *backend) key() TargetKey { return TargetKey{ID: b.ip, Port: b.port} }

// harness is a running Proxy whose health reports are recorded.
type harness struct {
	t testing.TB
	p *Proxy

	mu      sync.Mutex
	health  map[string]map[TargetKey]Health // by group ARN
	changed chan struct{}
}

func newHarness(t testing.TB) *harness {
	return newHarnessConfig(t, Config{NoFront: true})
}

func newHarnessConfig(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, health: map[string]map[TargetKey]Health{}, changed: make(chan struct{}, 1)}
	cfg.OnHealth = h.onHealth
	h.p = New(cfg)
	done := make(chan struct{})
	go func() { defer close(done); h.p.Run(t.Context()) }() // t.Context ends before cleanups run
	t.Cleanup(func() { <-done })
	return h
}

func (h *harness) onHealth(r HealthReport) {
	h.mu.Lock()
	m := h.health[r.TargetGroupARN]
	if m == nil {
		m = map[TargetKey]Health{}
		h.health[r.TargetGroupARN] = m
	}
	m[r.Target] = r.Health
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *harness) healthOf(group string, k TargetKey) Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.health[group][k]
}

// waitState waits for the target's reported state.
func (h *harness) waitState(group string, k TargetKey, want State) Health {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := h.healthOf(group, k); got.State == want {
			return got
		}
		select {
		case <-h.changed:
		case <-deadline:
			h.t.Fatalf("target %v of %s: state %+v, want %s", k, group, h.healthOf(group, k), want)
		}
	}
}

// apply applies spec and fails the test on a listener error.
func (h *harness) apply(spec Spec) []ListenerStatus {
	h.t.Helper()
	st := h.p.Apply(spec)
	for _, s := range st {
		if s.Err != nil {
			h.t.Fatalf("listener %s: %v", s.ListenerARN, s.Err)
		}
	}
	return st
}

// fastCheck is an HTTP health check every 50ms, 2 to turn, on /health.
func fastCheck() HealthCheck {
	return HealthCheck{Enabled: true, Protocol: ProtoHTTP, Path: "/health", Interval: 50 * time.Millisecond,
		Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2, Matcher: "200-299"}
}

func forwardTo(arns ...string) []Action {
	f := &Forward{}
	for _, a := range arns {
		f.TargetGroups = append(f.TargetGroups, WeightedTargetGroup{ARN: a})
	}
	return []Action{{Type: ActionForward, Forward: f}}
}

func tg(arn string, targets ...*backend) TargetGroup {
	g := TargetGroup{ARN: arn, Name: arn, Protocol: ProtoHTTP, Port: 80, HealthCheck: fastCheck(), DeregistrationDelay: 5 * time.Second}
	for _, b := range targets {
		g.Targets = append(g.Targets, b.target())
	}
	return g
}

// alb is a one-listener ALB spec on a fresh address; url is its base URL.
func alb(t testing.TB, actions []Action, rules ...Rule) (LoadBalancer, string) {
	t.Helper()
	addr := testAddr(t)
	port := freePort(t, addr)
	lb := LoadBalancer{ARN: "lb-" + t.Name(), Name: "lb", Type: Application, DNSName: "lb-" + strconv.Itoa(port) + ".elb.localhost",
		Address: addr, Listeners: []Listener{{ARN: "l-" + t.Name(), Protocol: ProtoHTTP, Port: port, Rules: rules, DefaultActions: actions}}}
	return lb, fmt.Sprintf("http://%s", netip.AddrPortFrom(addr, uint16(port)))
}

// get sends GET url and returns status and body.
func get(t testing.TB, c *http.Client, url string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// rawTarget is a hand-written TCP target on its own loopback address:
// serve serves each accepted connection (closed after it returns). When
// the test ends it stops accepting, closes the connections still open
// and waits for their serve to return.
func rawTarget(t testing.TB, serve func(c net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(testAddr(t), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	var conns sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[c] = struct{}{}
			mu.Unlock()
			conns.Go(func() {
				defer func() {
					mu.Lock()
					delete(open, c)
					mu.Unlock()
					c.Close()
				}()
				serve(c)
			})
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// rawALBTarget is an ALB forwarding to one hand-written HTTP target
// (health checks off) that reads one request per connection, writes
// answer(request) as it is and closes the connection. url is the ALB's
// base URL.
func rawALBTarget(t *testing.T, answer func(*http.Request) string) (url string) {
	t.Helper()
	h := newHarness(t)
	ap := rawTarget(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		io.WriteString(c, answer(req))
	})
	lb, url := alb(t, forwardTo("tg"))
	g := TargetGroup{ARN: "tg", Protocol: ProtoHTTP, Port: int(ap.Port()), Targets: []Target{{ID: ap.Addr().String()}}}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", TargetKey{ap.Addr().String(), int(ap.Port())}, StateUnavailable)
	return url
}
