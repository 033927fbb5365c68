package elbproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testwait"
)

// rawALB is an ALB forwarding to one echoing target (it answers the
// method, the request's X-Drop, Proxy-Authorization and X-Keep fields
// and its body), reached over raw TCP.
func rawALB(t *testing.T) string {
	addr, _ := rawALBIdle(t, 0)
	return addr
}

// rawALBIdle is rawALB with the load balancer's idle timeout (0: the
// default), and its harness.
func rawALBIdle(t *testing.T, idle time.Duration) (string, *harness) {
	t.Helper()
	h := newHarness(t)
	b := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Hop", "gone")
		w.Header().Set("Connection", "X-Hop")
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "100000")
			io.WriteString(w, strings.Repeat("x", 100_000))
			return
		case "/chunked":
			io.WriteString(w, strings.Repeat("y", 100_000))
			return
		}
		io.WriteString(w, r.Method+" drop="+r.Header.Get("X-Drop")+" auth="+r.Header.Get("Proxy-Authorization")+
			" keep="+r.Header.Get("X-Keep")+" body="+string(body))
	})
	lb, url := alb(t, forwardTo("tg"))
	lb.IdleTimeout = idle
	g := tg("tg", b)
	g.HealthCheck.Enabled = false
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", b.key(), StateUnavailable)
	return strings.TrimPrefix(url, "http://"), h
}

// held is how many idle connections the idle poller holds (without
// buffers or a goroutine of their own).
func (ip *idlePoller) held() int {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	return len(ip.waiting)
}

type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// read reads one answer to a request of method.
func (rc *rawConn) read(method string) (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatal(err)
	}
	return resp, string(body)
}

