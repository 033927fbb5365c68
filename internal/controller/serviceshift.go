package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// TrafficRouter moves a blue/green service's traffic: it sets the weights
// of the forward of a listener rule (or a listener's default actions)
// between target groups (the server implements it over the ELBv2 control
// plane). It reports whether the rule changed.
type TrafficRouter interface {
	SetForwardWeights(ctx context.Context, sc ecs.Scope, ruleARN string, groups []WeightedGroup) (bool, error)
	// Settled reports whether the load balancers' data plane serves every
	// change SetForwardWeights made so far.
	Settled(ctx context.Context) bool
}

// WeightedGroup is a target group and its forward weight (0 to 999).
type WeightedGroup struct {
	ARN    string
	Weight int
}

// shiftSettle is how long, at least, the scheduler lets the load
// balancers' data plane take new weights (TrafficShift.MovedAt; and until
// TrafficRouter.Settled says it serves them) before it deregisters the
// targets that lost their traffic: a request routed by the old weights to
// a group of draining targets only would fail.
const shiftSettle = time.Second

// reconcileShift is reconcile for a service with a BLUE_GREEN, LINEAR or
// CANARY deployment in flight: ecs.PlanShift decides, the weights move
// first, then tasks start and stop as the plan says, and the new shift
// state is written with the counts in one compare-and-swap.
func (s *Services) reconcileShift(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, o observation, now time.Time) (time.Duration, error) {
	lb := s.readTargets(ctx, ref, svc, tasks, &o, now)
	minute := s.cfg.ShiftMinute
	if minute <= 0 {
		minute = time.Minute
	}
	cur := *svc.Traffic
	plan := ecs.PlanShift(ecs.ShiftInput{
		State: cur, Times: ecs.ShiftTimesOf(svc.DeploymentConfiguration), Desired: svc.DesiredCount,
		Tasks: o.live, Remains: o.remains, Now: now, Minute: minute,
	})
	ch := statusChange{obs: o, now: now, newID: s.cfg.NewID, notices: lb.errs}
	moved, err := s.route(ctx, ref, svc, plan.State)
	if err != nil {
		ch.notices = append(ch.notices, fmt.Sprintf("(service %s) failed to shift traffic: %v", svc.Name, err))
		if werr := s.writeShift(ctx, ref, ch, cur, nil); werr != nil {
			return 0, werr
		}
		return s.cfg.Retry, nil
	}
	movedAt := cur.MovedAt
	if moved {
		movedAt = now
	}
	plan.State.MovedAt = movedAt
	// The weights reach the data plane a moment after the rule changes:
	// until then no target leaves (a request the old weights route to a
	// group of draining targets would fail). Time, not a requeue, keeps
	// it: this step's own write wakes the scheduler at once.
	settling := now.Sub(movedAt) < shiftSettle || s.cfg.Traffic != nil && !s.cfg.Traffic.Settled(ctx)
	stopping := map[string]bool{}
	if !settling {
		for _, st := range plan.Stop {
			stopping[st.ID] = true
			if !lb.drained(st.ID) {
				continue // its targets drain first (writeTargets deregisters them)
			}
			if err := s.cfg.Plane.StopServiceTask(ctx, ref.Scope, ref.Cluster, st.ID, st.Reason); err != nil {
				return 0, err
			}
			ch.stopped = append(ch.stopped, st)
		}
	}
	s.writeTargets(ctx, ref, svc, tasks, &lb, stopping)
	ch.notices = append(ch.notices, lb.errs...)
	if plan.Start > 0 {
		res, err := s.cfg.Plane.StartServiceTasks(ctx, ref.Scope, svc, plan.State.Green, plan.Start, startToken(plan.State.Green, tasks))
		if err != nil {
			return 0, err
		}
		ch.started, ch.failures = res.TaskIDs, res.Failures
	}
	if plan.StartBlue > 0 {
		// A blue task stopped or failed during the shift: blue is kept
		// whole until CLEAN_UP, for a rollback.
		blue := plan.State.Blue
		res, err := s.cfg.Plane.StartServiceTasks(ctx, ref.Scope, svc, blue, plan.StartBlue, startToken(blue, tasks))
		if err != nil {
			return 0, err
		}
		ch.blue, ch.blueStarted = blue, res.TaskIDs
		ch.failures = append(ch.failures, res.Failures...)
	}
	done := !settling && plan.Done && len(ch.stopped) == 0
	if err := s.writeShift(ctx, ref, ch, cur, &shiftResult{state: plan.State, done: done}); err != nil {
		return 0, err
	}
	switch {
	case settling:
		return max(movedAt.Add(shiftSettle).Sub(now), 100*time.Millisecond), nil
	case len(ch.failures) > 0 && (len(ch.started) < plan.Start || len(ch.blueStarted) < plan.StartBlue):
		return s.cfg.Retry, nil
	case lb.busy:
		return targetPoll, nil
	}
	wake := plan.WakeAt
	if !o.wakeAt.IsZero() && (wake.IsZero() || o.wakeAt.Before(wake)) {
		wake = o.wakeAt
	}
	if !wake.IsZero() {
		return max(wake.Sub(now), time.Millisecond), nil
	}
	return 0, nil // the tasks' changes wake the scheduler
}

