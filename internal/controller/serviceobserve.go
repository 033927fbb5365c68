package controller

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// observation is what the service scheduler sees of a service's tasks at
// one moment: pure, from the service and its tasks.
type observation struct {
	live     []ecs.PlanTask
	byID     map[string]*ecs.Task
	running  map[string]int // deployment ID → RUNNING tasks (not stopping)
	pending  map[string]int // deployment ID → tasks before RUNNING (not stopping)
	failed   map[string]int // deployment ID → tasks that stopped on their own
	selfStop []*ecs.Task    // tasks that stopped on their own, not yet noted
	remains  map[string]int // deployment ID → tasks not yet STOPPED
	// wakeAt is when a task's grace period ends (zero: none pending).
	wakeAt time.Time
}

// hasHealthCheck reports whether a task has a container health check.
func hasHealthCheck(t *ecs.Task) bool {
	return slices.ContainsFunc(t.Containers, func(c ecs.Container) bool { return c.HealthCheck })
}

// observe classifies a service's tasks.
func observe(svc *ecs.Service, tasks []*ecs.Task, now time.Time) observation {
	o := observation{
		byID: map[string]*ecs.Task{}, running: map[string]int{}, pending: map[string]int{},
		failed: map[string]int{}, remains: map[string]int{},
	}
	grace := time.Duration(0)
	if svc.HealthCheckGracePeriodSeconds != nil {
		grace = time.Duration(*svc.HealthCheckGracePeriodSeconds) * time.Second
	}
	for _, t := range tasks {
		o.byID[t.ID] = t
		dep := t.StartedBy
		if t.LastStatus != ecs.TaskStopped {
			o.remains[dep]++
		}
		if t.LastStatus == ecs.TaskStopped && t.StopCode != ecs.StopServiceSchedulerInitiated && t.StopCode != ecs.StopUserInitiated {
			o.failed[dep]++
			if !slices.Contains(svc.Noted, t.ID) {
				o.selfStop = append(o.selfStop, t)
			}
		}
		if t.DesiredStatus != ecs.TaskRunning || t.LastStatus == ecs.TaskStopped {
			continue
		}
		running := t.LastStatus == ecs.TaskRunning
		if running {
			o.running[dep]++
		} else {
			o.pending[dep]++
		}
		pt := ecs.PlanTask{ID: t.ID, Deployment: dep, Running: running, CreatedAt: t.CreatedAt.UnixNano()}
		if t.ProtectedUntil.After(now) {
			pt.Protected = true
			if o.wakeAt.IsZero() || t.ProtectedUntil.Before(o.wakeAt) {
				o.wakeAt = t.ProtectedUntil // look again when it ends
			}
		}
		checked := hasHealthCheck(t)
		pt.Healthy = running && (!checked || t.HealthStatus == ecs.HealthHealthy)
		if running && t.HealthStatus == ecs.HealthUnhealthy {
			if end := t.StartedAt.Add(grace); now.Before(end) {
				if o.wakeAt.IsZero() || end.Before(o.wakeAt) {
					o.wakeAt = end
				}
			} else {
				pt.Unhealthy = true
			}
		}
		o.live = append(o.live, pt)
	}
	return o
}

// Event messages, in ECS's wording.
func msgStarted(svc string, ids []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(service %s) has started %d tasks:", svc, len(ids))
	for _, id := range ids {
		fmt.Fprintf(&b, " (task %s)", id)
	}
	return b.String() + "."
}

func msgStopped(svc string, ids []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(service %s) has stopped %d running tasks:", svc, len(ids))
	for _, id := range ids {
		fmt.Fprintf(&b, " (task %s)", id)
	}
	return b.String() + "."
}

func msgSteady(svc string) string {
	return fmt.Sprintf("(service %s) has reached a steady state.", svc)
}

func msgCompleted(svc, dep string) string {
	return fmt.Sprintf("(service %s) (deployment %s) deployment completed.", svc, dep)
}

func msgUnplaceable(svc, reason string) string {
	return fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. Reason: %s.", svc, strings.TrimSuffix(reason, "."))
}

func msgTaskStopped(svc string, t *ecs.Task) string {
	reason := t.StoppedReason
	if reason == "" {
		reason = t.StopCode
	}
	return fmt.Sprintf("(service %s) (task %s) stopped: %s.", svc, t.ID, strings.TrimSuffix(reason, "."))
}

func msgUnhealthy(svc, id string) string {
	return fmt.Sprintf("(service %s) (task %s) failed container health checks.", svc, id)
}

func msgFailed(svc, dep string) string {
	return fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", svc, dep)
}

func msgRollback(svc, dep string) string {
	return fmt.Sprintf("(service %s) rolling back to deployment %s.", svc, dep)
}

// ReasonCircuitBreaker is a FAILED deployment's rolloutStateReason.
const ReasonCircuitBreaker = "ECS deployment circuit breaker: tasks failed to start."

