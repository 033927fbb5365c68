package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/store"
)

func testWatchFromNow(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "/k", "before")
	events := watch(t, ctx, s, "/", 0)
	wantQuiet(t, events) // history before the watch is not replayed
	r1 := put(t, ctx, s, "/k", "v1")
	r2 := put(t, ctx, s, "/n", "new")
	r3 := del(t, ctx, s, "/k")
	got := recvN(t, events, 3)
	create := get(t, ctx, s, "/n").CreateRevision
	if create != r2 {
		t.Fatalf("create revision %d, want %d", create, r2)
	}
	kCreate := got[0].KV.CreateRevision
	if kCreate <= 0 || kCreate >= r1 {
		t.Fatalf("event create revision %d for a key created before %d", kCreate, r1)
	}
	wantEvents(t, got, []store.Event{
		putEvent("/k", "v1", kCreate, r1),
		putEvent("/n", "new", r2, r2),
		delEvent("/k", r3),
	})
	wantQuiet(t, events)
}

func testWatchReplay(t *testing.T, ctx context.Context, s store.Store) {
	r0 := revision(t, ctx, s)
	r1 := put(t, ctx, s, "/a", "1")
	r2 := put(t, ctx, s, "/b", "2")
	r3, err := s.Txn(ctx, nil, []store.Op{{Key: "/a", Value: []byte("1b")}, {Key: "/b", Delete: true}, {Key: "/c", Value: []byte("3")}})
	if err != nil {
		t.Fatal(err)
	}
	r4 := del(t, ctx, s, "/a")
	all := []store.Event{
		putEvent("/a", "1", r1, r1),
		putEvent("/b", "2", r2, r2),
		putEvent("/a", "1b", r1, r3),
		delEvent("/b", r3),
		putEvent("/c", "3", r3, r3),
		delEvent("/a", r4),
	}
	for _, c := range []struct {
		from int64
		want []store.Event
	}{
		{r0, all},
		{r1, all[1:]},
		{r2, all[2:]},
		{r3, all[5:]},
		{r4, nil},
	} {
		events := watch(t, ctx, s, "/", c.from)
		wantEvents(t, recvN(t, events, len(c.want)), c.want)
		wantQuiet(t, events)
	}
	// Replay continues seamlessly into live events.
	events := watch(t, ctx, s, "/", r2)
	got := recvN(t, events, 4)
	r5 := put(t, ctx, s, "/d", "4")
	got = append(got, next(t, events))
	wantEvents(t, got, append(slices.Clone(all[2:]), putEvent("/d", "4", r5, r5)))
}

func testWatchPrefix(t *testing.T, ctx context.Context, s store.Store) {
	r0 := revision(t, ctx, s)
	events := watch(t, ctx, s, "/a/", r0)
	put(t, ctx, s, "/b/1", "x")
	r2 := put(t, ctx, s, "/a/1", "y")
	put(t, ctx, s, "/ab/1", "z")
	put(t, ctx, s, "/a", "no slash")
	r5, err := s.Txn(ctx, nil, []store.Op{{Key: "/b/2", Value: []byte("x")}, {Key: "/a/2", Value: []byte("w")}})
	if err != nil {
		t.Fatal(err)
	}
	r6 := del(t, ctx, s, "/a/1")
	del(t, ctx, s, "/b/1")
	wantEvents(t, recvN(t, events, 3), []store.Event{
		putEvent("/a/1", "y", r2, r2),
		putEvent("/a/2", "w", r5, r5),
		delEvent("/a/1", r6),
	})
	wantQuiet(t, events)
}

func testWatchCancel(t *testing.T, ctx context.Context, s store.Store) {
	wctx, cancel := context.WithCancel(ctx)
	events := watch(t, wctx, s, "/", 0)
	r := put(t, ctx, s, "/k", "v")
	wantEvents(t, recvN(t, events, 1), []store.Event{putEvent("/k", "v", r, r)})
	cancel()
	wantClosed(t, events)

	// A consumer that never reads still ends on cancel.
	wctx2, cancel2 := context.WithCancel(ctx)
	unread := watch(t, wctx2, s, "/", 0)
	for i := range 200 {
		put(t, ctx, s, "/k", fmt.Sprint(i))
	}
	cancel2()
	wantClosed(t, unread)

	// Watch on an already canceled context fails or returns a channel
	// that closes.
	if ch, err := s.Watch(wctx, "/", 0); err == nil {
		wantClosed(t, ch)
	}
}

