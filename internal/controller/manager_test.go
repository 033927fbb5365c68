package controller

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/leader"
)

// probe is a runnable that records its runs and runs until its context
// ends.
type probe struct {
	leaderOnly bool
	running    atomic.Int32
	starts     atomic.Int32
}

func (p *probe) Run(ctx context.Context) error {
	p.starts.Add(1)
	p.running.Add(1)
	defer p.running.Add(-1)
	<-ctx.Done()
	return nil
}

func (p *probe) NeedLeaderElection() bool { return p.leaderOnly }

func TestManagerRunsLeaderOnlyRunnablesUnderLeadership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The elector grants leadership when told, for as long as the
		// test says.
		grant := make(chan context.CancelFunc)
		var campaigns atomic.Int32
		el := fakeElector{campaign: func(ctx context.Context) (context.Context, error) {
			campaigns.Add(1)
			lctx, lose := context.WithCancel(ctx)
			select {
			case grant <- lose:
				return lctx, nil
			case <-ctx.Done():
				lose()
				return nil, ctx.Err()
			}
		}}
		everywhere, leaderOnly := &probe{}, &probe{leaderOnly: true}
		m := NewManager(ManagerConfig{Elector: el})
		m.Add("everywhere", everywhere)
		m.Add("leader", leaderOnly)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		synctest.Wait()
		if everywhere.running.Load() != 1 || leaderOnly.running.Load() != 0 {
			t.Fatalf("before leading: everywhere %d, leader-only %d running; want 1, 0", everywhere.running.Load(), leaderOnly.running.Load())
		}
		lose := <-grant
		synctest.Wait()
		if leaderOnly.running.Load() != 1 {
			t.Fatal("leader-only runnable not started on leading")
		}
		lose()
		synctest.Wait()
		if leaderOnly.running.Load() != 0 || everywhere.running.Load() != 1 {
			t.Fatal("losing leadership did not stop (only) the leader-only runnable")
		}
		if campaigns.Load() != 2 {
			t.Fatalf("%d campaigns; want a second one after losing leadership", campaigns.Load())
		}
		lose = <-grant
		synctest.Wait()
		if leaderOnly.starts.Load() != 2 || leaderOnly.running.Load() != 1 {
			t.Fatal("leader-only runnable not restarted on leading again")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if everywhere.running.Load() != 0 || leaderOnly.running.Load() != 0 {
			t.Fatal("Run returned before its runnables")
		}
		lose()
	})
}

func TestManagerRetriesAFailedCampaign(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var campaigns atomic.Int32
		el := fakeElector{campaign: func(ctx context.Context) (context.Context, error) {
			if campaigns.Add(1) < 3 {
				return nil, errors.New("etcd unavailable")
			}
			return ctx, nil
		}}
		p := &probe{leaderOnly: true}
		m := NewManager(ManagerConfig{Elector: el, CampaignRetry: 5 * time.Second})
		m.Add("leader", p)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		t0 := time.Now()
		for synctest.Wait(); p.running.Load() == 0; synctest.Wait() {
			time.Sleep(time.Second)
		}
		if waited := time.Since(t0); waited != 10*time.Second {
			t.Errorf("led after %v; want two 5s retries", waited)
		}
		cancel()
		<-done
	})
}

func TestManagerStopsAllWhenOneFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		other, leaderProbe := &probe{}, &probe{leaderOnly: true}
		m := NewManager(ManagerConfig{Elector: leader.Always{}})
		m.Add("other", other)
		m.Add("leader", leaderProbe)
		m.Add("failing", RunnableFunc(func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return boom
		}))
		err := m.Run(context.Background())
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v; want boom", err)
		}
		if other.running.Load() != 0 || leaderProbe.running.Load() != 0 {
			t.Fatal("Run returned with runnables still running")
		}
	})
}

func TestManagerLeaderOnlyRunnableThatReturnsEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		m := NewManager(ManagerConfig{})
		m.Add("once", LeaderOnly(RunnableFunc(func(context.Context) error { runs.Add(1); return nil })))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = m.Run(ctx) })
		time.Sleep(time.Hour)
		synctest.Wait()
		if runs.Load() != 1 {
			t.Fatalf("a finished leader-only runnable ran %d times in one term", runs.Load())
		}
		cancel()
		wg.Wait()
	})
}
