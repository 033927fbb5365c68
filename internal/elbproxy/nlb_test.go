package elbproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// tcpTarget is a TCP server on its own loopback address that answers
// "<name>:" followed by everything it read, after the client half-closes.
func tcpTarget(t *testing.T, name string) Target {
	t.Helper()
	ap := rawTarget(t, func(c net.Conn) {
		data, _ := io.ReadAll(c) // until the client's half-close
		io.WriteString(c, name+":"+string(data))
	})
	return Target{ID: ap.Addr().String(), Port: int(ap.Port())}
}

func TestNLBRawTCP(t *testing.T) {
	h := newHarness(t)
	addr := testAddr(t)
	port := freePort(t, addr)
	a, b := tcpTarget(t, "a"), tcpTarget(t, "b")
	g := TargetGroup{ARN: "tg", Protocol: ProtoTCP, Port: 1, Targets: []Target{a, b},
		HealthCheck: HealthCheck{Enabled: true, Protocol: ProtoTCP, Interval: 50 * time.Millisecond, Timeout: time.Second,
			HealthyThreshold: 2, UnhealthyThreshold: 2}}
	lb := LoadBalancer{ARN: "nlb", Type: Network, Address: addr, DNSName: "nlb.elb.localhost",
		Listeners: []Listener{{ARN: "l", Protocol: ProtoTCP, Port: port, DefaultActions: forwardTo("tg")}}}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", TargetKey{a.ID, a.Port}, StateHealthy)
	h.waitState("tg", TargetKey{b.ID, b.Port}, StateHealthy)

	seen := map[string]bool{}
	for i := range 20 {
		c, err := net.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
		if err != nil {
			t.Fatal(err)
		}
		msg := strings.Repeat("x", 100000) + string(rune('0'+i%10))
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).CloseWrite() // half-close: the target answers after it
		reply, err := io.ReadAll(bufio.NewReader(c))
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		name, rest, _ := strings.Cut(string(reply), ":")
		if rest != msg {
			t.Fatalf("reply from %q: %d bytes, want the %d sent", name, len(rest), len(msg))
		}
		seen[name] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("flows went only to %v", seen)
	}

	// A listener with no registered targets resets the connection.
	g.Targets = nil
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	c, err := net.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("read from an NLB without targets: %d %v, want closed", n, err)
	}
}

// TestNLBFrontAndIdleTimeout: a port with one NLB listener has a TCP
// front; a connection idle for the idle timeout is closed; a draining
// target's connection is cut at its deadline.
func TestNLBFrontAndIdleTimeout(t *testing.T) {
	front := testAddr(t)
	h := newHarnessConfig(t, Config{FrontAddr: front})
	port := freePort(t, front)
	// An echo target: answers every read at once.
	ap := rawTarget(t, func(c net.Conn) { io.Copy(c, c) })
	tgt := Target{ID: ap.Addr().String(), Port: int(ap.Port())}
	g := TargetGroup{ARN: "tg", Protocol: ProtoTCP, Port: tgt.Port, Targets: []Target{tgt}}
	lb := LoadBalancer{ARN: "nlb", Type: Network, Address: testAddr(t), DNSName: "nlb.elb.localhost", IdleTimeout: time.Second,
		Listeners: []Listener{{ARN: "l", Protocol: ProtoTCP, Port: port, DefaultActions: forwardTo("tg")}}}
	st := h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	want := netip.AddrPortFrom(front, uint16(port)).String()
	if st[0].Front != want {
		t.Fatalf("status %+v, want a TCP front on %s", st[0], want)
	}
	c, err := net.Dial("tcp", want)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 5)
	// Activity keeps it open past the idle timeout: an echo, then a read
	// that must time out (not end: the front did not close it) before the
	// next, for twice the timeout.
	for opened := time.Now(); time.Since(opened) < 2*lb.IdleTimeout; {
		io.WriteString(c, "hello")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("echo through the front: %q %v", buf, err)
		}
		c.SetReadDeadline(time.Now().Add(lb.IdleTimeout / 3))
		if n, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("quiet connection within the idle timeout: read %d bytes, %v; want a read timeout", n, err)
		}
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Fatal("read on an idle connection returned data")
	} else if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("idle connection closed after %s, want about 1s (%v)", el, err)
	}

	// Draining: the connection lives until the deadline, then is cut.
	lb.IdleTimeout = time.Minute
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	c2, err := net.Dial("tcp", want)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "hello")
	if _, err := io.ReadFull(c2, buf); err != nil {
		t.Fatal(err)
	}
	g.Targets[0].Draining, g.Targets[0].DrainDeadline = true, time.Now().Add(200*time.Millisecond)
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	io.WriteString(c2, "again") // still carried while draining
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "again" {
		t.Fatalf("draining connection before its deadline: %q %v", buf, err)
	}
	if _, err := c2.Read(buf); err == nil {
		t.Fatal("draining connection not cut at its deadline")
	}
	// New connections find no target now and are closed at once.
	c3, err := net.Dial("tcp", want)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c3.Read(buf); err == nil {
		t.Fatal("a new connection reached a draining target")
	}
}
