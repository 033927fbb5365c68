// Package storetest is the conformance suite for store.Store backends.
//
// A backend's test calls Run with a function that opens a fresh, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// open is called once per subtest. It should fail the test on error and
// register a t.Cleanup that closes the store; the suite closes some stores
// itself, so a second Close must be harmless (its error is ignored).
//
// The suite assumes nothing about a fresh store's revision number, only
// that it moves as the contract says. The compaction subtest needs the
// backend to implement Compactor and is skipped otherwise.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Compactor is implemented by backends that can discard watch history on
// request. Compact(rev) makes Watch from any revision below rev fail with
// store.ErrCompacted, while Watch from rev itself still works.
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// timeout bounds every subtest; waitEvent bounds the wait for one event.
const (
	timeout   = 60 * time.Second
	waitEvent = 10 * time.Second
	// quiet is how long a watch must stay silent to show that no
	// (further) event is coming.
	quiet = 100 * time.Millisecond
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s store.Store)
	}{
		{"InitialRevision", testInitialRevision},
		{"GetNotFound", testGetNotFound},
		{"PutOverwrite", testPutOverwrite},
		{"CreateRevisionStable", testCreateRevisionStable},
		{"EmptyValue", testEmptyValue},
		{"CompareMissingKey", testCompareMissingKey},
		{"CompareModRevision", testCompareModRevision},
		{"ComparePrefix", testComparePrefix},
		{"ConflictWritesNothing", testConflictWritesNothing},
		{"MultiOpAtomic", testMultiOpAtomic},
		{"Delete", testDelete},
		{"NoOpTxn", testNoOpTxn},
		{"InvalidArguments", testInvalidArguments},
		{"CanceledContext", testCanceledContext},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"ListSnapshotRevision", testListSnapshotRevision},
		{"ValuesAreCopies", testValuesAreCopies},
		{"WatchFromNow", testWatchFromNow},
		{"WatchReplay", testWatchReplay},
		{"WatchPrefix", testWatchPrefix},
		{"WatchCancel", testWatchCancel},
		{"WatchFutureRevision", testWatchFutureRevision},
		{"WatchNoGapDuringWrites", testWatchNoGapDuringWrites},
		{"ConcurrentCAS", testConcurrentCAS},
		{"Compacted", testCompacted},
		{"Close", testClose},
		{"WatchLastOfRevision", testWatchLastOfRevision},
		{"ReadYourWrites", testReadYourWrites},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			tc.fn(t, ctx, open(t))
		})
	}
}

// --- helpers ---

func put(t *testing.T, ctx context.Context, s store.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte(value)}})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return rev
}

func del(t *testing.T, ctx context.Context, s store.Store, key string) int64 {
	t.Helper()
	rev, err := s.Txn(ctx, nil, []store.Op{{Key: key, Delete: true}})
	if err != nil {
		t.Fatalf("delete %q: %v", key, err)
	}
	return rev
}

func get(t *testing.T, ctx context.Context, s store.Store, key string) store.KV {
	t.Helper()
	kv, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return kv
}

func revision(t *testing.T, ctx context.Context, s store.Store) int64 {
	t.Helper()
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	return rev
}

func wantNotFound(t *testing.T, ctx context.Context, s store.Store, key string) {
	t.Helper()
	if kv, err := s.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get %q = %+v, %v; want ErrNotFound", key, kv, err)
	}
}

func wantKV(t *testing.T, got store.KV, key, value string, createRev, modRev int64) {
	t.Helper()
	if got.Key != key || string(got.Value) != value || got.CreateRevision != createRev || got.ModRevision != modRev {
		t.Fatalf("got {%q %q create=%d mod=%d}, want {%q %q create=%d mod=%d}",
			got.Key, got.Value, got.CreateRevision, got.ModRevision, key, value, createRev, modRev)
	}
}

func watch(t *testing.T, ctx context.Context, s store.Store, prefix string, fromRev int64) <-chan store.Event {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, fromRev)
	if err != nil {
		t.Fatalf("watch %q from %d: %v", prefix, fromRev, err)
	}
	return ch
}

