package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// Actions an Authorizer is asked about.
const (
	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
)

// Authorizer decides whether a request may perform action on repo. repo
// is "" for registry-level requests (GET /v2/, the catalog). Return nil to
// allow, an error wrapping ErrUnauthenticated for a missing or invalid
// credential (401 with a Basic challenge), or any other error to deny
// (403 DENIED; its message is shown to the client).
type Authorizer interface {
	Authorize(r *http.Request, repo, action string) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(r *http.Request, repo, action string) error

func (f AuthorizerFunc) Authorize(r *http.Request, repo, action string) error {
	return f(r, repo, action)
}

// AllowAll is an Authorizer that allows everything (tests, local use).
var AllowAll Authorizer = AuthorizerFunc(func(*http.Request, string, string) error { return nil })

// Repositories tells the registry which repositories exist and how they
// are configured. The ECR control plane owns repository records.
type Repositories interface {
	// Repository returns the repository record, or an error for which
	// fault.Is(err, fault.NotFound) holds when it does not exist.
	Repository(ctx context.Context, name string) (*ecr.Repository, error)
}

// StoreRepositories reads repository records from the state store at
// ecr.Keys.Repo(name), where the ECR control plane writes them.
type StoreRepositories struct {
	Store store.Store
	Keys  ecr.Keys
}

func (s StoreRepositories) Repository(ctx context.Context, name string) (*ecr.Repository, error) {
	kv, err := s.Store.Get(ctx, s.Keys.Repo(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf("repository", "repository %s not found", name)
	}
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "read repository %s", name)
	}
	return ecr.DecodeRepository(kv.Value)
}

