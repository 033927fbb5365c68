package etcdleader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/berth-dev/berth/internal/leader"
)

// ErrLeadershipLost is the cause of a leadership context that ended
// because the session's lease was lost.
var ErrLeadershipLost = errors.New("leader: etcd session lost")

// DefaultTTL is the session lease TTL when Options leave it 0.
const DefaultTTL = 5 * time.Second

// Options configure an Elector.
type Options struct {
	// Prefix is the election's etcd key prefix, shared by all candidates,
	// e.g. the store namespace + "/leader/controllers".
	Prefix string
	// Identity names this candidate (stored as the election value).
	Identity string
	// TTL of the session lease, rounded up to whole seconds: how long a
	// killed leader blocks the election. DefaultTTL when 0.
	TTL time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Elector campaigns in one etcd election. Close waits for the resignation
// of a leadership whose context has ended; call it before closing the
// client.
type Elector struct {
	cli    *clientv3.Client
	prefix string
	id     string
	ttl    int
	log    *slog.Logger
	wg     sync.WaitGroup
}

var _ leader.Elector = (*Elector)(nil)

// New returns an Elector on the client.
func New(cli *clientv3.Client, opts Options) (*Elector, error) {
	if opts.Prefix == "" || opts.Identity == "" {
		return nil, errors.New("etcdleader: prefix and identity must be set")
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{
		cli:    cli,
		prefix: opts.Prefix,
		id:     opts.Identity,
		ttl:    int((ttl + time.Second - 1) / time.Second),
		log:    log.With("elector", opts.Identity),
	}, nil
}

// Identity implements leader.Elector.
func (e *Elector) Identity() string { return e.id }

// Campaign implements leader.Elector: it blocks until this candidate
// leads or ctx ends. The returned context ends with ctx (then the elector
// resigns) or when the lease is lost (its cause is ErrLeadershipLost).
func (e *Elector) Campaign(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The lease is granted under ctx (an unreachable etcd must not hold
	// Campaign past ctx), but the session keeps it alive on the client's
	// context, so that it can still be revoked after ctx ended.
	lease, err := e.cli.Grant(ctx, int64(e.ttl))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("etcdleader: lease: %w", err)
	}
	sess, err := concurrency.NewSession(e.cli, concurrency.WithTTL(e.ttl), concurrency.WithLease(lease.ID))
	if err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), time.Duration(e.ttl)*time.Second)
		_, _ = e.cli.Revoke(rctx, lease.ID)
		cancel()
		return nil, fmt.Errorf("etcdleader: session: %w", err)
	}
	el := concurrency.NewElection(sess, e.prefix)
	if err := el.Campaign(ctx, e.id); err != nil {
		e.closeSession(sess)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("etcdleader: campaign: %w", err)
	}
	select {
	case <-sess.Done():
		// The lease expired while campaigning: the key is gone, so
		// this is no leadership.
		e.closeSession(sess)
		return nil, ErrLeadershipLost
	default:
	}
	e.log.Info("leading", "key", el.Key(), "revision", el.Rev())
	lead, cancel := context.WithCancelCause(ctx)
	e.wg.Go(func() {
		select {
		case <-lead.Done():
		case <-sess.Done():
			e.log.Warn("leadership lost: etcd session ended")
			cancel(ErrLeadershipLost)
		}
		cancel(nil)
		rctx, rcancel := context.WithTimeout(context.Background(), time.Duration(e.ttl)*time.Second)
		defer rcancel()
		if err := el.Resign(rctx); err != nil && sess.Ctx().Err() == nil {
			e.log.Warn("resign", "err", err)
		}
		e.closeSession(sess)
	})
	return lead, nil
}

// Leader returns the identity of the current leader, or "" if none.
func (e *Elector) Leader(ctx context.Context) (string, error) {
	resp, err := e.cli.Get(ctx, e.prefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// closeSession revokes the lease (deleting the election key) unless the
// client is already gone.
func (e *Elector) closeSession(sess *concurrency.Session) {
	if err := sess.Close(); err != nil && e.cli.Ctx().Err() == nil {
		e.log.Debug("close session", "err", err)
	}
}

// Close waits until every leadership whose context has ended has resigned.
// It does not end leaderships: their contexts do.
func (e *Elector) Close() { e.wg.Wait() }