// next receives one event, failing on close or timeout.
func next(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed, want an event")
		}
		return ev
	case <-time.After(waitEvent):
		t.Fatalf("no watch event within %v", waitEvent)
	}
	panic("unreachable")
}

// recvN receives exactly n events.
func recvN(t *testing.T, ch <-chan store.Event, n int) []store.Event {
	t.Helper()
	evs := make([]store.Event, 0, n)
	for range n {
		evs = append(evs, next(t, ch))
	}
	return evs
}

// wantQuiet checks that no event arrives for a while.
func wantQuiet(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected watch event %s", fmtEvent(ev))
		}
		t.Fatal("watch channel closed unexpectedly")
	case <-time.After(quiet):
	}
}

// wantClosed waits for the channel to close, draining events.
func wantClosed(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	deadline := time.After(waitEvent)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("watch channel not closed within %v", waitEvent)
		}
	}
}

func fmtEvent(ev store.Event) string {
	typ := map[store.EventType]string{store.EventPut: "PUT", store.EventDelete: "DELETE"}[ev.Type]
	if typ == "" {
		typ = fmt.Sprintf("type(%d)", ev.Type)
	}
	return fmt.Sprintf("%s %q=%q create=%d mod=%d", typ, ev.KV.Key, ev.KV.Value, ev.KV.CreateRevision, ev.KV.ModRevision)
}

func putEvent(key, value string, createRev, modRev int64) store.Event {
	return store.Event{Type: store.EventPut, KV: store.KV{Key: key, Value: []byte(value), CreateRevision: createRev, ModRevision: modRev}}
}

func delEvent(key string, modRev int64) store.Event {
	return store.Event{Type: store.EventDelete, KV: store.KV{Key: key, ModRevision: modRev}}
}

func eventsEqual(a, b store.Event) bool {
	return a.Type == b.Type && a.KV.Key == b.KV.Key && bytes.Equal(a.KV.Value, b.KV.Value) &&
		(a.KV.Value == nil) == (b.KV.Value == nil) &&
		a.KV.CreateRevision == b.KV.CreateRevision && a.KV.ModRevision == b.KV.ModRevision
}

func wantEvents(t *testing.T, got, want []store.Event) {
	t.Helper()
	if !slices.EqualFunc(got, want, eventsEqual) {
		var b bytes.Buffer
		for _, ev := range got {
			fmt.Fprintf(&b, "\n  got  %s", fmtEvent(ev))
		}
		for _, ev := range want {
			fmt.Fprintf(&b, "\n  want %s", fmtEvent(ev))
		}
		t.Fatalf("watch events differ:%s", b.String())
	}
}

func keysOf(kvs []store.KV) []string {
	keys := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i] = kv.Key
	}
	return keys
}

// --- tests ---

func testInitialRevision(t *testing.T, ctx context.Context, s store.Store) {
	rev := revision(t, ctx, s)
	if rev < 1 {
		t.Fatalf("Revision of a new store = %d, want >= 1", rev)
	}
	kvs, lrev, err := s.List(ctx, "/", store.ListOptions{})
	if err != nil || len(kvs) != 0 || lrev != rev {
		t.Fatalf("List of a new store = %d keys, revision %d, %v; want 0 keys at %d", len(kvs), lrev, err, rev)
	}
	// Watching from the very first revision replays the first write.
	events := watch(t, ctx, s, "/", rev)
	r := put(t, ctx, s, "/first", "1")
	wantEvents(t, recvN(t, events, 1), []store.Event{putEvent("/first", "1", r, r)})
}

func testGetNotFound(t *testing.T, ctx context.Context, s store.Store) {
	wantNotFound(t, ctx, s, "/missing")
	put(t, ctx, s, "/a", "1")
	wantNotFound(t, ctx, s, "/a/")
	wantNotFound(t, ctx, s, "/")
}

func testPutOverwrite(t *testing.T, ctx context.Context, s store.Store) {
	r0 := revision(t, ctx, s)
	r1 := put(t, ctx, s, "/k", "v1")
	if r1 <= r0 {
		t.Fatalf("put revision %d, want > %d", r1, r0)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "v1", r1, r1)
	r2 := put(t, ctx, s, "/k", "v2")
	if r2 <= r1 {
		t.Fatalf("overwrite revision %d, want > %d", r2, r1)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "v2", r1, r2)
	if got := revision(t, ctx, s); got != r2 {
		t.Fatalf("Revision = %d, want %d", got, r2)
	}
	r3 := put(t, ctx, s, "/other", "x")
	if r3 <= r2 {
		t.Fatalf("revision %d after %d", r3, r2)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "v2", r1, r2)
}

