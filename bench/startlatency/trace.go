package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/bench/stats"
)

// tracer is a logging proxy in front of the Docker socket: berth's server
// and agent are pointed at it (DOCKER_HOST), and it records every API call
// with its start and end times.
type tracer struct {
	srv *http.Server
	api []*http.Server
	mu  sync.Mutex
	log []tracedCall
}

type tracedCall struct {
	label      string
	start, end time.Time
}

var (
	apiVersion = regexp.MustCompile(`^/v[0-9.]+`)
	hexID      = regexp.MustCompile(`[0-9a-f]{64}`)
)

func startTracer(sock string) (*tracer, error) {
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	upstream := os.Getenv("DOCKER_HOST")
	path := "/var/run/docker.sock"
	if len(upstream) > len("unix://") && upstream[:len("unix://")] == "unix://" {
		path = upstream[len("unix://"):]
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
			MaxIdleConnsPerHost: 64,
		},
		FlushInterval: -1,
	}
	t := &tracer{}
	t.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rp.ServeHTTP(w, r)
		p := apiVersion.ReplaceAllString(r.URL.Path, "")
		if p == "/events" {
			return
		}
		p = hexID.ReplaceAllString(p, "{id}")
		t.mu.Lock()
		t.log = append(t.log, tracedCall{label: r.Method + " " + p, start: start, end: time.Now()})
		t.mu.Unlock()
	})}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *tracer) close() {
	_ = t.srv.Close()
	for _, a := range t.api {
		_ = a.Close()
	}
}

// proxyAPI starts a logging proxy in front of berth's API for the agent
// process and returns its URL: the agent's ECS calls (and its ACS
// websocket) go through it, and each call is recorded under its operation.
func (t *tracer) proxyAPI(target string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host },
		FlushInterval: -1,
	}
	api := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rp.ServeHTTP(w, r)
		op := r.Header.Get("X-Amz-Target")
		if op == "" {
			return // the ACS websocket
		}
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		t.mu.Lock()
		t.log = append(t.log, tracedCall{label: "agent → berth " + op, start: start, end: time.Now()})
		t.mu.Unlock()
	})}
	t.api = append(t.api, api)
	go func() { _ = api.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// between returns the calls that started in [from, to].
func (t *tracer) between(from, to time.Time) []tracedCall {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []tracedCall
	for _, c := range t.log {
		if !c.start.Before(from) && !c.start.After(to) {
			out = append(out, c)
		}
	}
	return out
}

// timeline prints, for each Docker API call berth makes while starting a
// task (the n-th call with the same label is one row), the median time it
// started after RunTask was sent and its median duration.
func timeline(name string, ss []sample) {
	type row struct {
		label      string
		start, dur []time.Duration
	}
	var rows []*row
	for _, s := range ss {
		seen := map[string]int{}
		for _, c := range s.calls {
			seen[c.label]++
			key := fmt.Sprintf("%s #%d", c.label, seen[c.label])
			i := slices.IndexFunc(rows, func(r *row) bool { return r.label == key })
			if i < 0 {
				rows = append(rows, &row{label: key})
				i = len(rows) - 1
			}
			rows[i].start = append(rows[i].start, c.start.Sub(s.t0))
			rows[i].dur = append(rows[i].dur, c.end.Sub(c.start))
		}
	}
	slices.SortStableFunc(rows, func(a, b *row) int { return cmp.Compare(stats.Percentile(a.start, 50), stats.Percentile(b.start, 50)) })
	// berth's own share: the start minus the daemon's container create
	// and start calls (the rest is berth, and the client's polling).
	var outside []time.Duration
	submits := 0
	for _, s := range ss {
		d := s.wall
		for _, c := range s.calls {
			if c.label == "POST /containers/create" || c.label == "POST /containers/{id}/start" {
				d -= c.end.Sub(c.start)
			}
			if c.label == "agent → berth SubmitTaskStateChange" {
				submits++
			}
		}
		outside = append(outside, d)
	}
	fmt.Printf("%s: outside the daemon's create/start calls: p50 %.1f ms, p90 %.1f ms; %.1f SubmitTaskStateChange per start (EC2 agent)\n",
		name, stats.Ms(stats.Percentile(outside, 50)), stats.Ms(stats.Percentile(outside, 90)), float64(submits)/float64(max(len(ss), 1)))
	fmt.Printf("%s: berth's Docker API calls (median start after RunTask was sent, median duration)\n", name)
	for _, r := range rows {
		fmt.Printf("  %8.1f ms  %7.1f ms  %-52s (n=%d)\n", stats.Ms(stats.Percentile(r.start, 50)), stats.Ms(stats.Percentile(r.dur, 50)), r.label, len(r.start))
	}
	// The run of median wall time, call by call.
	if len(ss) > 0 {
		order := make([]int, len(ss))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ss[a].wall, ss[b].wall) })
		s := ss[order[len(order)/2]]
		fmt.Printf("  the median run (%.1f ms), call by call:\n", stats.Ms(s.wall))
		for _, c := range s.calls {
			fmt.Printf("  %8.1f → %8.1f ms  %s\n", stats.Ms(c.start.Sub(s.t0)), stats.Ms(c.end.Sub(s.t0)), c.label)
		}
		for _, m := range s.marks {
			fmt.Printf("  %8.1f ms            event: %s %s\n", stats.Ms(m.at.Sub(s.t0)), m.role, m.action)
		}
		if !s.startedAt.IsZero() {
			fmt.Printf("  %8.1f ms            startedAt (agent, ms precision)\n", stats.Ms(s.startedAt.Sub(s.t0)))
		}
		fmt.Printf("  %8.1f ms            RUNNING seen\n", stats.Ms(s.wall))
	}
	fmt.Println()
}
