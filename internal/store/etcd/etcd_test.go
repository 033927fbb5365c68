package etcd_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/etcd"
	"github.com/berth-dev/berth/internal/store/storetest"
)

// startEtcd starts one embedded etcd for the whole test.
func startEtcd(t testing.TB) *etcdserver.Server {
	t.Helper()
	srv, err := etcdserver.Start(t.Context(), etcdserver.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func TestConformance(t *testing.T) {
	srv := startEtcd(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		// A fresh namespace is a fresh, empty store on the shared etcd.
		s, err := etcd.Open(t.Context(), srv.Endpoints(), etcd.Options{Namespace: fmt.Sprintf("/conformance/%d", n.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
