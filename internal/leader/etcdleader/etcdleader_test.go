package etcdleader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/leader/etcdleader"
)

const prefix = "/test/leader"

func client(t *testing.T, srv *etcdserver.Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func elector(t *testing.T, cli *clientv3.Client, id string, ttl time.Duration) *etcdleader.Elector {
	t.Helper()
	e, err := etcdleader.New(cli, etcdleader.Options{Prefix: prefix, Identity: id, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type result struct {
	lead context.Context
	err  error
	at   time.Time
}

// campaign runs Campaign in the background and reports its result.
func campaign(ctx context.Context, e *etcdleader.Elector) <-chan result {
	ch := make(chan result, 1)
	go func() {
		lead, err := e.Campaign(ctx)
		ch <- result{lead, err, time.Now()}
	}()
	return ch
}

func wait(t *testing.T, ch <-chan result, within time.Duration) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		t.Fatalf("campaign did not return within %v", within)
	}
	panic("unreachable")
}

func startEtcd(t *testing.T) *etcdserver.Server {
	t.Helper()
	srv, err := etcdserver.Start(t.Context(), etcdserver.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// One candidate leads; when it resigns (its context ends) the other leads
// at once, well before the lease TTL.
func TestResignHandsOver(t *testing.T) {
	srv := startEtcd(t)
	const ttl = 10 * time.Second
	a := elector(t, client(t, srv), "a", ttl)
	b := elector(t, client(t, srv), "b", ttl)

	actx, acancel := context.WithCancel(t.Context())
	ra := wait(t, campaign(actx, a), 10*time.Second)
	if ra.err != nil {
		t.Fatal(ra.err)
	}
	if id, err := b.Leader(t.Context()); err != nil || id != "a" {
		t.Fatalf("Leader = %q, %v; want a", id, err)
	}
	bch := campaign(t.Context(), b)
	select {
	case r := <-bch:
		t.Fatalf("b leads while a does: %+v", r)
	case <-time.After(500 * time.Millisecond): // b must still be waiting
	}
	resigned := time.Now()
	acancel()
	<-ra.lead.Done()
	a.Close() // a's resignation is done
	rb := wait(t, bch, ttl/2)
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	if d := rb.at.Sub(resigned); d >= ttl {
		t.Fatalf("b led %v after a resigned, not before the TTL %v", d, ttl)
	}
	if id, err := b.Leader(t.Context()); err != nil || id != "b" {
		t.Fatalf("Leader = %q, %v; want b", id, err)
	}
	if rb.lead.Err() != nil {
		t.Fatal("b's leadership ended early")
	}
}

// A leader whose client goes away without resigning (a killed process)
// loses its leadership context, and the other candidate leads once the
// lease has expired.
func TestKilledLeaderIsReplaced(t *testing.T) {
	srv := startEtcd(t)
	const ttl = 2 * time.Second
	acli := client(t, srv)
	a := elector(t, acli, "a", ttl)
	b := elector(t, client(t, srv), "b", ttl)

	ra := wait(t, campaign(t.Context(), a), 10*time.Second)
	if ra.err != nil {
		t.Fatal(ra.err)
	}
	bch := campaign(t.Context(), b)
	select {
	case r := <-bch:
		t.Fatalf("b leads while a does: %+v", r)
	case <-time.After(500 * time.Millisecond):
	}
	acli.Close() // no resign, no revoke: the lease must expire
	select {
	case <-ra.lead.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a's leadership did not end after its client closed")
	}
	if cause := context.Cause(ra.lead); !errors.Is(cause, etcdleader.ErrLeadershipLost) {
		t.Fatalf("a's leadership ended with %v, want ErrLeadershipLost", cause)
	}
	rb := wait(t, bch, 5*ttl)
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	if id, err := b.Leader(t.Context()); err != nil || id != "b" {
		t.Fatalf("Leader = %q, %v; want b", id, err)
	}
	a.Close()
}

// Campaign gives up when its context ends, leaving no candidate key
// behind that would block the next election.
func TestCampaignCanceled(t *testing.T) {
	srv := startEtcd(t)
	a := elector(t, client(t, srv), "a", 10*time.Second)
	b := elector(t, client(t, srv), "b", 10*time.Second)
	c := elector(t, client(t, srv), "c", 10*time.Second)
	actx, acancel := context.WithCancel(t.Context())
	defer acancel()
	if r := wait(t, campaign(actx, a), 10*time.Second); r.err != nil {
		t.Fatal(r.err)
	}
	bctx, bcancel := context.WithCancel(t.Context())
	bch := campaign(bctx, b)
	cch := campaign(t.Context(), c)
	waitCandidates(t, client(t, srv), 3) // b and c are queued behind a
	bcancel()
	if r := wait(t, bch, 10*time.Second); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("canceled campaign = %v, want context.Canceled", r.err)
	}
	acancel()
	if r := wait(t, cch, 5*time.Second); r.err != nil {
		t.Fatal(r.err)
	}
	if id, _ := c.Leader(t.Context()); id != "c" {
		t.Fatalf("Leader = %q, want c", id)
	}
	a.Close()
	b.Close()
}

// waitCandidates waits, on a watch, until n candidate keys exist.
func waitCandidates(t *testing.T, cli *clientv3.Client, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	count := resp.Count
	wch := cli.Watch(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	for count < int64(n) {
		wr, ok := <-wch
		if !ok {
			t.Fatalf("%d candidates, want %d", count, n)
		}
		for _, ev := range wr.Events {
			if ev.IsCreate() {
				count++
			} else if ev.Type == clientv3.EventTypeDelete {
				count--
			}
		}
	}
}

// With etcd gone, Campaign still returns when its context ends.
func TestCampaignWithoutEtcdEndsWithContext(t *testing.T) {
	srv := startEtcd(t)
	a := elector(t, client(t, srv), "a", 2*time.Second)
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if r := wait(t, campaign(ctx, a), 10*time.Second); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("campaign without etcd = %v, want context.DeadlineExceeded", r.err)
	}
	a.Close()
}