func testWatchFutureRevision(t *testing.T, ctx context.Context, s store.Store) {
	r0 := put(t, ctx, s, "/k", "v0")
	events := watch(t, ctx, s, "/", r0+2)
	put(t, ctx, s, "/k", "v1")
	put(t, ctx, s, "/k", "v2")
	r3 := put(t, ctx, s, "/k", "v3")
	wantEvents(t, recvN(t, events, 1), []store.Event{putEvent("/k", "v3", r0, r3)})
	wantQuiet(t, events)
}

// testWatchNoGapDuringWrites starts watches, from List revisions and from
// "now", while a writer is busy, and checks that each delivers exactly the
// writes after its start: in order, with no gap and no duplicate.
func testWatchNoGapDuringWrites(t *testing.T, ctx context.Context, s store.Store) {
	const writes = 300
	revs := make([]int64, writes) // revs[i]: revision of write i (key /g/i)
	var mu sync.Mutex
	acked := 0 // writes acknowledged so far
	ackedNow := func() int {
		mu.Lock()
		defer mu.Unlock()
		return acked
	}

	// progress is signalled after acknowledged writes, writerDone when
	// the writer returns: the watches start spread over the writes.
	progress, writerDone := make(chan struct{}, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(writerDone)
		for i := range writes {
			rev, err := s.Txn(ctx, nil, []store.Op{{Key: fmt.Sprintf("/g/%04d", i), Value: []byte(fmt.Sprint(i))}})
			if err != nil {
				t.Errorf("write %d: %v", i, err)
				return
			}
			mu.Lock()
			revs[i], acked = rev, i+1
			mu.Unlock()
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	})

	type watcher struct {
		listRev  int64 // 0 for a "from now" watch
		min, max int   // bounds of the first write it must deliver
		ch       <-chan store.Event
	}
	var ws []watcher
	for len(ws) < 10 && ackedNow() < writes {
		before := ackedNow()
		w := watcher{min: before}
		if len(ws)%2 == 0 {
			_, rev, err := s.List(ctx, "/g/", store.ListOptions{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			w.listRev, w.ch = rev, watch(t, ctx, s, "/g/", rev)
		} else {
			// Writes acknowledged before the call are not delivered;
			// writes started after it returned are.
			w.ch = watch(t, ctx, s, "/g/", 0)
		}
		w.max = ackedNow() + 1
		ws = append(ws, w)
		// The writer moves on (one write at least) before the next watch.
		select {
		case <-progress:
		case <-writerDone:
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(ws) == 0 {
		t.Fatal("writer finished before any watch started")
	}

	// A final write ends every watch's expected stream, even one that
	// started after the last write above.
	end := put(t, ctx, s, "/g/end", "end")
	for wi, w := range ws {
		var got []store.Event
		for len(got) == 0 || got[len(got)-1].KV.ModRevision < end {
			got = append(got, next(t, w.ch))
		}
		var first int // index of the first write the watch must deliver
		if w.listRev != 0 {
			first, _ = slices.BinarySearch(revs, w.listRev+1)
		} else {
			if first = slices.Index(revs, got[0].KV.ModRevision); first < 0 {
				first = writes // only the final write
			}
			if first < w.min || first > w.max {
				t.Fatalf("watcher %d (from now) starts at write %d, want within [%d, %d]", wi, first, w.min, w.max)
			}
		}
		var want []store.Event
		for i := first; i < writes; i++ {
			want = append(want, putEvent(fmt.Sprintf("/g/%04d", i), fmt.Sprint(i), revs[i], revs[i]))
		}
		want = append(want, putEvent("/g/end", "end", end, end))
		wantEvents(t, got, want)
		wantQuiet(t, w.ch)
	}
}
