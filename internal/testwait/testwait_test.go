package testwait

import (
	"testing"
	"time"
)

// TestUntilWaitsForTheEvent: Until polls until the condition holds and
// returns then.
func TestUntilWaitsForTheEvent(t *testing.T) {
	polls := 0
	Until(t, 10*time.Second, func() (bool, string) {
		polls++
		return polls == 4, "not yet"
	})
	if polls != 4 {
		t.Fatalf("returned after %d polls, want 4 (the first that held)", polls)
	}
}

// fatalRecorder is a testing.TB that records Fatalf instead of ending the
// test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = format
	panic(r)
}

// TestUntilFailsAtTheDeadline: a condition that never holds fails the
// test once the time is up.
func TestUntilFailsAtTheDeadline(t *testing.T) {
	r := &fatalRecorder{TB: t}
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		Until(r, 100*time.Millisecond, func() (bool, string) { return false, "never" })
	}()
	if r.msg == "" {
		t.Fatal("Until returned for a condition that never held")
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", took)
	}
}
