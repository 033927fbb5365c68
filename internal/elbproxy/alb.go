package elbproxy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cookie names ALB uses.
const (
	cookieTarget = "AWSALB"   // target stickiness (lb_cookie)
	cookieGroup  = "AWSALBTG" // group stickiness
)

// albRoutes is what an ALB listener serves now; swapped whole by Apply.
type albRoutes struct {
	port  int
	rules []albRule
	stats *counters // the load balancer's; nil for a moment after opening
}

// albServer is one ALB listener: the fast path (fastConn) for most
// requests, and an HTTP server whose handler evaluates the rules and
// forwards through a reverse proxy for the connections the fast path
// hands over (and for the shared front).
type albServer struct {
	p       *Proxy
	idle    time.Duration
	routes  atomic.Pointer[albRoutes]
	rp      *httputil.ReverseProxy
	tr      *directTransport
	srv     *http.Server
	handoff *handoff // srv's listener
	pools   fastPools
	// secure: an HTTPS listener (its connections are *tls.Conn; those
	// handed over to srv are wrapped, so r.TLS does not tell).
	secure bool

	connMu sync.Mutex // guards ln, conns and closed
	ln     net.Listener
	conns  map[net.Conn]struct{} // served by the fast path
	closed bool
}

// fwdKey is the request context key of the chosen target.
type fwdKey struct{}

type fwdInfo struct {
	t      *target
	lb     *counters // nil when the listener has no counters yet
	start  time.Time // when the request was handed to the proxy
	client netip.Addr
	port   int
}

func newALBServer(p *Proxy, idle time.Duration, addr net.Addr) *albServer {
	s := &albServer{p: p, idle: idle, handoff: newHandoff(addr), conns: map[net.Conn]struct{}{}}
	fallback := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       idle,
		ResponseHeaderTimeout: idle,
		DisableCompression:    true,
		TLSClientConfig:       targetTLS(), // HTTPS target groups
	}
	s.tr = newDirectTransport(fallback, idle)
	s.rp = &httputil.ReverseProxy{
		Rewrite:        s.rewrite,
		ModifyResponse: s.onResponse,
		Transport:      s.tr,
		ErrorHandler:   s.proxyError,
		BufferPool:     p.bufs,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: idle,
		IdleTimeout:       idle,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	return s
}

// serve serves ln until close: the fast path on this goroutine, the
// handed-over connections on another.
func (s *albServer) serve(ln net.Listener) {
	s.connMu.Lock()
	if s.closed {
		s.connMu.Unlock()
		ln.Close()
		return
	}
	s.ln = ln
	s.connMu.Unlock()
	s.p.goroutine(func() { s.srv.Serve(s.handoff) })
	s.serveConns(ln)
}

func (s *albServer) close() {
	s.connMu.Lock()
	s.closed = true
	ln, conns := s.ln, s.conns
	s.conns = map[net.Conn]struct{}{}
	s.connMu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for c := range conns {
		c.Close()
	}
	s.handoff.Close()
	s.srv.Close()
	s.tr.CloseIdleConnections()
}

func (s *albServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := s.routes.Load()
	if rt.stats != nil {
		rt.stats.requests.Add(1)
	}
	client := clientAddr(r)
	var act *albAction
	for _, rule := range rt.rules {
		if rule.matches(r, client) {
			act = rule.action
			break
		}
	}
	switch {
	case act == nil || (act.typ == ActionFixedResponse && act.fixed == nil):
		rt.elb5xx()
		errorPage(w, http.StatusServiceUnavailable)
	case act.typ == ActionFixedResponse:
		if act.fixed.StatusCode >= 500 && act.fixed.StatusCode <= 599 {
			rt.elb5xx()
		}
		fixedResponse(w, act.fixed)
	case act.typ == ActionRedirect:
		redirect(w, r, act.redirect, rt.port)
	default:
		s.forward(w, r, act.fwd, client, rt)
	}
}

// elb5xx counts an error the load balancer answers itself.
func (rt *albRoutes) elb5xx() {
	if rt.stats != nil {
		rt.stats.elb5.Add(1)
	}
}

