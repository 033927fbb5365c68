package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecrapi"
	"github.com/berth-dev/berth/internal/iamcp"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/registry/peer"
	"github.com/berth-dev/berth/internal/store"
)

// registryIdentityPolicies decides registry requests under --enforce-iam
// by the identity policies of the key a token was issued to (an IAM
// user's, or an assumed role's such as a task's execution role); keys
// that are no IAM identity's (berth's default and managed keys, the
// credentials file's) act as the account's root.
func registryIdentityPolicies(p *iamcp.Plane) func(ctx context.Context, accessKey, action, resource string) error {
	return func(ctx context.Context, accessKey, action, resource string) error {
		cred, ok, err := p.LookupKey(ctx, accessKey)
		if err != nil {
			return err
		}
		if !ok || cred.Principal == "" {
			return nil
		}
		region := ""
		if parts := strings.SplitN(resource, ":", 5); len(parts) == 5 {
			region = parts[3]
		}
		caller := iamcp.Caller{Account: cred.Account, Principal: cred.Principal, PrincipalID: cred.PrincipalID, AccessKey: accessKey}
		return p.Authorize(ctx, caller, action, resource, map[string][]string{"aws:RequestedRegion": {region}})
	}
}

// tokenKeyFile is the file in the data directory holding the HMAC key that
// signs ECR authorization tokens (created 0600 on first start, so tokens
// survive restarts). Servers sharing an etcd keep theirs in the store
// instead (tokenKeyKey), so that any of them accepts a token another
// issued.
const tokenKeyFile = "ecr-token.key"

// ecrSubsystem is the ECR control plane and its registries, as server.New
// wires them.
type ecrSubsystem struct {
	// API is the ECR control plane (registries, lifecycle runner).
	API *ecrapi.API
	// Service is the awsJson1.1 ECR service for the awsproto router.
	Service *awsproto.Service
	// Registry is the OCI distribution API with ECR auth: mount it at
	// "/v2/" on the API listener.
	Registry http.Handler
	// Peer serves this server's blobs to the servers sharing its store
	// (nil for a server alone on its store): mount it at peer.PathPrefix.
	Peer http.Handler
	// Run applies lifecycle policies and garbage-collects until ctx ends,
	// then closes the registries. Start it in its own goroutine and wait
	// for it before closing the store.
	Run func(ctx context.Context)
}

// newECR builds the ECR subsystem. listenAddr is the address the API
// listener is bound to (its real port when Listen ends in ":0"), from
// which the default registry host is derived. shared is set when other
// servers share st.
func newECR(s settings, st store.Store, shared bool, identity, listenAddr string, iamPlane *iamcp.Plane, log *slog.Logger) (*ecrSubsystem, error) {
	cfg := s.Config
	key, err := tokenKey(st, shared, filepath.Join(cfg.DataDir, tokenKeyFile))
	if err != nil {
		return nil, fmt.Errorf("ecr token key: %w", err)
	}
	// Servers sharing a store fetch the blobs they lack from each other
	// (package peer); each advertises its address while it runs.
	var (
		peers     *peer.Directory
		fetchBlob func(context.Context, string, string, digest.Digest) (io.ReadCloser, error)
	)
	if shared {
		peers = &peer.Directory{Store: st, Identity: identity, URL: "http://" + advertiseAddr(cfg, listenAddr)}
		fetchBlob = peer.NewClient(peers, key, log.With("subsystem", "registry-peers")).Fetch
	}
	interval, grace := s.lifecycleInterval, s.gcGracePeriod
	var identityPolicies func(ctx context.Context, accessKey, action, resource string) error
	if s.EnforceIAM && iamPlane != nil {
		identityPolicies = registryIdentityPolicies(iamPlane)
	}
	api, svc, err := ecrapi.New(ecrapi.Config{
		IdentityPolicies:  identityPolicies,
		FetchBlob:         fetchBlob,
		Store:             st,
		BlobRoot:          filepath.Join(cfg.DataDir, "registry"),
		RegistryHost:      registryHost(cfg, listenAddr),
		TokenKey:          key,
		DefaultAccount:    cfg.Account,
		DefaultRegion:     cfg.Region,
		LifecycleInterval: interval,
		GCGracePeriod:     grace,
		Logger:            log,
	})
	if err != nil {
		return nil, err
	}
	sub := &ecrSubsystem{
		API:      api,
		Service:  svc,
		Registry: api.RegistryHandler(),
		Run: func(ctx context.Context) {
			api.Run(ctx)
			if err := api.Close(); err != nil {
				log.Warn("ecr: closing registries", "err", err)
			}
		},
	}
	if peers != nil {
		sub.Peer = peer.Handler(key, func(account, region string, d digest.Digest) (io.ReadSeekCloser, error) {
			f, err := api.OpenLocalBlob(account, region, d)
			if errors.Is(err, blobstore.ErrNotFound) {
				return nil, fmt.Errorf("%w: %v", peer.ErrNotFound, err)
			}
			return f, err
		})
		run := sub.Run
		sub.Run = func(ctx context.Context) {
			if err := peers.Advertise(ctx); err != nil {
				// Without it the other servers cannot fetch this one's
				// blobs; this one still serves and fetches.
				log.Error("cannot advertise this server's registry to its peers", "error", err)
			}
			run(ctx)
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := peers.Withdraw(wctx); err != nil {
				log.Warn("cannot withdraw this server's registry address", "error", err)
			}
		}
	}
	return sub, nil
}

// advertiseAddr is host:port at which the servers sharing the store
// reach this one: Config.AdvertiseAddr, else the listen address with an
// unspecified host replaced by the hostname.
func advertiseAddr(cfg Config, listenAddr string) string {
	if cfg.AdvertiseAddr != "" {
		return cfg.AdvertiseAddr
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return listenAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// registryHost is the host[:port] docker uses for berth's registry:
// Config.RegistryHost when set, else the API listen address, with an
// unspecified or loopback host spelled "localhost" (docker treats
// loopback registries as plain-HTTP ones).
func registryHost(cfg Config, listenAddr string) string {
	if cfg.RegistryHost != "" {
		return cfg.RegistryHost
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return listenAddr
	}
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// tokenKey returns the key that signs ECR tokens: the data directory's
// (loadTokenKey) for a server alone on its store; for servers sharing a
// store, the one in the store, created on first use from the first
// server's file if it has one (its tokens stay valid) or at random.
func tokenKey(st store.Store, shared bool, path string) ([]byte, error) {
	if !shared {
		return loadTokenKey(path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), etcdOpenTimeout)
	defer cancel()
	key, err := sharedValue(ctx, st, tokenKeyKey, func() ([]byte, error) {
		key, err := os.ReadFile(path)
		if err == nil && len(key) >= ecrapi.MinTokenKeyLen {
			return key, nil
		}
		key = make([]byte, 32)
		_, err = io.ReadFull(rand.Reader, key)
		return key, err
	})
	if err != nil {
		return nil, err
	}
	if len(key) < ecrapi.MinTokenKeyLen {
		return nil, fmt.Errorf("the store's %s holds %d bytes, want at least %d", tokenKeyKey, len(key), ecrapi.MinTokenKeyLen)
	}
	return key, nil
}

// loadTokenKey reads the token key, creating it (0600) on first start.
func loadTokenKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < ecrapi.MinTokenKeyLen {
			return nil, fmt.Errorf("%s holds %d bytes, want at least %d (delete it to create a new key; issued tokens become invalid)", path, len(key), ecrapi.MinTokenKeyLen)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadTokenKey(path) // another process won the race
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return key, nil
}