func testCreateRevisionStable(t *testing.T, ctx context.Context, s store.Store) {
	created := put(t, ctx, s, "/k", "0")
	last := created
	for i := 1; i <= 5; i++ {
		last = put(t, ctx, s, "/k", fmt.Sprint(i))
		wantKV(t, get(t, ctx, s, "/k"), "/k", fmt.Sprint(i), created, last)
	}
	del(t, ctx, s, "/k")
	recreated := put(t, ctx, s, "/k", "again")
	if recreated <= last {
		t.Fatalf("re-create revision %d, want > %d", recreated, last)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "again", recreated, recreated)
}

func testEmptyValue(t *testing.T, ctx context.Context, s store.Store) {
	rev, err := s.Txn(ctx, nil, []store.Op{{Key: "/empty"}})
	if err != nil {
		t.Fatal(err)
	}
	kv := get(t, ctx, s, "/empty")
	wantKV(t, kv, "/empty", "", rev, rev)
}

func testCompareMissingKey(t *testing.T, ctx context.Context, s store.Store) {
	create := []store.Compare{{Key: "/k", ModRevision: 0}}
	r1, err := s.Txn(ctx, create, []store.Op{{Key: "/k", Value: []byte("first")}})
	if err != nil {
		t.Fatalf("create-if-missing on a missing key: %v", err)
	}
	if _, err := s.Txn(ctx, create, []store.Op{{Key: "/k", Value: []byte("second")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create-if-missing on an existing key: %v, want ErrConflict", err)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "first", r1, r1)

	// A non-zero expected revision on a missing key conflicts.
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/nope", ModRevision: r1}}, []store.Op{{Key: "/nope", Value: []byte("x")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("compare rev %d on a missing key: %v, want ErrConflict", r1, err)
	}
	wantNotFound(t, ctx, s, "/nope")

	// After a delete the key is missing again.
	del(t, ctx, s, "/k")
	if _, err := s.Txn(ctx, create, []store.Op{{Key: "/k", Value: []byte("third")}}); err != nil {
		t.Fatalf("create-if-missing after delete: %v", err)
	}
}

func testCompareModRevision(t *testing.T, ctx context.Context, s store.Store) {
	r1 := put(t, ctx, s, "/k", "v1")
	r2 := put(t, ctx, s, "/k", "v2")
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r1}}, []store.Op{{Key: "/k", Value: []byte("stale")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale compare: %v, want ErrConflict", err)
	}
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r2 + 1000}}, []store.Op{{Key: "/k", Value: []byte("future")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("future compare: %v, want ErrConflict", err)
	}
	if got := revision(t, ctx, s); got != r2 {
		t.Fatalf("Revision after conflicts = %d, want %d", got, r2)
	}
	r3, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r2}}, []store.Op{{Key: "/k", Value: []byte("v3")}})
	if err != nil {
		t.Fatalf("matching compare: %v", err)
	}
	wantKV(t, get(t, ctx, s, "/k"), "/k", "v3", r1, r3)

	// A compare on one key can guard a write to another.
	r4, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r3}}, []store.Op{{Key: "/guarded", Value: []byte("g")}})
	if err != nil {
		t.Fatalf("compare on another key: %v", err)
	}
	wantKV(t, get(t, ctx, s, "/guarded"), "/guarded", "g", r4, r4)
}

