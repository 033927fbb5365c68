package logscp

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logstore"
)

var sc = logs.Scope{Account: "000000000000", Region: "us-east-1"}

func newPlane(t *testing.T) *Plane {
	st, err := logstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(Config{Store: st})
}

func TestGetForwardBackward(t *testing.T) {
	p := newPlane(t)
	must(t, p.CreateGroup(sc, "g", nil))
	must(t, p.CreateStream(sc, "g", "s"))
	now := time.Now().UnixMilli()
	var evs []logs.InputEvent
	for i := range 25 {
		evs = append(evs, logs.InputEvent{Timestamp: now + int64(i), Message: fmt.Sprint(i)})
	}
	if _, err := p.Put(sc, "g", "s", evs); err != nil {
		t.Fatal(err)
	}
	// From the head, pages of 10 forward until the token repeats.
	var got []string
	r, err := p.Get(sc, GetQuery{Group: "g", Stream: "s", StartFromHead: true, Limit: 10})
	for err == nil && len(r.Events) > 0 {
		for _, e := range r.Events {
			got = append(got, e.Message)
		}
		r, err = p.Get(sc, GetQuery{Group: "g", Stream: "s", Token: r.ForwardToken, Limit: 10})
	}
	if err != nil || len(got) != 25 || got[24] != "24" {
		t.Fatalf("forward: %v %v", got, err)
	}
	// Default: the latest events; backward pages walk to the start.
	r, _ = p.Get(sc, GetQuery{Group: "g", Stream: "s", Limit: 10})
	if len(r.Events) != 10 || r.Events[0].Message != "15" || r.Events[9].Message != "24" {
		t.Fatalf("latest page %v", r.Events)
	}
	r, _ = p.Get(sc, GetQuery{Group: "g", Stream: "s", Token: r.BackwardToken, Limit: 10})
	if len(r.Events) != 10 || r.Events[0].Message != "5" {
		t.Fatalf("backward page %v", r.Events)
	}
	start, end := now+3, now+6
	r, _ = p.Get(sc, GetQuery{Group: "g", Stream: "s", StartFromHead: true, Start: &start, End: &end})
	if len(r.Events) != 3 || r.Events[0].Message != "3" {
		t.Fatalf("time range %v", r.Events)
	}
}

func TestFilterInterleavedPaged(t *testing.T) {
	p := newPlane(t)
	must(t, p.CreateGroup(sc, "g", nil))
	now := time.Now().UnixMilli()
	for _, s := range []string{"a", "b", "c"} {
		must(t, p.CreateStream(sc, "g", s))
		var evs []logs.InputEvent
		for i := range 30 {
			lvl := "INFO"
			if i%3 == 0 {
				lvl = "ERROR"
			}
			evs = append(evs, logs.InputEvent{Timestamp: now + int64(i*3), Message: fmt.Sprintf("%s %s %d", lvl, s, i)})
		}
		if _, err := p.Put(sc, "g", s, evs); err != nil {
			t.Fatal(err)
		}
	}
	var got []FilteredEvent
	tok := ""
	for {
		r, err := p.Filter(sc, FilterQuery{Group: "g", Pattern: "ERROR", Token: tok, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Events...)
		if tok = r.NextToken; tok == "" {
			break
		}
	}
	if len(got) != 30 {
		t.Fatalf("%d matches, want 30", len(got))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.EventID] {
			t.Fatalf("duplicate %s", e.EventID)
		}
		seen[e.EventID] = true
		if i > 0 && e.Timestamp < got[i-1].Timestamp {
			t.Fatalf("not interleaved at %d", i)
		}
	}
	r, _ := p.Filter(sc, FilterQuery{Group: "g", StreamNames: []string{"b"}, Pattern: "?\"b 1\" ?\"b 2\" -INFO"})
	if len(r.Events) != 6 || r.Events[0].Message != "ERROR b 12" || r.Events[5].Message != "ERROR b 27" {
		t.Fatalf("alternatives and exclusion: %v", r.Events)
	}
	if _, err := p.Filter(sc, FilterQuery{Group: "g", Pattern: "{ $.x = "}); err == nil {
		t.Fatal("bad pattern accepted")
	}
}

func TestRetentionReconciler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlane(t)
		must(t, p.CreateGroup(sc, "g", nil))
		must(t, p.CreateStream(sc, "g", "s"))
		if _, err := p.Put(sc, "g", "s", []logs.InputEvent{{Timestamp: time.Now().UnixMilli(), Message: "old"}}); err != nil {
			t.Fatal(err)
		}
		must(t, p.SetRetention(sc, "g", 1))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		r := &Retention{Plane: p}
		go func() { r.Run(ctx); close(done) }()
		synctest.Wait()
		if r, _ := p.Get(sc, GetQuery{Group: "g", Stream: "s"}); len(r.Events) != 1 {
			t.Fatal("a fresh event expired")
		}
		time.Sleep(25 * time.Hour)
		synctest.Wait()
		s, _, _ := p.st.Stream(sc, "g", "s")
		if first, next := s.Bounds(); first != next {
			t.Fatalf("expired data still stored: %d..%d", first, next)
		}
		cancel()
		<-done
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLiveTail: a session gets the events put after it started that match
// its streams and pattern, sampled down to 500 an update.
func TestLiveTail(t *testing.T) {
	p := newPlane(t)
	must(t, p.CreateGroup(sc, "g", nil))
	must(t, p.CreateStream(sc, "g", "app/1"))
	must(t, p.CreateStream(sc, "g", "other"))
	if _, err := p.StartTail(sc, TailQuery{Groups: []string{"nope"}}); err == nil {
		t.Fatal("a session on a missing group started")
	}
	tail, err := p.StartTail(sc, TailQuery{Groups: []string{"g"}, Prefixes: []string{"app/"}, Pattern: "ERROR"})
	must(t, err)
	defer tail.Close()
	now := time.Now().UnixMilli()
	_, err = p.Put(sc, "g", "app/1", []logs.InputEvent{{Timestamp: now, Message: "INFO a"}, {Timestamp: now, Message: "ERROR b"}})
	must(t, err)
	_, err = p.Put(sc, "g", "other", []logs.InputEvent{{Timestamp: now, Message: "ERROR c"}})
	must(t, err)
	evs, sampled := tail.Next()
	if len(evs) != 1 || evs[0].Message != "ERROR b" || evs[0].Stream != "app/1" || evs[0].IngestionTime == 0 || sampled {
		t.Fatalf("events %+v sampled %v", evs, sampled)
	}
	var many []logs.InputEvent
	for i := range 1200 {
		many = append(many, logs.InputEvent{Timestamp: now, Message: fmt.Sprint("ERROR ", i)})
	}
	_, err = p.Put(sc, "g", "app/1", many)
	must(t, err)
	if evs, sampled := tail.Next(); len(evs) != MaxTailUpdateEvents || !sampled {
		t.Fatalf("%d events, sampled %v; want %d sampled", len(evs), sampled, MaxTailUpdateEvents)
	}
	if evs, _ := tail.Next(); len(evs) != 0 {
		t.Fatalf("%d events after they were taken", len(evs))
	}
}
