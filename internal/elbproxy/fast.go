package elbproxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The fast path of an ALB listener (see "Forwarding" in the package doc).
//
// Each accepted connection is served by fastConn: it reads a request's
// header with http.ReadRequest and, when the request is a plain HTTP/1.1
// one without a body that a forward action takes (most requests), writes
// it to a pooled target connection and the answer back on the
// connection's own goroutine: no per-request goroutine, context, request
// clone or header copy. Anything else (a body, Upgrade, Expect, HTTP/1.0,
// a redirect or fixed response, a header net/http would refuse, a header
// larger than the read buffer) hands the connection, with the bytes read
// so far, to the listener's net/http server (handoff), which serves it
// from then on.
//
// An idle connection holds no buffers and no goroutine: after quickIdle
// without a request its reader and writer go back to their pools and the
// proxy's idle poller (one goroutine in epoll_wait for all of them) waits
// for the socket to turn readable; without epoll a fresh goroutine
// (small stack) waits.

// quickIdle is how long a connection waits for its next request with its
// buffers before it gives them back.
const quickIdle = 100 * time.Millisecond

// fastBufSize is the size of a connection's read and write buffers (a
// request header must fit in the read buffer, else net/http serves it).
const fastBufSize = 4 << 10

// fastPools are the buffers of the connections being served.
type fastPools struct {
	readers, writers sync.Pool
}

func (fp *fastPools) reader(c net.Conn) *bufio.Reader {
	if br, _ := fp.readers.Get().(*bufio.Reader); br != nil {
		br.Reset(c)
		return br
	}
	return bufio.NewReaderSize(c, fastBufSize)
}

func (fp *fastPools) writer(c net.Conn) *bufio.Writer {
	if bw, _ := fp.writers.Get().(*bufio.Writer); bw != nil {
		bw.Reset(c)
		return bw
	}
	return bufio.NewWriterSize(c, fastBufSize)
}

// fastConn is one client connection on the fast path.
type fastConn struct {
	s      *albServer
	c      net.Conn
	client netip.Addr
	br     *bufio.Reader // nil while idle
	bw     *bufio.Writer // nil while idle
	head   []byte        // the current request's header bytes (for a hand-over)
	front  *front        // the shared front it came from, or nil

	fd       int32     // the socket, while the idle poller has it
	deadline time.Time // when the idle poller closes it
}

// serveConns accepts connections on ln until it is closed.
func (s *albServer) serveConns(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !s.track(c, true) {
			c.Close()
			return
		}
		fc := &fastConn{s: s, c: c}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			fc.client = ta.AddrPort().Addr().Unmap()
		}
		s.p.goroutine(func() { fc.serve(false) })
	}
}

// forThis reports whether the request whose header ends at end (0: not
// whole in the buffer) is for this listener, on a connection from the
// shared front. If not, the front takes the connection back (dispatch,
// on a new goroutine) with its buffered bytes.
func (fc *fastConn) forThis(end int) bool {
	host := ""
	if end > 0 {
		head, _ := fc.br.Peek(end)
		host = headerHost(head)
	}
	tab := fc.front.table.Load()
	if s := tab.pick(host); s == fc.s && (end > 0 || s == tab.only) {
		return true
	}
	fc.s.track(fc.c, false)
	c, br, f := fc.c, fc.br, fc.front
	fc.br, fc.bw = nil, nil
	fc.s.p.goroutine(func() { f.dispatch(c, br, host, end > 0) })
	return false
}

// serveConn serves a connection accepted elsewhere (the shared front) on
// this listener's fast path, on the caller's goroutine; br holds what was
// read of it so far (a fastBufSize reader over c).
func (s *albServer) serveConn(c net.Conn, br *bufio.Reader, f *front) {
	if !s.track(c, true) {
		c.Close()
		return
	}
	fc := &fastConn{s: s, c: c, br: br, bw: s.pools.writer(c), front: f}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		fc.client = ta.AddrPort().Addr().Unmap()
	}
	fc.serve(false)
}

