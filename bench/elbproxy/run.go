package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"time"
)

// result is one case's measure in one round.
type result struct {
	rps       float64
	p50, p99  time.Duration
	errors    int
	requests  int
	cpuPerReq time.Duration // the proxy's CPU time (user+system) per request
}

// peer is one case: where the load goes and the process serving it.
type peer struct {
	name string
	addr string // host:port
	tls  bool   // the load generator speaks TLS (the certificate not verified)
	proc *child // nil for direct
	note string
}

func run(cfg config) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := tempDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Addresses: each process on its own loopback address.
	targetAddr, albIP, nginxIP, haproxyIP, frontIP := "127.79.0.1", "127.79.0.2", "127.79.0.3", "127.79.0.4", "127.79.0.5"
	tport, err := freePort(targetAddr)
	if err != nil {
		return err
	}
	target := net.JoinHostPort(targetAddr, fmt.Sprint(tport))
	tp, err := start("target", true, exe, "-role", "target", "-addr", target)
	if err != nil {
		return err
	}
	defer tp.stop()

	peers := []*peer{{name: "direct", addr: target}}
	aport, err := freePort(albIP)
	if err != nil {
		return err
	}
	albAddr := net.JoinHostPort(albIP, fmt.Sprint(aport))
	hport, err := freePort(albIP)
	if err != nil {
		return err
	}
	if err := writeCert(dir); err != nil {
		return err
	}
	ap, err := start("berth ALB", true, exe, "-role", "alb", "-addr", albAddr, "-target", target, "-front", frontIP,
		"-https-port", fmt.Sprint(hport), "-cert-dir", dir, "-alb-profile", cfg.profile)
	if err != nil {
		return err
	}
	defer ap.stop()
	peers = append(peers, &peer{name: "berth ALB", addr: albAddr, proc: ap},
		&peer{name: "berth front", addr: net.JoinHostPort(frontIP, fmt.Sprint(aport)), proc: ap},
		&peer{name: "berth HTTPS", addr: net.JoinHostPort(albIP, fmt.Sprint(hport)), proc: ap, tls: true})

	if p, ps, err := startNginx(dir, nginxIP, target); err != nil {
		peers = append(peers, &peer{name: "nginx", note: err.Error()}, &peer{name: "nginx HTTPS", note: err.Error()})
	} else {
		defer p.proc.stop()
		peers = append(peers, p, ps)
	}
	if p, err := startHAProxy(dir, haproxyIP, target); err != nil {
		peers = append(peers, &peer{name: "haproxy", note: err.Error()})
	} else {
		defer p.proc.stop()
		peers = append(peers, p)
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("elbproxy bench: GET / (128-byte answer), %s x %d interleaved rounds per case, %d CPUs, Go %s\n",
		cfg.duration, cfg.rounds, runtime.NumCPU(), runtime.Version())
	fmt.Printf("load average before: %s", load)
	fmt.Printf("physical limit: the load generator, the target and the proxy share these %d CPUs (with whatever else runs: see\n"+
		"the load average), so a proxy's extra hop takes CPU from the target and the load generator and no proxy gets near\n"+
		"direct here; the ratio against nginx and haproxy, which pay the same hop in the same run, is the fair one.\n", runtime.NumCPU())
	many := measure(peers, cfg.conc, cfg)
	one := measure(peers, 1, cfg)
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("load average after: %s", load)
	report(peers, cfg.conc, many)
	report(peers, 1, one)
	ratios(peers, cfg.conc, many, one)
	if cfg.idle > 0 {
		fmt.Printf("\nmemory per idle keep-alive connection (%d connections, each after one request; VmRSS growth):\n", cfg.idle)
		for _, p := range peers {
			if p.proc == nil || p.note != "" || p.tls || p.name == "berth front" {
				continue // the same processes as the plain cases
			}
			per, err := idleMemory(p, cfg.idle)
			if err != nil {
				return fmt.Errorf("%s idle memory: %v", p.name, err)
			}
			fmt.Printf("%-12s %8.1f KiB per connection\n", p.name, per/1024)
		}
	}
	return nil
}

