package elbproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testwait"
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
	// The event: the proxy has counted every flow's bytes and its end
	// (after the connections closed, on the proxy's goroutines).
	testwait.Until(t, 5*time.Second, func() (bool, string) {
		m := h.p.Metrics()
		if len(m.NetworkLoadBalancers) != 1 || len(m.NetworkTargetGroups) != 1 {
			t.Fatalf("metrics %+v", m)
		}
		fc := m.NetworkLoadBalancers[0].FlowCounters
		return fc.NewFlows == flows && fc.ProcessedBytes == sent+received && fc.ActiveFlows == 0,
			fmt.Sprintf("flow counters %+v, want %d new flows, %d bytes, none active", fc, flows, sent+received)
	})
	if tg := h.p.Metrics().NetworkTargetGroups[0]; tg.Healthy != 1 || tg.LoadBalancerARNs[0] != "nlb" {
		t.Fatalf("target group %+v", tg)
	}
}
