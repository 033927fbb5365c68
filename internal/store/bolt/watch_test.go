package bolt

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// TestSlowWatcherFallsBehind checks the one way a watch can end early: a
// consumer that stops reading while more than HistoryLimit revisions pass
// its position. It receives a gap-free prefix of the events (possibly
// empty: on a loaded machine the watch goroutine may not have run before
// the writes passed it), then its channel closes.
func TestSlowWatcherFallsBehind(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), Options{HistoryLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	// The watcher can hold at most its channel buffer plus one read batch;
	// write well past that without reading.
	writes := watchBuffer + maxReadRevs + 50
	var first int64
	for i := range writes {
		rev, err := s.Txn(ctx, nil, []store.Op{{Key: fmt.Sprintf("/k/%04d", i), Value: []byte("v")}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = rev
		}
	}
	want := first
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if n := want - first; n >= int64(writes) {
					t.Fatalf("received %d of %d events before the close", n, writes)
				}
				return
			}
			if ev.KV.ModRevision != want {
				t.Fatalf("event at revision %d, want %d", ev.KV.ModRevision, want)
			}
			want++
		case <-timeout:
			t.Fatalf("watch neither delivered nor closed; next revision %d", want)
		}
	}
}