// statusChange is what one reconcile learned, applied to the service
// record in one compare-and-swap (applyStatus).
type statusChange struct {
	obs     observation
	started []string // task IDs started now (the primary's)
	// blueStarted are a shift's blue tasks started now (blue is kept
	// whole until CLEAN_UP), of deployment blue.
	blue        string
	blueStarted []string
	stopped     []ecs.StopOrder
	failures    []string // placement failures of this step
	notices     []string // load balancer errors, told as events
	desired     *int     // a DAEMON service's desired count (its instances)
	now         time.Time
	newID       func() string
}

// applyStatus writes counts, deployment states and events into s; it
// returns false when nothing changed.
func applyStatus(s *ecs.Service, ch statusChange) bool {
	before := s.Copy()
	o := ch.obs
	name := s.Name
	for _, t := range o.selfStop {
		if !slices.Contains(s.Noted, t.ID) {
			s.AddEvent(ch.newID(), msgTaskStopped(name, t), ch.now)
			s.Noted = append(s.Noted, t.ID)
		}
	}
	// Forget noted tasks the store no longer keeps.
	s.Noted = slices.DeleteFunc(s.Noted, func(id string) bool { return o.byID[id] == nil })
	var unhealthy, stopped []string
	for _, st := range ch.stopped {
		if st.Reason == ecs.StopReasonUnhealthy {
			unhealthy = append(unhealthy, st.ID)
		}
		stopped = append(stopped, st.ID)
	}
	for _, id := range unhealthy {
		s.AddEvent(ch.newID(), msgUnhealthy(name, id), ch.now)
	}
	if len(stopped) > 0 {
		s.AddEvent(ch.newID(), msgStopped(name, stopped), ch.now)
	}
	if all := slices.Concat(ch.started, ch.blueStarted); len(all) > 0 {
		s.AddEvent(ch.newID(), msgStarted(name, all), ch.now)
	}
	if len(ch.failures) > 0 && len(ch.started) == 0 && len(ch.blueStarted) == 0 {
		if msg := msgUnplaceable(name, ch.failures[0]); !recentlyTold(s, msg, ch.now) {
			s.AddEvent(ch.newID(), msg, ch.now)
		}
	}
	for _, msg := range ch.notices {
		if !recentlyTold(s, msg, ch.now) {
			s.AddEvent(ch.newID(), msg, ch.now)
		}
	}
	if ch.desired != nil {
		s.DesiredCount = *ch.desired
	}
	// Counts: what runs and waits now, plus what this step started.
	s.RunningCount, s.PendingCount = 0, 0
	primary := s.Primary()
	for i := range s.Deployments {
		d := &s.Deployments[i]
		d.RunningCount, d.PendingCount = o.running[d.ID], o.pending[d.ID]
		if d == primary {
			d.PendingCount += len(ch.started)
			d.DesiredCount = s.DesiredCount
		}
		if d.ID == ch.blue && d != primary {
			d.PendingCount += len(ch.blueStarted)
		}
		if d.FailedTasks < o.failed[d.ID] {
			d.FailedTasks = o.failed[d.ID]
		}
		s.RunningCount += d.RunningCount
		s.PendingCount += d.PendingCount
	}
	// Old deployments leave once their tasks have stopped.
	s.Deployments = slices.DeleteFunc(s.Deployments, func(d ecs.Deployment) bool {
		return d.Status != ecs.DeploymentPrimary && o.remains[d.ID] == 0 && len(ch.stopped) == 0
	})
	primary = s.Primary()
	steady := primary != nil && len(s.Deployments) == 1 && s.Status == ecs.ServiceActive &&
		primary.RunningCount == s.DesiredCount && primary.PendingCount == 0 &&
		len(ch.started) == 0 && len(ch.stopped) == 0 && allHealthy(o, primary.ID)
	if steady && primary.RolloutState == ecs.RolloutInProgress {
		primary.RolloutState = ecs.RolloutCompleted
		primary.RolloutStateReason = "ECS deployment " + primary.ID + " completed."
		primary.UpdatedAt = ch.now
		done := *primary
		s.Stable = &done
		s.AddEvent(ch.newID(), msgCompleted(name, primary.ID), ch.now)
		s.DeploymentCompleted(primary.ID, ch.now)
	}
	if steady && !s.Steady {
		s.AddEvent(ch.newID(), msgSteady(name), ch.now)
	}
	s.Steady = steady
	if reflect.DeepEqual(before, s) {
		return false
	}
	return true
}

// allHealthy reports whether every live task of a deployment is healthy.
func allHealthy(o observation, dep string) bool {
	for _, t := range o.live {
		if t.Deployment == dep && !t.Healthy {
			return false
		}
	}
	return true
}

// recentlyTold reports whether one of the service's last few events, less
// than five minutes old, says msg: a condition that lasts is told again
// every five minutes, not on every look.
func recentlyTold(s *ecs.Service, msg string, now time.Time) bool {
	for i, e := range s.Events {
		if i >= 5 || now.Sub(e.CreatedAt) > 5*time.Minute {
			return false
		}
		if e.Message == msg {
			return true
		}
	}
	return false
}
