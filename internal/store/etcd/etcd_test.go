package etcd_test

import (
	"fmt"
	"strings"
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

// A placement-sized Txn fits the embedded server's limits; over an etcd's
// --max-txn-ops the error says which flag to raise.
func TestTxnOpLimits(t *testing.T) {
	big := startEtcd(t)
	s, err := etcd.Open(t.Context(), big.Endpoints(), etcd.Options{Namespace: "/limits"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ops := make([]store.Op, 1500)
	for i := range ops {
		ops[i] = store.Op{Key: fmt.Sprintf("/k/%04d", i), Value: make([]byte, 1024)}
	}
	if _, err := s.Txn(t.Context(), nil, ops); err != nil {
		t.Fatalf("txn of %d ops: %v", len(ops), err)
	}

	small, err := etcdserver.Start(t.Context(), etcdserver.Config{Dir: t.TempDir(), MaxTxnOps: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Stop()
	s2, err := etcd.Open(t.Context(), small.Endpoints(), etcd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Txn(t.Context(), nil, ops[:11]); err == nil || !strings.Contains(err.Error(), "--max-txn-ops") {
		t.Fatalf("txn over the limit: %v, want an error naming --max-txn-ops", err)
	}
}
