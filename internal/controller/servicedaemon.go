package controller

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// reconcileDaemon is a DAEMON service's step: one task of the primary
// deployment on each schedulable container instance of the cluster that
// meets the service's placement constraints (ecs.PlanDaemon); the desired
// count is the number of those instances.
func (s *Services) reconcileDaemon(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, o observation, now time.Time) (time.Duration, error) {
	primary := svc.Primary()
	var eligible []string
	for _, ci := range s.cfg.Source.ClusterInstances(ref) {
		if ci.Schedulable() && daemonFits(svc, ci) {
			eligible = append(eligible, ci.ARN)
		}
	}
	lb := s.readTargets(ctx, ref, svc, tasks, &o, now)
	var dts []ecs.DaemonTask
	for _, t := range tasks {
		if t.LastStatus == ecs.TaskStopped {
			continue
		}
		dts = append(dts, ecs.DaemonTask{ID: t.ID, Deployment: t.StartedBy, Instance: t.ContainerInstanceARN,
			Stopping: t.DesiredStatus != ecs.TaskRunning, CreatedAt: t.CreatedAt.UnixNano()})
	}
	plan := ecs.PlanDaemon(eligible, primary.ID, dts)
	if primary.RolloutState == ecs.RolloutFailed {
		plan.StartOn = nil
	}
	desired := len(eligible)
	ch := statusChange{obs: o, now: now, newID: s.cfg.NewID, desired: &desired}
	stopping := map[string]bool{}
	for _, st := range plan.Stop {
		stopping[st.ID] = true
		if !lb.drained(st.ID) {
			continue
		}
		if err := s.cfg.Plane.StopServiceTask(ctx, ref.Scope, ref.Cluster, st.ID, st.Reason); err != nil {
			return 0, err
		}
		ch.stopped = append(ch.stopped, st)
	}
	s.writeTargets(ctx, ref, svc, tasks, &lb, stopping)
	ch.notices = lb.errs
	if len(plan.StartOn) > 0 {
		// The token names the decision (the deployment, the instances
		// and the tasks it was taken over), as a REPLICA start's does.
		res, err := s.cfg.Plane.StartServiceTasksOn(ctx, ref.Scope, svc, primary.ID, plan.StartOn, daemonStartToken(primary.ID, plan.StartOn, tasks))
		if err != nil {
			return 0, err
		}
		ch.started, ch.failures = res.TaskIDs, res.Failures
	}
	if err := s.writeStatus(ctx, ref, ch); err != nil {
		return 0, err
	}
	switch {
	case len(ch.failures) > 0:
		return s.cfg.Retry, nil
	case lb.busy:
		return targetPoll, nil
	case !o.wakeAt.IsZero():
		return max(o.wakeAt.Sub(now), time.Millisecond), nil
	}
	return 0, nil
}

// daemonFits reports whether an instance meets the service's memberOf
// placement constraints.
func daemonFits(svc *ecs.Service, ci *ecs.ContainerInstance) bool {
	for _, pc := range svc.PlacementConstraints {
		if pc.Type != ecs.ConstraintMemberOf {
			continue
		}
		q, err := ecs.ParseQuery(pc.Expression)
		if err != nil || !q.Eval(ci, nil) {
			return false
		}
	}
	return true
}

// daemonStartToken is startToken with the instances a DAEMON start chose:
// two schedulers deciding on the same tasks and instances start once.
func daemonStartToken(deployment string, instances []string, tasks []*ecs.Task) string {
	on := slices.Clone(instances)
	slices.Sort(on)
	return startToken(deployment+"\n"+strings.Join(on, ","), tasks)
}