type shiftResult struct {
	state ecs.TrafficShift
	done  bool
}

// writeShift writes the step's counts and events and the shift's new state
// (res nil: the state stays), unless a deployment or a rollback replaced
// the shift meanwhile.
func (s *Services) writeShift(ctx context.Context, ref ServiceRef, ch statusChange, was ecs.TrafficShift, res *shiftResult) error {
	return s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(svc *ecs.Service) error {
		if svc.Status == ecs.ServiceInactive {
			return s.cfg.NoChange
		}
		changed := false
		if res != nil && svc.Traffic != nil && svc.Traffic.Green == was.Green && svc.Traffic.Blue == was.Blue {
			before := *svc.Traffic
			if res.done {
				svc.Traffic = nil
				changed = true
			} else if before != res.state {
				if before.Stage != res.state.Stage || before.Production != res.state.Production {
					svc.AddEvent(s.cfg.NewID(), msgShift(svc.Name, res.state), ch.now)
				}
				st := res.state
				svc.Traffic = &st
				changed = true
			}
		}
		if applyStatus(svc, ch) {
			changed = true
		}
		if !changed {
			return s.cfg.NoChange
		}
		return nil
	})
}

func msgShift(svc string, t ecs.TrafficShift) string {
	switch t.Stage {
	case ecs.StageProductionTrafficShift, ecs.StagePostProductionTrafficShift, ecs.StageBakeTime:
		return fmt.Sprintf("(service %s) (deployment %s) deployment is in %s: %.1f%% of production traffic on the new revision.", svc, t.Green, t.Stage, t.Production)
	}
	return fmt.Sprintf("(service %s) (deployment %s) deployment is in %s.", svc, t.Green, t.Stage)
}

// route sets the production (and test) listener rules' weights for a
// shift's state; it reports whether any rule changed.
func (s *Services) route(ctx context.Context, ref ServiceRef, svc *ecs.Service, st ecs.TrafficShift) (bool, error) {
	if s.cfg.Traffic == nil {
		return false, nil
	}
	green, blue := svc.Deployment(st.Green), svc.Deployment(st.Blue)
	moved := false
	for i, lb := range svc.LoadBalancers {
		ac := lb.AdvancedConfiguration
		if ac == nil || ac.AlternateTargetGroupARN == "" {
			continue
		}
		gtg := svc.TargetGroupOf(green, i)
		btg := svc.OtherTargetGroup(i, gtg)
		if blue != nil && st.Blue != st.Green {
			if tg := svc.TargetGroupOf(blue, i); tg != gtg {
				btg = tg
			}
		}
		for _, r := range []struct {
			rule string
			pct  float64
		}{{ac.ProductionListenerRule, st.Production}, {ac.TestListenerRule, st.Test}} {
			if r.rule == "" {
				continue
			}
			pct := r.pct
			if st.Blue == "" || st.Blue == st.Green {
				pct = 100
			}
			gw, bw := ecs.ShiftWeight(pct)
			changed, err := s.cfg.Traffic.SetForwardWeights(ctx, ref.Scope, r.rule, []WeightedGroup{{ARN: gtg, Weight: gw}, {ARN: btg, Weight: bw}})
			if err != nil {
				return moved, fmt.Errorf("listener rule %s: %w", r.rule, err)
			}
			moved = moved || changed
		}
	}
	return moved, nil
}

// serviceTargetGroups returns every target group a service's tasks may
// register with: its load balancers' and their blue/green alternates (its
// task sets' under the EXTERNAL controller).
func serviceTargetGroups(svc *ecs.Service) []string {
	var out []string
	for i, lb := range svc.TargetLoadBalancers() {
		if lb.TargetGroupARN == "" {
			continue
		}
		out = append(out, lb.TargetGroupARN)
		if svc.IsExternal() {
			continue
		}
		if other := svc.OtherTargetGroup(i, lb.TargetGroupARN); other != "" {
			out = append(out, other)
		}
	}
	return out
}
