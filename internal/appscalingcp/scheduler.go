package appscalingcp

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingstore"
)

// RunDue runs every scheduled action of every scope that is due at now
// and returns when the next one is due (zero: none is scheduled).
func (p *Plane) RunDue(ctx context.Context, now time.Time) (time.Time, error) {
	scopes, err := p.repo.Scopes(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, sc := range scopes {
		n, err := p.runScope(ctx, sc, now)
		if err != nil {
			return time.Time{}, err
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next, nil
}

type firing struct {
	action appscaling.ScheduledAction
	target appscaling.Target // after the action's range
}

func (p *Plane) runScope(ctx context.Context, sc appscaling.Scope, now time.Time) (time.Time, error) {
	var fired []firing
	var next time.Time
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		fired, next = nil, time.Time{}
		for tk, actions := range st.Scheduled {
			t := st.Targets[tk]
			if t == nil {
				continue
			}
			for _, a := range actions {
				s, err := a.Parse()
				if err != nil {
					continue // stored actions were valid when put
				}
				due, ok := a.Due(s)
				if !ok {
					continue
				}
				if due.After(now) {
					if next.IsZero() || due.Before(next) {
						next = due
					}
					continue
				}
				a.LastRun = now
				tx.PutScheduled(a)
				if n, ok := a.Due(s); ok && (next.IsZero() || n.Before(next)) {
					next = n
				}
				if t.Suspended.ScheduledScalingSuspended {
					continue
				}
				*t = a.ApplyRange(*t)
				tx.PutTarget(t)
				fired = append(fired, firing{action: *a, target: *t})
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	for _, f := range fired {
		p.fire(ctx, sc, f, now)
	}
	return next, nil
}

// fire records a scheduled action's range change and brings the
// service's desired count into the new range, as AWS documents.
func (p *Plane) fire(ctx context.Context, sc appscaling.Scope, f firing, now time.Time) {
	p.record(ctx, sc, &appscaling.Activity{Key: f.action.Key, ID: newUUID(), Description: f.action.RangeDescription(),
		Cause: appscaling.ScheduledCause(f.action.Name), Start: now, End: now, Status: appscaling.StatusSuccessful,
		StatusMessage: "Successfully " + lowerFirst(f.action.RangeDescription()) + "."})
	cluster, service := f.action.ECSService()
	current, err := p.services.DesiredCount(ctx, sc, cluster, service)
	if err != nil {
		p.log.Warn("scheduled action: read the desired count", "resource", f.action.ResourceID, "err", err)
		return
	}
	switch {
	case current < f.target.MinCapacity:
		p.setCount(ctx, sc, f.action.Key, f.target.MinCapacity, appscaling.MinCause(f.target.MinCapacity), now)
	case current > f.target.MaxCapacity:
		p.setCount(ctx, sc, f.action.Key, f.target.MaxCapacity, appscaling.MaxCause(f.target.MaxCapacity), now)
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

// Scheduler runs the scheduled actions: a leader-only runnable that
// sleeps until the next action is due or one changes.
type Scheduler struct {
	Plane *Plane
	// Poll bounds a sleep (a minute if zero), so a missed change costs
	// at most this long.
	Poll time.Duration
}

// NeedLeaderElection is true: one server runs the actions.
func (s *Scheduler) NeedLeaderElection() bool { return true }

// Run runs due actions until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	poll := s.Poll
	if poll <= 0 {
		poll = time.Minute
	}
	for {
		changed := s.Plane.Changed()
		wait := poll
		next, err := s.Plane.RunDue(ctx, s.Plane.now())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Plane.log.Warn("scheduled actions", "err", err)
		} else if !next.IsZero() {
			wait = min(poll, max(next.Sub(s.Plane.now()), 0))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}
