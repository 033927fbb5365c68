package server

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/leader"
	"github.com/berth-dev/berth/internal/store"
)

func TestParseStore(t *testing.T) {
	for _, c := range []struct {
		in   string
		want StoreSpec
	}{
		{"", StoreSpec{Kind: StoreBolt}},
		{"bolt", StoreSpec{Kind: StoreBolt}},
		{"embedded-etcd", StoreSpec{Kind: StoreEmbeddedEtcd, Namespace: "/berth"}},
		{"etcd://127.0.0.1:2379", StoreSpec{Kind: StoreEtcd, Endpoints: []string{"http://127.0.0.1:2379"}, Namespace: "/berth"}},
		{"etcd://a:2379,b:2380/berth/prod", StoreSpec{Kind: StoreEtcd, Endpoints: []string{"http://a:2379", "http://b:2380"}, Namespace: "/berth/prod"}},
		{"etcd://[::1]:2379", StoreSpec{Kind: StoreEtcd, Endpoints: []string{"http://[::1]:2379"}, Namespace: "/berth"}},
		{"etcds://a:2379,b:2379/x", StoreSpec{Kind: StoreEtcd, Endpoints: []string{"https://a:2379", "https://b:2379"}, Namespace: "/x", TLS: true}},
	} {
		got, err := ParseStore(c.in)
		if err != nil || got.Kind != c.want.Kind || got.TLS != c.want.TLS || got.Namespace != c.want.Namespace || !slices.Equal(got.Endpoints, c.want.Endpoints) {
			t.Errorf("ParseStore(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"etcd", "mysql://x", "etcd://", "etcd://host", "etcd://a:1,,b:2", "etcd://a:1/ns/", "etcd://:2379", "embedded", "etcds://", "etcds:/a:1"} {
		if _, err := ParseStore(bad); err == nil {
			t.Errorf("ParseStore(%q) accepted", bad)
		}
	}
	cfg := Defaults()
	cfg.Store = "etcd:/x"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "etcd://host:port") {
		t.Errorf("Validate with a bad store = %v, want the accepted forms", err)
	}
}

func TestOpenStoreEmbeddedEtcd(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Store = string(StoreEmbeddedEtcd)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	o, err := openStore(ctx, cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := o.Txn(ctx, nil, []store.Op{{Key: "/k", Value: []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := o.Elector.(leader.Always); ok {
		t.Fatal("an etcd store came with leader.Always")
	}
	lctx, lcancel := context.WithCancel(ctx)
	lead, err := o.Elector.Campaign(lctx)
	if err != nil {
		t.Fatal(err)
	}
	lcancel()
	<-lead.Done()
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the data is still there.
	o, err = openStore(ctx, cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	kv, err := o.Get(ctx, "/k")
	if err != nil || kv.ModRevision != rev {
		t.Fatalf("after reopen: %+v, %v; want /k at %d", kv, err, rev)
	}
}

func TestOpenStoreUnreachableEtcd(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Store = "etcd://127.0.0.1:1"
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if o, err := openStore(ctx, cfg, nil, slog.New(slog.DiscardHandler)); err == nil {
		o.Close()
		t.Fatal("opened a store on an etcd that is not there")
	} else if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %q does not name the endpoint", err)
	}
}

func TestSharedOwnerIsOnePerStore(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	o, err := openStore(t.Context(), cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ids := make(chan string, 4)
	for range 4 {
		go func() {
			id, err := sharedOwner(t.Context(), o)
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	first := <-ids
	for range 3 {
		if id := <-ids; id != first || len(id) != 16 {
			t.Fatalf("owners %q and %q from one store", first, id)
		}
	}
}
