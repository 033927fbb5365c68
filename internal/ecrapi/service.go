package ecrapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/registry"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// TargetPrefix is the X-Amz-Target prefix of the ECR API.
const TargetPrefix = "AmazonEC2ContainerRegistry_V20150921"

// Defaults of Config.
const (
	DefaultTokenTTL          = 12 * time.Hour
	DefaultLifecycleInterval = 30 * time.Second
	DefaultGCInterval        = time.Hour
	DefaultDownloadURLTTL    = time.Hour
	// MinTokenKeyLen is the shortest HMAC key accepted for tokens.
	MinTokenKeyLen = 32
)

// Config configures the ECR API, its registries and its lifecycle runner.
type Config struct {
	// Store holds repository records and registry metadata.
	Store store.Store
	// BlobRoot is the directory under which each account and region gets
	// its own blob store (<BlobRoot>/<account>/<region>).
	BlobRoot string
	// RegistryHost is host[:port] of berth's /v2/ endpoint as docker
	// reaches it ("localhost:4566"): repositoryUri is RegistryHost/name
	// and GetAuthorizationToken's proxyEndpoint is http://RegistryHost.
	RegistryHost string
	// TokenKey is the HMAC key that signs authorization tokens and
	// download URLs (at least MinTokenKeyLen bytes). Tokens signed with
	// another key are rejected, so persist it to keep tokens valid across
	// restarts.
	TokenKey []byte
	// TokenTTL is the lifetime of GetAuthorizationToken's tokens (12h).
	TokenTTL time.Duration
	// DefaultAccount and DefaultRegion are used when a call or a registry
	// request names neither.
	DefaultAccount string
	DefaultRegion  string
	// LifecycleInterval is how often Run applies lifecycle policies
	// (DefaultLifecycleInterval when zero; negative disables the timer,
	// leaving only the triggers after pushes and policy changes).
	LifecycleInterval time.Duration
	// GCInterval is how often Run garbage-collects every registry even
	// without lifecycle expirations (DefaultGCInterval when zero, negative
	// disables).
	GCInterval time.Duration
	// GCGracePeriod is the registries' GCGracePeriod (registry default
	// when zero).
	GCGracePeriod time.Duration
	// AutoCreateRepositories is passed to the registries.
	AutoCreateRepositories bool
	// FetchBlob, when set, fetches a blob of an account and region that
	// the store records but this server's BlobRoot lacks (from the other
	// servers sharing the store; registry.Config.FetchBlob).
	FetchBlob func(ctx context.Context, account, region string, d digest.Digest) (io.ReadCloser, error)
	// IdentityPolicies, when set (--enforce-iam), decides a registry
	// request by the identity policies of whoever got its token (the
	// access key GetAuthorizationToken was signed with): action is the
	// ECR action (ecr:BatchGetImage, ecr:PutImage, ...), resource the
	// repository's ARN. Its error's text is the registry's DENIED message.
	IdentityPolicies func(ctx context.Context, accessKey, action, resource string) error
	Logger           *slog.Logger
	Now              func() time.Time
}

// scope is one account and region: one registry.
type scope struct{ Account, Region string }

func (s scope) keys() ecr.Keys { return ecr.Keys{Account: s.Account, Region: s.Region} }

// API holds the ECR handlers, the per-account registries and the lifecycle
// state.
type API struct {
	cfg  Config
	st   store.Store
	log  *slog.Logger
	now  func() time.Time
	auth *tokenSigner

	regMu sync.Mutex
	regs  map[scope]*registry.Registry

	lcMu          sync.Mutex
	previews      map[repoRef]*preview
	lastEvaluated map[repoRef]time.Time
	trigger       chan struct{}
	passMu        sync.Mutex // one lifecycle pass at a time
}

// repoRef names one repository.
type repoRef struct {
	scope
	Name string
}

