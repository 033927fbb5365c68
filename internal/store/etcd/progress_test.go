package etcd_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/etcd"
)

// A write outside the namespace moves the revision with no event for
// berth's watches; a watch of "/" still reaches every revision that
// Revision hands out, through a progress event.
func TestForeignWriteProgress(t *testing.T) {
	srv := startEtcd(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := etcd.Open(ctx, srv.Endpoints(), etcd.Options{Namespace: "/mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	own, err := s.Txn(ctx, nil, []store.Op{{Key: "/k", Value: []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Watch(ctx, "/", own-1)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Type != store.EventPut || ev.KV.ModRevision != own {
		t.Fatalf("first event %+v, want the put at %d", ev, own)
	}
	for range 3 {
		if _, err := cli.Put(ctx, "/other/x", "y"); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rev <= own {
		t.Fatalf("Revision %d after foreign writes, want > %d", rev, own)
	}
	select {
	case ev := <-events:
		if ev.Type != store.EventProgress || ev.KV.ModRevision < rev || ev.KV.Key != "" {
			t.Fatalf("event %+v, want a progress event at %d or later", ev, rev)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no progress event for revision %d", rev)
	}
}

// The state cache's Sync returns after foreign writes (it waits for the
// store's revision, at which berth's namespace has no event).
func TestCacheSyncAfterForeignWrites(t *testing.T) {
	srv := startEtcd(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := etcd.Open(ctx, srv.Endpoints(), etcd.Options{Namespace: "/mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cache := ecscache.New(s, slog.New(slog.DiscardHandler))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = cache.Run(rctx) }()
	defer func() { stop(); <-done }()
	if err := cache.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := cli.Put(ctx, "/kubernetes/x", "y"); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		err := cache.Sync(sctx)
		scancel()
		if err != nil {
			t.Fatalf("Sync after foreign write %d: %v", i, err)
		}
	}
}

// A watch that starts behind a revision Revision already handed out gets
// its progress event, though no Revision call comes after it (the state
// cache syncs from its List, and its watch may start after the next
// Sync's Revision call).
func TestProgressForWatchStartedBehind(t *testing.T) {
	srv := startEtcd(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := etcd.Open(ctx, srv.Endpoints(), etcd.Options{Namespace: "/mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	from, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/other/x", "y"); err != nil {
		t.Fatal(err)
	}
	rev, err := s.Revision(ctx) // handed out before the watch exists
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Watch(ctx, "/", from)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Type != store.EventProgress || ev.KV.ModRevision < rev {
			t.Fatalf("event %+v, want a progress event at %d or later", ev, rev)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no progress event for revision %d on a watch started at %d", rev, from)
	}
}