// Config configures a Registry. One registry serves one account and region.
type Config struct {
	// Account is the 12-digit account ID (the ECR registry ID).
	Account string
	// Region is the AWS region name.
	Region string
	// Store holds all metadata (under /ecr/<account>/<region>/).
	Store store.Store
	// BlobRoot is the directory of blob files and uploads. It belongs to
	// this registry alone: the garbage collector's safety argument relies
	// on every writer of the directory running in this process.
	BlobRoot string
	// Logger receives request and GC logs; nil discards them.
	Logger *slog.Logger
	// Authorizer decides every request; required (use AllowAll for tests).
	Authorizer Authorizer
	// Repositories looks up repository records; nil reads them from Store.
	Repositories Repositories
	// AutoCreateRepositories creates a missing repository (with ECR's
	// defaults) on the first push to it, like ECR's create-on-push
	// repository creation templates. Off by default: pushing to a
	// missing repository fails with NAME_UNKNOWN, as in ECR.
	AutoCreateRepositories bool
	// GCGracePeriod protects blobs younger than this (by their last link or
	// reference) from GarbageCollect, so that a push whose layers are
	// uploaded but whose manifest is not yet put is never collected.
	// Default 1h.
	GCGracePeriod time.Duration
	// UploadTTL is how long an idle upload session is kept. Default 24h.
	UploadTTL time.Duration
	// MaxManifestSize caps a manifest body. Default 4 MiB + 64 KiB (the
	// spec asks registries to accept at least 4 MiB).
	MaxManifestSize int64
	// OnManifestPut, when set, is called after a manifest put (over /v2/
	// or through PutImage) that stored a new image or moved a tag; the
	// ECR API uses it to run lifecycle policies after pushes.
	OnManifestPut func(repo string, res PutManifestResult)
	// FetchBlob, when set, returns the bytes of a blob that the store
	// records but this registry's BlobRoot lacks: servers sharing a store
	// fetch such blobs from each other (package peer). The registry
	// verifies the digest and keeps the blob as its own. nil: a missing
	// file is a missing blob.
	FetchBlob func(ctx context.Context, d digest.Digest) (io.ReadCloser, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Registry is the OCI distribution registry of one account and region. It
// is an http.Handler for /v2/ and has the Go methods the ECR API calls.
type Registry struct {
	cfg   Config
	keys  ecr.Keys
	st    store.Store
	blobs *blobstore.Store
	log   *slog.Logger
	auth  Authorizer
	repos Repositories
	now   func() time.Time

	sessMu   sync.Mutex
	sessions map[string]*session

	// copyBufs holds the buffers that response bodies are copied through
	// (*[]byte of copyBufSize; see statusWriter.ReadFrom).
	copyBufs sync.Pool

	gcMu sync.Mutex // one GarbageCollect at a time
	// gcBeforeSweep, when set (tests), runs between the mark and the sweep.
	gcBeforeSweep func()
}

// New returns a Registry.
func New(cfg Config) (*Registry, error) {
	if cfg.Account == "" || cfg.Region == "" {
		return nil, errors.New("registry: Account and Region are required")
	}
	if cfg.Store == nil {
		return nil, errors.New("registry: Store is required")
	}
	if cfg.Authorizer == nil {
		return nil, errors.New("registry: Authorizer is required (use registry.AllowAll to allow everything)")
	}
	bs, err := blobstore.Open(cfg.BlobRoot)
	if err != nil {
		return nil, err
	}
	if cfg.GCGracePeriod <= 0 {
		cfg.GCGracePeriod = time.Hour
	}
	if cfg.UploadTTL <= 0 {
		cfg.UploadTTL = 24 * time.Hour
	}
	if cfg.MaxManifestSize <= 0 {
		cfg.MaxManifestSize = 4<<20 + 64<<10
	}
	r := &Registry{
		cfg:      cfg,
		keys:     ecr.Keys{Account: cfg.Account, Region: cfg.Region},
		st:       cfg.Store,
		blobs:    bs,
		log:      cfg.Logger,
		auth:     cfg.Authorizer,
		repos:    cfg.Repositories,
		now:      cfg.Now,
		sessions: map[string]*session{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.repos == nil {
		r.repos = StoreRepositories{Store: cfg.Store, Keys: r.keys}
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.copyBufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	return r, nil
}

// Keys returns the store key builder of the registry's account and region.
func (r *Registry) Keys() ecr.Keys { return r.keys }

// Close releases open upload files (uploads stay on disk and can be
// resumed by a later Registry on the same BlobRoot).
func (r *Registry) Close() error {
	r.sessMu.Lock()
	defer r.sessMu.Unlock()
	for id, s := range r.sessions {
		if s.mu.TryLock() {
			if s.up != nil {
				_ = s.up.Close()
				s.up = nil
			}
			s.done = true
			s.mu.Unlock()
		}
		delete(r.sessions, id)
	}
	return nil
}

// Repository names: the distribution spec's grammar, which ECR's is a
// subset of (ECR additionally allows at most 256 characters).
var (
	nameRE = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidRepositoryName reports whether name is a valid repository name.
func ValidRepositoryName(name string) bool { return len(name) <= 256 && nameRE.MatchString(name) }

// ValidTag reports whether tag is a valid tag.
func ValidTag(tag string) bool { return tagRE.MatchString(tag) }

// repository returns the repository record, creating it when create is set
// and AutoCreateRepositories is on.
func (r *Registry) repository(ctx context.Context, name string, create bool) (*ecr.Repository, error) {
	if !ValidRepositoryName(name) {
		return nil, errNameInvalid(name)
	}
	rec, err := r.repos.Repository(ctx, name)
	if err == nil {
		return rec, nil
	}
	if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	if !create || !r.cfg.AutoCreateRepositories {
		return nil, errNameUnknown(r.cfg.Account, name)
	}
	rec = ecr.NewRepository(r.cfg.Account, r.cfg.Region, name, r.now())
	b, err := ecr.EncodeRepository(rec)
	if err != nil {
		return nil, err
	}
	_, err = r.st.Txn(ctx, []store.Compare{{Key: r.keys.Repo(name), ModRevision: 0}}, []store.Op{{Key: r.keys.Repo(name), Value: b}})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fault.Wrap(err, fault.Internal, "create repository %s", name)
	}
	r.log.Info("registry: created repository on push", "repository", name)
	return r.repos.Repository(ctx, name)
}

// maxTxnRetries bounds compare-and-swap retry loops.
const maxTxnRetries = 20

func storeErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrClosed) {
		return fault.Wrap(err, fault.Unavailable, format, args...)
	}
	return fault.Wrap(err, fault.Internal, format, args...)
}

func errTooMuchContention(what string) error {
	return fault.New(fault.Unavailable, "registry: too much contention on %s, retry", what)
}

// getOpt returns the key, or ok=false when it does not exist.
func (r *Registry) getOpt(ctx context.Context, key string) (store.KV, bool, error) {
	kv, err := r.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return store.KV{}, false, nil
	}
	if err != nil {
		return store.KV{}, false, storeErr(err, "read %s", key)
	}
	return kv, true, nil
}

// listAll lists every key under prefix in pages.
func (r *Registry) listAll(ctx context.Context, prefix string, fn func(store.KV) error) error {
	after := ""
	for {
		kvs, _, err := r.st.List(ctx, prefix, store.ListOptions{StartAfter: after, Limit: 500})
		if err != nil {
			return storeErr(err, "list %s", prefix)
		}
		for _, kv := range kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if len(kvs) < 500 {
			return nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

func fmtDigestErr(d string, err error) error {
	return fmt.Errorf("%s: %w", d, err)
}

func splitRepoKey(prefix, key string) (string, string, bool) { return ecr.SplitRepoKey(prefix, key) }