func testComparePrefix(t *testing.T, ctx context.Context, s store.Store) {
	put(t, ctx, s, "/tasks/a/1", "x")
	put(t, ctx, s, "/tasks/b/1", "x")
	seen := revision(t, ctx, s)
	guard := func(rev int64) []store.Compare {
		return []store.Compare{{Key: "/tasks/a/", ModRevision: rev, Prefix: true}}
	}
	// Nothing under the prefix changed since seen: the compare holds, also
	// when keys outside it change.
	put(t, ctx, s, "/tasks/b/2", "x")
	put(t, ctx, s, "/tasks/ab", "x") // shares the bytes "/tasks/a" but not the prefix
	if _, err := s.Txn(ctx, guard(seen), []store.Op{{Key: "/cluster", Value: []byte("deleted")}}); err != nil {
		t.Fatalf("prefix unchanged: %v", err)
	}
	// A key created under the prefix after seen fails it and writes nothing.
	put(t, ctx, s, "/tasks/a/2", "x")
	before := revision(t, ctx, s)
	if _, err := s.Txn(ctx, guard(seen), []store.Op{{Key: "/cluster", Value: []byte("again")}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("key created under the prefix: %v, want ErrConflict", err)
	}
	if got := revision(t, ctx, s); got != before {
		t.Fatalf("revision moved to %d on a failed prefix compare", got)
	}
	if kv := get(t, ctx, s, "/cluster"); string(kv.Value) != "deleted" {
		t.Fatalf("a failed prefix compare wrote %q", kv.Value)
	}
	// An update of an existing key under the prefix fails it too.
	now := revision(t, ctx, s)
	put(t, ctx, s, "/tasks/a/1", "y")
	if _, err := s.Txn(ctx, guard(now), nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("key updated under the prefix: %v, want ErrConflict", err)
	}
	// A prefix with no keys holds for any revision.
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/none/", ModRevision: 0, Prefix: true}}, []store.Op{{Key: "/z", Value: []byte("z")}}); err != nil {
		t.Fatalf("empty prefix: %v", err)
	}
}

func testConflictWritesNothing(t *testing.T, ctx context.Context, s store.Store) {
	ra := put(t, ctx, s, "/a", "a0")
	rb := put(t, ctx, s, "/b", "b0")
	before := revision(t, ctx, s)
	events := watch(t, ctx, s, "/", before)

	cmps := []store.Compare{
		{Key: "/a", ModRevision: ra}, // holds
		{Key: "/b", ModRevision: ra}, // fails: /b is at rb
	}
	ops := []store.Op{
		{Key: "/a", Value: []byte("a1")},
		{Key: "/c", Value: []byte("c1")},
		{Key: "/b", Delete: true},
	}
	if _, err := s.Txn(ctx, cmps, ops); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("txn with a failing compare: %v, want ErrConflict", err)
	}
	wantKV(t, get(t, ctx, s, "/a"), "/a", "a0", ra, ra)
	wantKV(t, get(t, ctx, s, "/b"), "/b", "b0", rb, rb)
	wantNotFound(t, ctx, s, "/c")
	if got := revision(t, ctx, s); got != before {
		t.Fatalf("Revision after conflict = %d, want %d", got, before)
	}
	// The failed txn produced no event: the first event is the next write.
	r := put(t, ctx, s, "/d", "d")
	wantEvents(t, recvN(t, events, 1), []store.Event{putEvent("/d", "d", r, r)})
}

func testMultiOpAtomic(t *testing.T, ctx context.Context, s store.Store) {
	r0 := put(t, ctx, s, "/x/old", "o")
	events := watch(t, ctx, s, "/x/", r0)
	rev, err := s.Txn(ctx, nil, []store.Op{
		{Key: "/x/b", Value: []byte("B")},
		{Key: "/x/a", Value: []byte("A")},
		{Key: "/x/old", Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev <= r0 {
		t.Fatalf("txn revision %d, want > %d", rev, r0)
	}
	wantKV(t, get(t, ctx, s, "/x/a"), "/x/a", "A", rev, rev)
	wantKV(t, get(t, ctx, s, "/x/b"), "/x/b", "B", rev, rev)
	wantNotFound(t, ctx, s, "/x/old")
	// One txn, one revision; its events come in op order.
	wantEvents(t, recvN(t, events, 3), []store.Event{
		putEvent("/x/b", "B", rev, rev),
		putEvent("/x/a", "A", rev, rev),
		delEvent("/x/old", rev),
	})
	wantQuiet(t, events)
}

func testDelete(t *testing.T, ctx context.Context, s store.Store) {
	r1 := put(t, ctx, s, "/k", "v")
	r2 := del(t, ctx, s, "/k")
	if r2 <= r1 {
		t.Fatalf("delete revision %d, want > %d", r2, r1)
	}
	wantNotFound(t, ctx, s, "/k")
	if got := revision(t, ctx, s); got != r2 {
		t.Fatalf("Revision = %d, want %d", got, r2)
	}
	// Deleting a missing key is not an error and changes nothing.
	events := watch(t, ctx, s, "/", r2)
	if r3 := del(t, ctx, s, "/k"); r3 != r2 {
		t.Fatalf("delete of a missing key returned revision %d, want the current %d", r3, r2)
	}
	if got := revision(t, ctx, s); got != r2 {
		t.Fatalf("Revision after no-op delete = %d, want %d", got, r2)
	}
	wantQuiet(t, events)
	// A guarded delete.
	r4 := put(t, ctx, s, "/k", "again")
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r1}}, []store.Op{{Key: "/k", Delete: true}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale guarded delete: %v, want ErrConflict", err)
	}
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r4}}, []store.Op{{Key: "/k", Delete: true}}); err != nil {
		t.Fatalf("guarded delete: %v", err)
	}
	wantNotFound(t, ctx, s, "/k")
}

