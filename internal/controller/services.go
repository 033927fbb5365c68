package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// ServicePlane is what the service scheduler acts through (ecscp.Plane
// implements it): the task paths of RunTask and StopTask, and the
// service record's compare-and-swap.
type ServicePlane interface {
	StartServiceTasks(ctx context.Context, sc ecs.Scope, svc *ecs.Service, deploymentID string, count int, token string) (ServiceStart, error)
	// StartServiceTasksOn starts one task on each instance (DAEMON);
	// token makes it idempotent as for StartServiceTasks.
	StartServiceTasksOn(ctx context.Context, sc ecs.Scope, svc *ecs.Service, deploymentID string, instanceARNs []string, token string) (ServiceStart, error)
	StopServiceTask(ctx context.Context, sc ecs.Scope, cluster, taskID, reason string) error
	// UpdateServiceState changes the service with fn; fn returns
	// ErrNoChange (ecsstore's) to write nothing.
	UpdateServiceState(ctx context.Context, sc ecs.Scope, cluster, name string, fn func(*ecs.Service) error) error
}

// ServiceStart is what a start placed (task IDs) and could not (reasons).
type ServiceStart = struct {
	TaskIDs  []string
	Failures []string
}

// ServicesConfig configures the service scheduler.
type ServicesConfig struct {
	Source ServiceSource
	Plane  ServicePlane
	// NoChange is the error that makes UpdateServiceState write nothing.
	NoChange error
	// Targets registers tasks with load balancers' target groups (the
	// ELBv2 control plane); nil: loadBalancers are stored, no target is
	// registered.
	Targets TargetRegistry
	// NewID returns event IDs; NewDeploymentID deployment IDs (rollback).
	NewID           func() string
	NewDeploymentID func() string
	// Retry is how soon a service that could not place all its tasks is
	// looked at again (30 s if zero) without a change to tell of it.
	Retry  time.Duration
	Logger *slog.Logger
	// Alarms reads CloudWatch alarm states for deployment alarms
	// (deploymentConfiguration.alarms); nil: they are stored, not watched.
	Alarms AlarmStates
	// Traffic moves blue/green services' traffic between target groups;
	// nil: no listener rule is changed. ShiftMinute is how long a minute
	// of their bake times lasts (a minute if zero; tests shorten it).
	Traffic     TrafficRouter
	ShiftMinute time.Duration
}

// TargetRegistry is how the scheduler registers its tasks with load
// balancer target groups (internal/elbcp will implement it). Targets are
// given as the service's load balancer entries and the task's address.
type TargetRegistry interface {
	RegisterTargets(ctx context.Context, sc ecs.Scope, targetGroupARN string, targets []Target) error
	// DeregisterTargets starts draining targets.
	DeregisterTargets(ctx context.Context, sc ecs.Scope, targetGroupARN string, targets []Target) error
	// TargetHealth returns each target's state (the Target* constants).
	TargetHealth(ctx context.Context, sc ecs.Scope, targetGroupARN string, targets []Target) (map[Target]string, error)
}

// Target is a load balancer target: an instance ID or IP address and a
// port.
type Target struct {
	ID   string
	Port int
}

// Services is the service scheduler (key: ServiceRef.Key): it keeps each
// REPLICA service at its desired count, rolls deployments within the
// service's bounds (ecs.PlanRolling), replaces tasks that stop or fail
// their health checks, trips the circuit breaker, drains deleted services,
// and writes counts, deployment states and events. It is leader-only and
// level-based: it reacts to the cache's changes of a service and its
// tasks, and reads the whole state again on each reconcile.
type Services struct {
	cfg  ServicesConfig
	loop loop
}

var (
	_ Runnable               = (*Services)(nil)
	_ LeaderElectionRunnable = (*Services)(nil)
)

// NewServices returns the service scheduler and subscribes it to its
// source.
func NewServices(cfg ServicesConfig) *Services {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 30 * time.Second
	}
	s := &Services{cfg: cfg}
	s.loop = loop{name: "services", workers: 2, rec: s.Reconcile, log: cfg.Logger}
	cfg.Source.OnServiceChange(func(r ServiceRef) { s.loop.add(r.Key()) })
	return s
}

// NeedLeaderElection is true: one server schedules.
func (s *Services) NeedLeaderElection() bool { return true }

// Run reconciles until ctx ends.
func (s *Services) Run(ctx context.Context) error {
	if err := s.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	s.loop.run(ctx, func(add func(string), _ func(string, time.Duration)) {
		for _, r := range s.cfg.Source.ServiceRefs() {
			add(r.Key())
		}
	})
	return nil
}

