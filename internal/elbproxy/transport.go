package elbproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// directTransport is the ALB's round tripper to targets. A request
// without a body and without Upgrade (most requests) is written and its
// answer read on the handler's own goroutine over a pooled keep-alive
// connection: no goroutine hand-off per request as in http.Transport,
// which carries every other request (bodies that may stream both ways,
// upgrades).
type directTransport struct {
	fallback *http.Transport
	dialer   *net.Dialer
	timeout  time.Duration // response header timeout (the idle timeout)
	idleFor  time.Duration // how long a pooled connection may sit idle

	mu     sync.Mutex // guards idle and closed
	idle   map[*target][]*pconn
	closed bool
}

// pconn is one connection to a target. It is closed when the target's
// context ends (removed, or its drain deadline passed), in flight or idle.
type pconn struct {
	conn net.Conn
	t    *target
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time   // when it went idle
	stop func() bool // stops the close on the target's end
}

// close closes the connection for good.
func (pc *pconn) close() {
	pc.stop()
	pc.conn.Close()
}

const maxIdlePerTarget = 256

func newDirectTransport(fallback *http.Transport, timeout time.Duration) *directTransport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &directTransport{fallback: fallback, dialer: d, timeout: timeout, idleFor: timeout,
		idle: map[*target][]*pconn{}}
}

func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Body != nil && req.Body != http.NoBody) || req.Header.Get("Upgrade") != "" || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return t.fallback.RoundTrip(req)
	}
	fi, _ := req.Context().Value(fwdKey{}).(*fwdInfo)
	if fi == nil {
		return t.fallback.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		pc, reused, err := t.get(req.Context(), fi.t)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(pc, req)
		if err == nil {
			return resp, nil
		}
		pc.close()
		// A pooled connection the target closed while it was idle fails
		// before any answer: an idempotent request tries once more on a
		// new one (as http.Transport does).
		if reused && attempt == 0 && idempotent(req.Method) && req.Context().Err() == nil && fi.t.ctx.Err() == nil && errors.Is(err, errStale) {
			continue
		}
		return nil, unwrapStale(err)
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// errStale marks a failure before any byte of the answer arrived.
var errStale = errors.New("connection closed before the answer")

type staleError struct{ err error }

func (e staleError) Error() string   { return e.err.Error() }
func (e staleError) Unwrap() []error { return []error{errStale, e.err} }
func unwrapStale(err error) error {
	var se staleError
	if errors.As(err, &se) {
		return se.err
	}
	return err
}

// exchange writes req on pc and reads the answer's header.
func (t *directTransport) exchange(pc *pconn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { pc.conn.SetDeadline(time.Unix(1, 0)) })
	pc.conn.SetDeadline(time.Now().Add(t.timeout))
	if err := req.Write(pc.bw); err != nil {
		stop()
		return nil, staleError{err}
	}
	if err := pc.bw.Flush(); err != nil {
		stop()
		return nil, staleError{err}
	}
	if _, err := pc.br.Peek(1); err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, err
		}
		return nil, staleError{err}
	}
	resp, err := http.ReadResponse(pc.br, req)
	if err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	pc.conn.SetDeadline(time.Time{})
	if ctx.Err() != nil { // canceled just before the line above cleared the poison
		pc.conn.SetDeadline(time.Unix(1, 0))
	}
	resp.Body = &pbody{rc: resp.Body, pc: pc, t: t, stop: stop,
		keep: !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols}
	return resp, nil
}

// pbody returns its connection to the pool once read to the end.
type pbody struct {
	rc   io.ReadCloser
	pc   *pconn
	t    *directTransport
	stop func() bool
	keep bool
	done bool
}

func (b *pbody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *pbody) Close() error {
	if !b.done {
		b.finish(false) // not read to the end: the connection cannot be reused
	}
	return nil
}

func (b *pbody) finish(eof bool) {
	b.done = true
	canceled := !b.stop() // the request's context ended: the deadline was poisoned
	b.rc.Close()
	if eof && b.keep && !canceled {
		b.t.put(b.pc)
		return
	}
	b.pc.close()
}

// get returns an idle connection to tg, or a new one.
func (t *directTransport) get(ctx context.Context, tg *target) (*pconn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for list := t.idle[tg]; len(list) > 0; list = t.idle[tg] {
		pc := list[len(list)-1]
		list[len(list)-1] = nil
		if len(list) == 1 {
			delete(t.idle, tg)
		} else {
			t.idle[tg] = list[:len(list)-1]
		}
		if now.Sub(pc.used) < t.idleFor && tg.ctx.Err() == nil {
			t.mu.Unlock()
			return pc, true, nil
		}
		pc.close()
	}
	t.mu.Unlock()
	if err := tg.ctx.Err(); err != nil {
		return nil, false, err
	}
	c, err := dialTarget(ctx, t.dialer, tg)
	if err != nil {
		return nil, false, err
	}
	pc := &pconn{conn: c, t: tg, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}
	pc.stop = context.AfterFunc(tg.ctx, func() {
		c.Close()
		t.forget(tg)
	})
	return pc, false, nil
}

// forget drops the pooled connections of a target that has ended (each
// closes itself).
func (t *directTransport) forget(tg *target) {
	t.mu.Lock()
	delete(t.idle, tg)
	t.mu.Unlock()
}

func (t *directTransport) put(pc *pconn) {
	pc.used = time.Now()
	t.mu.Lock()
	if t.closed || len(t.idle[pc.t]) >= maxIdlePerTarget || pc.br.Buffered() > 0 || pc.t.ctx.Err() != nil {
		t.mu.Unlock()
		pc.close()
		return
	}
	t.idle[pc.t] = append(t.idle[pc.t], pc)
	t.mu.Unlock()
}

// CloseIdleConnections closes the pooled connections and stops pooling.
func (t *directTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[*target][]*pconn{}
	t.closed = true
	t.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.close()
		}
	}
	t.fallback.CloseIdleConnections()
}
