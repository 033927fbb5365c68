package elbproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned is a self-signed certificate for a target: the load balancer
// must not verify it.
func selfSigned(t testing.TB) tls.Certificate { return selfSignedFor(t, "target.internal") }

// selfSignedFor is a self-signed certificate for name.
func selfSignedFor(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// newTLSBackend is an HTTPS target with a self-signed certificate that
// answers "name tls=<bool> proto=<X-Forwarded-Proto> body=<body>" and
// records the client addresses of the requests other than /health.
func newTLSBackend(t testing.TB, name string) (*backend, *sync.Map) {
	t.Helper()
	var remotes sync.Map
	b := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		remotes.Store(r.RemoteAddr, true)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s tls=%v proto=%s body=%s", name, r.TLS != nil, r.Header.Get("X-Forwarded-Proto"), body)
	}, func(s *httptest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
		s.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.StartTLS()
	})
	return b, &remotes
}

// TestHTTPSTargetGroup: an ALB forwards to an HTTPS target group over TLS
// (the target's self-signed certificate not verified), on the fast path
// and on the net/http path (a request body), keeping the connections to
// the target alive; HTTPS health checks take a failing target out.
func TestHTTPSTargetGroup(t *testing.T) {
	h := newHarness(t)
	b, remotes := newTLSBackend(t, "secure")
	g := tg("tg", b)
	g.Protocol = ProtoHTTPS
	g.HealthCheck.Protocol = ProtoHTTPS
	plain := tg("tg-plain", b) // the same target in an HTTP group
	plain.HealthCheck.Enabled = false
	lb, url := alb(t, forwardTo("tg"), Rule{ARN: "r", Priority: 1,
		Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/plain"}}}, Actions: forwardTo("tg-plain")})
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g, plain}})
	h.waitState("tg", b.key(), StateHealthy)

	c := client()
	for range 20 {
		if code, body := get(t, c, url+"/x"); code != 200 || body != "secure tls=true proto=http body=" {
			t.Fatalf("GET through the ALB: %d %q", code, body)
		}
	}
	resp, err := c.Post(url+"/post", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "secure tls=true proto=http body=hello" {
		t.Fatalf("POST through the ALB: %d %q", resp.StatusCode, body)
	}
	n := 0
	remotes.Range(func(any, any) bool { n++; return true })
	if n > 2 { // the fast path's pooled connection and the body transport's
		t.Fatalf("21 requests came over %d target connections, want them kept alive", n)
	}
	// The HTTP group reaches the same target in plain HTTP, which the TLS
	// server refuses (Go's answers 400): the TLS above was real.
	if code, body := get(t, c, url+"/plain"); code != http.StatusBadRequest || !strings.Contains(body, "HTTPS server") {
		t.Fatalf("plain HTTP to a TLS target: %d %q, want Go's 400", code, body)
	}

	b.healthy.Store(false)
	if got := h.waitState("tg", b.key(), StateUnhealthy); got.Reason != ReasonResponseCodeMismatch {
		t.Fatalf("HTTPS health check of a failing target: %+v", got)
	}
}

// tlsTarget is a TLS echo server (self-signed certificate) that answers
// "<name>:" and everything it read once the client closes its side.
func tlsTarget(t *testing.T, name string) Target {
	t.Helper()
	ln, err := tls.Listen("tcp", netip.AddrPortFrom(testAddr(t), 0).String(),
		&tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				data, _ := io.ReadAll(c) // until the client's close_notify
				io.WriteString(c, name+":"+string(data))
			}()
		}
	}()
	ap := netip.MustParseAddrPort(ln.Addr().String())
	return Target{ID: ap.Addr().String(), Port: int(ap.Port())}
}

// TestNLBTLSTargetGroup: an NLB TCP listener forwards to a TLS target
// group over TLS, both ways.
func TestNLBTLSTargetGroup(t *testing.T) {
	h := newHarness(t)
	addr := testAddr(t)
	port := freePort(t, addr)
	a := tlsTarget(t, "a")
	g := TargetGroup{ARN: "tg", Protocol: ProtoTLS, Port: 1, Targets: []Target{a},
		HealthCheck: HealthCheck{Enabled: true, Protocol: ProtoTCP, Interval: 50 * time.Millisecond, Timeout: time.Second,
			HealthyThreshold: 2, UnhealthyThreshold: 2}}
	lb := LoadBalancer{ARN: "nlb", Type: Network, Address: addr, DNSName: "nlb.elb.localhost",
		Listeners: []Listener{{ARN: "l", Protocol: ProtoTCP, Port: port, DefaultActions: forwardTo("tg")}}}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", TargetKey{a.ID, a.Port}, StateHealthy)

	c, err := net.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "ping")
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "a:ping" {
		t.Fatalf("through the NLB to a TLS target: %q %v", got, err)
	}
}

// TestTargetAddressMoves: an instance target whose host address changes
// (it reconnected from elsewhere) gets its traffic at the new address on
// the next Apply, keeping its health.
func TestTargetAddressMoves(t *testing.T) {
	h := newHarness(t)
	old := newBackend(t, "old")
	g := TargetGroup{ARN: "tg", Protocol: ProtoHTTP, Port: 80, HealthCheck: fastCheck(), DeregistrationDelay: 5 * time.Second,
		Targets: []Target{{ID: "i-0123456789abcdef0", Address: old.ip, Port: old.port}}}
	lb, url := alb(t, forwardTo("tg"))
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	key := TargetKey{ID: "i-0123456789abcdef0", Port: old.port}
	h.waitState("tg", key, StateHealthy)
	c := client()
	if _, body := get(t, c, url+"/"); body != "old" {
		t.Fatalf("before the move: %q", body)
	}
	// The same instance and port, now at another address.
	ip := testAddr(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, uint16(old.port)).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "new") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	g.Targets[0].Address = ip.String()
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	if got := h.healthOf("tg", key); got.State != StateHealthy {
		t.Fatalf("health after the move: %+v", got)
	}
	if _, body := get(t, client(), url+"/"); body != "new" {
		t.Fatalf("after the move: %q", body)
	}
}
