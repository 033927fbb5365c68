package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// TaskDeleter deletes STOPPED tasks whose retention has passed
// (ecscp.Plane implements it).
type TaskDeleter interface {
	// ExpireTask deletes a task if it is STOPPED (a task gone already is
	// no error).
	ExpireTask(ctx context.Context, sc ecs.Scope, cluster, id string) error
}

// RetentionConfig configures the retention reconciler.
type RetentionConfig struct {
	Source  Source
	Deleter TaskDeleter
	// Retention is how long STOPPED tasks stay visible
	// (DefaultTaskRetention if zero).
	Retention time.Duration
	Logger    *slog.Logger
}

// Retention deletes STOPPED tasks once they are older than the retention
// (key: task key). It is leader-only: one server deletes.
type Retention struct {
	cfg  RetentionConfig
	loop loop
}

var (
	_ Runnable               = (*Retention)(nil)
	_ LeaderElectionRunnable = (*Retention)(nil)
)

// NewRetention returns the retention reconciler and subscribes it to its
// source.
func NewRetention(cfg RetentionConfig) *Retention {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultTaskRetention
	}
	r := &Retention{cfg: cfg}
	r.loop = loop{name: "retention", workers: 1, rec: r.Reconcile, log: cfg.Logger}
	cfg.Source.Subscribe(Handlers{Task: r.onTask})
	return r
}

// NeedLeaderElection is true.
func (r *Retention) NeedLeaderElection() bool { return true }

func (r *Retention) onTask(old, cur *TaskInfo) {
	if cur != nil && cur.Stopped() && (old == nil || !old.Stopped()) {
		r.loop.addAfter(cur.Key, time.Until(cur.StoppedAt.Add(r.cfg.Retention)))
	}
}

// Run reconciles until ctx ends.
func (r *Retention) Run(ctx context.Context) error {
	if err := r.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	r.loop.run(ctx, func(_ func(string), addAfter func(string, time.Duration)) {
		for _, t := range r.cfg.Source.Tasks() {
			if t.Stopped() {
				addAfter(t.Key, time.Until(t.StoppedAt.Add(r.cfg.Retention)))
			}
		}
	})
	return nil
}

// retentionWait is how long a task has left: <0 when it is not a STOPPED
// task (nothing to do), 0 when it is due.
func retentionWait(t TaskInfo, found bool, now time.Time, retention time.Duration) time.Duration {
	if !found || !t.Stopped() {
		return -1
	}
	return max(t.StoppedAt.Add(retention).Sub(now), 0)
}

// Reconcile deletes a task whose retention has passed.
func (r *Retention) Reconcile(ctx context.Context, key string) (time.Duration, error) {
	t, found := r.cfg.Source.Task(key)
	switch wait := retentionWait(t, found, time.Now(), r.cfg.Retention); {
	case wait < 0:
		return 0, nil
	case wait > 0:
		return wait, nil
	}
	return 0, r.cfg.Deleter.ExpireTask(ctx, t.Scope, t.Cluster, t.ID)
}
