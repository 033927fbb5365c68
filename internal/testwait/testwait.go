package testwait

import (
	"testing"
	"time"
)

// Until polls cond until it reports done and fails the test with cond's
// last status once within has passed (or the test's context ends). It
// polls often at first (every 5 ms), then less (up to every 200 ms). cond
// runs on the test's goroutine, so it may fail the test itself (on a
// state that rules out the one awaited).
func Until(t testing.TB, within time.Duration, cond func() (done bool, status string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	pause := 5 * time.Millisecond
	for {
		done, status := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, status)
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-t.Context().Done():
			timer.Stop()
			t.Fatalf("test ended while waiting: %s", status)
		}
		pause = min(pause*3/2, 200*time.Millisecond)
	}
}