// track adds (or removes) a connection of the fast path; false when the
// listener is closed.
func (s *albServer) track(c net.Conn, add bool) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// serve serves requests until the connection ends, is handed over, or
// has been idle for quickIdle (then a new goroutine takes it over).
// idle says the connection is idle without buffers.
func (fc *fastConn) serve(idle bool) {
	s := fc.s
	if idle {
		if err := fc.waitReadable(); err != nil {
			fc.close()
			return
		}
	}
	if fc.br == nil {
		fc.br, fc.bw = s.pools.reader(fc.c), s.pools.writer(fc.c)
	}
	for {
		if fc.br.Buffered() == 0 {
			// A TLS connection cannot be waited on without its buffers
			// (waitReadable needs the socket): it keeps them while idle.
			wait := min(quickIdle, s.idle)
			if s.secure {
				wait = s.idle
			}
			fc.c.SetReadDeadline(time.Now().Add(wait))
			if _, err := fc.br.Peek(1); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && s.idle > quickIdle && !s.secure {
					fc.release()
					if s.p.idle.add(fc, time.Now().Add(s.idle-quickIdle)) {
						return // the poller serves it when it turns readable
					}
					s.p.goroutine(func() { fc.serve(true) })
					return
				}
				fc.close()
				return
			}
		}
		end, err := fc.peekHead()
		if err != nil {
			fc.close()
			return
		}
		if fc.front != nil && !fc.forThis(end) {
			return
		}
		rt := s.routes.Load()
		if f := rt.onlyForward(); f != nil && end > 0 {
			head, _ := fc.br.Peek(end)
			if raw, ok := parseRequest(head); ok {
				raw.size, raw.secure = end, s.secure
				if rt.stats != nil {
					rt.stats.requests.Add(1)
				}
				if !fc.forward(raw.request(), &raw, f, rt) {
					fc.close()
					return
				}
				continue
			}
		}
		req, ok := fc.readRequest(end)
		if !ok {
			fc.handOver()
			return
		}
		var act *albAction
		for _, rule := range rt.rules {
			if rule.matches(req, fc.client) {
				act = rule.action
				break
			}
		}
		if act == nil || act.typ != ActionForward || act.fwd == nil {
			fc.handOver()
			return
		}
		if rt.stats != nil {
			rt.stats.requests.Add(1)
		}
		if !fc.forward(req, nil, act.fwd, rt) {
			fc.close()
			return
		}
	}
}

// waitReadable waits, without a buffer, until the connection has bytes to
// read (or the client closed it), for at most the idle timeout.
func (fc *fastConn) waitReadable() error {
	sc, ok := fc.c.(syscall.Conn)
	if !ok {
		return errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fc.c.SetReadDeadline(time.Now().Add(fc.s.idle - quickIdle))
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case e == syscall.EAGAIN || e == syscall.EINTR:
			return false // wait for the poller
		case e != nil:
			perr = e
		case n == 0:
			perr = io.EOF
		}
		return true
	})
	if err != nil {
		return err
	}
	return perr
}

// peekHead waits until the buffer holds the whole next request header and
// returns its length; 0 when it is larger than the buffer or the client
// stopped short of its end (net/http then answers). err is set when the
// connection is done (closed, timed out).
func (fc *fastConn) peekHead() (int, error) {
	br := fc.br
	for {
		buf, _ := br.Peek(br.Buffered())
		if end := headerEnd(buf); end > 0 {
			return end, nil
		}
		if br.Buffered() >= br.Size() {
			return 0, nil
		}
		fc.c.SetReadDeadline(time.Now().Add(fc.s.idle))
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			if br.Buffered() > 0 && !isTimeout(err) {
				return 0, nil
			}
			return 0, err
		}
	}
}

