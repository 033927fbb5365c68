package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/registry/peer"
)

// TestFetchBlobFromPeer: two registries on one store with their own blob
// directories, as two servers on one etcd. The one that lacks a blob the
// store records fetches it (Config.FetchBlob), keeps it and serves it; a
// fetch whose bytes do not match the digest is refused and nothing kept.
func TestFetchBlobFromPeer(t *testing.T) {
	a, st := newTestRegistry(t, nil)
	createRepo(t, st, "app", false)
	var fetches int
	var lie bool
	b, err := New(Config{
		Account: testAccount, Region: testRegion, Store: st, BlobRoot: t.TempDir(), Authorizer: AllowAll,
		FetchBlob: func(_ context.Context, d digest.Digest) (io.ReadCloser, error) {
			fetches++
			if lie {
				return io.NopCloser(strings.NewReader("not the blob")), nil
			}
			f, err := a.OpenLocalBlob(d)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()

	put := func(content string) digest.Digest {
		d := digest.FromBytes("sha256", []byte(content))
		if _, err := a.PutBlob(ctx, "app", string(d), strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := put("layer bytes")
	if _, err := b.OpenLocalBlob(d); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("B has A's blob before any fetch: %v", err)
	}
	f, info, err := b.OpenBlob(ctx, "app", string(d))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, f); !bytes.Equal(got, []byte("layer bytes")) || info.Size != int64(len(got)) {
		t.Fatalf("B served %q (%d)", got, info.Size)
	}
	f.Close()
	if f, err := b.OpenLocalBlob(d); err != nil {
		t.Fatalf("B kept no copy: %v", err)
	} else {
		f.Close()
	}
	if _, err := b.BlobExists(ctx, "app", string(d)); err != nil || fetches != 1 {
		t.Fatalf("BlobExists after the fetch: %v, %d fetches (want 1)", err, fetches)
	}

	// A peer that sends other bytes: refused, nothing kept.
	lie = true
	d2 := put("another layer")
	if _, _, err := b.OpenBlob(ctx, "app", string(d2)); !fault.Is(err, fault.NotFound) {
		t.Fatalf("OpenBlob with a lying peer = %v, want BLOB_UNKNOWN", err)
	}
	if _, err := b.OpenLocalBlob(d2); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("B kept a blob whose digest did not match: %v", err)
	}
	// A blob the store does not record is never fetched.
	before := fetches
	if _, _, err := b.OpenBlob(ctx, "app", string(digest.FromBytes("sha256", []byte("nobody")))); !fault.Is(err, fault.NotFound) || fetches != before {
		t.Fatalf("unrecorded blob: %v after %d fetches", err, fetches-before)
	}
}

// BenchmarkOpenBlobFetchedFromPeer measures a blob read through a server
// that lacks it (fetched from the peer over loopback HTTP with package
// peer, verified, written, fsynced, then read) against the same read
// from the server that has it, in one run; it reports the ratio.
func BenchmarkOpenBlobFetchedFromPeer(b *testing.B) {
	a, st := newTestRegistry(b, nil)
	createRepo(b, st, "bench", false)
	buf, _ := randBlob(b, benchBlobSize)
	d := digest.FromBytes(digest.SHA256, buf)
	if _, err := a.PutBlob(b.Context(), "bench", string(d), bytes.NewReader(buf)); err != nil {
		b.Fatal(err)
	}
	key := bytes.Repeat([]byte("k"), 32)
	srv := httptest.NewServer(peer.Handler(key, func(_, _ string, d digest.Digest) (io.ReadSeekCloser, error) {
		f, err := a.OpenLocalBlob(d)
		if errors.Is(err, blobstore.ErrNotFound) {
			return nil, peer.ErrNotFound
		}
		return f, err
	}))
	defer srv.Close()
	if err := (&peer.Directory{Store: st, Identity: "a", URL: srv.URL}).Advertise(b.Context()); err != nil {
		b.Fatal(err)
	}
	client := peer.NewClient(&peer.Directory{Store: st, Identity: "b", URL: "http://b.invalid"}, key, nil)
	bReg, err := New(Config{
		Account: testAccount, Region: testRegion, Store: st, BlobRoot: b.TempDir(), Authorizer: AllowAll,
		FetchBlob: func(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
			return client.Fetch(ctx, testAccount, testRegion, d)
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer bReg.Close()
	read := func(r *Registry) {
		f, _, err := r.OpenBlob(b.Context(), "bench", string(d))
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := io.Copy(io.Discard, f); n != benchBlobSize {
			b.Fatalf("read %d bytes", n)
		}
		f.Close()
	}
	var local, fetched time.Duration
	b.SetBytes(benchBlobSize)
	for b.Loop() {
		t0 := time.Now()
		read(a)
		local += time.Since(t0)
		if err := bReg.blobs.Delete(d); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		read(bReg)
		fetched += time.Since(t0)
	}
	b.ReportMetric(float64(fetched)/float64(local), "fetched/local")
	b.ReportMetric(float64(fetched.Microseconds())/float64(b.N)/1000, "ms/fetched-read")
	b.ReportMetric(float64(local.Microseconds())/float64(b.N)/1000, "ms/local-read")
}