// loadTest sends GET / on conc keep-alive connections for d or maxReq
// requests in all.
func loadTest(addr string, useTLS bool, conc int, d time.Duration, maxReq int) (result, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var sent sync.WaitGroup
	budget := make(chan struct{}, maxReq)
	for range maxReq {
		budget <- struct{}{}
	}
	close(budget)
	deadline := time.Now().Add(d)
	begin := time.Now()
	req := []byte("GET / HTTP/1.1\r\nHost: bench.elb.localhost\r\nUser-Agent: berth-bench\r\n\r\n")
	var firstErr error
	for range conc {
		sent.Add(1)
		go func() {
			defer sent.Done()
			local := make([]time.Duration, 0, 1<<16)
			nerr := 0
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				errs += nerr
				mu.Unlock()
			}()
			var c net.Conn
			var br *bufio.Reader
			for range budget {
				if time.Now().After(deadline) {
					break
				}
				if c == nil {
					var err error
					if useTLS {
						c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
					} else {
						c, err = net.Dial("tcp", addr)
					}
					if err != nil {
						nerr++
						mu.Lock()
						firstErr = err
						mu.Unlock()
						time.Sleep(10 * time.Millisecond)
						continue
					}
					br = bufio.NewReaderSize(c, 4096)
				}
				t0 := time.Now()
				ok := roundTrip(c, br, req)
				if !ok {
					nerr++
					c.Close()
					c = nil
					continue
				}
				local = append(local, time.Since(t0))
			}
			if c != nil {
				c.Close()
			}
		}()
	}
	sent.Wait()
	el := time.Since(begin)
	if len(lat) == 0 {
		return result{}, fmt.Errorf("no request succeeded: %v", firstErr)
	}
	slices.Sort(lat)
	return result{rps: float64(len(lat)) / el.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], errors: errs,
		requests: len(lat)}, nil
}

// roundTrip writes req and reads one 200 response with its body.
func roundTrip(c net.Conn, br *bufio.Reader, req []byte) bool {
	if _, err := c.Write(req); err != nil {
		return false
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == 200 && !resp.Close
}

// idleMemory opens n keep-alive connections to p, sends one request on
// each, and returns the RSS growth of p's processes per connection.
func idleMemory(p *peer, n int) (float64, error) {
	time.Sleep(500 * time.Millisecond)
	before := p.proc.rss()
	req := []byte("GET / HTTP/1.1\r\nHost: bench.elb.localhost\r\n\r\n")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if !roundTrip(c, bufio.NewReaderSize(c, 512), req) {
			return 0, fmt.Errorf("request on idle connection %d failed", len(conns))
		}
	}
	time.Sleep(time.Second)
	after := p.proc.rss()
	return float64(after-before) / float64(n), nil
}

// startNginx runs nginx with an HTTP and an HTTPS server (the bench's
// certificate, as berth's HTTPS listener) forwarding to target.
func startNginx(dir, ip, target string) (*peer, *peer, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, nil, fmt.Errorf("nginx not installed (apt-get install nginx)")
	}
	port, err := freePort(ip)
	if err != nil {
		return nil, nil, err
	}
	sport, err := freePort(ip)
	if err != nil {
		return nil, nil, err
	}
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	saddr := net.JoinHostPort(ip, fmt.Sprint(sport))
	conf := fmt.Sprintf(`daemon off;
master_process on;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  upstream target { server %[2]s; keepalive 256; keepalive_requests 1000000; }
  server {
    listen %[3]s;
    listen %[4]s ssl;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    location / {
      proxy_pass http://target;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_buffering off;
    }
  }
}
`, dir, target, addr, saddr)
	path, err := writeFile(dir, "nginx.conf", conf)
	if err != nil {
		return nil, nil, err
	}
	c, err := start("nginx", false, bin, "-c", path, "-p", dir, "-e", dir+"/nginx-error.log")
	if err != nil {
		return nil, nil, err
	}
	if err := waitListening(addr); err != nil {
		c.stop()
		return nil, nil, err
	}
	if err := waitListening(saddr); err != nil {
		c.stop()
		return nil, nil, err
	}
	return &peer{name: "nginx", addr: addr, proc: c}, &peer{name: "nginx HTTPS", addr: saddr, proc: c, tls: true}, nil
}

func startHAProxy(dir, ip, target string) (*peer, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, fmt.Errorf("haproxy not installed (apt-get install haproxy)")
	}
	port, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	conf := fmt.Sprintf(`global
  maxconn 8000
  nbthread %d
defaults
  mode http
  timeout connect 10s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind %s
  default_backend be
backend be
  server t1 %s
`, runtime.NumCPU(), addr, target)
	path, err := writeFile(dir, "haproxy.cfg", conf)
	if err != nil {
		return nil, err
	}
	c, err := start("haproxy", false, bin, "-db", "-f", path)
	if err != nil {
		return nil, err
	}
	if err := waitListening(addr); err != nil {
		c.stop()
		return nil, err
	}
	return &peer{name: "haproxy", addr: addr, proc: c}, nil
}

// measure runs every case cfg.rounds times, interleaved, on conc
// connections, and returns the results by case name.
func measure(peers []*peer, conc int, cfg config) map[string][]result {
	out := map[string][]result{}
	for range cfg.rounds {
		for _, p := range peers {
			if p.note != "" {
				continue
			}
			var cpu0 time.Duration
			if p.proc != nil {
				cpu0 = p.proc.cpu()
			}
			r, err := loadTest(p.addr, p.tls, conc, cfg.duration, cfg.maxReq)
			if err != nil {
				p.note = err.Error()
				continue
			}
			if p.proc != nil && r.requests > 0 {
				r.cpuPerReq = (p.proc.cpu() - cpu0) / time.Duration(r.requests)
			}
			out[p.name] = append(out[p.name], r)
		}
	}
	return out
}

