package memnet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

func dial(t *testing.T, ln *Listener) (client, server net.Conn) {
	t.Helper()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := ln.DialContext(t.Context(), "tcp", "x:80")
	if err != nil {
		t.Fatal(err)
	}
	return client, <-accepted
}

// Writes are buffered (both peers may write before either reads), a read
// deadline interrupts a read at its fake time, a write deadline fails
// later writes, and Close ends the peer's reads after what was written.
func TestConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := Listen()
		defer ln.Close()
		c, s := dial(t, ln)
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte("pong")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		if n, err := s.Read(buf); err != nil || string(buf[:n]) != "ping" {
			t.Fatalf("server read %q, %v", buf[:n], err)
		}

		start := time.Now()
		_ = s.SetReadDeadline(start.Add(time.Second))
		if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
			t.Fatalf("read past the deadline: %v after %s", err, time.Since(start))
		}
		_ = s.SetReadDeadline(time.Time{})
		_ = s.SetWriteDeadline(time.Now().Add(time.Second))
		time.Sleep(time.Second)
		if _, err := s.Write(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write at the deadline: %v", err)
		}
		_ = s.SetWriteDeadline(time.Time{})

		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(buf); err != io.EOF {
			t.Fatalf("read after the peer's Close: %v, want EOF", err)
		}
		if _, err := s.Write(buf); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after the peer's Close: %v", err)
		}

		ln.Close()
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
		if _, err := ln.DialContext(context.Background(), "tcp", "x:80"); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("DialContext after Close: %v", err)
		}
	})
}
