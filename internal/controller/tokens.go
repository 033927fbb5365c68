package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// RunTokenTTL is how long a RunTask clientToken is remembered.
const RunTokenTTL = time.Hour

// DefaultTokenSweepInterval is how often old RunTask client tokens are
// forgotten.
const DefaultTokenSweepInterval = 10 * time.Minute

// TokenStore forgets RunTask client tokens (ecscp.Plane implements it).
type TokenStore interface {
	// ForgetRunTokens forgets a cluster's tokens recorded before the
	// cutoff.
	ForgetRunTokens(ctx context.Context, sc ecs.Scope, cluster string, before time.Time) error
}

// TokenSweepConfig configures the token sweep.
type TokenSweepConfig struct {
	View   View
	Tokens TokenStore
	// Interval between sweeps (DefaultTokenSweepInterval if zero).
	Interval time.Duration
	Logger   *slog.Logger
}

// TokenSweep forgets, every interval, the RunTask client tokens of every
// ACTIVE cluster that are older than RunTokenTTL. It is leader-only.
type TokenSweep struct{ cfg TokenSweepConfig }

var (
	_ Runnable               = (*TokenSweep)(nil)
	_ LeaderElectionRunnable = (*TokenSweep)(nil)
)

// NewTokenSweep returns the token sweep.
func NewTokenSweep(cfg TokenSweepConfig) *TokenSweep {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultTokenSweepInterval
	}
	return &TokenSweep{cfg: cfg}
}

// NeedLeaderElection is true.
func (s *TokenSweep) NeedLeaderElection() bool { return true }

// Run sweeps every interval until ctx ends.
func (s *TokenSweep) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.Sweep(ctx)
	}
}

// Sweep forgets the old tokens of every ACTIVE cluster once.
func (s *TokenSweep) Sweep(ctx context.Context) {
	cutoff := time.Now().Add(-RunTokenTTL)
	for _, c := range s.cfg.View.Clusters() {
		if !c.Active {
			continue
		}
		if err := s.cfg.Tokens.ForgetRunTokens(ctx, c.Scope, c.Name, cutoff); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("cannot forget old run tokens", "cluster", c.Name, "error", err)
		}
	}
}
