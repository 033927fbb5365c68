package registry

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

const (
	testAccount = "000000000000"
	testRegion  = "us-east-1"
)

type testEnv struct {
	reg *Registry
	st  store.Store
	srv *httptest.Server
	url string // http://127.0.0.1:port
	// host is 127.0.0.1:port
	host string
}

// testLogger logs to the test at debug level when BERTH_TEST_LOG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("BERTH_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func newTestEnv(t testing.TB, mut func(*Config)) *testEnv {
	t.Helper()
	reg, st := newTestRegistry(t, mut)
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close) // before the registry's and the store's Close
	return &testEnv{reg: reg, st: st, srv: srv, url: srv.URL, host: srv.Listener.Addr().String()}
}

// newTestRegistry opens a registry on a fresh store, closed at cleanup.
func newTestRegistry(t testing.TB, mut func(*Config)) (*Registry, store.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Account: testAccount, Region: testRegion, Store: st, BlobRoot: t.TempDir(),
		Logger: testLogger(t), Authorizer: AllowAll,
	}
	if mut != nil {
		mut(&cfg)
	}
	reg, err := New(cfg)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		reg.Close()
		st.Close()
	})
	return reg, st
}

// createRepo writes a repository record the way the ECR control plane does.
func createRepo(t testing.TB, st store.Store, name string, immutable bool) {
	t.Helper()
	rec := ecr.NewRepository(testAccount, testRegion, name, time.Now())
	if immutable {
		rec.ImageTagMutability = ecr.TagImmutable
	}
	b, err := ecr.EncodeRepository(rec)
	if err != nil {
		t.Fatal(err)
	}
	k := ecr.Keys{Account: testAccount, Region: testRegion}.Repo(name)
	if _, err := st.Txn(context.Background(), []store.Compare{{Key: k}}, []store.Op{{Key: k, Value: b}}); err != nil {
		t.Fatal(err)
	}
}

func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var storeListAll = store.ListOptions{}
