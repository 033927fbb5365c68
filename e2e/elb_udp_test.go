package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestNLBCarriesUDP: an NLB UDP listener relays datagrams to a UDP echo
// target and its answers back; a TCP_UDP listener on one port carries
// both a TCP stream and datagrams to a TCP_UDP target group.
func TestNLBCarriesUDP(t *testing.T) {
	e := newELBEnv(t)
	const ip = "127.0.0.73"
	udp, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tport := udp.LocalAddr().(*net.UDPAddr).Port
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = udp.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	// The same port in TCP, for the TCP_UDP group (and its health check).
	tcp, err := net.Listen("tcp", net.JoinHostPort(ip, fmt.Sprint(tport)))
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	go func() {
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()

	nlb := e.run("create-load-balancer", "--name", "udp-nlb", "--type", "network", "--subnets", "subnet-a")
	lb := field(t, nlb, "LoadBalancers", "LoadBalancerArn")
	addr := nlb["LoadBalancers"].([]any)[0].(map[string]any)["AvailabilityZones"].([]any)[0].(map[string]any)["LoadBalancerAddresses"].([]any)[0].(map[string]any)["IpAddress"].(string)
	utg := field(t, e.run("create-target-group", "--name", "udp-tg", "--protocol", "UDP", "--port", fmt.Sprint(tport),
		"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", utg, "--targets", "Id="+ip)
	uport := freeListenerPort(t)
	e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "UDP", "--port", fmt.Sprint(uport), "--default-actions", "Type=forward,TargetGroupArn="+utg)

	exchange := func(port int, msgs int) {
		t.Helper()
		c, err := net.Dial("udp", net.JoinHostPort(addr, fmt.Sprint(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 2048)
		// The listener may not be bound yet: send until the first echo.
		eventually(t, 15*time.Second, func() (bool, string) {
			_, _ = c.Write([]byte("hello"))
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := c.Read(buf)
			return err == nil && string(buf[:n]) == "echo hello", fmt.Sprintf("no echo through %s:%d: %v", addr, port, err)
		})
		for i := range msgs {
			msg := fmt.Sprintf("datagram %d %s", i, strings.Repeat("u", i*7))
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != "echo "+msg {
				t.Fatalf("datagram %d: %q %v", i, buf[:n], err)
			}
		}
	}
	exchange(uport, 50)

	// TCP_UDP: both on one port.
	btg := field(t, e.run("create-target-group", "--name", "both-tg", "--protocol", "TCP_UDP", "--port", fmt.Sprint(tport),
		"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", btg, "--targets", "Id="+ip)
	bport := freeListenerPort(t)
	e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "TCP_UDP", "--port", fmt.Sprint(bport), "--default-actions", "Type=forward,TargetGroupArn="+btg)
	exchange(bport, 10)
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, fmt.Sprint(bport)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	for i := range 10 {
		line := fmt.Sprintf("tcp line %d\n", i)
		if _, err := io.WriteString(conn, line); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != line {
			t.Fatalf("tcp echo %d: %q %v", i, got, err)
		}
	}
	if _, err := e.p.aws(t, e.work, "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "UDP", "--port", fmt.Sprint(freeListenerPort(t)),
		"--default-actions", "Type=forward,TargetGroupArn="+field(t, e.run("create-target-group", "--name", "tcp-only", "--protocol", "TCP", "--port", "80",
			"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")); err == nil || !strings.Contains(err.Error(), "IncompatibleProtocols") {
		t.Fatalf("a UDP listener forwarding to a TCP group: %v", err)
	}
}