// New returns the ECR API and its awsproto service description.
func New(cfg Config) (*API, *awsproto.Service, error) {
	if cfg.Store == nil {
		return nil, nil, errors.New("ecrapi: Store is required")
	}
	if cfg.BlobRoot == "" {
		return nil, nil, errors.New("ecrapi: BlobRoot is required")
	}
	if cfg.RegistryHost == "" {
		return nil, nil, errors.New("ecrapi: RegistryHost is required")
	}
	if len(cfg.TokenKey) < MinTokenKeyLen {
		return nil, nil, fmt.Errorf("ecrapi: TokenKey must have at least %d bytes", MinTokenKeyLen)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = awsproto.DefaultAccountID
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	if cfg.LifecycleInterval == 0 {
		cfg.LifecycleInterval = DefaultLifecycleInterval
	}
	if cfg.GCInterval == 0 {
		cfg.GCInterval = DefaultGCInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{
		cfg: cfg, st: cfg.Store, log: cfg.Logger, now: cfg.Now,
		auth:          &tokenSigner{key: cfg.TokenKey},
		regs:          map[scope]*registry.Registry{},
		previews:      map[repoRef]*preview{},
		lastEvaluated: map[repoRef]time.Time{},
		trigger:       make(chan struct{}, 1),
	}
	svc := &awsproto.Service{
		SigningName:  "ecr",
		Protocol:     awsproto.JSON11,
		TargetPrefix: TargetPrefix,
		MapError:     mapError,
		Ops: map[string]awsproto.Op{
			"CreateRepository":              awsproto.Handle(a.createRepository),
			"DescribeRepositories":          awsproto.Handle(a.describeRepositories),
			"DeleteRepository":              awsproto.Handle(a.deleteRepository),
			"PutImageTagMutability":         awsproto.Handle(a.putImageTagMutability),
			"PutImageScanningConfiguration": awsproto.Handle(a.putImageScanningConfiguration),
			"ListImages":                    awsproto.Handle(a.listImages),
			"DescribeImages":                awsproto.Handle(a.describeImages),
			"BatchGetImage":                 awsproto.Handle(a.batchGetImage),
			"BatchDeleteImage":              awsproto.Handle(a.batchDeleteImage),
			"PutImage":                      awsproto.Handle(a.putImage),
			"BatchCheckLayerAvailability":   awsproto.Handle(a.batchCheckLayerAvailability),
			"InitiateLayerUpload":           awsproto.Handle(a.initiateLayerUpload),
			"UploadLayerPart":               awsproto.Handle(a.uploadLayerPart),
			"CompleteLayerUpload":           awsproto.Handle(a.completeLayerUpload),
			"GetDownloadUrlForLayer":        awsproto.Handle(a.getDownloadURLForLayer),
			"SetRepositoryPolicy":           awsproto.Handle(a.setRepositoryPolicy),
			"GetRepositoryPolicy":           awsproto.Handle(a.getRepositoryPolicy),
			"DeleteRepositoryPolicy":        awsproto.Handle(a.deleteRepositoryPolicy),
			"TagResource":                   awsproto.Handle(a.tagResource),
			"UntagResource":                 awsproto.Handle(a.untagResource),
			"ListTagsForResource":           awsproto.Handle(a.listTagsForResource),
			"GetAuthorizationToken":         awsproto.Handle(a.getAuthorizationToken),
			"PutLifecyclePolicy":            awsproto.Handle(a.putLifecyclePolicy),
			"GetLifecyclePolicy":            awsproto.Handle(a.getLifecyclePolicy),
			"DeleteLifecyclePolicy":         awsproto.Handle(a.deleteLifecyclePolicy),
			"StartLifecyclePolicyPreview":   awsproto.Handle(a.startLifecyclePolicyPreview),
			"GetLifecyclePolicyPreview":     awsproto.Handle(a.getLifecyclePolicyPreview),
		},
	}
	return a, svc, nil
}

// Registry returns the registry of an account and region, creating it on
// first use. Each has its own blob directory under BlobRoot.
func (a *API) Registry(account, region string) (*registry.Registry, error) {
	return a.registry(scope{account, region})
}

func (a *API) registry(sc scope) (*registry.Registry, error) {
	a.regMu.Lock()
	defer a.regMu.Unlock()
	if r := a.regs[sc]; r != nil {
		return r, nil
	}
	if !validAccount(sc.Account) || !validRegion(sc.Region) {
		return nil, fmt.Errorf("ecrapi: invalid registry scope %q/%q", sc.Account, sc.Region)
	}
	r, err := registry.New(registry.Config{
		Account:                sc.Account,
		Region:                 sc.Region,
		Store:                  a.st,
		BlobRoot:               filepath.Join(a.cfg.BlobRoot, sc.Account, sc.Region),
		Logger:                 a.log.With("account", sc.Account, "region", sc.Region),
		Authorizer:             a.authorizer(sc),
		AutoCreateRepositories: a.cfg.AutoCreateRepositories,
		GCGracePeriod:          a.cfg.GCGracePeriod,
		FetchBlob:              a.fetchBlob(sc),
		// A push may make a lifecycle policy expire something.
		OnManifestPut: func(string, registry.PutManifestResult) { a.Trigger() },
		Now:           a.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	a.regs[sc] = r
	return r, nil
}

func (a *API) fetchBlob(sc scope) func(context.Context, digest.Digest) (io.ReadCloser, error) {
	if a.cfg.FetchBlob == nil {
		return nil
	}
	return func(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
		return a.cfg.FetchBlob(ctx, sc.Account, sc.Region, d)
	}
}

// OpenLocalBlob opens this server's own copy of a blob of an account and
// region, never fetching it (what the peer servers are served). A blob
// this server lacks is blobstore.ErrNotFound.
func (a *API) OpenLocalBlob(account, region string, d digest.Digest) (io.ReadSeekCloser, error) {
	r, err := a.registry(scope{account, region})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", blobstore.ErrNotFound, err)
	}
	return r.OpenLocalBlob(d)
}

// Close releases the registries.
func (a *API) Close() error {
	a.regMu.Lock()
	defer a.regMu.Unlock()
	var first error
	for sc, r := range a.regs {
		if err := r.Close(); err != nil && first == nil {
			first = err
		}
		delete(a.regs, sc)
	}
	return first
}

// callScope is the caller's own account and region.
func (a *API) callScope(c *awsproto.Call) scope {
	region := c.Region
	if region == "" {
		region = a.cfg.DefaultRegion
	}
	return scope{c.AccountOr(a.cfg.DefaultAccount), region}
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Ensure the handler signature matches awsproto.Handle's expectation.
var _ = awsproto.Handle(func(context.Context, *awsproto.Call, *struct{}) (any, error) { return nil, nil })