func testNoOpTxn(t *testing.T, ctx context.Context, s store.Store) {
	r1 := put(t, ctx, s, "/k", "v")
	rev, err := s.Txn(ctx, nil, nil)
	if err != nil || rev != r1 {
		t.Fatalf("empty txn = %d, %v; want %d, nil", rev, err, r1)
	}
	rev, err = s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r1}}, nil)
	if err != nil || rev != r1 {
		t.Fatalf("compare-only txn = %d, %v; want %d, nil", rev, err, r1)
	}
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: 0}}, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("failing compare-only txn: %v, want ErrConflict", err)
	}
	if got := revision(t, ctx, s); got != r1 {
		t.Fatalf("Revision = %d, want %d", got, r1)
	}
}

func testInvalidArguments(t *testing.T, ctx context.Context, s store.Store) {
	r0 := revision(t, ctx, s)
	bad := []struct {
		name string
		cmps []store.Compare
		ops  []store.Op
	}{
		{"empty key", nil, []store.Op{{Key: "", Value: []byte("x")}}},
		{"empty compare key", []store.Compare{{Key: ""}}, []store.Op{{Key: "/k", Value: []byte("x")}}},
		{"key without leading slash", nil, []store.Op{{Key: "k", Value: []byte("x")}}},
		{"compare key without leading slash", []store.Compare{{Key: "k", Prefix: true}}, []store.Op{{Key: "/k", Value: []byte("x")}}},
		{"negative compare", []store.Compare{{Key: "/k", ModRevision: -1}}, []store.Op{{Key: "/k", Value: []byte("x")}}},
		{"duplicate key", nil, []store.Op{{Key: "/k", Value: []byte("1")}, {Key: "/k", Delete: true}}},
		{"oversized key", nil, []store.Op{{Key: "/" + string(bytes.Repeat([]byte("k"), store.MaxKeyLen)), Value: []byte("x")}}},
	}
	for _, b := range bad {
		if _, err := s.Txn(ctx, b.cmps, b.ops); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("txn with %s: %v, want ErrInvalidArgument", b.name, err)
		}
	}
	if _, err := s.Watch(ctx, "/", -1); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("watch from -1: %v, want ErrInvalidArgument", err)
	}
	if _, _, err := s.List(ctx, "/", store.ListOptions{Limit: -1}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("list with limit -1: %v, want ErrInvalidArgument", err)
	}
	wantNotFound(t, ctx, s, "/k")
	if got := revision(t, ctx, s); got != r0 {
		t.Fatalf("Revision after rejected txns = %d, want %d", got, r0)
	}
}

