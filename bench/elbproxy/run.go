package main

import (
	"bufio"
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
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// peer is one case: where the load goes and the process serving it.
type peer struct {
	name string
	addr string // host:port
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
	targetAddr, albIP, nginxIP, haproxyIP := "127.79.0.1", "127.79.0.2", "127.79.0.3", "127.79.0.4"
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
	ap, err := start("berth ALB", true, exe, "-role", "alb", "-addr", albAddr, "-target", target, "-alb-profile", cfg.profile)
	if err != nil {
		return err
	}
	defer ap.stop()
	peers = append(peers, &peer{name: "berth ALB", addr: albAddr, proc: ap})

	if p, err := startNginx(dir, nginxIP, target); err != nil {
		peers = append(peers, &peer{name: "nginx", note: err.Error()})
	} else {
		defer p.proc.stop()
		peers = append(peers, p)
	}
	if p, err := startHAProxy(dir, haproxyIP, target); err != nil {
		peers = append(peers, &peer{name: "haproxy", note: err.Error()})
	} else {
		defer p.proc.stop()
		peers = append(peers, p)
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("elbproxy bench: GET / (128-byte answer), %d keep-alive connections, %s x %d rounds per case, %d CPUs, Go %s\n",
		cfg.conc, cfg.duration, cfg.rounds, runtime.NumCPU(), runtime.Version())
	fmt.Printf("load average before: %s", load)
	results := map[string][]result{}
	for range cfg.rounds {
		for _, p := range peers {
			if p.note != "" {
				continue
			}
			r, err := loadTest(p.addr, cfg.conc, cfg.duration, cfg.maxReq)
			if err != nil {
				return fmt.Errorf("%s: %v", p.name, err)
			}
			results[p.name] = append(results[p.name], r)
		}
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("load average after: %s\n", load)

	median := func(name string) result {
		rs := sortedRPS(results[name])
		return rs[len(rs)/2]
	}
	direct := median("direct")
	fmt.Printf("%-10s %10s %9s %9s %8s %12s %12s\n", "case", "rps", "p50", "p99", "errors", "rps/direct", "p99-direct")
	for _, p := range peers {
		if p.note != "" {
			fmt.Printf("%-10s skipped: %s\n", p.name, p.note)
			continue
		}
		r := median(p.name)
		fmt.Printf("%-10s %10.0f %9s %9s %8d %11.2f%% %12s\n", p.name, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
			r.errors, 100*r.rps/direct.rps, (r.p99 - direct.p99).Round(time.Microsecond))
	}
	if alb, ok := results["berth ALB"]; ok && len(alb) > 0 {
		r := median("berth ALB")
		fmt.Printf("berth ALB vs direct: throughput loss %.1f%% (goal < 15%%), added p99 %s (goal < 1ms)\n",
			100*(1-r.rps/direct.rps), (r.p99 - direct.p99).Round(time.Microsecond))
		for _, name := range []string{"nginx", "haproxy"} {
			if _, ok := results[name]; ok {
				fmt.Printf("berth ALB vs %s: rps ratio %.2f, p99 %s vs %s\n", name, r.rps/median(name).rps,
					r.p99.Round(time.Microsecond), median(name).p99.Round(time.Microsecond))
			}
		}
	}

	if cfg.idle > 0 {
		fmt.Printf("\nmemory per idle keep-alive connection (%d connections, each after one request; VmRSS growth):\n", cfg.idle)
		for _, p := range peers {
			if p.proc == nil || p.note != "" {
				continue
			}
			per, err := idleMemory(p, cfg.idle)
			if err != nil {
				return fmt.Errorf("%s idle memory: %v", p.name, err)
			}
			fmt.Printf("%-10s %8.1f KiB per connection\n", p.name, per/1024)
		}
	}
	return nil
}

// loadTest sends GET / on conc keep-alive connections for d or maxReq
// requests in all.
func loadTest(addr string, conc int, d time.Duration, maxReq int) (result, error) {
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
					if c, err = net.Dial("tcp", addr); err != nil {
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
	return result{rps: float64(len(lat)) / el.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], errors: errs}, nil
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

func startNginx(dir, ip, target string) (*peer, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, fmt.Errorf("nginx not installed (apt-get install nginx)")
	}
	port, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
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
`, dir, target, addr)
	path, err := writeFile(dir, "nginx.conf", conf)
	if err != nil {
		return nil, err
	}
	c, err := start("nginx", false, bin, "-c", path, "-p", dir, "-e", dir+"/nginx-error.log")
	if err != nil {
		return nil, err
	}
	if err := waitListening(addr); err != nil {
		c.stop()
		return nil, err
	}
	return &peer{name: "nginx", addr: addr, proc: c}, nil
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
