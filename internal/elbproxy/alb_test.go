package elbproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testwait"
)

func TestRules(t *testing.T) {
	h := newHarness(t)
	names := []string{"default", "api", "host", "header", "method", "query", "source"}
	var groups []TargetGroup
	for _, n := range names {
		groups = append(groups, tg("tg-"+n, newBackend(t, n)))
	}
	rule := func(prio int, to string, c Condition) Rule {
		return Rule{Priority: prio, Conditions: []Condition{c}, Actions: forwardTo("tg-" + to)}
	}
	rules := []Rule{
		// Out of order on purpose: evaluated by priority.
		rule(50, "source", Condition{Field: FieldSourceIP, Values: []string{"10.0.0.0/8"}}),
		rule(10, "api", Condition{Field: FieldPathPattern, Values: []string{"/api/*", "/v?/x"}}),
		rule(20, "host", Condition{Field: FieldHostHeader, Values: []string{"*.example.com"}}),
		rule(30, "header", Condition{Field: FieldHTTPHeader, HeaderName: "x-team", Values: []string{"blue*"}}),
		rule(40, "method", Condition{Field: FieldRequestMethod, Values: []string{"DELETE"}}),
		rule(45, "query", Condition{Field: FieldQueryString, QueryValues: []KeyValue{{Key: "v", Value: "2"}}}),
		{Priority: 5, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/fixed"}}},
			Actions: []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: 418, ContentType: "text/plain", Body: "teapot"}}}},
		{Priority: 6, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/old/*"}}},
			Actions: []Action{{Type: ActionRedirect, Redirect: &Redirect{Protocol: "HTTPS", Port: "443", Path: "/new/#{path}", StatusCode: 301}}}},
		{Priority: 7, Conditions: []Condition{
			{Field: FieldPathPattern, Values: []string{"/both"}},
			{Field: FieldRequestMethod, Values: []string{"POST"}}}, // AND: never for GET
			Actions: forwardTo("tg-api")},
	}
	lb, url := alb(t, forwardTo("tg-default"), rules...)
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: groups})
	for _, g := range groups {
		h.waitState(g.ARN, TargetKey{ID: g.Targets[0].ID, Port: g.Targets[0].Port}, StateHealthy)
	}
	c := client()
	cases := []struct {
		name, path, want string
		hdr              []string
		method           string
	}{
		{name: "default", path: "/", want: "default"},
		{name: "path", path: "/api/users", want: "api"},
		{name: "path ?", path: "/v2/x", want: "api"},
		{name: "path case-sensitive", path: "/API/users", want: "default"},
		{name: "host", path: "/", hdr: []string{"Host", "Shop.Example.com:8080"}, want: "host"},
		{name: "header", path: "/", hdr: []string{"X-Team", "BLUE-1"}, want: "header"},
		{name: "method", path: "/", method: "DELETE", want: "method"},
		{name: "query", path: "/?a=1&v=2", want: "query"},
		{name: "query other", path: "/?v=3", want: "default"},
		{name: "priority: path before host", path: "/api/x", hdr: []string{"Host", "a.example.com"}, want: "api"},
		{name: "and", path: "/both", want: "default"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, url+tc.path, nil)
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			if tc.hdr[i] == "Host" {
				req.Host = tc.hdr[i+1]
			} else {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != tc.want {
			t.Errorf("%s: %s%s = %d %q, want 200 %q", tc.name, tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}

	code, body := get(t, c, url+"/fixed")
	if code != 418 || body != "teapot" {
		t.Errorf("fixed-response = %d %q", code, body)
	}
	resp, err := c.Get(url + "/old/a/b?q=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	host := strings.TrimPrefix(url, "http://")
	host = host[:strings.LastIndex(host, ":")]
	if want := "https://" + host + "/new/old/a/b?q=1"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("redirect = %d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func TestForwardedHeaders(t *testing.T) {
	h := newHarness(t)
	got := make(chan http.Header, 2)
	b := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		hd := r.Header.Clone()
		hd.Set("Host", r.Host)
		got <- hd
	})
	lb, url := alb(t, forwardTo("tg"))
	g := tg("tg", b)
	g.HealthCheck.Enabled = false
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", b.key(), StateUnavailable)
	code, _ := get(t, client(), url+"/", "X-Forwarded-For", "203.0.113.9", "Host", "app.example.com")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	hd := <-got
	port := url[strings.LastIndex(url, ":")+1:]
	if !regexp.MustCompile(`^203\.0\.113\.9, 127\.\d+\.\d+\.\d+$`).MatchString(hd.Get("X-Forwarded-For")) {
		t.Errorf("X-Forwarded-For = %q, want the prior value and the client's address", hd.Get("X-Forwarded-For"))
	}
	if hd.Get("X-Forwarded-Proto") != "http" || hd.Get("X-Forwarded-Port") != port || hd.Get("Host") != "app.example.com" {
		t.Errorf("X-Forwarded-Proto %q, -Port %q (want %s), Host %q", hd.Get("X-Forwarded-Proto"), hd.Get("X-Forwarded-Port"), port, hd.Get("Host"))
	}
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(hd.Get("X-Amzn-Trace-Id")) {
		t.Errorf("X-Amzn-Trace-Id = %q", hd.Get("X-Amzn-Trace-Id"))
	}
}

func TestWeightedForward(t *testing.T) {
	h := newHarness(t)
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	lb, url := alb(t, []Action{{Type: ActionForward, Forward: &Forward{TargetGroups: []WeightedTargetGroup{
		{ARN: "tg-blue", Weight: 80}, {ARN: "tg-green", Weight: 20}}}}})
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg-blue", blue), tg("tg-green", green)}})
	h.waitState("tg-blue", blue.key(), StateHealthy)
	h.waitState("tg-green", green.key(), StateHealthy)
	c := client()
	counts := map[string]int{}
	for range 1000 {
		code, body := get(t, c, url+"/")
		if code != 200 {
			t.Fatalf("status %d %q", code, body)
		}
		counts[body]++
	}
	t.Logf("1000 requests: blue %d, green %d", counts["blue"], counts["green"])
	if counts["blue"] < 750 || counts["blue"] > 850 || counts["blue"]+counts["green"] != 1000 {
		t.Fatalf("split %v, want blue 800±50", counts)
	}

	// Re-applying the same Spec (each stored health change does) keeps the split.
	counts = map[string]int{}
	spec := Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg-blue", blue), tg("tg-green", green)}}
	for range 100 {
		h.apply(spec)
		_, body := get(t, c, url+"/")
		counts[body]++
	}
	if counts["blue"] < 78 || counts["blue"] > 82 {
		t.Fatalf("split with a re-apply before each request: %v, want blue 80", counts)
	}

	// Group stickiness: with the AWSALBTG cookie every request stays on one group.
	lb.Listeners[0].DefaultActions[0].Forward.Stickiness = time.Hour
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg-blue", blue), tg("tg-green", green)}})
	resp, err := c.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "AWSALBTG" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no AWSALBTG cookie")
	}
	for range 50 {
		req, _ := http.NewRequest("GET", url+"/", nil)
		req.AddCookie(&http.Cookie{Name: "AWSALBTG", Value: cookie.Value})
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != string(first) {
			t.Fatalf("sticky request went to %q, first to %q", body, first)
		}
	}
}

func TestTargetStickinessAndRoundRobin(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	lb, url := alb(t, forwardTo("tg"))
	g := tg("tg", a, b)
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", a.key(), StateHealthy)
	h.waitState("tg", b.key(), StateHealthy)
	c := client()
	seen := map[string]int{}
	for range 10 {
		_, body := get(t, c, url+"/")
		seen[body]++
	}
	if seen["a"] != 5 || seen["b"] != 5 {
		t.Fatalf("round robin over 10: %v", seen)
	}
	g.Stickiness = Stickiness{Enabled: true, Type: "lb_cookie", Duration: time.Hour}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	resp, err := c.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "AWSALB" {
			ck = x
		}
	}
	if ck == nil {
		t.Fatal("no AWSALB cookie")
	}
	for range 20 {
		req, _ := http.NewRequest("GET", url+"/", nil)
		req.AddCookie(&http.Cookie{Name: "AWSALB", Value: ck.Value})
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != string(first) {
			t.Fatalf("sticky request went to %q, first to %q", body, first)
		}
	}
}

func TestLeastOutstandingRequests(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "slow")
	})
	fast := newBackend(t, "fast")
	lb, url := alb(t, forwardTo("tg"))
	g := tg("tg", slow, fast)
	g.Algorithm = LeastOutstandingRequests
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", slow.key(), StateHealthy)
	h.waitState("tg", fast.key(), StateHealthy)
	c := client()
	// Park one request on slow; then every further request must go to fast.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for i := 0; slow.hits.Load() == 0; i++ {
		if i == 10 {
			t.Fatal("no request reached the slow target")
		}
		var finished atomic.Bool
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := c.Get(url + "/"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			finished.Store(true)
		}()
		testwait.Until(t, 10*time.Second, func() (bool, string) {
			return slow.hits.Load() > 0 || finished.Load(), "the request reached neither target"
		})
	}
	for range 10 {
		if _, body := get(t, c, url+"/"); body != "fast" {
			t.Fatalf("least outstanding sent %q, want fast", body)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	h := newHarness(t)
	hang := make(chan struct{})
	defer close(hang)
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	gone := newBackend(t, "gone")
	gone.Close() // refused from now on
	lb, url := alb(t, forwardTo("tg-empty"),
		Rule{Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/slow"}}}, Actions: forwardTo("tg-slow")},
		Rule{Priority: 2, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/gone"}}}, Actions: forwardTo("tg-gone")},
	)
	lb.IdleTimeout = 300 * time.Millisecond
	gs, gg := tg("tg-slow", slow), tg("tg-gone", gone)
	gs.HealthCheck.Enabled, gg.HealthCheck.Enabled = false, false
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg-empty"), gs, gg}})
	h.waitState("tg-gone", gone.key(), StateUnavailable)
	c := client()
	for _, tc := range []struct {
		path  string
		code  int
		title string
	}{
		{"/", 503, "503 Service Temporarily Unavailable"},
		{"/gone", 502, "502 Bad Gateway"},
		{"/slow", 504, "504 Gateway Time-out"},
	} {
		resp, err := c.Get(url + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(body), "<title>"+tc.title+"</title>") || resp.Header.Get("Server") != "awselb/2.0" {
			t.Errorf("GET %s = %d %q (Server %q), want %d with %q", tc.path, resp.StatusCode, body, resp.Header.Get("Server"), tc.code, tc.title)
		}
	}
}

func TestStreamingAndKeepAlive(t *testing.T) {
	h := newHarness(t)
	next := make(chan struct{})
	b := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/echo" {
			io.Copy(w, r.Body)
			return
		}
		for i := range 3 {
			io.WriteString(w, string(rune('a'+i)))
			w.(http.Flusher).Flush()
			<-next
		}
	})
	lb, url := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg", b)}})
	h.waitState("tg", b.key(), StateHealthy)
	resp, err := client().Get(url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1)
	for i := range 3 {
		// Each chunk arrives before the target sends the next one.
		if _, err := io.ReadFull(resp.Body, buf); err != nil || buf[0] != byte('a'+i) {
			t.Fatalf("chunk %d: %q %v", i, buf, err)
		}
		next <- struct{}{}
	}

	// Keep-alive: many requests from one client reuse one connection.
	var conns sync.Map
	tr := &http.Transport{Proxy: nil}
	c := &http.Client{Transport: tr}
	for range 20 {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/echo", strings.NewReader("hello"))
		resp, err := c.Do(req.WithContext(withConnTrace(req.Context(), &conns)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello" {
			t.Fatalf("echo = %q", body)
		}
	}
	n := 0
	conns.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("20 sequential requests used %d connections, want 1", n)
	}
}

// withConnTrace records in conns the local address of every connection a
// request gets.
func withConnTrace(ctx context.Context, conns *sync.Map) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conns.Store(info.Conn.LocalAddr().String(), true) },
	})
}

func TestSlowStart(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	lb, url := alb(t, forwardTo("tg"))
	g := tg("tg", a)
	g.SlowStart = 30 * time.Second
	spec := Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}}
	h.apply(spec)
	h.waitState("tg", a.key(), StateHealthy)
	g.Targets = append(g.Targets, b.target())
	spec.TargetGroups = []TargetGroup{g}
	h.apply(spec)
	h.waitState("tg", b.key(), StateHealthy)
	c := client()
	counts := map[string]int{}
	for range 200 {
		_, body := get(t, c, url+"/")
		counts[body]++
	}
	// Seconds into a 30s slow start b's weight is a few percent of a's;
	// without slow start it would get half.
	if counts["b"] == 0 || counts["b"] > 40 {
		t.Fatalf("in slow start b got %d of 200 (a %d), want a small share", counts["b"], counts["a"])
	}
	t.Logf("slow start: b got %d of 200", counts["b"])
}

func TestSharedFront(t *testing.T) {
	front := testAddr(t)
	h := newHarnessConfig(t, Config{FrontAddr: front})
	one, two := newBackend(t, "one"), newBackend(t, "two")
	port := freePort(t, front)
	mk := func(name string, tgARN string) LoadBalancer {
		return LoadBalancer{ARN: name, Name: name, Type: Application, DNSName: name + "-1.us-east-1.elb.localhost", Address: testAddr(t),
			Listeners: []Listener{{ARN: "l-" + name, Protocol: ProtoHTTP, Port: port, DefaultActions: forwardTo(tgARN)}}}
	}
	lb1, lb2 := mk("one", "tg1"), mk("two", "tg2")
	st := h.apply(Spec{LoadBalancers: []LoadBalancer{lb1, lb2}, TargetGroups: []TargetGroup{tg("tg1", one), tg("tg2", two)}})
	want := netip.AddrPortFrom(front, uint16(port)).String()
	for _, s := range st {
		if s.Front != want || s.FrontErr != nil {
			t.Fatalf("status %+v, want front %s", s, want)
		}
	}
	h.waitState("tg1", one.key(), StateHealthy)
	h.waitState("tg2", two.key(), StateHealthy)
	c := client()
	url := "http://" + want + "/"
	for _, tc := range []struct{ host, want string }{
		{"one-1.us-east-1.elb.localhost", "one"},
		{"TWO-1.us-east-1.elb.localhost:" + strconv.Itoa(port), "two"},
	} {
		if code, body := get(t, c, url, "Host", tc.host); code != 200 || body != tc.want {
			t.Errorf("Host %s: %d %q, want %q", tc.host, code, body, tc.want)
		}
	}
	if code, body := get(t, c, url, "Host", "nobody.elb.localhost"); code != 404 || !strings.Contains(body, "one-1.us-east-1.elb.localhost") {
		t.Errorf("unknown host: %d %q", code, body)
	}
	// A whole request in one write is answered at once (the front reads
	// no further than its header before routing), and a second request
	// on the connection for the other load balancer goes there.
	raw, err := net.DialTimeout("tcp", want, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	rbr := bufio.NewReader(raw)
	for _, tc := range []struct{ host, want string }{{"one-1.us-east-1.elb.localhost", "one"}, {"two-1.us-east-1.elb.localhost", "two"}} {
		io.WriteString(raw, "GET / HTTP/1.1\r\nHost: "+tc.host+"\r\n\r\n")
		resp, err := http.ReadResponse(rbr, nil)
		if err != nil {
			t.Fatalf("raw request for %s: %v", tc.host, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want {
			t.Fatalf("raw request for %s: %q", tc.host, b)
		}
	}
	// Each is also on its own address.
	if _, body := get(t, c, "http://"+netip.AddrPortFrom(lb2.Address, uint16(port)).String()+"/"); body != "two" {
		t.Errorf("own address of two: %q", body)
	}

	// One ALB left on the port: the front sends every Host to it.
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb1}, TargetGroups: []TargetGroup{tg("tg1", one), tg("tg2", two)}})
	if _, body := get(t, c, url, "Host", "localhost"); body != "one" {
		t.Errorf("single ALB on the front: %q", body)
	}
	// The front's port taken by someone else: the listener still serves, FrontErr says why.
	h.apply(Spec{TargetGroups: []TargetGroup{tg("tg1", one)}})
	hold, err := net.Listen("tcp", want)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	st = h.apply(Spec{LoadBalancers: []LoadBalancer{lb1}, TargetGroups: []TargetGroup{tg("tg1", one)}})
	var be *BindError
	if !errors.As(st[0].FrontErr, &be) || be.Reason != BindInUse || st[0].Err != nil {
		t.Fatalf("status with the front port taken: %+v", st[0])
	}
}

func TestListenerBindError(t *testing.T) {
	h := newHarness(t)
	lb, _ := alb(t, forwardTo("tg"))
	hold, err := net.Listen("tcp", netip.AddrPortFrom(lb.Address, uint16(lb.Listeners[0].Port)).String())
	if err != nil {
		t.Fatal(err)
	}
	st := h.p.Apply(Spec{LoadBalancers: []LoadBalancer{lb}})
	var be *BindError
	if !errors.As(st[0].Err, &be) || be.Reason != BindInUse || !strings.Contains(be.Error(), "another process") {
		t.Fatalf("status with the port taken: %+v", st[0])
	}
	hold.Close()
	// Level-based: the next Apply binds it.
	if st := h.p.Apply(Spec{LoadBalancers: []LoadBalancer{lb}}); st[0].Err != nil {
		t.Fatalf("after the port is freed: %v", st[0].Err)
	}
	lb.Listeners[0].Protocol = "HTTPS"
	if st := h.p.Apply(Spec{LoadBalancers: []LoadBalancer{lb}}); st[0].Err == nil {
		t.Fatal("an HTTPS listener was accepted")
	}
}

// TestTargetClosesKeepAlive: a target that closes each connection after
// answering (without saying so) costs no failed request: a pooled
// connection found closed is replaced.
func TestTargetClosesKeepAlive(t *testing.T) {
	url := rawALBTarget(t, func(req *http.Request) string {
		if req.Method == http.MethodHead {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	c := client()
	for i := range 20 {
		if code, body := get(t, c, url+"/"); code != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	resp, err := c.Head(url + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	resp.Body.Close()
}
