package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/leader"
)

// Runnable is a piece of background work the Manager runs: Run blocks until
// ctx ends (or the work is done) and returns; an error stops the manager.
type Runnable interface {
	Run(ctx context.Context) error
}

// LeaderElectionRunnable is implemented by runnables that say whether they
// need leader election. A runnable that does not implement it runs on
// every server at once.
type LeaderElectionRunnable interface {
	NeedLeaderElection() bool
}

// RunnableFunc adapts a function to a Runnable that runs on every server.
type RunnableFunc func(ctx context.Context) error

// Run calls f.
func (f RunnableFunc) Run(ctx context.Context) error { return f(ctx) }

// LeaderOnly wraps a runnable so that it runs only on the leader.
func LeaderOnly(r Runnable) Runnable { return leaderOnly{r} }

type leaderOnly struct{ Runnable }

func (leaderOnly) NeedLeaderElection() bool { return true }

// Manager runs runnables, in the manner of controller-runtime's manager:
// those that need no leader election start at once; the leader-only ones
// start once Elector.Campaign returns, under the context it returned, and
// stop when leadership ends; then the manager campaigns again. Run returns
// once every runnable has returned.
type Manager struct {
	elector leader.Elector
	log     *slog.Logger
	retry   time.Duration

	mu        sync.Mutex
	started   bool
	runnables []namedRunnable
}

type namedRunnable struct {
	name string
	r    Runnable
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Elector elects the leader; nil means leader.Always{} (one server).
	Elector leader.Elector
	Logger  *slog.Logger
	// CampaignRetry is the pause after a failed campaign (1s if zero).
	CampaignRetry time.Duration
}

// NewManager returns a manager with no runnables.
func NewManager(cfg ManagerConfig) *Manager {
	if cfg.Elector == nil {
		cfg.Elector = leader.Always{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CampaignRetry <= 0 {
		cfg.CampaignRetry = time.Second
	}
	return &Manager{elector: cfg.Elector, log: cfg.Logger, retry: cfg.CampaignRetry}
}

// Add registers a runnable under a name (for logs). It panics once the
// manager runs.
func (m *Manager) Add(name string, r Runnable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		panic("controller: Manager.Add after Run")
	}
	m.runnables = append(m.runnables, namedRunnable{name, r})
}

func needsLeader(r Runnable) bool {
	l, ok := r.(LeaderElectionRunnable)
	return ok && l.NeedLeaderElection()
}

// Run runs the runnables until ctx ends or one fails; it cancels the rest
// and waits for all of them before it returns (the first error, if any).
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("controller: Manager.Run called twice")
	}
	m.started = true
	var everywhere, leaderOnly []namedRunnable
	for _, nr := range m.runnables {
		if needsLeader(nr.r) {
			leaderOnly = append(leaderOnly, nr)
		} else {
			everywhere = append(everywhere, nr)
		}
	}
	m.mu.Unlock()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	start := func(ctx context.Context, wg *sync.WaitGroup, nr namedRunnable) {
		wg.Go(func() {
			err := nr.r.Run(ctx)
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w", nr.name, err)
				m.log.Error("controller failed; stopping the others", "controller", nr.name, "error", err)
				errOnce.Do(func() { firstErr = err })
				cancel(err)
			}
		})
	}
	for _, nr := range everywhere {
		start(ctx, &wg, nr)
	}
	if len(leaderOnly) > 0 {
		wg.Go(func() {
			for ctx.Err() == nil {
				lctx, err := m.elector.Campaign(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					m.log.Warn("leader campaign failed; retrying", "identity", m.elector.Identity(), "error", err, "in", m.retry)
					t := time.NewTimer(m.retry)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
					continue
				}
				m.log.Info("leading: leader-only controllers start", "identity", m.elector.Identity(), "controllers", len(leaderOnly))
				var lwg sync.WaitGroup
				for _, nr := range leaderOnly {
					start(lctx, &lwg, nr)
				}
				lwg.Wait()
				// Runnables that finished early do not end the term:
				// campaign again only once leadership is gone.
				<-lctx.Done()
				if ctx.Err() == nil {
					m.log.Warn("leadership lost: leader-only controllers stopped; campaigning again", "identity", m.elector.Identity())
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
