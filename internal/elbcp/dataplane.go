package elbcp

import (
	"context"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// ReportHealth records the health the data plane observed for a target
// of group tgID ("id:port" is its key). Targets gone or draining are left
// alone.
func (p *Plane) ReportHealth(ctx context.Context, sc elb.Scope, tgID, id string, port int, h elb.Health) error {
	return p.repo.SetTargetHealth(ctx, sc, tgID, id+":"+strconv.Itoa(port), h)
}

// SweepDrained removes the draining targets whose deregistration delay
// has passed at now, in every scope, and returns the earliest time a
// still-draining target is due (zero if none).
func (p *Plane) SweepDrained(ctx context.Context, now time.Time) (time.Time, error) {
	states, _, err := p.repo.ReadAll(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, st := range states {
		due := false
		for _, tg := range st.TargetGroups {
			delay := drainDelay(tg)
			for _, t := range st.Targets[tg.ID] {
				if !t.Draining() {
					continue
				}
				if t.DrainDone(delay, now) {
					due = true
				} else if at := t.DrainingSince.Add(delay); next.IsZero() || at.Before(next) {
					next = at
				}
			}
		}
		if !due {
			continue
		}
		err := p.repo.Update(ctx, st.Scope, func(st *elbstore.State, tx *elbstore.Tx) error {
			for _, tg := range st.TargetGroups {
				for _, t := range st.Targets[tg.ID] {
					if t.DrainDone(drainDelay(tg), now) {
						tx.DeleteTarget(tg.ID, t)
					}
				}
			}
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
	}
	return next, nil
}

func drainDelay(tg *elb.TargetGroup) time.Duration {
	n, _ := strconv.Atoi(tg.Attr("deregistration_delay.timeout_seconds"))
	return time.Duration(n) * time.Second
}

// Snapshot returns every scope's state (for the data plane).
func (p *Plane) Snapshot(ctx context.Context) ([]*elbstore.State, int64, error) {
	return p.repo.ReadAll(ctx)
}