func (s *albServer) forward(w http.ResponseWriter, r *http.Request, f *forwardAction, client netip.Addr, rt *albRoutes) {
	now := time.Now()
	t, cookies := s.choose(r, f, now)
	if t == nil {
		rt.elb5xx()
		errorPage(w, http.StatusServiceUnavailable)
		return
	}
	for _, c := range cookies {
		http.SetCookie(w, c)
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	ctx = context.WithValue(ctx, fwdKey{}, &fwdInfo{t: t, lb: rt.stats, start: now, client: client, port: rt.port})
	s.rp.ServeHTTP(w, r.WithContext(ctx))
}

func (s *albServer) rewrite(pr *httputil.ProxyRequest) {
	fi := pr.In.Context().Value(fwdKey{}).(*fwdInfo)
	pr.Out.URL.Scheme = "http"
	if fi.t.tls {
		pr.Out.URL.Scheme = "https"
	}
	pr.Out.URL.Host = fi.t.addr
	pr.Out.Host = pr.In.Host
	h := pr.Out.Header
	ip := fi.client.String()
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	h["X-Forwarded-For"] = []string{ip}
	if pr.In.TLS != nil || s.secure {
		h["X-Forwarded-Proto"] = []string{"https"}
	} else {
		h["X-Forwarded-Proto"] = []string{"http"}
	}
	h["X-Forwarded-Port"] = []string{strconv.Itoa(fi.port)}
	trace := traceID()
	if prior := pr.In.Header.Get("X-Amzn-Trace-Id"); strings.Contains(prior, "Root=") {
		trace = "Self=" + strings.TrimPrefix(trace, "Root=") + ";" + prior
	}
	h["X-Amzn-Trace-Id"] = []string{trace}
}

// onResponse counts a target's response (its status class and the time to
// its headers) for its group and load balancer.
func (s *albServer) onResponse(resp *http.Response) error {
	fi, _ := resp.Request.Context().Value(fwdKey{}).(*fwdInfo)
	if fi == nil {
		return nil
	}
	took := time.Since(fi.start)
	fi.t.g.stats.targetResponse(resp.StatusCode, took)
	if fi.lb != nil {
		fi.lb.targetResponse(resp.StatusCode, took)
	}
	return nil
}

// proxyError answers as ALB does when the target cannot: 504 when it
// timed out (connect or idle timeout), 502 otherwise (refused, reset,
// closed, cut by the drain deadline). Nothing is written to a client that
// has gone.
func (s *albServer) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	fi, _ := r.Context().Value(fwdKey{}).(*fwdInfo)
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && (fi == nil || fi.t.ctx.Err() == nil):
		// The client went away (ALB logs 460); no one to answer.
		return
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		fi.countELB5xx()
		errorPage(w, http.StatusGatewayTimeout)
	default:
		fi.countELB5xx()
		errorPage(w, http.StatusBadGateway)
	}
}

func (fi *fwdInfo) countELB5xx() {
	if fi != nil && fi.lb != nil {
		fi.lb.elb5.Add(1)
	}
}

// errorBody is the body of ALB's own error page for code.
func errorBody(code int) string {
	var title string
	switch code {
	case http.StatusServiceUnavailable:
		title = "503 Service Temporarily Unavailable"
	case http.StatusGatewayTimeout:
		title = "504 Gateway Time-out"
	default:
		title = fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" +
		title + "</h1></center>\r\n</body>\r\n</html>\r\n"
}

// errorPage writes ALB's own error page for code.
func errorPage(w http.ResponseWriter, code int) {
	body := errorBody(code)
	h := w.Header()
	h.Del("Set-Cookie")
	h.Set("Server", "awselb/2.0")
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func fixedResponse(w http.ResponseWriter, f *FixedResponse) {
	ct := f.ContentType
	if ct == "" {
		ct = "text/plain"
	}
	code := f.StatusCode
	if code < 200 || code > 599 {
		code = http.StatusOK
	}
	h := w.Header()
	h.Set("Server", "awselb/2.0")
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(f.Body)))
	w.WriteHeader(code)
	io.WriteString(w, f.Body)
}

// redirect answers with the redirect's Location, its placeholders filled
// from the request.
func redirect(w http.ResponseWriter, r *http.Request, rd *Redirect, port int) {
	fill := func(v, def string) string {
		if v == "" {
			v = def
		}
		return strings.NewReplacer(
			"#{protocol}", "http",
			"#{host}", hostOnly(r.Host),
			"#{port}", strconv.Itoa(port),
			"#{path}", strings.TrimPrefix(r.URL.Path, "/"),
			"#{query}", r.URL.RawQuery,
		).Replace(v)
	}
	scheme := strings.ToLower(fill(rd.Protocol, "#{protocol}"))
	host := fill(rd.Host, "#{host}")
	p := fill(rd.Port, "#{port}")
	path := fill(rd.Path, "/#{path}")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	query := fill(rd.Query, "#{query}")
	loc := scheme + "://" + host
	if !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		loc += ":" + p
	}
	loc += path
	if query != "" {
		loc += "?" + query
	}
	code := rd.StatusCode
	if code != http.StatusMovedPermanently {
		code = http.StatusFound
	}
	h := w.Header()
	h.Set("Server", "awselb/2.0")
	h.Set("Location", loc)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "0")
	w.WriteHeader(code)
}

// traceID is a new X-Amzn-Trace-Id: Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
func traceID() string {
	var b [48]byte
	return string(appendTraceID(append(b[:0], "Root="...)))
}

func appendHex(b []byte, v uint64, digits int) []byte {
	const hex = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hex[(v>>(4*uint(i)))&0xf])
	}
	return b
}

func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// targetCookie encodes a target for the AWSALB cookie: group id and target key.
func targetCookie(groupID string, k TargetKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(groupID + "|" + k.ID + "|" + strconv.Itoa(k.Port)))
}

func parseTargetCookie(r *http.Request, groupID string) TargetKey {
	c, err := r.Cookie(cookieTarget)
	if err != nil {
		return TargetKey{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return TargetKey{}
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != groupID {
		return TargetKey{}
	}
	port, err := strconv.Atoi(parts[2])
	if err != nil {
		return TargetKey{}
	}
	return TargetKey{ID: parts[1], Port: port}
}

// bufPool is the proxy's copy buffers (32 KiB).
type bufPool struct{ pool *sync.Pool }

func newBufPool() bufPool {
	return bufPool{&sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b bufPool) Get() []byte    { return *(b.pool.Get().(*[]byte)) }
func (b bufPool) Put(buf []byte) { b.pool.Put(&buf) }
