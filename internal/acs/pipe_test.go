package acs

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
)

// pipeListener is an in-memory net.Listener: a server and its clients on
// it run inside a synctest bubble, in fake time. Its connections buffer
// what is written, as TCP does (a net.Pipe does not: two peers that both
// write before reading would block each other).
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// DialContext connects to the listener (an http.Transport's DialContext).
func (l *pipeListener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	up, down := newHalf(), newHalf()
	client, server := &bufConn{r: down, w: up}, &bufConn{r: up, w: down}
	select {
	case l.conns <- server:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// half is one direction of a bufConn: an unbounded buffer, with the
// reader's deadline (net/http interrupts a background read with one).
type half struct {
	mu       sync.Mutex
	cond     sync.Cond
	buf      bytes.Buffer
	closed   bool
	deadline time.Time
	timer    *time.Timer
}

func newHalf() *half {
	h := &half{}
	h.cond.L = &h.mu
	return h
}

func (h *half) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cond.Broadcast()
}

func (h *half) setDeadline(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deadline = t
	if h.timer != nil {
		h.timer.Stop()
	}
	if !t.IsZero() {
		h.timer = time.AfterFunc(time.Until(t), func() {
			h.mu.Lock()
			h.mu.Unlock()
			h.cond.Broadcast()
		})
	}
}

// bufConn is one end of an in-memory connection.
type bufConn struct{ r, w *half }

func (c *bufConn) Read(p []byte) (int, error) {
	h := c.r
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		switch {
		case !h.deadline.IsZero() && !time.Now().Before(h.deadline):
			return 0, os.ErrDeadlineExceeded
		case h.buf.Len() > 0:
			return h.buf.Read(p)
		case h.closed:
			return 0, io.EOF
		}
		h.cond.Wait()
	}
}

func (c *bufConn) Write(p []byte) (int, error) {
	h := c.w
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, net.ErrClosed
	}
	h.buf.Write(p)
	h.cond.Broadcast()
	return len(p), nil
}

func (c *bufConn) Close() error {
	c.r.close()
	c.w.close()
	return nil
}

func (c *bufConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *bufConn) RemoteAddr() net.Addr { return pipeAddr{} }

// SetDeadline and SetReadDeadline bound reads; writes never block.
func (c *bufConn) SetDeadline(t time.Time) error     { c.r.setDeadline(t); return nil }
func (c *bufConn) SetReadDeadline(t time.Time) error { c.r.setDeadline(t); return nil }
func (c *bufConn) SetWriteDeadline(time.Time) error  { return nil }

// Heartbeats keep a session up far past the three silent intervals after
// which either side drops it (fake time: the intervals are exact).
func TestSessionHeartbeatsKeepItUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const hb = 10 * time.Second
		srv := &Server{Heartbeat: hb, Connect: func(context.Context, *Session) error { return nil }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
		ln := newPipeListener()
		hs := &http.Server{Handler: srv}
		served := make(chan struct{})
		go func() { _ = hs.Serve(ln); close(served) }()
		tr := &http.Transport{DialContext: ln.DialContext}
		ctx, cancel := context.WithCancel(t.Context())
		t.Cleanup(func() {
			cancel()
			tr.CloseIdleConnections()
			_ = hs.Close()
			<-served
		})

		c := &Client{Endpoint: "http://acs.test/", ClusterARN: "cluster", InstanceARN: "inst", Heartbeat: hb,
			HTTPClient: &http.Client{Transport: tr}}
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx, nil) }()
		synctest.Wait()
		s := srv.Hub.Session("inst")
		if s == nil {
			t.Fatal("no session")
		}
		time.Sleep(10 * hb)
		synctest.Wait()
		if got := srv.Hub.Session("inst"); got != s {
			t.Fatalf("after %s the session is %p, want the first one %p: dropped despite heartbeats", 10*hb, got, s)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("client Run after cancel: %v", err)
		}
	})
}

// An agent that falls silent is dropped after three heartbeat intervals
// without a word from it, not before.
func TestSessionSilentAgentDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const hb = 10 * time.Second
		srv := &Server{Heartbeat: hb, Connect: func(context.Context, *Session) error { return nil }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
		ln := newPipeListener()
		hs := &http.Server{Handler: srv}
		served := make(chan struct{})
		go func() { _ = hs.Serve(ln); close(served) }()
		tr := &http.Transport{DialContext: ln.DialContext}
		t.Cleanup(func() {
			tr.CloseIdleConnections()
			_ = hs.Close()
			<-served
		})

		c := &Client{Endpoint: "http://acs.test/", ClusterARN: "cluster", InstanceARN: "inst"}
		conn, _, err := websocket.Dial(t.Context(), c.SessionURL(), &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		synctest.Wait()
		if srv.Hub.Session("inst") == nil {
			t.Fatal("no session")
		}
		time.Sleep(3 * hb) // the 3rd tick: silent for exactly 3 intervals
		synctest.Wait()
		if srv.Hub.Session("inst") == nil {
			t.Fatalf("dropped after %s of silence; want after more than %s", 3*hb, 3*hb)
		}
		time.Sleep(hb)
		synctest.Wait()
		if srv.Hub.Session("inst") != nil {
			t.Fatalf("still up after %s of silence", 4*hb)
		}
	})
}
