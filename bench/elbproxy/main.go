// Command elbproxy measures berth's ALB data plane (internal/elbproxy)
// against the same requests sent straight to the target, and against nginx
// and haproxy from Debian doing the same forward, in one run.
//
//	go run ./bench/elbproxy [-duration 5s] [-conc 32] [-rounds 3] [-idle 2000]
//
// Every process is its own: the target (a Go net/http server answering a
// 128-byte body), the ALB (this program re-executed, serving one HTTP
// listener forwarding to one target group with that target, health
// checked; "berth front" is the same listener reached through the shared
// front, which routes by Host, on another address; "berth HTTPS" an HTTPS
// listener of the same load balancer with a self-signed certificate,
// forwarding in plain HTTP; "nginx HTTPS" nginx terminating the same
// certificate; the load generator speaks TLS 1.3 to both, keep-alive), nginx and haproxy (each run as a child of this program with a
// config in a temporary directory, upstream keep-alive on, X-Forwarded-For
// added, no access log); both peers are skipped with a note when not
// installed. The load generator is this process: -conc keep-alive
// connections, each sending GET / back to back for -duration or
// -max-requests, whichever ends first. Cases run interleaved, -rounds
// times; the round with the median rps is printed.
//
// It then opens -idle keep-alive connections to each proxy, each having
// sent one request, and prints the proxy's resident memory growth per idle
// connection (VmRSS from /proc, all its processes).
//
// Traffic goes to loopback only; every loop is bounded in count and time.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/elbproxy"
)

func main() {
	role := flag.String("role", "", "internal: target or alb (a child process)")
	addr := flag.String("addr", "", "internal: address to serve")
	target := flag.String("target", "", "internal: the ALB's target")
	frontIP := flag.String("front", "", "internal: the ALB's shared front address")
	httpsPort := flag.Int("https-port", 0, "internal: the ALB's HTTPS listener port")
	certDir := flag.String("cert-dir", "", "internal: where cert.pem and key.pem are")
	duration := flag.Duration("duration", 5*time.Second, "load per case per round")
	maxReq := flag.Int("max-requests", 2_000_000, "request cap per case per round")
	conc := flag.Int("conc", 32, "keep-alive connections of the load generator")
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	idle := flag.Int("idle", 2000, "idle connections for the memory measure (0: skip)")
	profile := flag.String("alb-profile", "", "write the ALB process's CPU and allocation profiles to this path prefix (.cpu, .allocs)")
	flag.Parse()
	var err error
	switch *role {
	case "target":
		err = serveTarget(*addr)
	case "alb":
		err = serveALB(*addr, *target, *frontIP, *httpsPort, *certDir, *profile)
	case "":
		err = run(config{duration: *duration, maxReq: *maxReq, conc: *conc, rounds: *rounds, idle: *idle, profile: *profile})
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "elbproxy bench:", err)
		os.Exit(1)
	}
}

type config struct {
	duration     time.Duration
	maxReq, conc int
	rounds, idle int
	profile      string // the ALB's profiles' path prefix, or ""
}

// body is the target's answer: 128 bytes.
var body = []byte(strings.Repeat("berth-elb-bench.", 8))

