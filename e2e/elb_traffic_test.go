package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The traffic tests drive load balancers through a berth server process
// with the aws CLI and send real requests through its data plane to
// HTTP and TCP servers this test runs on loopback addresses of its own.

// elbEnv is a berth server with helpers for aws elbv2 calls.
type elbEnv struct {
	t    *testing.T
	p    *proc
	work string
}

func newELBEnv(t *testing.T) *elbEnv {
	requireAWSCLI(t)
	return &elbEnv{t: t, p: startBerth(t, t.TempDir()), work: t.TempDir()}
}

func (e *elbEnv) run(args ...string) map[string]any {
	e.t.Helper()
	out, err := e.p.aws(e.t, e.work, append([]string{"elbv2"}, args...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	var v map[string]any
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			e.t.Fatalf("%v: %s", err, out)
		}
	}
	return v
}

func field(t *testing.T, v map[string]any, list, name string) string {
	t.Helper()
	items, _ := v[list].([]any)
	if len(items) == 0 {
		t.Fatalf("no %s in %v", list, v)
	}
	s, _ := items[0].(map[string]any)[name].(string)
	return s
}

// freeListenerPort returns a port free on 127.0.0.1 (the shared front)
// and 127.77.0.0/16 (the load balancers' own addresses) right now.
func freeListenerPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port < 20000 { // the data plane binds 127.77.x.y:port too; stay clear of the ephemeral range's low end
			continue
		}
		return port
	}
	t.Fatal("no free port")
	return 0
}

// backend is an HTTP target on its own loopback address.
type backend struct {
	name    string
	ip      string
	port    int
	srv     *http.Server
	healthy atomic.Bool
	hits    atomic.Int64
	slow    atomic.Int64  // /slow requests in flight
	slowIn  atomic.Int64  // /slow requests that arrived
	release chan struct{} // closed: /slow requests answer
}

func startBackend(t *testing.T, name, ip string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, ip: ip, port: ln.Addr().(*net.TCPAddr).Port, release: make(chan struct{})}
	b.healthy.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if !b.healthy.Load() {
			http.Error(w, "sick", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		b.slowIn.Add(1)
		b.slow.Add(1)
		defer b.slow.Add(-1)
		select {
		case <-b.release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "%s slow done", name)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		fmt.Fprintf(w, "%s %s xff=%s proto=%s", name, r.URL.Path, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"))
	})
	b.srv = &http.Server{Handler: mux}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() { _ = b.srv.Close() })
	return b
}

