package elbproxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// pemPair is a self-signed certificate for name, as PEM.
func pemPair(t *testing.T, name string) TLSCertificate {
	t.Helper()
	c := selfSignedFor(t, name)
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return TLSCertificate{ARN: "cert-" + name, CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))}
}

// TestSNIFront: two ALBs with HTTPS listeners on one port are reached on
// the shared front by the server name the client asks for (each with its
// own certificate); a name neither has is refused; an NLB TLS listener
// alone on a port is reached there too.
func TestSNIFront(t *testing.T) {
	front := testAddr(t)
	h := newHarnessConfig(t, Config{FrontAddr: front})
	one, two := newBackend(t, "one"), newBackend(t, "two")
	port := freePort(t, front)
	mk := func(name, tgARN string) LoadBalancer {
		dns := name + "-1.us-east-1.elb.localhost"
		return LoadBalancer{ARN: name, Name: name, Type: Application, DNSName: dns, Address: testAddr(t),
			Listeners: []Listener{{ARN: "l-" + name, Protocol: ProtoHTTPS, Port: port, DefaultActions: forwardTo(tgARN),
				TLS: &TLSSettings{Certificates: []TLSCertificate{pemPair(t, dns)}}}}}
	}
	lb1, lb2 := mk("one", "tg1"), mk("two", "tg2")
	st := h.apply(Spec{LoadBalancers: []LoadBalancer{lb1, lb2}, TargetGroups: []TargetGroup{tg("tg1", one), tg("tg2", two)}})
	addr := netip.AddrPortFrom(front, uint16(port)).String()
	for _, s := range st {
		if s.Front != addr || s.FrontErr != nil {
			t.Fatalf("status %+v, want front %s", s, addr)
		}
	}
	h.waitState("tg1", one.key(), StateHealthy)
	h.waitState("tg2", two.key(), StateHealthy)

	get := func(name string) (string, string, error) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err != nil {
			return "", "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+name+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "", "", err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return c.ConnectionState().PeerCertificates[0].DNSNames[0], string(b), nil
	}
	for _, tc := range []struct{ name, want string }{{"one-1.us-east-1.elb.localhost", "one"}, {"TWO-1.us-east-1.elb.localhost", "two"}} {
		cert, body, err := get(tc.name)
		if err != nil || body != tc.want || cert != strings.ToLower(tc.name) {
			t.Fatalf("SNI %s: certificate %q, body %q, %v", tc.name, cert, body, err)
		}
	}
	if _, _, err := get("nobody.elb.localhost"); err == nil {
		t.Fatal("a server name no load balancer has was served")
	}

	// One NLB TLS listener alone on another port: the front forwards to it.
	nport := freePort(t, front)
	echo := tcpTarget(t, "echo")
	nlb := LoadBalancer{ARN: "nlb", Type: Network, DNSName: "nlb-1.elb.localhost", Address: testAddr(t),
		Listeners: []Listener{{ARN: "l-nlb", Protocol: ProtoTLS, Port: nport, DefaultActions: forwardTo("tg-echo"),
			TLS: &TLSSettings{Certificates: []TLSCertificate{pemPair(t, "nlb-1.elb.localhost")}}}}}
	g := TargetGroup{ARN: "tg-echo", Protocol: ProtoTCP, Port: 1, Targets: []Target{echo},
		HealthCheck: HealthCheck{Enabled: true, Protocol: ProtoTCP, Interval: 50 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb1, lb2, nlb}, TargetGroups: []TargetGroup{tg("tg1", one), tg("tg2", two), g}})
	h.waitState("tg-echo", TargetKey{echo.ID, echo.Port}, StateHealthy)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", netip.AddrPortFrom(front, uint16(nport)).String(),
		&tls.Config{ServerName: "nlb-1.elb.localhost", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "ping")
	c.CloseWrite()
	if got, err := io.ReadAll(c); string(got) != "echo:ping" {
		t.Fatalf("through the TLS front to the NLB: %q %v", got, err)
	}
}