func serveTarget(addr string) error {
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	go func() { waitSignal(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveALB runs the data plane with one ALB listener on addr forwarding to
// target, its shared front on frontIP and the same port, an HTTPS listener
// on httpsPort (certDir's cert.pem and key.pem) forwarding there too, and prints
// "ready" once the target is healthy.
func serveALB(addr, target, frontIP string, httpsPort int, certDir, profile string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	tp, err := netip.ParseAddrPort(target)
	if err != nil {
		return err
	}
	healthy := make(chan struct{})
	var once sync.Once
	fa, err := netip.ParseAddr(frontIP)
	if err != nil {
		return err
	}
	p := elbproxy.New(elbproxy.Config{FrontAddr: fa, OnHealth: func(r elbproxy.HealthReport) {
		if r.Health.State == elbproxy.StateHealthy {
			once.Do(func() { close(healthy) })
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	spec := elbproxy.Spec{
		LoadBalancers: []elbproxy.LoadBalancer{{ARN: "lb", Name: "bench", Type: elbproxy.Application, DNSName: "bench.elb.localhost",
			Address: ap.Addr(), Listeners: []elbproxy.Listener{{ARN: "l", Protocol: elbproxy.ProtoHTTP, Port: int(ap.Port()),
				DefaultActions: []elbproxy.Action{{Type: elbproxy.ActionForward, Forward: &elbproxy.Forward{
					TargetGroups: []elbproxy.WeightedTargetGroup{{ARN: "tg"}}}}}}}}},
		TargetGroups: []elbproxy.TargetGroup{{ARN: "tg", Name: "tg", Protocol: elbproxy.ProtoHTTP, Port: int(tp.Port()),
			HealthCheck: elbproxy.HealthCheck{Enabled: true, Protocol: elbproxy.ProtoHTTP, Path: "/", Interval: 5 * time.Second,
				Timeout: 2 * time.Second, HealthyThreshold: 1, UnhealthyThreshold: 2, Matcher: "200"},
			Targets: []elbproxy.Target{{ID: tp.Addr().String(), Port: int(tp.Port())}}}},
	}
	certPEM, err := os.ReadFile(filepath.Join(certDir, "cert.pem"))
	if err != nil {
		cancel()
		return err
	}
	keyPEM, err := os.ReadFile(filepath.Join(certDir, "key.pem"))
	if err != nil {
		cancel()
		return err
	}
	https := spec.LoadBalancers[0].Listeners[0]
	https.ARN, https.Protocol, https.Port = "l-https", elbproxy.ProtoHTTPS, httpsPort
	https.TLS = &elbproxy.TLSSettings{Certificates: []elbproxy.TLSCertificate{{ARN: "cert", CertPEM: string(certPEM), KeyPEM: string(keyPEM)}},
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}
	spec.LoadBalancers[0].Listeners = append(spec.LoadBalancers[0].Listeners, https)
	for _, st := range p.Apply(spec) {
		if st.Err != nil {
			cancel()
			return st.Err
		}
	}
	select {
	case <-healthy:
	case <-time.After(10 * time.Second):
		cancel()
		return errors.New("the target did not turn healthy in 10s")
	}
	if profile != "" {
		f, err := os.Create(profile + ".cpu")
		if err != nil {
			cancel()
			return err
		}
		defer f.Close()
		runtime.MemProfileRate = 64 << 10
		pprof.StartCPUProfile(f)
	}
	fmt.Println("ready")
	waitSignal()
	if profile != "" {
		pprof.StopCPUProfile()
		if f, err := os.Create(profile + ".allocs"); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	cancel()
	return <-done
}

func waitSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
	<-ch
}

// child is a process this program started.
type child struct {
	name string
	cmd  *exec.Cmd
}

// start runs a command and, when ready is true, waits for it to print "ready".
func start(name string, ready bool, prog string, args ...string) (*child, error) {
	cmd := exec.Command(prog, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd}
	if ready {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			c.stop()
			return nil, fmt.Errorf("%s did not start: %q %v", name, line, err)
		}
	}
	go io.Copy(io.Discard, out)
	return c, nil
}

func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// pids returns the child's pid and those of its children (nginx workers).
func (c *child) pids() []int {
	out := []int{c.cmd.Process.Pid}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.cmd.Process.Pid, c.cmd.Process.Pid))
	if err == nil {
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// cpu is the CPU time (user and system) the child and its children have
// used so far (from /proc/PID/stat, in clock ticks of 10ms).
func (c *child) cpu() time.Duration {
	var ticks int64
	for _, pid := range c.pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command name (which may hold spaces), from field 3.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
			s, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// rss is the resident memory of the child and its children, in bytes.
func (c *child) rss() int64 {
	var total int64
	for _, pid := range c.pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				total += n << 10
			}
		}
	}
	return total
}

// freePort returns a port free on addr now.
func freePort(addr string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not listening: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tempDir() (string, error) { return os.MkdirTemp("", "berth-elb-bench-") }

func writeFile(dir, name, content string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(content), 0o644)
}

// writeCert writes a self-signed ECDSA P-256 certificate for
// bench.elb.localhost and its key to dir (cert.pem, key.pem), for
// berth's and nginx's HTTPS listeners alike.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench.elb.localhost"},
		DNSNames: []string{"bench.elb.localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if _, err := writeFile(dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))); err != nil {
		return err
	}
	_, err = writeFile(dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return err
}
