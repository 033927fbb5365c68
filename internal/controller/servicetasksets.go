package controller

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// drainingPrefix marks, in an observation, the tasks on DRAINING
// container instances (markDraining).
const drainingPrefix = "draining-instance:"

// taskSetOf is the task set (startedBy) a planned task belongs to.
func taskSetOf(pt ecs.PlanTask) string { return strings.TrimPrefix(pt.Deployment, drainingPrefix) }

// taskSetChange is what one reconcile of an EXTERNAL service learned,
// applied in one compare-and-swap (applyTaskSetStatus).
type taskSetChange struct {
	obs      observation
	started  map[string][]string // task set ID → task IDs started now
	stopped  map[string][]ecs.StopOrder
	failures []string
	notices  []string
	now      time.Time
	newID    func() string
}

// reconcileTaskSets is an EXTERNAL service's step: each task set is kept
// at its computed desired count (the service's desired count × its
// scale), as ecs.PlanRolling keeps a deployment (replacing stopped and
// unhealthy tasks, moving tasks off DRAINING instances, sparing protected
// tasks on scale-in); a DRAINING task set's tasks are deregistered and
// stopped, and tasks of no task set are stopped. Tasks carry startedBy =
// their task set's ID; each task set's tasks register in its own target
// groups.
func (s *Services) reconcileTaskSets(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, o observation, now time.Time) (time.Duration, error) {
	lb := s.readTargets(ctx, ref, svc, tasks, &o, now)
	markDraining(&o, s.cfg.Source.ClusterInstances(ref))
	dc := svc.DeploymentConfiguration
	ch := taskSetChange{obs: o, now: now, newID: s.cfg.NewID, started: map[string][]string{}, stopped: map[string][]ecs.StopOrder{}}
	stopping := map[string]bool{}
	starts := map[string]int{}
	var orders []ecs.StopOrder
	owner := map[string]string{}
	for _, ts := range svc.TaskSets {
		var live []ecs.PlanTask
		for _, pt := range o.live {
			if taskSetOf(pt) == ts.ID {
				live = append(live, pt)
			}
		}
		var plan ecs.Plan
		if ts.Status == ecs.TaskSetDraining {
			for _, pt := range live {
				plan.Stop = append(plan.Stop, ecs.StopOrder{ID: pt.ID, Reason: fmt.Sprintf(ecs.StopReasonScaleIn, ts.ID)})
			}
		} else {
			b := ecs.PlanBounds{Desired: ts.ComputedDesiredCount, MaximumPercent: deref(dc.MaximumPercent, 200), MinimumHealthyPercent: deref(dc.MinimumHealthyPercent, 100)}
			plan = ecs.PlanRolling(b, ts.ID, live)
			starts[ts.ID] = plan.Start
		}
		for _, st := range plan.Stop {
			owner[st.ID] = ts.ID
		}
		orders = append(orders, plan.Stop...)
	}
	for _, pt := range o.live {
		if id := taskSetOf(pt); svc.TaskSet(id) == nil {
			// A task of no task set (its set is gone): it leaves.
			owner[pt.ID] = id
			orders = append(orders, ecs.StopOrder{ID: pt.ID, Reason: fmt.Sprintf(ecs.StopReasonScaleIn, id)})
		}
	}
	for _, st := range orders {
		stopping[st.ID] = true
		if !lb.drained(st.ID) {
			continue // its targets drain first (writeTargets deregisters them)
		}
		if err := s.cfg.Plane.StopServiceTask(ctx, ref.Scope, ref.Cluster, st.ID, st.Reason); err != nil {
			return 0, err
		}
		ch.stopped[owner[st.ID]] = append(ch.stopped[owner[st.ID]], st)
	}
	s.writeTargets(ctx, ref, svc, tasks, &lb, stopping)
	short := false
	for _, ts := range svc.TaskSets {
		n := starts[ts.ID]
		if n <= 0 {
			continue
		}
		res, err := s.cfg.Plane.StartServiceTasks(ctx, ref.Scope, svc, ts.ID, n, startToken(ts.ID, tasks))
		if err != nil {
			return 0, err
		}
		ch.started[ts.ID] = res.TaskIDs
		ch.failures = append(ch.failures, res.Failures...)
		short = short || len(res.Failures) > 0 && len(res.TaskIDs) < n
	}
	ch.notices = lb.errs
	err := s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(cur *ecs.Service) error {
		if cur.Status != ecs.ServiceActive || !cur.IsExternal() || !applyTaskSetStatus(cur, ch) {
			return s.cfg.NoChange
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case short:
		return s.cfg.Retry, nil
	case lb.busy:
		return targetPoll, nil
	case !o.wakeAt.IsZero():
		return max(o.wakeAt.Sub(now), time.Millisecond), nil
	}
	return 0, nil
}

// Task set event messages, in ECS's wording.
func msgTaskSetStarted(svc, set string, ids []string) string {
	return strings.Replace(msgStarted(svc, ids), "(service "+svc+")", "(service "+svc+", taskSet "+set+")", 1)
}

func msgTaskSetStopped(svc, set string, ids []string) string {
	return strings.Replace(msgStopped(svc, ids), "(service "+svc+")", "(service "+svc+", taskSet "+set+")", 1)
}

// applyTaskSetStatus writes an EXTERNAL service's counts, task set
// stability and events; a DRAINING task set whose tasks have all stopped
// leaves. It returns false when nothing changed.
func applyTaskSetStatus(s *ecs.Service, ch taskSetChange) bool {
	before := s.Copy()
	o := ch.obs
	name := s.Name
	for _, t := range o.selfStop {
		if !slices.Contains(s.Noted, t.ID) {
			s.AddEvent(ch.newID(), msgTaskStopped(name, t), ch.now)
			s.Noted = append(s.Noted, t.ID)
		}
	}
	s.Noted = slices.DeleteFunc(s.Noted, func(id string) bool { return o.byID[id] == nil })
	for _, ts := range s.TaskSets {
		var stopped []string
		for _, st := range ch.stopped[ts.ID] {
			if st.Reason == ecs.StopReasonUnhealthy {
				s.AddEvent(ch.newID(), msgUnhealthy(name, st.ID), ch.now)
			}
			stopped = append(stopped, st.ID)
		}
		if len(stopped) > 0 {
			s.AddEvent(ch.newID(), msgTaskSetStopped(name, ts.ID, stopped), ch.now)
		}
		if ids := ch.started[ts.ID]; len(ids) > 0 {
			s.AddEvent(ch.newID(), msgTaskSetStarted(name, ts.ID, ids), ch.now)
		}
	}
	if len(ch.failures) > 0 {
		if msg := msgUnplaceable(name, ch.failures[0]); !recentlyTold(s, msg, ch.now) {
			s.AddEvent(ch.newID(), msg, ch.now)
		}
	}
	for _, msg := range ch.notices {
		if !recentlyTold(s, msg, ch.now) {
			s.AddEvent(ch.newID(), msg, ch.now)
		}
	}
	onDraining := map[string]bool{}
	for _, pt := range o.live {
		if strings.HasPrefix(pt.Deployment, drainingPrefix) {
			onDraining[taskSetOf(pt)] = true
		}
	}
	s.RunningCount, s.PendingCount = 0, 0
	steady := s.Status == ecs.ServiceActive
	for i := range s.TaskSets {
		ts := &s.TaskSets[i]
		ts.RunningCount, ts.PendingCount = o.running[ts.ID], o.pending[ts.ID]+len(ch.started[ts.ID])
		if ts.Status != ecs.TaskSetDraining {
			ts.ComputedDesiredCount = ecs.ComputedDesiredCount(s.DesiredCount, ts.Scale)
		}
		stable := ts.Status != ecs.TaskSetDraining && ts.RunningCount == ts.ComputedDesiredCount && ts.PendingCount == 0 &&
			len(ch.stopped[ts.ID]) == 0 && !onDraining[ts.ID] && allHealthy(o, ts.ID)
		st := ecs.StabilityStabilizing
		if stable {
			st = ecs.StabilitySteady
		}
		if st != ts.StabilityStatus {
			ts.StabilityStatus, ts.StabilityStatusAt = st, ch.now
		}
		steady = steady && stable
		s.RunningCount += ts.RunningCount
		s.PendingCount += ts.PendingCount
	}
	// A DRAINING task set leaves once its tasks have stopped.
	s.TaskSets = slices.DeleteFunc(s.TaskSets, func(ts ecs.TaskSet) bool {
		return ts.Status == ecs.TaskSetDraining && o.remains[ts.ID] == 0 && len(ch.stopped[ts.ID]) == 0
	})
	if steady && !s.Steady {
		s.AddEvent(ch.newID(), msgSteady(name), ch.now)
	}
	s.Steady = steady
	return !reflect.DeepEqual(before, s)
}

// drainTaskSetCounts writes a DRAINING EXTERNAL service's counts from its
// task sets' tasks (applyStatus counts deployments, which it has none
// of); it reports whether anything changed.
func drainTaskSetCounts(s *ecs.Service, o observation) bool {
	run, pend := 0, 0
	changed := false
	for i := range s.TaskSets {
		ts := &s.TaskSets[i]
		r, p := o.running[ts.ID], o.pending[ts.ID]
		if ts.RunningCount != r || ts.PendingCount != p {
			ts.RunningCount, ts.PendingCount, changed = r, p, true
		}
		run, pend = run+r, pend+p
	}
	if s.RunningCount != run || s.PendingCount != pend {
		s.RunningCount, s.PendingCount, changed = run, pend, true
	}
	return changed
}
