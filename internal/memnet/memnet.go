package memnet

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Listener is an in-memory net.Listener; DialContext connects to it.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Listen returns a new listener.
func Listen() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for a connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and DialContext; open connections stay open.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the listener's (constant) address.
func (l *Listener) Addr() net.Addr { return addr{} }

// DialContext connects to the listener (an http.Transport's DialContext).
func (l *Listener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
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

type addr struct{}

func (addr) Network() string { return "memnet" }
func (addr) String() string  { return "memnet" }

// half is one direction of a bufConn: an unbounded buffer, with the
// reader's deadline (net/http interrupts a background read with one).
type half struct {
	mu       sync.Mutex
	cond     sync.Cond
	buf      bytes.Buffer
	closed   bool
	deadline time.Time // of reads
	timer    *time.Timer
	wdead    time.Time // of writes (which never block: checked when called)
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
	if !h.wdead.IsZero() && !time.Now().Before(h.wdead) {
		return 0, os.ErrDeadlineExceeded
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

func (c *bufConn) LocalAddr() net.Addr  { return addr{} }
func (c *bufConn) RemoteAddr() net.Addr { return addr{} }

// SetDeadline sets the read and write deadlines.
func (c *bufConn) SetDeadline(t time.Time) error {
	c.r.setDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline interrupts a read waiting at t.
func (c *bufConn) SetReadDeadline(t time.Time) error {
	c.r.setDeadline(t)
	return nil
}

// SetWriteDeadline makes writes from t on fail.
func (c *bufConn) SetWriteDeadline(t time.Time) error {
	c.w.mu.Lock()
	c.w.wdead = t
	c.w.mu.Unlock()
	return nil
}
