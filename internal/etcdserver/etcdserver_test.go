package etcdserver

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestStartServeRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Ready():
	default:
		t.Fatal("Start returned before Ready")
	}
	put := func(s *Server, want string) {
		t.Helper()
		cli, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		if want != "" {
			resp, err := cli.Get(ctx, "/k")
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != want {
				t.Fatalf("after restart /k = %v, want %q", resp.Kvs, want)
			}
		}
		if _, err := cli.Put(ctx, "/k", "v1"); err != nil {
			t.Fatal(err)
		}
	}
	put(s, "")
	s.Stop()
	s.Stop() // a second Stop returns at once

	// The same data dir on other ports keeps the data.
	s2, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop()
	put(s2, "v1")
}

func TestStartNeedsDir(t *testing.T) {
	if _, err := Start(t.Context(), Config{}); err == nil {
		t.Fatal("Start without a data dir succeeded")
	}
}
