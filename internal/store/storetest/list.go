package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/store"
)

func testList(t *testing.T, ctx context.Context, s store.Store) {
	for _, k := range []string{"/b/2", "/a/3", "/b/1", "/a/1", "/ab/1", "/a/2", "/a", "/b/10"} {
		put(t, ctx, s, k, "v"+k)
	}
	kvs, _, err := s.List(ctx, "/a/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(kvs), []string{"/a/1", "/a/2", "/a/3"}; !slices.Equal(got, want) {
		t.Fatalf("List /a/ = %q, want %q", got, want)
	}
	for _, kv := range kvs {
		want := get(t, ctx, s, kv.Key)
		wantKV(t, kv, want.Key, string(want.Value), want.CreateRevision, want.ModRevision)
	}
	kvs, _, err = s.List(ctx, "/b/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(kvs), []string{"/b/1", "/b/10", "/b/2"}; !slices.Equal(got, want) {
		t.Fatalf("List /b/ = %q, want %q (byte order)", got, want)
	}
	kvs, _, err = s.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(kvs), []string{"/a", "/a/1", "/a/2", "/a/3", "/ab/1", "/b/1", "/b/10", "/b/2"}; !slices.Equal(got, want) {
		t.Fatalf("List all = %q, want %q", got, want)
	}
	kvs, _, err = s.List(ctx, "/zzz/", store.ListOptions{})
	if err != nil || len(kvs) != 0 {
		t.Fatalf("List of an empty prefix = %q, %v; want none", keysOf(kvs), err)
	}
	// StartAfter and Limit.
	for _, c := range []struct {
		prefix string
		opts   store.ListOptions
		want   []string
	}{
		{"/a/", store.ListOptions{StartAfter: "/a/1"}, []string{"/a/2", "/a/3"}},
		{"/a/", store.ListOptions{StartAfter: "/a/15"}, []string{"/a/2", "/a/3"}},
		{"/a/", store.ListOptions{StartAfter: "/a/3"}, nil},
		{"/a/", store.ListOptions{StartAfter: "/"}, []string{"/a/1", "/a/2", "/a/3"}},
		{"/a/", store.ListOptions{StartAfter: "/b"}, nil},
		{"/a/", store.ListOptions{Limit: 2}, []string{"/a/1", "/a/2"}},
		{"/a/", store.ListOptions{Limit: 10}, []string{"/a/1", "/a/2", "/a/3"}},
		{"/a/", store.ListOptions{StartAfter: "/a/1", Limit: 1}, []string{"/a/2"}},
		{"", store.ListOptions{StartAfter: "/a/3", Limit: 2}, []string{"/ab/1", "/b/1"}},
	} {
		kvs, _, err := s.List(ctx, c.prefix, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(kvs); !slices.Equal(got, c.want) {
			t.Errorf("List(%q, %+v) = %q, want %q", c.prefix, c.opts, got, c.want)
		}
	}
}

func testListPagination(t *testing.T, ctx context.Context, s store.Store) {
	const n = 25
	var want []string
	for i := range n {
		k := fmt.Sprintf("/p/%03d", i)
		want = append(want, k)
		put(t, ctx, s, k, "v")
	}
	put(t, ctx, s, "/q/000", "outside")
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("pagination does not terminate")
		}
		kvs, _, err := s.List(ctx, "/p/", store.ListOptions{StartAfter: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) > 7 {
			t.Fatalf("page of %d keys, limit 7", len(kvs))
		}
		if len(kvs) == 0 {
			break
		}
		got = append(got, keysOf(kvs)...)
		after = kvs[len(kvs)-1].Key
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paginated keys = %q, want %q", got, want)
	}
}

func testListSnapshotRevision(t *testing.T, ctx context.Context, s store.Store) {
	_, r0, err := s.List(ctx, "/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur := revision(t, ctx, s); r0 != cur {
		t.Fatalf("List revision on an idle store = %d, Revision = %d", r0, cur)
	}
	put(t, ctx, s, "/s/a", "1")
	r2 := put(t, ctx, s, "/s/b", "2")
	put(t, ctx, s, "/elsewhere", "x") // the list revision is store-wide
	r3 := revision(t, ctx, s)
	kvs, rev, err := s.List(ctx, "/s/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rev != r3 {
		t.Fatalf("List revision = %d, want the store revision %d", rev, r3)
	}
	if len(kvs) != 2 || kvs[1].ModRevision != r2 {
		t.Fatalf("List = %+v", kvs)
	}
	// Limited lists report the same snapshot revision.
	if _, rev, err := s.List(ctx, "/s/", store.ListOptions{Limit: 1}); err != nil || rev != r3 {
		t.Fatalf("limited List revision = %d, %v; want %d", rev, err, r3)
	}

	// Under concurrent writes, every listed key is at or below the list
	// revision, and a write acknowledged before the List is in it.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Txn(ctx, nil, []store.Op{{Key: fmt.Sprintf("/c/%04d", i%50), Value: []byte("v")}}); err != nil {
				t.Errorf("concurrent write: %v", err)
				return
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	for range 20 {
		acked := put(t, ctx, s, "/c/ack", "v")
		kvs, rev, err := s.List(ctx, "/c/", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rev < acked {
			t.Fatalf("List revision %d below an acknowledged write at %d", rev, acked)
		}
		for _, kv := range kvs {
			if kv.ModRevision > rev {
				t.Fatalf("listed %q at mod revision %d, above the list revision %d", kv.Key, kv.ModRevision, rev)
			}
		}
	}
}