func testCanceledContext(t *testing.T, ctx context.Context, s store.Store) {
	r0 := revision(t, ctx, s)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Txn(canceled, nil, []store.Op{{Key: "/k", Value: []byte("v")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("txn with canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(canceled, "/k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("get with canceled context: %v, want context.Canceled", err)
	}
	wantNotFound(t, ctx, s, "/k")
	if got := revision(t, ctx, s); got != r0 {
		t.Fatalf("Revision = %d, want %d", got, r0)
	}
}

func testValuesAreCopies(t *testing.T, ctx context.Context, s store.Store) {
	in := []byte("original")
	r := put(t, ctx, s, "/k", string(in))
	// The store does not keep the caller's Op.Value.
	val := []byte("written!")
	if _, err := s.Txn(ctx, []store.Compare{{Key: "/k", ModRevision: r}}, []store.Op{{Key: "/k", Value: val}}); err != nil {
		t.Fatal(err)
	}
	copy(val, "XXXXXXXX")
	if got := get(t, ctx, s, "/k"); string(got.Value) != "written!" {
		t.Fatalf("after mutating the Op.Value: %q", got.Value)
	}
	rev := revision(t, ctx, s)
	events := watch(t, ctx, s, "/", rev)
	events2 := watch(t, ctx, s, "/", rev)

	kv := get(t, ctx, s, "/k")
	copy(kv.Value, "YYYYYYYY")
	kvs, _, err := s.List(ctx, "/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(kvs[0].Value) != "written!" {
		t.Fatalf("after mutating a Get value: %q", kvs[0].Value)
	}
	copy(kvs[0].Value, "ZZZZZZZZ")
	if got := get(t, ctx, s, "/k"); string(got.Value) != "written!" {
		t.Fatalf("after mutating a List value: %q", got.Value)
	}

	put(t, ctx, s, "/w", "watched")
	ev := next(t, events)
	copy(ev.KV.Value, "MUTATED")
	if ev2 := next(t, events2); string(ev2.KV.Value) != "watched" {
		t.Fatalf("second watcher saw %q after the first mutated its event", ev2.KV.Value)
	}
	if got := get(t, ctx, s, "/w"); string(got.Value) != "watched" {
		t.Fatalf("after mutating an event value: %q", got.Value)
	}
	// The replayed history is not affected either.
	replay := watch(t, ctx, s, "/", rev)
	if ev := next(t, replay); string(ev.KV.Value) != "watched" {
		t.Fatalf("replayed event %q after mutation", ev.KV.Value)
	}
}

func testConcurrentCAS(t *testing.T, ctx context.Context, s store.Store) {
	const (
		workers    = 8
		increments = 50
		key        = "/counter"
	)
	put(t, ctx, s, key, "0")
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt > 10000 || ctx.Err() != nil {
						t.Errorf("increment gave up after %d attempts (ctx: %v)", attempt, ctx.Err())
						return
					}
					kv, err := s.Get(ctx, key)
					if err != nil {
						t.Errorf("get: %v", err)
						return
					}
					var n int
					if _, err := fmt.Sscan(string(kv.Value), &n); err != nil {
						t.Errorf("counter value %q: %v", kv.Value, err)
						return
					}
					_, err = s.Txn(ctx, []store.Compare{{Key: key, ModRevision: kv.ModRevision}},
						[]store.Op{{Key: key, Value: []byte(fmt.Sprint(n + 1))}})
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("txn: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got := string(get(t, ctx, s, key).Value); got != fmt.Sprint(workers*increments) {
		t.Fatalf("counter = %s, want %d", got, workers*increments)
	}
}

func testCompacted(t *testing.T, ctx context.Context, s store.Store) {
	c, ok := s.(Compactor)
	if !ok {
		t.Skipf("%T does not implement storetest.Compactor", s)
	}
	var revs []int64
	for i := range 5 {
		revs = append(revs, put(t, ctx, s, "/k", fmt.Sprint(i)))
	}
	if err := c.Compact(ctx, revs[2]); err != nil {
		t.Fatal(err)
	}
	for _, from := range []int64{revs[0], revs[1], revs[2] - 1} {
		if _, err := s.Watch(ctx, "/", from); !errors.Is(err, store.ErrCompacted) {
			t.Fatalf("watch from %d after compacting to %d: %v, want ErrCompacted", from, revs[2], err)
		}
	}
	events := watch(t, ctx, s, "/", revs[2])
	wantEvents(t, recvN(t, events, 2), []store.Event{
		putEvent("/k", "3", revs[0], revs[3]),
		putEvent("/k", "4", revs[0], revs[4]),
	})
	// Data is unaffected, and watching from now still works.
	if got := get(t, ctx, s, "/k"); string(got.Value) != "4" {
		t.Fatalf("value after compaction: %q", got.Value)
	}
	now := watch(t, ctx, s, "/", 0)
	r := put(t, ctx, s, "/k", "5")
	wantEvents(t, recvN(t, now, 1), []store.Event{putEvent("/k", "5", revs[0], r)})
}

func testClose(t *testing.T, ctx context.Context, s store.Store) {
	r := put(t, ctx, s, "/k", "v")
	events := watch(t, ctx, s, "/", 0)
	replay := watch(t, ctx, s, "/", r-1)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wantClosed(t, events)
	wantClosed(t, replay)
	if _, err := s.Get(ctx, "/k"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("get after close: %v", err)
	}
	if _, _, err := s.List(ctx, "/", store.ListOptions{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("list after close: %v", err)
	}
	if _, err := s.Txn(ctx, nil, []store.Op{{Key: "/k", Value: []byte("w")}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("txn after close: %v", err)
	}
	if _, err := s.Watch(ctx, "/", 0); !errors.Is(err, store.ErrClosed) {
		t.Errorf("watch after close: %v", err)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("revision after close: %v", err)
	}
	_ = s.Close() // a second Close must not panic or hang
}

// testWatchLastOfRevision: the last event of each revision a watch
// delivers has Last set, and no other has; a revision with no event under
// the prefix delivers nothing.
func testWatchLastOfRevision(t *testing.T, ctx context.Context, s store.Store) {
	from := revision(t, ctx, s)
	ch := watch(t, ctx, s, "/l/", from)
	r1, err := s.Txn(ctx, nil, []store.Op{{Key: "/l/a", Value: []byte("1")}, {Key: "/l/b", Value: []byte("2")}, {Key: "/other", Value: []byte("x")}, {Key: "/l/c", Value: []byte("3")}})
	if err != nil {
		t.Fatal(err)
	}
	put(t, ctx, s, "/other", "y")
	r3 := put(t, ctx, s, "/l/d", "4")
	r4, err := s.Txn(ctx, nil, []store.Op{{Key: "/l/a", Delete: true}, {Key: "/other", Delete: true}})
	if err != nil {
		t.Fatal(err)
	}
	got := recvN(t, ch, 5)
	want := []struct {
		key  string
		rev  int64
		last bool
	}{{"/l/a", r1, false}, {"/l/b", r1, false}, {"/l/c", r1, true}, {"/l/d", r3, true}, {"/l/a", r4, true}}
	for i, w := range want {
		if got[i].KV.Key != w.key || got[i].KV.ModRevision != w.rev || got[i].Last != w.last {
			t.Fatalf("event %d: got %s last=%v, want key %q rev %d last=%v", i, fmtEvent(got[i]), got[i].Last, w.key, w.rev, w.last)
		}
	}
	wantQuiet(t, ch)
}

// testReadYourWrites: once Txn has returned revision R, Get and List see
// R or later, Revision is at least R, and a watch from before R delivers
// R (the rule the state cache's WaitForRevision builds on).
func testReadYourWrites(t *testing.T, ctx context.Context, s store.Store) {
	from := revision(t, ctx, s)
	ch := watch(t, ctx, s, "/ryw/", from)
	for i := range 50 {
		key := fmt.Sprintf("/ryw/%02d", i%5)
		rev := put(t, ctx, s, key, fmt.Sprint(i))
		if kv := get(t, ctx, s, key); kv.ModRevision < rev {
			t.Fatalf("Get after Txn %d: ModRevision %d", rev, kv.ModRevision)
		}
		_, lrev, err := s.List(ctx, "/ryw/", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if lrev < rev {
			t.Fatalf("List after Txn %d: revision %d", rev, lrev)
		}
		if cur := revision(t, ctx, s); cur < rev {
			t.Fatalf("Revision after Txn %d: %d", rev, cur)
		}
		if ev := next(t, ch); ev.KV.ModRevision != rev || ev.KV.Key != key {
			t.Fatalf("watch after Txn %d: got %s", rev, fmtEvent(ev))
		}
	}
}