// TestFastPathConnection: on one keep-alive connection, pipelined GETs,
// hop-by-hop fields dropped both ways, a POST with a body (handed over to
// net/http) and GETs after it, a HEAD and a large answer.
func TestFastPathConnection(t *testing.T) {
	rc := dialRaw(t, rawALB(t))
	get := "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nProxy-Authorization: secret\r\nX-Keep: k\r\n\r\n"
	rc.send(get + get) // pipelined
	for i := range 2 {
		resp, body := rc.read("GET")
		if resp.StatusCode != 200 || body != "GET drop= auth= keep=k body=" {
			t.Fatalf("pipelined GET %d: %d %q", i, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Hop") != "" || resp.Header.Get("Connection") != "" || resp.Close {
			t.Fatalf("answer's hop-by-hop fields reached the client: %v", resp.Header)
		}
	}
	rc.send("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("HEAD"); resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
	rc.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || len(body) != 100_000 || resp.ContentLength != 100_000 {
		t.Fatalf("GET /big: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	rc.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != strings.Repeat("y", 100_000) || resp.ContentLength != -1 {
		t.Fatalf("GET /chunked: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	rc.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get)
	if resp, body := rc.read("POST"); resp.StatusCode != 200 || body != "POST drop= auth= keep= body=hello" {
		t.Fatalf("POST: %d %q", resp.StatusCode, body)
	}
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != "GET drop= auth= keep=k body=" {
		t.Fatalf("GET after the POST: %d %q", resp.StatusCode, body)
	}
	// Connection: close is honoured and said.
	rc.send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("Connection: close: %d close=%v", resp.StatusCode, resp.Close)
	}
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("after Connection: close the connection is still open (%v)", err)
	}
}

// TestFastPathCloseOnFast: Connection: close on a request the fast path
// serves closes the connection after the answer.
func TestFastPathCloseOnFast(t *testing.T) {
	rc := dialRaw(t, rawALB(t))
	rc.send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || !resp.Close || body != "GET drop= auth= keep= body=" {
		t.Fatalf("Connection: close: %d close=%v %q", resp.StatusCode, resp.Close, body)
	}
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("after Connection: close the connection is still open (%v)", err)
	}
}

// TestFastPathHandOvers: requests the fast path leaves to net/http are
// answered as net/http answers them: a header larger than the fast
// path's buffer, HTTP/1.0, a malformed request (400).
func TestFastPathHandOvers(t *testing.T) {
	addr := rawALB(t)
	rc := dialRaw(t, addr)
	rc.send("GET /a HTTP/1.1\r\nHost: x\r\nCookie: " + strings.Repeat("c", 3*fastBufSize) + "\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != "GET drop= auth= keep= body=" {
		t.Fatalf("large header: %d %q", resp.StatusCode, body)
	}
	rc = dialRaw(t, addr)
	rc.send("GET /a HTTP/1.0\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != "GET drop= auth= keep= body=" || !resp.Close {
		t.Fatalf("HTTP/1.0: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	rc = dialRaw(t, addr)
	rc.send("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 400 {
		t.Fatalf("two Host fields: %d, want 400", resp.StatusCode)
	}
	rc = dialRaw(t, addr)
	rc.send("GET /a HTTP/1.1\r\nBad Field: x\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 400 {
		t.Fatalf("malformed field: %d, want 400", resp.StatusCode)
	}
}

// TestFastPathIdleConnection: a connection idle past quickIdle gives its
// buffers back to the idle poller and serves its next request from
// there, and one whose client closes it is let go.
func TestFastPathIdleConnection(t *testing.T) {
	addr, h := rawALBIdle(t, 0)
	rc := dialRaw(t, addr)
	for i := range 3 {
		rc.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != "GET drop= auth= keep= body=" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		// The event: the connection, idle, is parked in the poller.
		testwait.Until(t, 10*time.Second, func() (bool, string) {
			n := h.p.idle.held()
			return n == 1, fmt.Sprintf("after request %d the idle poller holds %d connections, want 1", i, n)
		})
	}
	// Idle past the load balancer's idle timeout: closed by the proxy.
	addr, _ = rawALBIdle(t, 300*time.Millisecond)
	rc = dialRaw(t, addr)
	rc.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	start := time.Now()
	if _, err := rc.br.ReadByte(); err != io.EOF {
		t.Fatalf("an idle connection past the idle timeout: %v, want EOF", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", took)
	}
}

// TestFastPathAnswers: answers from a hand-written target, relayed as
// they should be: informational answers skipped, a body delimited by the
// target's close re-chunked, chunked with trailers, a Connection-listed
// field dropped, a folded field (left to net/http's parser), and a body
// cut short (the client's connection closes).
func TestFastPathAnswers(t *testing.T) {
	answers := map[string]string{
		"/early":   "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"/eof":     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
		"/trailer": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n",
		"/listed":  "HTTP/1.1 200 OK\r\nConnection: x-secret\r\nX-Secret: s\r\nx-shown: y\r\nContent-Length: 1\r\n\r\n1",
		"/folded":  "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 1\r\n\r\nf",
		"/cut":     "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
	}
	// One answer per connection, then the target closes it.
	url := rawALBTarget(t, func(req *http.Request) string { return answers[req.URL.Path] })
	rc := dialRaw(t, strings.TrimPrefix(url, "http://"))
	ask := func(path string) (*http.Response, string) {
		t.Helper()
		rc.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		return rc.read("GET")
	}
	if resp, body := ask("/early"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("/early: %d %q", resp.StatusCode, body)
	}
	if resp, body := ask("/eof"); resp.StatusCode != 200 || body != "until the end" || resp.ContentLength != -1 {
		t.Fatalf("/eof: %d %q length %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, body := ask("/trailer"); resp.StatusCode != 200 || body != "abcde" || resp.Trailer.Get("X-Sum") != "5" {
		t.Fatalf("/trailer: %d %q trailer %v", resp.StatusCode, body, resp.Trailer)
	}
	if resp, body := ask("/listed"); body != "1" || resp.Header.Get("X-Secret") != "" || resp.Header.Get("X-Shown") != "y" {
		t.Fatalf("/listed: %q %v", body, resp.Header)
	}
	if resp, body := ask("/folded"); resp.StatusCode != 200 || body != "f" || resp.Header.Get("X-Folded") != "a b" {
		t.Fatalf("/folded: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	rc.send("GET /cut HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("/cut: the short body %q ended without an error", body)
	}
}

// TestFastPathNoTarget: a forward to a group without targets answers 503
// on the fast path, request after request on one connection.
func TestFastPathNoTarget(t *testing.T) {
	h := newHarness(t)
	lb, url := alb(t, forwardTo("tg-empty"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{tg("tg-empty")}})
	rc := dialRaw(t, strings.TrimPrefix(url, "http://"))
	get, head := "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
	rc.send(get + head + get)
	for i, method := range []string{"GET", "HEAD", "GET"} {
		resp, body := rc.read(method)
		if resp.StatusCode != 503 || resp.Header.Get("Server") != "awselb/2.0" ||
			(method == "GET") != strings.Contains(body, "503 Service Temporarily Unavailable") {
			t.Fatalf("request %d (%s): %d %q", i, method, resp.StatusCode, body)
		}
	}
}
