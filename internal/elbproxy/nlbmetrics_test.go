package elbproxy

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestNLBFlowCounters: every TCP connection through an NLB is a new flow,
// the bytes both ways are counted, and no flow stays active once the
// connections close; the group's healthy hosts are counted for the NLB.
func TestNLBFlowCounters(t *testing.T) {
	h := newHarness(t)
	addr := testAddr(t)
	port := freePort(t, addr)
	a := tcpTarget(t, "a")
	g := TargetGroup{ARN: "tg", Protocol: ProtoTCP, Port: 1, Targets: []Target{a},
		HealthCheck: HealthCheck{Enabled: true, Protocol: ProtoTCP, Interval: 50 * time.Millisecond, Timeout: time.Second,
			HealthyThreshold: 2, UnhealthyThreshold: 2}}
	lb := LoadBalancer{ARN: "nlb", Type: Network, Address: addr, DNSName: "nlb.elb.localhost",
		Listeners: []Listener{{ARN: "l", Protocol: ProtoTCP, Port: port, DefaultActions: forwardTo("tg")}}}
	h.apply(Spec{LoadBalancers: []LoadBalancer{lb}, TargetGroups: []TargetGroup{g}})
	h.waitState("tg", TargetKey{a.ID, a.Port}, StateHealthy)

	const flows, size = 5, 1000
	var sent, received int64
	for range flows {
		c, err := net.Dial("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
		if err != nil {
			t.Fatal(err)
		}
		msg := strings.Repeat("y", size)
		io.WriteString(c, msg)
		c.(*net.TCPConn).CloseWrite()
		reply, err := io.ReadAll(bufio.NewReader(c))
		c.Close()
		if err != nil || len(reply) != size+2 { // "a:" + msg
			t.Fatalf("reply %d bytes, %v", len(reply), err)
		}
		sent, received = sent+size, received+int64(len(reply))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := h.p.Metrics()
		if len(m.NetworkLoadBalancers) != 1 || len(m.NetworkTargetGroups) != 1 {
			t.Fatalf("metrics %+v", m)
		}
		fc := m.NetworkLoadBalancers[0].FlowCounters
		if fc.NewFlows == flows && fc.ProcessedBytes == sent+received && fc.ActiveFlows == 0 {
			if tg := m.NetworkTargetGroups[0]; tg.Healthy != 1 || tg.LoadBalancerARNs[0] != "nlb" {
				t.Fatalf("target group %+v", tg)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow counters %+v, want %d new flows, %d bytes, none active", fc, flows, sent+received)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
