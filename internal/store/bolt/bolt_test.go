package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, bolt.Options{}) })
}

// openTemp opens a store in a fresh temporary directory, closed at cleanup.
func openTemp(t testing.TB, opts bolt.Options) *bolt.Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "state.db"), opts)
}

func openPath(t testing.TB, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t testing.TB, ctx context.Context, s store.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte(value)}})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestReopen(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "state.db")
	s := openPath(t, path, bolt.Options{})
	r1 := put(t, ctx, s, "/a", "1")
	r2 := put(t, ctx, s, "/b", "2")
	r3 := put(t, ctx, s, "/a", "1b")
	rDel, err := s.Txn(ctx, nil, []store.Op{{Key: "/b", Delete: true}})
	if err != nil {
		t.Fatal(err)
	}
	r4 := put(t, ctx, s, "/c", "3")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openPath(t, path, bolt.Options{})
	if rev, err := s.Revision(ctx); err != nil || rev != r4 {
		t.Fatalf("Revision after reopen = %d, %v; want %d", rev, err, r4)
	}
	kvs, rev, err := s.List(ctx, "/", store.ListOptions{})
	if err != nil || rev != r4 {
		t.Fatalf("List after reopen: rev %d, %v", rev, err)
	}
	want := []store.KV{
		{Key: "/a", Value: []byte("1b"), CreateRevision: r1, ModRevision: r3},
		{Key: "/c", Value: []byte("3"), CreateRevision: r4, ModRevision: r4},
	}
	if len(kvs) != len(want) {
		t.Fatalf("List after reopen = %+v, want %+v", kvs, want)
	}
	for i := range want {
		if kvs[i].Key != want[i].Key || !bytes.Equal(kvs[i].Value, want[i].Value) ||
			kvs[i].CreateRevision != want[i].CreateRevision || kvs[i].ModRevision != want[i].ModRevision {
			t.Fatalf("List after reopen = %+v, want %+v", kvs, want)
		}
	}
	// The history survives: a watch replays writes made before the reopen.
	events, err := s.Watch(ctx, "/b", r1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []store.Event{
		{Type: store.EventPut, KV: store.KV{Key: "/b", Value: []byte("2"), CreateRevision: r2, ModRevision: r2}},
		{Type: store.EventDelete, KV: store.KV{Key: "/b", ModRevision: rDel}},
	} {
		select {
		case got := <-events:
			if got.Type != want.Type || got.KV.Key != want.KV.Key || got.KV.ModRevision != want.KV.ModRevision {
				t.Fatalf("replayed %+v, want %+v", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no replayed event")
		}
	}
	// Revisions continue; they are never reused.
	if r5 := put(t, ctx, s, "/d", "4"); r5 != r4+1 {
		t.Fatalf("first revision after reopen = %d, want %d", r5, r4+1)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	openPath(t, path, bolt.Options{})
	start := time.Now()
	if s, err := bolt.Open(path, bolt.Options{LockTimeout: 100 * time.Millisecond}); err == nil {
		s.Close()
		t.Fatal("second Open of a file in use succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v despite the lock timeout", d)
	}
}

func TestHistoryLimit(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "state.db")
	s := openPath(t, path, bolt.Options{HistoryLimit: 10})
	var last int64
	for i := range 30 {
		last = put(t, ctx, s, "/k", fmt.Sprint(i))
	}
	// The last 10 revisions are kept: watching from last-10 replays them.
	events, err := s.Watch(ctx, "/", last-10)
	if err != nil {
		t.Fatalf("watch within history: %v", err)
	}
	for want := last - 9; want <= last; want++ {
		select {
		case ev := <-events:
			if ev.KV.ModRevision != want {
				t.Fatalf("replayed revision %d, want %d", ev.KV.ModRevision, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for revision %d", want)
		}
	}
	if _, err := s.Watch(ctx, "/", last-11); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch below history: %v, want ErrCompacted", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A lower limit applies at the next open.
	s = openPath(t, path, bolt.Options{HistoryLimit: 5})
	if _, err := s.Watch(ctx, "/", last-6); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch below the lowered history: %v, want ErrCompacted", err)
	}
	if _, err := s.Watch(ctx, "/", last-5); err != nil {
		t.Fatalf("watch within the lowered history: %v", err)
	}
}

const crashEnv = "BERTH_BOLT_CRASH_DB"

// TestHelperCrashWriter is not a test on its own: TestCrashLosesNoAckedWrite
// runs the test binary with only this test selected and crashEnv set. It
// writes from several goroutines until killed, printing "ack <key> <rev>"
// for every Txn that returned nil.
func TestHelperCrashWriter(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process of TestCrashLosesNoAckedWrite")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // if the parent never kills us
	defer cancel()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("/crash/%d/%08d", w, i)
				rev, err := s.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte(key)}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %d\n", key, rev) // unbuffered: one write(2) per ack
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashLosesNoAckedWrite kills a writer process with SIGKILL while it
// is writing and checks that every write it acknowledged is in the file.
func TestCrashLosesNoAckedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a writer process")
	}
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperCrashWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 300
	acked := make(map[string]int64)
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var key string
		var rev int64
		if n, _ := fmt.Sscanf(sc.Text(), "ack %s %d", &key, &rev); n != 2 {
			continue // test framework output
		}
		acked[key] = rev
		if !killed && len(acked) == killAfter {
			// Process.Kill is SIGKILL: no deferred code, no Close.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
		// Keep reading: acks already in the pipe count too.
	}
	waitErr := cmd.Wait()
	if !killed {
		t.Fatalf("writer exited after %d acks (%v); stderr:\n%s", len(acked), waitErr, stderr.String())
	}
	t.Logf("writer killed after %d acknowledged writes", len(acked))

	s := openPath(t, path, bolt.Options{})
	var maxRev, minRev int64 = 0, 1 << 62
	for key, rev := range acked {
		kv, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("acknowledged write %s at revision %d lost: %v", key, rev, err)
		}
		if string(kv.Value) != key || kv.ModRevision != rev || kv.CreateRevision != rev {
			t.Fatalf("acknowledged write %s at revision %d reads back as %+v", key, rev, kv)
		}
		maxRev, minRev = max(maxRev, rev), min(minRev, rev)
	}
	cur, err := s.Revision(ctx)
	if err != nil || cur < maxRev {
		t.Fatalf("Revision after crash = %d, %v; want >= %d", cur, err, maxRev)
	}
	// The history agrees with the data: replay has every acknowledged write.
	events, err := s.Watch(ctx, "/crash/", minRev-1)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for seen < len(acked) {
		select {
		case ev := <-events:
			if rev, ok := acked[ev.KV.Key]; ok {
				if rev != ev.KV.ModRevision {
					t.Fatalf("replayed %s at %d, acknowledged at %d", ev.KV.Key, ev.KV.ModRevision, rev)
				}
				seen++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("replay after crash: %d of %d acknowledged writes seen", seen, len(acked))
		}
	}
	// Revisions are not reused after the crash.
	if rev := put(t, ctx, s, "/after", "x"); rev != cur+1 {
		t.Fatalf("first revision after crash = %d, want %d", rev, cur+1)
	}
}

func BenchmarkTxn(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	ctx := b.Context()
	value := bytes.Repeat([]byte("v"), 256)
	i := 0
	for b.Loop() {
		if _, err := s.Txn(ctx, nil, []store.Op{{Key: fmt.Sprintf("/bench/%04d", i%1000), Value: value}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTxnParallel shows group commit: many writers share fsyncs.
func BenchmarkTxnParallel(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	ctx := b.Context()
	value := bytes.Repeat([]byte("v"), 256)
	var mu sync.Mutex
	worker := 0
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		w := worker
		worker++
		mu.Unlock()
		for i := 0; pb.Next(); i++ {
			if _, err := s.Txn(ctx, nil, []store.Op{{Key: fmt.Sprintf("/bench/%d/%04d", w, i%100), Value: value}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// fill writes n keys /bench/NNNN with 256-byte values in one Txn.
func fill(b *testing.B, s store.Store, n int) {
	value := bytes.Repeat([]byte("v"), 256)
	ops := make([]store.Op, n)
	for i := range ops {
		ops[i] = store.Op{Key: fmt.Sprintf("/bench/%04d", i), Value: value}
	}
	if _, err := s.Txn(b.Context(), nil, ops); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	fill(b, s, 1000)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, fmt.Sprintf("/bench/%04d", i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkList lists 100 of 1000 keys.
func BenchmarkList(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	fill(b, s, 1000)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		kvs, _, err := s.List(ctx, fmt.Sprintf("/bench/0%d", i%10), store.ListOptions{})
		if err != nil || len(kvs) != 100 {
			b.Fatalf("list: %d keys, %v", len(kvs), err)
		}
		i++
	}
}