// Reconcile brings one service one step closer to what it asks for; a
// deployment watched by alarms is looked at again within alarmPoll.
func (s *Services) Reconcile(ctx context.Context, key string) (time.Duration, error) {
	wait, err := s.reconcile(ctx, key)
	if err != nil {
		return wait, err
	}
	if ref, ok := parseServiceKey(key); ok {
		if svc, ok := s.cfg.Source.Service(ref); ok && svc.Status == ecs.ServiceActive {
			if p := svc.Primary(); p != nil && s.watchesAlarms(svc, p) && (wait == 0 || wait > alarmPoll) {
				wait = alarmPoll
			}
		}
	}
	return wait, nil
}

func (s *Services) reconcile(ctx context.Context, key string) (time.Duration, error) {
	ref, ok := parseServiceKey(key)
	if !ok {
		return 0, nil
	}
	// The cache must hold every write acknowledged so far (this
	// scheduler's own starts included): a stale read would start tasks
	// twice.
	if err := s.cfg.Source.WaitSynced(ctx); err != nil {
		return 0, err
	}
	svc, ok := s.cfg.Source.Service(ref)
	if !ok || svc.Status == ecs.ServiceInactive {
		return 0, nil
	}
	now := time.Now()
	tasks := s.cfg.Source.ServiceTasks(ref)
	o := observe(svc, tasks, now)
	if svc.Status == ecs.ServiceDraining {
		return s.drain(ctx, ref, svc, tasks, o, now)
	}
	if svc.IsExternal() {
		return s.reconcileTaskSets(ctx, ref, svc, tasks, o, now) // servicetasksets.go
	}
	primary := svc.Primary()
	if primary == nil {
		return 0, nil
	}
	if tripped, err := s.circuitBreaker(ctx, ref, svc, primary, o, now); tripped || err != nil {
		return 0, err
	}
	if failed, err := s.deploymentAlarms(ctx, ref, svc, primary, now); failed || err != nil {
		return 0, err
	}
	if svc.SchedulingStrategy == ecs.SchedulingDaemon {
		return s.reconcileDaemon(ctx, ref, svc, tasks, o, now)
	}
	if svc.Traffic != nil {
		return s.reconcileShift(ctx, ref, svc, tasks, o, now)
	}
	lb := s.readTargets(ctx, ref, svc, tasks, &o, now)
	markDraining(&o, s.cfg.Source.ClusterInstances(ref))
	dc := svc.DeploymentConfiguration
	bounds := ecs.PlanBounds{Desired: svc.DesiredCount, MaximumPercent: deref(dc.MaximumPercent, 200), MinimumHealthyPercent: deref(dc.MinimumHealthyPercent, 100)}
	plan := ecs.PlanRolling(bounds, primary.ID, o.live)
	if primary.RolloutState == ecs.RolloutFailed {
		plan.Start = 0 // a failed deployment without rollback starts nothing more
	}
	ch := statusChange{obs: o, now: now, newID: s.cfg.NewID, notices: lb.errs}
	stopping := map[string]bool{}
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
	s.writeTargets(ctx, ref, svc, tasks, &lb, stopping)
	ch.notices = lb.errs
	if plan.Start > 0 {
		res, err := s.cfg.Plane.StartServiceTasks(ctx, ref.Scope, svc, primary.ID, plan.Start, startToken(primary.ID, tasks))
		if err != nil {
			return 0, err
		}
		ch.started, ch.failures = res.TaskIDs, res.Failures
	}
	if err := s.writeStatus(ctx, ref, ch); err != nil {
		return 0, err
	}
	if len(ch.failures) > 0 && len(ch.started) < plan.Start {
		return s.cfg.Retry, nil
	}
	if lb.busy {
		return targetPoll, nil
	}
	if !o.wakeAt.IsZero() {
		return max(o.wakeAt.Sub(now), time.Millisecond), nil
	}
	return 0, nil
}

func deref(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// startToken names one start decision: the deployment and the tasks it
// was taken over. Two schedulers (a leader and its successor) that decide
// on the same state get the same RunTask client token, so only one set of
// tasks starts.
func startToken(deployment string, tasks []*ecs.Task) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", deployment)
	ids := make([]string, 0, len(tasks))
	for _, t := range tasks {
		ids = append(ids, t.ID+"/"+t.LastStatus+"/"+t.DesiredStatus)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "%s\n", id)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

func (s *Services) writeStatus(ctx context.Context, ref ServiceRef, ch statusChange) error {
	return s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(svc *ecs.Service) error {
		if svc.Status == ecs.ServiceInactive || !applyStatus(svc, ch) {
			return s.cfg.NoChange
		}
		return nil
	})
}

