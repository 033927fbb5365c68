package acs

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"

	"github.com/berth-dev/berth/internal/memnet"
)

// Heartbeats keep a session up far past the three silent intervals after
// which either side drops it (fake time: the intervals are exact).
func TestSessionHeartbeatsKeepItUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const hb = 10 * time.Second
		srv := &Server{Heartbeat: hb, Connect: func(context.Context, *Session) error { return nil }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
		ln := memnet.Listen()
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
		ln := memnet.Listen()
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
