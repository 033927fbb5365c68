package logscp

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/logs"
)

// RetentionInterval is how often the retention reconciler runs.
const RetentionInterval = time.Minute

// Retention is the reconciler that deletes log data past its group's
// retention: level-based (each pass compares every group's data with its
// retention at now), so a missed pass loses nothing. It runs on every
// server, as each server keeps its own log data.
type Retention struct {
	Plane    *Plane
	Interval time.Duration // default RetentionInterval
}

// Run expires data at once and then every Interval until ctx ends.
func (r *Retention) Run(ctx context.Context) error {
	iv := r.Interval
	if iv <= 0 {
		iv = RetentionInterval
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		r.Once()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once runs one pass and returns how many segments it removed.
func (r *Retention) Once() int {
	now := r.Plane.now()
	n, err := r.Plane.st.Expire(func(days int) int64 { return logs.Cutoff(days, now) })
	if err != nil {
		r.Plane.log.Warn("log retention pass failed", "err", err)
	}
	if n > 0 {
		r.Plane.log.Info("expired log segments deleted", "segments", n)
	}
	return n
}
