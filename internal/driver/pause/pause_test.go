package pause

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

func TestWaitReturnsOnSIGTERM(t *testing.T) {
	// Keep SIGTERM from killing the test binary before Wait registers.
	guard := make(chan os.Signal, 16)
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)
	done := make(chan struct{})
	go func() {
		Wait(context.Background())
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-done:
			return
		case <-deadline:
			t.Fatal("Wait did not return after SIGTERM")
		case <-time.After(50 * time.Millisecond):
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		}
	}
}

func TestWaitReturnsOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	Wait(ctx)
}

func TestIsPause(t *testing.T) {
	if !IsPause([]string{"/berth", "pause"}) || IsPause([]string{"/berth"}) || IsPause([]string{"/berth", "pause", "x"}) {
		t.Fatal("IsPause")
	}
}