// readRequest reads the request header of length end (peekHead) with
// http.ReadRequest. ok is false when the request is not one for the fast
// path (or net/http should answer it, e.g. with 400); its bytes are then
// in fc.head and fc.br for the hand-over.
func (fc *fastConn) readRequest(end int) (*http.Request, bool) {
	fc.head = fc.head[:0]
	if end == 0 {
		return nil, false
	}
	br := fc.br
	buf, _ := br.Peek(end)
	fc.head = append(fc.head, buf...)
	before := br.Buffered()
	req, err := http.ReadRequest(br) // reads from the buffer only, up to end
	if used := before - br.Buffered(); used < end {
		br.Discard(end - used) // the header is in fc.head for the hand-over
	}
	if err != nil || !fastEligible(req, fc.head) {
		return nil, false
	}
	if tc, ok := fc.c.(*tls.Conn); ok {
		st := tc.ConnectionState()
		req.TLS = &st
	}
	return req, true
}

// onlyForward is the listener's forward when it has no rule but the
// default one and that forwards without group stickiness (the request is
// then forwarded from its header in place, rawReq); else nil.
func (rt *albRoutes) onlyForward() *forwardAction {
	if len(rt.rules) != 1 || len(rt.rules[0].conds) > 0 {
		return nil
	}
	a := rt.rules[0].action
	if a == nil || a.typ != ActionForward || a.fwd == nil || a.fwd.stickiness > 0 {
		return nil
	}
	return a.fwd
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// headerEnd returns the length of the request header at the start of buf
// (through its empty line), or 0 when buf does not hold all of it.
func headerEnd(buf []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		switch {
		case i < len(buf) && buf[i] == '\n':
			return i + 1
		case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
			return i + 2
		}
	}
}

// fastEligible reports whether req (whose header bytes are head) is one
// the fast path forwards as net/http would accept it: HTTP/1.1, no body,
// no Upgrade or Expect, an origin-form target, one valid Host and valid
// header fields.
func fastEligible(req *http.Request, head []byte) bool {
	if req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.ContentLength != 0 || len(req.TransferEncoding) > 0 ||
		req.Method == http.MethodConnect || req.Method == "PRI" ||
		len(req.RequestURI) == 0 || req.RequestURI[0] != '/' || req.Host == "" || !httpguts.ValidHostHeader(req.Host) {
		return false
	}
	if hostLines(head) != 1 {
		return false
	}
	for k, vv := range req.Header {
		switch k {
		case "Upgrade", "Expect", "Content-Length", "Transfer-Encoding":
			return false
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// hostLines counts the Host fields of a request header.
func hostLines(head []byte) int {
	n := 0
	for i := 0; i < len(head); {
		j := bytes.IndexByte(head[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		if len(head)-i >= 5 && (head[i]|0x20) == 'h' && (head[i+1]|0x20) == 'o' && (head[i+2]|0x20) == 's' &&
			(head[i+3]|0x20) == 't' && head[i+4] == ':' {
			n++
		}
	}
	return n
}

// release gives the buffers back (the connection is idle: nothing is
// buffered either way).
func (fc *fastConn) release() {
	if fc.br != nil {
		fc.br.Reset(nil)
		fc.s.pools.readers.Put(fc.br)
		fc.bw.Reset(nil)
		fc.s.pools.writers.Put(fc.bw)
		fc.br, fc.bw = nil, nil
	}
	fc.head = nil
}

func (fc *fastConn) close() {
	fc.s.track(fc.c, false)
	fc.c.Close()
	fc.release()
}

// handOver gives the connection to the listener's net/http server, which
// reads the current request again from fc.head and what is buffered.
func (fc *fastConn) handOver() {
	pre := fc.head
	if n := fc.br.Buffered(); n > 0 {
		rest, _ := fc.br.Peek(n)
		pre = append(pre, rest...)
	}
	fc.head = nil
	fc.release()
	fc.s.track(fc.c, false)
	fc.c.SetReadDeadline(time.Time{})
	fc.s.handoff.give(&prefixConn{Conn: fc.c, pre: pre})
}

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		if len(c.pre) == 0 {
			c.pre = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// handoff is the net.Listener of a listener's net/http server: it yields
// the connections the fast path gives it.
type handoff struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (h *handoff) give(c net.Conn) {
	select {
	case h.ch <- c:
	case <-h.done:
		c.Close()
	}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.ch:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handoff) Addr() net.Addr { return h.addr }
