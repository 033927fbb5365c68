package harness

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreeAddrIsFree(t *testing.T) {
	addr := FreeAddr()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreeAddr %s cannot be listened on: %v", addr, err)
	}
	l.Close()
}

func TestWaitUp(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_berth/health" || !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := WaitUp(ctx, srv.URL); err == nil {
		t.Fatal("WaitUp returned nil for a server that never turned healthy")
	}
	up.Store(true)
	if err := WaitUp(t.Context(), srv.URL); err != nil {
		t.Fatalf("WaitUp: %v", err)
	}
}

func TestStopProcess(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	StopProcess(cmd)
	if cmd.ProcessState == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("process not stopped and waited for (state %v after %v)", cmd.ProcessState, time.Since(start))
	}
	StopProcess(exec.Command("true")) // never started: nothing to do
}
