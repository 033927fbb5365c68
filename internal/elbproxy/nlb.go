package elbproxy

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// nlbRoutes is what an NLB listener forwards to now; swapped whole by Apply.
type nlbRoutes struct {
	groups []weightedGroup // the default forward's groups (weights fixed)
	idle   time.Duration
	stats  *flowCounters // the NLB's (nil: not counted)
}

// nlbServer is one NLB listener: a TCP proxy. mu guards conns and closed.
type nlbServer struct {
	p      *Proxy
	ln     net.Listener
	routes atomic.Pointer[nlbRoutes]

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newNLBServer(p *Proxy, ln net.Listener) *nlbServer {
	return &nlbServer{p: p, ln: ln, conns: map[net.Conn]struct{}{}}
}

func nlbRoutesFor(groups map[string]*group, lb LoadBalancer, l Listener) *nlbRoutes {
	rt := &nlbRoutes{idle: idleTimeout(lb)}
	if a := compileActions(groups, l.DefaultActions, nil); a.fwd != nil {
		rt.groups = a.fwd.groups
	}
	return rt
}

// serve accepts connections on ln until it is closed.
func (s *nlbServer) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.p.goroutine(func() { s.handle(c) })
	}
}

func (s *nlbServer) close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	s.ln.Close()
	for c := range conns {
		c.Close()
	}
}

// track adds c to the connections closed with the listener; false when
// the listener is already closed.
func (s *nlbServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *nlbServer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handle proxies one client connection to a target chosen by flow hash.
func (s *nlbServer) handle(c net.Conn) {
	defer c.Close()
	if !s.track(c) {
		return
	}
	defer s.untrack(c)
	rt := s.routes.Load()
	h := fnv.New32a()
	io.WriteString(h, c.RemoteAddr().String())
	io.WriteString(h, c.LocalAddr().String())
	hash := h.Sum32()
	g := pickFlowGroup(rt.groups, hash)
	if g == nil {
		return // no target group: the connection is reset, as on AWS
	}
	t := g.pickFlow(hash)
	if t == nil {
		return
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	var bytes *atomic.Int64
	if st := rt.stats; st != nil {
		st.newFlows.Add(1)
		st.active.Add(1)
		defer st.active.Add(-1)
		bytes = &st.bytes
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	up, err := dialTarget(t.ctx, &d, t)
	if err != nil {
		return
	}
	defer up.Close()
	if !s.track(up) {
		return
	}
	defer s.untrack(up)
	// The drain deadline (or the target's removal) cuts the connection.
	stop := context.AfterFunc(t.ctx, func() { c.Close(); up.Close() })
	defer stop()
	pipe(c, up, rt.idle, s.p.bufs, bytes)
}

// pickFlowGroup chooses a group by the flow hash in proportion to weights.
func pickFlowGroup(groups []weightedGroup, hash uint32) *group {
	total := 0
	for _, w := range groups {
		total += max(w.weight, 0)
	}
	if total == 0 {
		return nil
	}
	n := int((hash >> 16) % uint32(total))
	for _, w := range groups {
		if n < w.weight {
			return w.g
		}
		n -= max(w.weight, 0)
	}
	return nil
}

// pipe copies both ways until both sides are done. A side's EOF is passed
// on as a half-close (CloseWrite); the connection is closed when it has
// been idle in both directions for idle.
func pipe(a, b net.Conn, idle time.Duration, bufs bufPool, bytes *atomic.Int64) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyHalf(b, a, idle, &last, bufs, bytes)
	}()
	copyHalf(a, b, idle, &last, bufs, bytes)
	<-done
}

// copyHalf copies src to dst. On EOF it half-closes dst; on an error or
// idle timeout it closes both, which ends the other direction too.
// bytes, when not nil, counts what is copied (ProcessedBytes).
func copyHalf(dst, src net.Conn, idle time.Duration, last *atomic.Int64, bufs bufPool, bytes *atomic.Int64) {
	buf := bufs.Get()
	defer bufs.Put(buf)
	for {
		src.SetReadDeadline(time.Unix(0, last.Load()).Add(idle))
		n, err := src.Read(buf)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			if bytes != nil {
				bytes.Add(int64(n))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				dst.Close()
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && time.Since(time.Unix(0, last.Load())) < idle:
			// The other direction was busy: not idle yet.
		case errors.Is(err, io.EOF):
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			} else {
				dst.Close()
			}
			return
		default:
			src.Close()
			dst.Close()
			return
		}
	}
}