// summary is a case's medians over its rounds.
type summary struct {
	rps       float64
	p50, p99  time.Duration
	errors    int
	cpuPerReq time.Duration
}

func medians(rs []result) summary {
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	errs := 0
	for _, r := range rs {
		errs += r.errors
	}
	return summary{
		rps:       med(func(r result) float64 { return r.rps }),
		p50:       time.Duration(med(func(r result) float64 { return float64(r.p50) })),
		p99:       time.Duration(med(func(r result) float64 { return float64(r.p99) })),
		cpuPerReq: time.Duration(med(func(r result) float64 { return float64(r.cpuPerReq) })),
		errors:    errs,
	}
}

func report(peers []*peer, conc int, res map[string][]result) {
	fmt.Printf("\n%d keep-alive connection(s), medians of %d rounds:\n", conc, len(res["direct"]))
	fmt.Printf("%-12s %10s %9s %9s %7s %11s %11s %14s\n", "case", "rps", "p50", "p99", "errors", "rps/direct", "p99-direct", "proxy CPU/req")
	direct := medians(res["direct"])
	for _, p := range peers {
		if p.note != "" || len(res[p.name]) == 0 {
			fmt.Printf("%-12s skipped: %s\n", p.name, p.note)
			continue
		}
		r := medians(res[p.name])
		cpu := "-"
		if p.proc != nil {
			cpu = r.cpuPerReq.Round(100 * time.Nanosecond).String()
		}
		fmt.Printf("%-12s %10.0f %9s %9s %7d %10.1f%% %11s %14s\n", p.name, r.rps, r.p50.Round(time.Microsecond),
			r.p99.Round(time.Microsecond), r.errors, 100*r.rps/direct.rps, (r.p99 - direct.p99).Round(time.Microsecond), cpu)
	}
}

// ratios prints berth against direct and against the peers, same run.
func ratios(peers []*peer, conc int, many, one map[string][]result) {
	if len(many["berth ALB"]) == 0 {
		return
	}
	d, b := medians(many["direct"]), medians(many["berth ALB"])
	d1, b1 := medians(one["direct"]), medians(one["berth ALB"])
	fmt.Printf("\nsame run, medians: berth/direct %.2f", b.rps/d.rps)
	for _, name := range []string{"nginx", "haproxy"} {
		if len(many[name]) > 0 {
			fmt.Printf(", %s/direct %.2f", name, medians(many[name]).rps/d.rps)
		}
	}
	for _, name := range []string{"nginx", "haproxy"} {
		if len(many[name]) > 0 {
			fmt.Printf(", berth/%s %.2f", name, b.rps/medians(many[name]).rps)
		}
	}
	if len(many["berth front"]) > 0 {
		fmt.Printf(", front/ALB %.2f", medians(many["berth front"]).rps/b.rps)
	}
	fmt.Println(" (throughput)")
	if bh := many["berth HTTPS"]; len(bh) > 0 {
		h := medians(bh)
		fmt.Printf("HTTPS (TLS 1.3 keep-alive, terminated at the proxy, plain HTTP to the target): berth HTTPS/direct %.2f, berth HTTPS/berth HTTP %.2f",
			h.rps/d.rps, h.rps/b.rps)
		if nh := many["nginx HTTPS"]; len(nh) > 0 && len(many["nginx"]) > 0 {
			n := medians(nh)
			fmt.Printf(", nginx HTTPS/direct %.2f, nginx HTTPS/nginx HTTP %.2f, berth HTTPS/nginx HTTPS %.2f; proxy CPU per request berth %s, nginx %s",
				n.rps/d.rps, n.rps/medians(many["nginx"]).rps, h.rps/n.rps, h.cpuPerReq.Round(100*time.Nanosecond), n.cpuPerReq.Round(100*time.Nanosecond))
		}
		fmt.Println()
	}
	fmt.Printf("berth ALB vs direct: throughput loss %.1f%% at %d connections (goal < 15%%, see the physical limit above);\n",
		100*(1-b.rps/d.rps), conc)
	fmt.Printf("  added p99 %s at %d connections, %s at 1 connection (goal < 1ms)\n",
		(b.p99 - d.p99).Round(time.Microsecond), conc, (b1.p99 - d1.p99).Round(time.Microsecond))
	for _, name := range []string{"nginx", "haproxy"} {
		if len(one[name]) > 0 {
			n1, n := medians(one[name]), medians(many[name])
			fmt.Printf("  %s: added p99 %s at %d connections, %s at 1 connection; proxy CPU per request berth %s, %s %s\n",
				name, (n.p99 - d.p99).Round(time.Microsecond), conc, (n1.p99 - d1.p99).Round(time.Microsecond),
				b.cpuPerReq.Round(100*time.Nanosecond), name, n.cpuPerReq.Round(100*time.Nanosecond))
		}
	}
}