// albSetup creates an ALB with one HTTP listener on a free port and the
// given target groups (name → backends), forwarding by default to the
// first. It returns the DNS name, the port and the groups' ARNs.
func (e *elbEnv) albSetup(lbName string, groups [][]*backend, extra ...string) (dns string, port int, lb string, tgs []string) {
	t := e.t
	lbv := e.run("create-load-balancer", "--name", lbName, "--type", "application", "--subnets", "subnet-a", "subnet-b")
	lb, dns = field(t, lbv, "LoadBalancers", "LoadBalancerArn"), field(t, lbv, "LoadBalancers", "DNSName")
	for i, bs := range groups {
		tg := field(t, e.run("create-target-group", "--name", fmt.Sprintf("%s-tg%d", lbName, i), "--protocol", "HTTP",
			"--port", fmt.Sprint(bs[0].port), "--target-type", "ip", "--vpc-id", "vpc-1", "--health-check-path", "/health",
			"--health-check-interval-seconds", "5", "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2"),
			"TargetGroups", "TargetGroupArn")
		e.run("modify-target-group-attributes", "--target-group-arn", tg, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=6")
		var ids []string
		for _, b := range bs {
			ids = append(ids, fmt.Sprintf("Id=%s,Port=%d", b.ip, b.port))
		}
		e.run(append([]string{"register-targets", "--target-group-arn", tg, "--targets"}, ids...)...)
		tgs = append(tgs, tg)
	}
	port = freeListenerPort(t)
	action := "Type=forward,TargetGroupArn=" + tgs[0]
	if len(extra) > 0 {
		action = extra[0]
	}
	e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", fmt.Sprint(port), "--default-actions", action)
	return dns, port, lb, tgs
}

// client sends requests to an ALB through the shared front with the
// load balancer's DNS name as Host, as curl does for *.localhost.
func albGet(t *testing.T, c *http.Client, dns string, port int, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	req.Host = fmt.Sprintf("%s:%d", dns, port)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitServed(t *testing.T, c *http.Client, dns string, port int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := albGet(t, c, dns, port, "/ping")
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("load balancer %s:%d not serving (last status %d)", dns, port, code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *elbEnv) waitHealth(tg, id, state string, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		th := e.run("describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"].([]any)
		for _, x := range th {
			m := x.(map[string]any)
			if m["Target"].(map[string]any)["Id"] == id && m["TargetHealth"].(map[string]any)["State"] == state {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("target %s never %s: %v", id, state, th)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestALBCurlHealthAndWeights: curl by DNS name and a Go client through
// the front; both targets turn healthy; a weighted 80/20 forward over
// 1,000 requests; a target whose health check starts failing is taken
// out with no failed request.
func TestALBCurlHealthAndWeights(t *testing.T) {
	e := newELBEnv(t)
	a, b := startBackend(t, "A", "127.0.0.61"), startBackend(t, "B", "127.0.0.62")
	cb := startBackend(t, "C", "127.0.0.66")
	dns, port, lb, tgs := e.albSetup("traffic", [][]*backend{{a, b}, {cb}})
	c := &http.Client{Timeout: 10 * time.Second}
	waitServed(t, c, dns, port)

	out, err := exec.Command("curl", "-sS", "--max-time", "5", fmt.Sprintf("http://%s:%d/hello", dns, port)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), " /hello xff=127.0.0.1 proto=http") {
		t.Fatalf("curl by DNS name: %v %s", err, out)
	}
	if v := e.run("describe-load-balancers", "--load-balancer-arns", lb); field(t, map[string]any{"x": []any{v["LoadBalancers"].([]any)[0].(map[string]any)["State"]}}, "x", "Code") != "active" {
		t.Fatalf("not active: %v", v)
	}
	e.waitHealth(tgs[0], a.ip, "healthy", 40*time.Second)
	e.waitHealth(tgs[0], b.ip, "healthy", 40*time.Second)

	// Health turns bad on A: it is taken out, and no request fails meanwhile.
	a.healthy.Store(false)
	var failed, sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			code, body := albGet(t, c, dns, port, "/work")
			sent.Add(1)
			if code != http.StatusOK {
				failed.Add(1)
				t.Logf("failed request: %d %s", code, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	e.waitHealth(tgs[0], a.ip, "unhealthy", 40*time.Second)
	// The data plane decided the health it reports; a hundred requests of
	// load after the report must fail nothing either.
	after := sent.Load() + 100
	eventually(t, 30*time.Second, func() (bool, string) {
		n := sent.Load()
		return n >= after, fmt.Sprintf("%d of %d requests sent", n, after)
	})
	close(stop)
	wg.Wait()
	before := a.hits.Load()
	for range 50 {
		if code, body := albGet(t, c, dns, port, "/after"); code != 200 || !strings.HasPrefix(body, "B ") {
			t.Fatalf("after A turned unhealthy: %d %s", code, body)
		}
	}
	if a.hits.Load() != before || failed.Load() != 0 {
		t.Fatalf("unhealthy target still got traffic (%d) or requests failed (%d of %d)", a.hits.Load()-before, failed.Load(), sent.Load())
	}
	t.Logf("health shift: %d requests while A went unhealthy, %d failed", sent.Load(), failed.Load())
	a.healthy.Store(true)

	// Weighted forward 80/20 between group 1 (A, B) and group 2 (C).
	ln := field(t, e.run("describe-listeners", "--load-balancer-arn", lb), "Listeners", "ListenerArn")
	e.run("modify-listener", "--listener-arn", ln, "--default-actions",
		fmt.Sprintf(`Type=forward,ForwardConfig={TargetGroups=[{TargetGroupArn=%s,Weight=80},{TargetGroupArn=%s,Weight=20}]}`, tgs[0], tgs[1]))
	e.waitHealth(tgs[0], a.ip, "healthy", 40*time.Second)
	e.waitHealth(tgs[1], cb.ip, "healthy", 40*time.Second)
	// The data plane serves the weighted forward once group 2 answers.
	eventually(t, 10*time.Second, func() (bool, string) {
		code, body := albGet(t, c, dns, port, "/probe")
		return code == 200 && strings.HasPrefix(body, "C "), fmt.Sprintf("group 2 not answering: %d %s", code, body)
	})
	counts := map[string]int{}
	for range 1000 {
		code, body := albGet(t, c, dns, port, "/w")
		if code != 200 {
			t.Fatalf("weighted: %d %s", code, body)
		}
		if strings.HasPrefix(body, "C ") {
			counts["group 2"]++
		} else {
			counts["group 1"]++
		}
	}
	share := float64(counts["group 1"]) / 1000
	t.Logf("weighted 80/20 over 1000 requests: %v", counts)
	if share < 0.75 || share > 0.85 {
		t.Fatalf("group 1 got %.1f%%, want 80%% ± 5", share*100)
	}
}
func waitGone(t *testing.T, e *elbEnv, tg, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		th := e.run("describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"].([]any)
		gone := true
		for _, x := range th {
			gone = gone && x.(map[string]any)["Target"].(map[string]any)["Id"] != id
		}
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %s never left: %v", id, th)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestALBDrainingAndRestart: a slow request in flight on a deregistered
// target finishes; new requests go to the other target; the target leaves
// after the deregistration delay; after a restart the listener serves
// again quickly (the time is measured and logged).
func TestALBDrainingAndRestart(t *testing.T) {
	e := newELBEnv(t)
	a, b := startBackend(t, "A", "127.0.0.63"), startBackend(t, "B", "127.0.0.64")
	dns, port, _, tgs := e.albSetup("drain", [][]*backend{{a, b}})
	c := &http.Client{Timeout: 20 * time.Second}
	waitServed(t, c, dns, port)
	e.waitHealth(tgs[0], a.ip, "healthy", 40*time.Second)
	e.waitHealth(tgs[0], b.ip, "healthy", 40*time.Second)

	// Start slow requests until one is in flight on A (which holds them
	// until released; B answers them at once).
	close(b.release)
	type result struct {
		code int
		body string
	}
	var slow chan result
	for i := 0; slow == nil; i++ {
		if i == 10 {
			t.Fatal("no slow request landed on A")
		}
		ch := make(chan result, 1)
		onA, onB := a.slowIn.Load(), b.slowIn.Load()
		go func() { code, body := albGet(t, c, dns, port, "/slow"); ch <- result{code, body} }()
		eventually(t, 10*time.Second, func() (bool, string) {
			return a.slowIn.Load() > onA || b.slowIn.Load() > onB, "the slow request reached neither A nor B"
		})
		if a.slowIn.Load() > onA {
			slow = ch
		} else {
			<-ch
		}
	}
	e.run("deregister-targets", "--target-group-arn", tgs[0], "--targets", fmt.Sprintf("Id=%s,Port=%d", a.ip, a.port))
	e.waitHealth(tgs[0], a.ip, "draining", 5*time.Second)
	before := a.hits.Load()
	for range 20 {
		if code, body := albGet(t, c, dns, port, "/new"); code != 200 || !strings.HasPrefix(body, "B ") {
			t.Fatalf("new request during draining: %d %s", code, body)
		}
	}
	if a.hits.Load() != before {
		t.Fatal("a draining target got new requests")
	}
	close(a.release)
	r := <-slow
	if r.code != 200 || !strings.Contains(r.body, "slow done") {
		t.Fatalf("in-flight request during draining: %d %s", r.code, r.body)
	}
	waitGone(t, e, tgs[0], a.ip)

	// Restart: the listener serves again soon after the process starts.
	e.p.stop()
	start := time.Now()
	e.p = startBerthAt(t, e.p.Addr, e.p.DataDir)
	waitServed(t, c, dns, port)
	t.Logf("listener serving %v after the server process started", time.Since(start).Round(time.Millisecond))
	// The target's health survived the restart: healthy at once, not initial.
	th := e.run("describe-target-health", "--target-group-arn", tgs[0])["TargetHealthDescriptions"].([]any)
	if len(th) != 1 || th[0].(map[string]any)["TargetHealth"].(map[string]any)["State"] != "healthy" {
		t.Fatalf("health after restart: %v", th)
	}
	if code, body := albGet(t, c, dns, port, "/again"); code != 200 || !strings.HasPrefix(body, "B ") {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

// TestNLBPassesTCP: a network load balancer's TCP listener carries bytes
// both ways between a client and an echo target.
func TestNLBPassesTCP(t *testing.T) {
	e := newELBEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.65:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); _, _ = io.Copy(conn, conn) }()
		}
	}()
	tport := ln.Addr().(*net.TCPAddr).Port
	nlb := e.run("create-load-balancer", "--name", "echo", "--type", "network", "--subnets", "subnet-a")
	lb := field(t, nlb, "LoadBalancers", "LoadBalancerArn")
	addr := nlb["LoadBalancers"].([]any)[0].(map[string]any)["AvailabilityZones"].([]any)[0].(map[string]any)["LoadBalancerAddresses"].([]any)[0].(map[string]any)["IpAddress"].(string)
	tg := field(t, e.run("create-target-group", "--name", "echo-tg", "--protocol", "TCP", "--port", fmt.Sprint(tport),
		"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", tg, "--targets", "Id=127.0.0.65")
	port := freeListenerPort(t)
	e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "TCP", "--port", fmt.Sprint(port), "--default-actions", "Type=forward,TargetGroupArn="+tg)

	deadline := time.Now().Add(15 * time.Second)
	var conn net.Conn
	for {
		conn, err = net.DialTimeout("tcp", fmt.Sprintf("%s:%d", addr, port), time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NLB %s:%d never accepted: %v", addr, port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	for i := range 100 {
		line := fmt.Sprintf("line %d %s\n", i, strings.Repeat("x", i*10))
		if _, err := io.WriteString(conn, line); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
	}
	// Half-close: the target sees EOF, answers, and closes.
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
			t.Fatalf("after half-close: %q %v", rest, err)
		}
	}
}

// TestTwoALBsOnePortAndATakenPort: two load balancers each have a
// listener on the same port (each on its own address; the shared front
// routes by Host), and a port another process holds is refused by
// CreateListener with why and what to do.
func TestTwoALBsOnePortAndATakenPort(t *testing.T) {
	e := newELBEnv(t)
	a, b := startBackend(t, "A", "127.0.0.67"), startBackend(t, "B", "127.0.0.68")
	dnsA, port, lbA, _ := e.albSetup("one", [][]*backend{{a}})
	lbv := e.run("create-load-balancer", "--name", "two", "--type", "application", "--subnets", "subnet-a", "subnet-b")
	lbB, dnsB := field(t, lbv, "LoadBalancers", "LoadBalancerArn"), field(t, lbv, "LoadBalancers", "DNSName")
	tgB := field(t, e.run("create-target-group", "--name", "two-tg", "--protocol", "HTTP", "--port", fmt.Sprint(b.port),
		"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", tgB, "--targets", "Id="+b.ip)
	e.run("create-listener", "--load-balancer-arn", lbB, "--protocol", "HTTP", "--port", fmt.Sprint(port),
		"--default-actions", "Type=forward,TargetGroupArn="+tgB)
	c := &http.Client{Timeout: 10 * time.Second}
	waitServed(t, c, dnsA, port)
	waitServed(t, c, dnsB, port)
	for range 10 {
		if code, body := albGet(t, c, dnsA, port, "/"); code != 200 || !strings.HasPrefix(body, "A ") {
			t.Fatalf("%s: %d %s", dnsA, code, body)
		}
		if code, body := albGet(t, c, dnsB, port, "/"); code != 200 || !strings.HasPrefix(body, "B ") {
			t.Fatalf("%s: %d %s", dnsB, code, body)
		}
	}

	// A port some other process holds on the load balancer's address
	// (reserved host-wide for this server: not necessarily 127.77.0.1).
	taken, err := net.Listen("tcp", net.JoinHostPort(addrOf(t, e, lbA), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tport := taken.Addr().(*net.TCPAddr).Port
	_, err = e.p.aws(t, e.work, "elbv2", "create-listener", "--load-balancer-arn", lbA, "--protocol", "HTTP", "--port", fmt.Sprint(tport),
		"--default-actions", "Type=fixed-response,FixedResponseConfig={StatusCode=200}")
	if err == nil || !strings.Contains(err.Error(), "(InvalidConfigurationRequest)") || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("listener on a taken port: %v", err)
	}
	if ls := e.run("describe-listeners", "--load-balancer-arn", lbA)["Listeners"].([]any); len(ls) != 1 {
		t.Fatalf("a refused listener was stored: %v", ls)
	}
}

// addrOf returns a load balancer's loopback address as berth logs it.
func addrOf(t *testing.T, e *elbEnv, lbARN string) string {
	t.Helper()
	name := lbARN[strings.Index(lbARN, "/app/")+5:]
	name = name[:strings.Index(name, "/")]
	line := waitLogLine(t, e.p.log.String, 10*time.Second, "elb load balancer active", "name="+name)
	_, addr, _ := strings.Cut(line, "address=")
	addr, _, _ = strings.Cut(addr, " ")
	return strings.TrimSpace(addr)
}
