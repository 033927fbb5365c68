package peer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// directoryPrefix holds one key a server: its identity → the base URL
// (http://host:port) its peers reach it at (docs/state-store.md).
const directoryPrefix = "/meta/registry-peers/"

// PathPrefix is where Handler is mounted on a server's listener.
const PathPrefix = "/_berth/peer/blobs/"

// authHeader carries a peer request's proof: "<unix expiry>.<MAC>".
const authHeader = "X-Berth-Peer-Auth"

// authValidity is how long a signed peer request may be replayed.
const authValidity = time.Minute

// Directory is the set of servers sharing a store, as advertised in it.
type Directory struct {
	Store store.Store
	// Identity names this server (unique among the servers of the store).
	Identity string
	// URL is this server's base URL as its peers reach it.
	URL string
}

func (d *Directory) key() string { return directoryPrefix + url.PathEscape(d.Identity) }

// Advertise records this server's URL.
func (d *Directory) Advertise(ctx context.Context) error {
	_, err := d.Store.Txn(ctx, nil, []store.Op{{Key: d.key(), Value: []byte(d.URL)}})
	return err
}

// Withdraw deletes this server's record (a clean shutdown). A killed
// server leaves its record; fetches skip a peer that does not answer.
func (d *Directory) Withdraw(ctx context.Context) error {
	_, err := d.Store.Txn(ctx, nil, []store.Op{{Key: d.key(), Delete: true}})
	return err
}

// Peers returns the base URLs of the other servers, deduplicated (a
// server restarted on the same address has a new identity).
func (d *Directory) Peers(ctx context.Context) ([]string, error) {
	kvs, _, err := d.Store.List(ctx, directoryPrefix, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{d.URL: true}
	var urls []string
	for _, kv := range kvs {
		if u := string(kv.Value); !seen[u] {
			seen[u] = true
			urls = append(urls, u)
		}
	}
	return urls, nil
}

// signer signs and verifies peer requests.
type signer struct{ key []byte }

func (s signer) mac(path string, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("berth-peer-blob\x00"))
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s signer) sign(path string, now time.Time) string {
	exp := now.Add(authValidity).Unix()
	return strconv.FormatInt(exp, 10) + "." + s.mac(path, exp)
}

func (s signer) verify(path, v string, now time.Time) bool {
	expStr, mac, ok := strings.Cut(v, ".")
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if !ok || err != nil || now.Unix() >= exp || exp > now.Add(2*authValidity).Unix() {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(s.mac(path, exp)))
}

func blobPath(account, region string, d digest.Digest) string {
	return PathPrefix + url.PathEscape(account) + "/" + url.PathEscape(region) + "/" + url.PathEscape(string(d))
}

// Client fetches blobs from the peers in a Directory.
type Client struct {
	dir  *Directory
	sign signer
	http *http.Client
	log  *slog.Logger
}

// NewClient returns a client that signs its requests with key (the key
// every server of the store shares).
func NewClient(dir *Directory, key []byte, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		ResponseHeaderTimeout: 15 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	return &Client{dir: dir, sign: signer{key}, http: &http.Client{Transport: tr}, log: log}
}

// ErrNotFound: no peer has the blob.
var ErrNotFound = errors.New("no peer has the blob")

// Fetch returns the bytes of blob d of an account and region from the
// first peer that has it, or an error wrapping ErrNotFound when none has
// it. The caller verifies the digest. Unreachable peers are skipped.
func (c *Client) Fetch(ctx context.Context, account, region string, d digest.Digest) (io.ReadCloser, error) {
	peers, err := c.dir.Peers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list registry peers: %w", err)
	}
	path := blobPath(account, region, d)
	var tried []string
	for _, base := range peers {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", base, err))
			continue
		}
		req.Header.Set(authHeader, c.sign.sign(path, time.Now()))
		resp, err := c.http.Do(req)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", base, err))
			continue
		}
		if resp.StatusCode == http.StatusOK {
			c.log.Info("fetching a blob from a peer", "digest", d, "peer", base)
			return resp.Body, nil
		}
		resp.Body.Close()
		tried = append(tried, fmt.Sprintf("%s: %s", base, resp.Status))
	}
	return nil, fmt.Errorf("%w: %s (asked %d: %s)", ErrNotFound, d, len(peers), strings.Join(tried, "; "))
}

// Opener opens this server's own copy of a blob (no fetch from a peer),
// or returns an error for which errors.Is(err, ErrNotFound) holds.
type Opener func(account, region string, d digest.Digest) (io.ReadSeekCloser, error)

// Handler serves this server's own blobs to peers whose request is signed
// with key: GET PathPrefix<account>/<region>/<digest>.
func Handler(key []byte, open Opener) http.Handler {
	s := signer{key}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !s.verify(r.URL.EscapedPath(), r.Header.Get(authHeader), time.Now()) {
			http.Error(w, "peer request not signed with the store's key", http.StatusForbidden)
			return
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
		if len(parts) != 3 {
			http.Error(w, "want "+PathPrefix+"<account>/<region>/<digest>", http.StatusNotFound)
			return
		}
		d, err := digest.Parse(parts[2])
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := open(parts[0], parts[1], d)
		if errors.Is(err, ErrNotFound) {
			http.Error(w, "blob not here", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", time.Time{}, f)
	})
}
