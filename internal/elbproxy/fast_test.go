package elbproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawALB is an ALB forwarding to one echoing target (it answers the
// method, the request's X-Drop, Proxy-Authorization and X-Keep fields
// and its body), reached over raw TCP.
func rawALB(t *testing.T) string {
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
	g := tg("tg", b)
	g.HealthCheck.Enabled = false
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", b.key(), StateUnavailable)
	return strings.TrimPrefix(url, "http://")
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

// TestFastPathIdleConnection: a connection idle past quickIdle (its
// buffers given back, a fresh goroutine waiting) serves its next
// request, and one whose client closes it is let go.
func TestFastPathIdleConnection(t *testing.T) {
	rc := dialRaw(t, rawALB(t))
	for i := range 3 {
		rc.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := rc.read("GET"); resp.StatusCode != 200 || body != "GET drop= auth= keep= body=" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		// The state under test is "idle for longer than quickIdle": a
		// duration, so this waits one.
		time.Sleep(3 * quickIdle)
	}
}