// drain stops a DRAINING service's tasks, then makes it INACTIVE.
func (s *Services) drain(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, o observation, now time.Time) (time.Duration, error) {
	lb := s.readTargets(ctx, ref, svc, tasks, &o, now)
	stopping := map[string]bool{}
	ch := statusChange{obs: o, now: now, newID: s.cfg.NewID}
	for _, t := range o.live {
		stopping[t.ID] = true
		if !lb.drained(t.ID) {
			continue
		}
		reason := fmt.Sprintf(ecs.StopReasonScaleIn, t.Deployment)
		if err := s.cfg.Plane.StopServiceTask(ctx, ref.Scope, ref.Cluster, t.ID, reason); err != nil {
			return 0, err
		}
		ch.stopped = append(ch.stopped, ecs.StopOrder{ID: t.ID, Reason: reason})
	}
	s.writeTargets(ctx, ref, svc, tasks, &lb, stopping)
	ch.notices = lb.errs
	left := 0
	for _, n := range o.remains {
		left += n
	}
	var wait time.Duration
	if lb.busy {
		wait = targetPoll
	}
	return wait, s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(cur *ecs.Service) error {
		if cur.Status != ecs.ServiceDraining {
			return s.cfg.NoChange
		}
		changed := applyStatus(cur, ch)
		if cur.IsExternal() {
			changed = drainTaskSetCounts(cur, ch.obs) || changed // servicetasksets.go
		}
		if left == 0 && len(ch.stopped) == 0 && !lb.busy {
			cur.Status = ecs.ServiceInactive
			cur.RunningCount, cur.PendingCount = 0, 0
			cur.TaskSets = nil
			changed = true
		}
		if !changed {
			return s.cfg.NoChange
		}
		return nil
	})
}

// circuitBreaker fails the primary deployment when its tasks failed as
// often as the threshold, and rolls back to the last completed deployment
// when asked to. It reports whether it changed the service.
func (s *Services) circuitBreaker(ctx context.Context, ref ServiceRef, svc *ecs.Service, primary *ecs.Deployment, o observation, now time.Time) (bool, error) {
	cb := svc.DeploymentConfiguration.DeploymentCircuitBreaker
	if cb == nil || !cb.Enable || primary.RolloutState != ecs.RolloutInProgress {
		return false, nil
	}
	if o.failed[primary.ID] < ecs.DeploymentFailureThreshold(svc.DesiredCount) {
		return false, nil
	}
	depID := primary.ID
	err := s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(cur *ecs.Service) error {
		p := cur.Primary()
		if cur.Status != ecs.ServiceActive || p == nil || p.ID != depID || p.RolloutState != ecs.RolloutInProgress {
			return s.cfg.NoChange
		}
		p.RolloutState, p.RolloutStateReason = ecs.RolloutFailed, ReasonCircuitBreaker
		p.FailedTasks = max(p.FailedTasks, o.failed[depID])
		p.UpdatedAt = now
		cur.AddEvent(s.cfg.NewID(), msgFailed(cur.Name, depID), now)
		if h := cur.History(depID); h != nil {
			h.FailureCount = p.FailedTasks
		}
		if !cb.Rollback || cur.Stable == nil || cur.Stable.TaskDefinition == p.TaskDefinition && deepEqualNet(cur.Stable.NetworkConfiguration, p.NetworkConfiguration) {
			cur.DeploymentFailed(depID, ReasonCircuitBreaker, "", p.FailedTasks, now)
			return nil
		}
		if to := cur.RollBack(ReasonCircuitBreaker, s.cfg.NewDeploymentID(), now); to != "" {
			cur.AddEvent(s.cfg.NewID(), msgRollback(cur.Name, to), now)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	s.cfg.Logger.Info("service deployment failed", "cluster", ref.Cluster, "service", ref.Name, "deployment", depID, "rollback", cb.Rollback)
	return true, nil
}

func deepEqualNet(a, b *ecs.NetworkConfiguration) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, jb := a.AwsvpcConfiguration, b.AwsvpcConfiguration
	if ja == nil || jb == nil {
		return ja == jb
	}
	return slices.Equal(ja.Subnets, jb.Subnets) && slices.Equal(ja.SecurityGroups, jb.SecurityGroups) && ja.AssignPublicIP == jb.AssignPublicIP
}

// markDraining makes the tasks on DRAINING container instances leave like
// an old deployment's: the planner starts their replacements first and
// stops them within the service's minimum healthy percent.
func markDraining(o *observation, instances []*ecs.ContainerInstance) {
	draining := map[string]bool{}
	for _, ci := range instances {
		if ci.Status == ecs.InstanceDraining {
			draining[ci.ARN] = true
		}
	}
	if len(draining) == 0 {
		return
	}
	for i := range o.live {
		if t := o.byID[o.live[i].ID]; t != nil && draining[t.ContainerInstanceARN] {
			o.live[i].Deployment = "draining-instance:" + o.live[i].Deployment
		}
	}
}
