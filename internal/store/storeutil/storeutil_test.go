package storeutil_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type rec struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func TestDecodeAndMustJSON(t *testing.T) {
	v, err := storeutil.Decode[rec](store.KV{Key: "/k", Value: storeutil.MustJSON(rec{Name: "a", N: 2})})
	if err != nil || *v != (rec{Name: "a", N: 2}) {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
	_, err = storeutil.Decode[rec](store.KV{Key: "/bad/key", Value: []byte("{")})
	if !fault.Is(err, fault.Internal) || err == nil || !strings.Contains(err.Error(), "/bad/key") {
		t.Fatalf("corrupt record: %v (want internal naming the key)", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustJSON of a channel did not panic")
		}
	}()
	storeutil.MustJSON(make(chan int))
}

func TestErr(t *testing.T) {
	if storeutil.Err(nil) != nil {
		t.Fatal("Err(nil) != nil")
	}
	nf := fault.NotFoundf("thing", "no such thing")
	if got := storeutil.Err(nf); got != error(nf) {
		t.Fatalf("a fault error was rewrapped: %v", got)
	}
	if got := storeutil.Err(context.Canceled); got != context.Canceled {
		t.Fatalf("context error was rewrapped: %v", got)
	}
	got := storeutil.Err(store.ErrConflict)
	if !fault.Is(got, fault.Internal) || !errors.Is(got, store.ErrConflict) {
		t.Fatalf("Err(ErrConflict) = %v: want Internal keeping ErrConflict in the chain", got)
	}
}

func TestRetry(t *testing.T) {
	ctx := t.Context()
	calls := 0
	err := storeutil.Retry(ctx, func() error {
		calls++
		if calls < 3 {
			return storeutil.Err(store.ErrConflict) // wrapped conflicts retry too
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Retry = %v after %d calls; want nil after 3", err, calls)
	}

	boom := fault.New(fault.InvalidParameter, "bad")
	calls = 0
	if err := storeutil.Retry(ctx, func() error { calls++; return boom }); err != error(boom) || calls != 1 {
		t.Fatalf("Retry = %v after %d calls; want fn's error after 1", err, calls)
	}

	calls = 0
	err = storeutil.Retry(ctx, func() error { calls++; return store.ErrConflict })
	if calls != storeutil.MaxRetries || !fault.Is(err, fault.Unavailable) || !errors.Is(err, storeutil.ErrContention) {
		t.Fatalf("exhausted Retry = %v after %d calls; want Unavailable/ErrContention after %d", err, calls, storeutil.MaxRetries)
	}

	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = storeutil.Retry(cctx, func() error { calls++; cancel(); return store.ErrConflict })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Retry with a cancelled context = %v after %d calls; want Canceled after 1", err, calls)
	}
}

func TestCommitGen(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	const gen = "/scope/gen"
	genRev := func() int64 {
		kv, err := s.Get(ctx, gen)
		if errors.Is(err, store.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return kv.ModRevision
	}
	put := func(k, v string) []store.Op { return []store.Op{{Key: k, Value: []byte(v)}} }

	// No ops: nothing is written, not even the generation.
	if err := storeutil.CommitGen(ctx, s, gen, 0, nil, nil); err != nil || genRev() != 0 {
		t.Fatalf("empty commit: %v, gen rev %d", err, genRev())
	}
	// Two writers read generation 0; the first wins, the second conflicts
	// although it writes another key.
	if err := storeutil.CommitGen(ctx, s, gen, 0, nil, put("/scope/a", "1")); err != nil {
		t.Fatal(err)
	}
	if err := storeutil.CommitGen(ctx, s, gen, 0, nil, put("/scope/b", "1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale generation: %v, want ErrConflict", err)
	}
	if _, err := s.Get(ctx, "/scope/b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the losing commit wrote /scope/b: %v", err)
	}
	// An extra compare that fails fails the commit.
	rev := genRev()
	extra := []store.Compare{{Key: "/scope/a", ModRevision: 0}}
	if err := storeutil.CommitGen(ctx, s, gen, rev, extra, put("/scope/c", "1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("failing extra compare: %v, want ErrConflict", err)
	}
	// The caller's ops slice is not written into.
	ops := make([]store.Op, 1, 4)
	ops[0] = store.Op{Key: "/scope/d", Value: []byte("1")}
	if err := storeutil.CommitGen(ctx, s, gen, rev, nil, ops); err != nil {
		t.Fatal(err)
	}
	if ops[:2][1].Key != "" {
		t.Fatalf("CommitGen appended into the caller's slice: %+v", ops[:2])
	}
	if genRev() == rev {
		t.Fatal("a commit did not move the generation")
	}
}
