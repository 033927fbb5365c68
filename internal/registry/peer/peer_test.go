package peer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store/bolt"
)

type file struct{ *bytes.Reader }

func (file) Close() error { return nil }

// TestFetchFromPeers: a client finds the blob at the peer that has it,
// skipping itself, a dead peer and a peer without it; a request signed
// with another key, unsigned, or expired is refused.
func TestFetchFromPeers(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := bytes.Repeat([]byte("k"), 32)
	blob := []byte("the layer")
	d := digest.FromBytes("sha256", blob)
	has := func(account, region string, got digest.Digest) (io.ReadSeekCloser, error) {
		if account != "000000000000" || region != "eu-west-1" || got != d {
			return nil, fmt.Errorf("%w: %s/%s/%s", ErrNotFound, account, region, got)
		}
		return file{bytes.NewReader(blob)}, nil
	}
	lacks := func(string, string, digest.Digest) (io.ReadSeekCloser, error) { return nil, ErrNotFound }
	withBlob := httptest.NewServer(Handler(key, has))
	defer withBlob.Close()
	without := httptest.NewServer(Handler(key, lacks))
	defer without.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	ctx := t.Context()
	for i, u := range []string{without.URL, dead.URL, withBlob.URL} {
		dir := &Directory{Store: st, Identity: fmt.Sprintf("server-%d", i), URL: u}
		if err := dir.Advertise(ctx); err != nil {
			t.Fatal(err)
		}
	}
	self := &Directory{Store: st, Identity: "self", URL: "http://127.0.0.1:1"}
	if err := self.Advertise(ctx); err != nil {
		t.Fatal(err)
	}
	peers, err := self.Peers(ctx)
	if err != nil || len(peers) != 3 {
		t.Fatalf("Peers = %q, %v; want the three others", peers, err)
	}

	c := NewClient(self, key, nil)
	body, err := c.Fetch(ctx, "000000000000", "eu-west-1", d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, blob) {
		t.Fatalf("fetched %q", got)
	}
	if _, err := c.Fetch(ctx, "000000000000", "eu-west-1", digest.FromBytes("sha256", []byte("x"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch of a blob no peer has: %v", err)
	}
	// Withdrawn, the peer is not asked.
	if err := (&Directory{Store: st, Identity: "server-2"}).Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, "000000000000", "eu-west-1", d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch after the only holder withdrew: %v", err)
	}

	// Refused: another key, no signature, an expired one.
	path := blobPath("000000000000", "eu-west-1", d)
	for name, auth := range map[string]string{
		"other key":  signer{bytes.Repeat([]byte("o"), 32)}.sign(path, time.Now()),
		"unsigned":   "",
		"expired":    signer{key}.sign(path, time.Now().Add(-2*authValidity)),
		"other path": signer{key}.sign(blobPath("000000000000", "eu-west-1", digest.FromBytes("sha256", []byte("y"))), time.Now()),
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, withBlob.URL+path, nil)
		if auth != "" {
			req.Header.Set(authHeader, auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
		}
	}
}
