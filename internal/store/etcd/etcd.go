package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store"
)

// DefaultNamespace is the key prefix of a store whose Options name none.
const DefaultNamespace = "/berth"

// Options configure a Store.
type Options struct {
	// Namespace is prepended to every key: berth key "/ecs/..." is etcd
	// key Namespace+"/ecs/...". It starts with '/' and does not end with
	// one; DefaultNamespace when empty. Servers that share state use the
	// same namespace; separate deployments on one etcd use different ones.
	Namespace string
	// TLS, when set, is the client's TLS configuration (https
	// endpoints): the CA that signs the members' certificates and the
	// client certificate, if they ask for one.
	TLS *tls.Config
}

// Store is a store.Store on an etcd cluster.
type Store struct {
	cli     *clientv3.Client
	ns      string
	ownsCli bool

	// life guards closed: operations hold it for reading while they run,
	// Close takes it for writing once to flip closed.
	life    sync.RWMutex
	closed  bool
	stop    context.CancelFunc // ends every watch
	stopped context.Context
	watches sync.WaitGroup

	progress progress
}

var _ store.Store = (*Store)(nil)

// ValidateNamespace checks a namespace as Options takes it.
func ValidateNamespace(ns string) error {
	switch {
	case ns == "":
		return nil
	case !strings.HasPrefix(ns, "/"):
		return fmt.Errorf("etcd namespace %q must start with '/'", ns)
	case strings.HasSuffix(ns, "/"):
		return fmt.Errorf("etcd namespace %q must not end with '/'", ns)
	}
	return nil
}

// New returns a store on an existing client; Close does not close the
// client.
func New(cli *clientv3.Client, opts Options) (*Store, error) {
	if err := ValidateNamespace(opts.Namespace); err != nil {
		return nil, err
	}
	ns := opts.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	stopped, stop := context.WithCancel(context.Background())
	s := &Store{cli: cli, ns: ns, stop: stop, stopped: stopped}
	s.progress.init()
	s.watches.Go(func() { s.progress.pump(s.stopped, s.requestProgress) })
	return s, nil
}

// Open connects to the etcd endpoints and returns a store that owns the
// client. It fails unless a member answers within ctx.
func Open(ctx context.Context, endpoints []string, opts Options) (*Store, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 10 * time.Second,
		// Keep idle connections checked so a dead member is noticed.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		// The client's own 2 MiB send limit would cut a placement batch
		// before the server's --max-request-bytes does.
		MaxCallSendMsgSize: 64 << 20,
		Logger:             nopLogger(),
		TLS:                opts.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd %v: %w", endpoints, err)
	}
	s, err := New(cli, opts)
	if err != nil {
		cli.Close()
		return nil, err
	}
	s.ownsCli = true
	// The client dials lazily: ask for the revision so that a wrong
	// address fails here, not at the first request.
	if _, err := s.Revision(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("etcd %v: %w", endpoints, err)
	}
	return s, nil
}

// Client returns the etcd client, e.g. for a leader.Elector on the same
// cluster.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Namespace returns the key prefix in use.
func (s *Store) Namespace() string { return s.ns }

func (s *Store) enter() bool {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return false
	}
	return true
}

func (s *Store) leave() { s.life.RUnlock() }

// key maps a berth key to its etcd key.
func (s *Store) key(k string) string { return s.ns + k }

// rangeOf is the etcd range [start, end) holding the berth keys with the
// prefix. Every berth key starts with '/', so "" is the namespace's whole
// "/" subtree; a prefix that does not start with '/' holds no key
// (ok false).
func (s *Store) rangeOf(prefix string) (start, end string, ok bool) {
	if prefix == "" {
		prefix = "/"
	}
	if !strings.HasPrefix(prefix, "/") {
		return "", "", false
	}
	start = s.key(prefix)
	return start, clientv3.GetPrefixRangeEnd(start), true
}

// fail maps a client error: the caller's context error as is, ErrClosed
// once the store is closing, etcd's conditions to the store's sentinels.
func (s *Store) fail(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if s.stopped.Err() != nil {
		return store.ErrClosed
	}
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%w: %v", store.ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return fmt.Errorf("etcd: %w (raise the etcd server's --max-txn-ops)", err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("etcd: %w (raise the etcd server's --max-request-bytes)", err)
	}
	return fmt.Errorf("etcd: %w", err)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, err
	}
	if !s.enter() {
		return store.KV{}, store.ErrClosed
	}
	defer s.leave()
	resp, err := s.cli.Get(ctx, s.key(key))
	if err != nil {
		return store.KV{}, s.fail(ctx, err)
	}
	if len(resp.Kvs) == 0 {
		return store.KV{}, fmt.Errorf("%w: %q", store.ErrNotFound, key)
	}
	kv := resp.Kvs[0]
	return store.KV{Key: key, Value: clone(kv.Value), CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision}, nil
}

