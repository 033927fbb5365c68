package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/leader"
	"github.com/berth-dev/berth/internal/leader/etcdleader"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
	"github.com/berth-dev/berth/internal/store/etcd"
)

// StoreKind is the state-store backend a server runs on.
type StoreKind string

const (
	// StoreBolt: the embedded bbolt file <data_dir>/state.db (default).
	StoreBolt StoreKind = "bolt"
	// StoreEmbeddedEtcd: a single-node etcd embedded in the server, data
	// in <data_dir>/etcd, on a free loopback port. One server only; used
	// to run the test suites on the etcd store path.
	StoreEmbeddedEtcd StoreKind = "embedded-etcd"
	// StoreEtcd: an external etcd cluster, shared by any number of berth
	// servers (one of them runs the controllers).
	StoreEtcd StoreKind = "etcd"
)

// StoreSpec is a parsed --store value.
type StoreSpec struct {
	Kind StoreKind
	// Endpoints of an external etcd, as clientv3 takes them
	// (http://host:port).
	Endpoints []string
	// Namespace is the etcd key prefix (etcd kinds only).
	Namespace string
	// TLS: the external etcd is reached over TLS (etcds://; Endpoints
	// are https URLs).
	TLS bool
}

// ParseStore parses a --store value:
//
//	""  or "bolt"                          the embedded bbolt store
//	"embedded-etcd"                        an embedded single-node etcd
//	"etcd://host:port[,host:port...][/namespace]"
//	                                       an external etcd; the namespace
//	                                       (default /berth) prefixes every key
//	"etcds://..."                          the same over TLS (--etcd-ca,
//	                                       --etcd-cert, --etcd-key)
func ParseStore(v string) (StoreSpec, error) {
	switch v {
	case "", string(StoreBolt):
		return StoreSpec{Kind: StoreBolt}, nil
	case string(StoreEmbeddedEtcd):
		return StoreSpec{Kind: StoreEmbeddedEtcd, Namespace: etcd.DefaultNamespace}, nil
	}
	scheme := "http://"
	rest, ok := strings.CutPrefix(v, "etcd://")
	if !ok {
		if rest, ok = strings.CutPrefix(v, "etcds://"); !ok {
			return StoreSpec{}, fmt.Errorf("store %q: want bolt, embedded-etcd, etcd://host:port[,host:port...][/namespace] or etcds://... (TLS)", v)
		}
		scheme = "https://"
	}
	hosts, ns, _ := strings.Cut(rest, "/")
	spec := StoreSpec{Kind: StoreEtcd, Namespace: etcd.DefaultNamespace, TLS: scheme == "https://"}
	if ns != "" {
		spec.Namespace = "/" + ns
		if err := etcd.ValidateNamespace(spec.Namespace); err != nil {
			return StoreSpec{}, fmt.Errorf("store %q: %w", v, err)
		}
	}
	for h := range strings.SplitSeq(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return StoreSpec{}, fmt.Errorf("store %q: endpoint %q must be host:port", v, h)
		}
		spec.Endpoints = append(spec.Endpoints, scheme+h)
	}
	return spec, nil
}

// openedStore is the state store of a server with what comes with it.
type openedStore struct {
	store.Store
	// Elector decides whether this server runs the leader-only
	// controllers: leader.Always for bolt, an etcd election otherwise.
	Elector leader.Elector
	// close releases everything; call it after every user of the store
	// (and every leadership) has ended.
	close func() error
}

// openStore opens the configured state store. ctx bounds the opening only.
// tlsCfg is the etcd client's TLS configuration of an etcds:// store.
func openStore(ctx context.Context, cfg Config, tlsCfg *tls.Config, log *slog.Logger) (*openedStore, error) {
	spec, err := ParseStore(cfg.Store)
	if err != nil {
		return nil, err
	}
	switch spec.Kind {
	case StoreBolt:
		st, err := bolt.Open(filepath.Join(cfg.DataDir, "state.db"), bolt.Options{})
		if err != nil {
			return nil, fmt.Errorf("state store: %w", err)
		}
		return &openedStore{Store: st, Elector: leader.Always{}, close: st.Close}, nil
	case StoreEmbeddedEtcd:
		srv, err := etcdserver.Start(ctx, etcdserver.Config{Dir: filepath.Join(cfg.DataDir, "etcd"), Logger: log.With("subsystem", "etcd")})
		if err != nil {
			return nil, fmt.Errorf("state store: embedded etcd: %w", err)
		}
		o, err := openEtcd(ctx, cfg, spec.Namespace, srv.Endpoints(), nil, log)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		closeStore := o.close
		o.close = func() error {
			err := closeStore()
			srv.Stop()
			return err
		}
		return o, nil
	default:
		return openEtcd(ctx, cfg, spec.Namespace, spec.Endpoints, tlsCfg, log)
	}
}

// etcdOpenTimeout bounds the first contact with etcd: a wrong or dead
// endpoint fails the start instead of hanging it.
const etcdOpenTimeout = 20 * time.Second

func openEtcd(ctx context.Context, cfg Config, ns string, endpoints []string, tlsCfg *tls.Config, log *slog.Logger) (*openedStore, error) {
	octx, cancel := context.WithTimeout(ctx, etcdOpenTimeout)
	defer cancel()
	st, err := etcd.Open(octx, endpoints, etcd.Options{Namespace: ns, TLS: tlsCfg})
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	el, err := etcdleader.New(st.Client(), etcdleader.Options{
		Prefix:   ns + "/_leader/controllers",
		Identity: identity(cfg),
		Logger:   log.With("subsystem", "leader"),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &openedStore{Store: st, Elector: el, close: func() error {
		el.Close() // resignations finish before the client closes
		return st.Close()
	}}, nil
}

// identity names this server in the leader election: host, pid and
// listen address.
func identity(cfg Config) string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), cfg.Listen)
}

// Close closes the store and what came with it.
func (o *openedStore) Close() error {
	if o == nil || o.close == nil {
		return errors.New("store not open")
	}
	return o.close()
}

// Values the servers of one etcd namespace share (docs/state-store.md).
const (
	// ownerKey holds the owner identity (driver.LabelOwner).
	ownerKey = "/meta/owner"
	// tokenKeyKey holds the HMAC key that signs ECR authorization tokens,
	// so that a token one server issued is accepted by all.
	tokenKeyKey = "/meta/ecr-token-key"
)

// sharedOwner returns the owner identity of the servers that share st,
// creating it on first use. Servers on one etcd run one managed capacity,
// whichever of them leads, so the containers it creates must carry one
// identity: a new leader adopts what the old one started.
func sharedOwner(ctx context.Context, st store.Store) (string, error) {
	v, err := sharedValue(ctx, st, ownerKey, func() ([]byte, error) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return []byte(hex.EncodeToString(b[:])), nil
	})
	if err != nil {
		return "", fmt.Errorf("owner identity: %w", err)
	}
	return string(v), nil
}

// sharedValue returns the value at key, creating it with create on first
// use: the first server to commit its value wins (a compare on "absent"),
// the others read it.
func sharedValue(ctx context.Context, st store.Store, key string, create func() ([]byte, error)) ([]byte, error) {
	for {
		kv, err := st.Get(ctx, key)
		if err == nil {
			return kv.Value, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		v, err := create()
		if err != nil {
			return nil, err
		}
		_, err = st.Txn(ctx, []store.Compare{{Key: key, ModRevision: 0}}, []store.Op{{Key: key, Value: v}})
		switch {
		case err == nil:
			return v, nil
		case !errors.Is(err, store.ErrConflict):
			return nil, err
		}
		// Another server created it first: read theirs.
	}
}