// List implements store.Store: one linearizable range read, so the keys
// and the returned revision are one snapshot.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if opts.Limit < 0 {
		return nil, 0, fmt.Errorf("%w: negative limit %d", store.ErrInvalidArgument, opts.Limit)
	}
	if !s.enter() {
		return nil, 0, store.ErrClosed
	}
	defer s.leave()
	start, end, ok := s.rangeOf(prefix)
	if ok && opts.StartAfter >= prefix && opts.StartAfter != "" {
		start = s.key(opts.StartAfter) + "\x00"
	}
	if !ok || start >= end {
		rev, err := s.revision(ctx)
		return nil, rev, err
	}
	resp, err := s.cli.Get(ctx, start, clientv3.WithRange(end), clientv3.WithLimit(int64(opts.Limit)))
	if err != nil {
		return nil, 0, s.fail(ctx, err)
	}
	var kvs []store.KV
	if len(resp.Kvs) > 0 {
		kvs = make([]store.KV, len(resp.Kvs))
	}
	for i, kv := range resp.Kvs {
		kvs[i] = store.KV{
			Key:            string(kv.Key[len(s.ns):]),
			Value:          clone(kv.Value),
			CreateRevision: kv.CreateRevision,
			ModRevision:    kv.ModRevision,
		}
	}
	s.progress.want(resp.Header.Revision)
	return kvs, resp.Header.Revision, nil
}

// Txn implements store.Store as one etcd transaction: the compares become
// etcd compares (a prefix compare is ModRevision < rev+1 over the prefix
// range), the ops its success branch. etcd acknowledges a transaction
// once a quorum has it in its fsync'd log.
func (s *Store) Txn(ctx context.Context, cmps []store.Compare, ops []store.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := store.ValidateTxn(cmps, ops); err != nil {
		return 0, err
	}
	if !s.enter() {
		return 0, store.ErrClosed
	}
	defer s.leave()
	ecmps := make([]clientv3.Cmp, len(cmps))
	for i, c := range cmps {
		if c.Prefix {
			ecmps[i] = clientv3.Compare(clientv3.ModRevision(s.key(c.Key)), "<", c.ModRevision+1).WithPrefix()
		} else {
			ecmps[i] = clientv3.Compare(clientv3.ModRevision(s.key(c.Key)), "=", c.ModRevision)
		}
	}
	eops := make([]clientv3.Op, len(ops))
	for i, op := range ops {
		if op.Delete {
			eops[i] = clientv3.OpDelete(s.key(op.Key))
		} else {
			eops[i] = clientv3.OpPut(s.key(op.Key), string(op.Value)) // string() copies
		}
	}
	resp, err := s.cli.Txn(ctx).If(ecmps...).Then(eops...).Commit()
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	if !resp.Succeeded {
		return 0, store.ErrConflict
	}
	return resp.Header.Revision, nil
}

// Revision implements store.Store with a linearizable read.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !s.enter() {
		return 0, store.ErrClosed
	}
	defer s.leave()
	return s.revision(ctx)
}

func (s *Store) revision(ctx context.Context) (int64, error) {
	// A point read of a key that is never written (berth keys start
	// with '/' after the namespace) costs no range scan.
	resp, err := s.cli.Get(ctx, s.ns, clientv3.WithCountOnly())
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	s.progress.want(resp.Header.Revision)
	return resp.Header.Revision, nil
}

// Compact discards history so that Watch from any revision below rev
// fails with store.ErrCompacted while Watch from rev still works (it
// implements storetest.Compactor). A berth watch from rev reads etcd
// history from rev+1, so this is an etcd compaction at rev+1 (clamped to
// the current revision); it is cluster-wide, not per namespace.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if !s.enter() {
		return store.ErrClosed
	}
	defer s.leave()
	cur, err := s.revision(ctx)
	if err != nil {
		return err
	}
	target := min(rev+1, cur)
	if _, err := s.cli.Compact(ctx, target, clientv3.WithCompactPhysical()); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return s.fail(ctx, err)
	}
	return nil
}

// Close ends every watch (waiting for their goroutines) and, for a store
// from Open, closes the client. Operations after Close return
// store.ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	s.life.Unlock()
	s.stop()
	s.watches.Wait()
	if s.ownsCli {
		return s.cli.Close()
	}
	return nil
}

// clone returns a fresh copy that is never nil (an empty value of a put
// is []byte{}, as the caller wrote it).
func clone(b []byte) []byte { return append([]byte{}, b...) }
