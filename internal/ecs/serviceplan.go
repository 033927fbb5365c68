package ecs

import (
	"cmp"
	"slices"
)

// The rolling deployment planner: a pure function from a service's
// deployment bounds and its tasks to the tasks to start and to stop now.
//
// With D the desired count, the service may run at most
// floor(D × maximumPercent / 100) tasks (not stopping) and must keep at
// least ceil(D × minimumHealthyPercent / 100) healthy ones, as ECS
// rounds them. Each call decides one step; the reconciler calls it again
// when a task changes, so a deployment proceeds as tasks become healthy:
//
//	start primary tasks ─► they turn healthy ─► stop old tasks ─► start ...
//
// A task that is not healthy (pending, or failing its health checks) can
// always be stopped; a healthy one only while the healthy count stays at
// or above the minimum.

// PlanTask is what the planner knows of one of the service's tasks.
type PlanTask struct {
	ID         string
	Deployment string // the task's startedBy
	// Stopping: a stop was requested (desiredStatus STOPPED) or it
	// stopped; such a task counts for nothing.
	Stopping bool
	Running  bool // lastStatus RUNNING
	// Healthy: running and, if it has health checks (container or
	// target), passing them.
	Healthy bool
	// Unhealthy: failing its health checks past the grace period; it is
	// replaced.
	Unhealthy bool
	// Protected: scale-in protection (UpdateTaskProtection) is on; the
	// task is not stopped for a scale-in or a deployment (only when it
	// fails its health checks).
	Protected bool
	CreatedAt int64 // for ordering: newer tasks are stopped first on scale-in
}

// PlanBounds are a deployment's bounds.
type PlanBounds struct {
	Desired               int
	MaximumPercent        int
	MinimumHealthyPercent int
}

// MaxTasks is floor(D × maximumPercent / 100), at least D (a REPLICA
// service may always run its desired count).
func (b PlanBounds) MaxTasks() int { return max(b.Desired*b.MaximumPercent/100, b.Desired) }

// MinHealthy is ceil(D × minimumHealthyPercent / 100), but below
// MaxTasks: when the rounding leaves no room between them (a desired count
// of 1 with 150% and 50%), a deployment could neither start nor stop a
// task, so the scheduler replaces one task at a time.
func (b PlanBounds) MinHealthy() int {
	m := (b.Desired*b.MinimumHealthyPercent + 99) / 100
	if mx := b.MaxTasks(); m >= mx && mx > 0 {
		m = mx - 1
	}
	return m
}

// StopOrder is a task to stop and why.
type StopOrder struct {
	ID     string
	Reason string
}

// Stop reasons the scheduler gives (the task's stoppedReason).
const (
	StopReasonDeployment = "ECS is performing maintenance on the underlying infrastructure hosting the task"
	StopReasonScaleIn    = "Scaling activity initiated by (deployment %s)"
	StopReasonUnhealthy  = "Task failed container health checks"
	StopReasonDraining   = "Service is being deleted"
)

// Plan is one step of the scheduler for a service.
type Plan struct {
	// Start is how many tasks of the primary deployment to start.
	Start int
	Stop  []StopOrder
}

// PlanRolling returns the next step for a service whose primary
// deployment is primary.
func PlanRolling(b PlanBounds, primary string, tasks []PlanTask) Plan {
	var p Plan
	var live []PlanTask
	for _, t := range tasks {
		if !t.Stopping {
			live = append(live, t)
		}
	}
	healthy := 0
	for _, t := range live {
		if t.Healthy {
			healthy++
		}
	}
	budget := healthy - b.MinHealthy() // healthy tasks that may stop
	stopped := map[string]bool{}
	stop := func(t PlanTask, reason string) bool {
		if stopped[t.ID] || t.Protected && reason != StopReasonUnhealthy {
			return false
		}
		if t.Healthy {
			if budget <= 0 {
				return false
			}
			budget--
		}
		stopped[t.ID] = true
		p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: reason})
		return true
	}
	// Failing tasks go first: they serve nothing.
	for _, t := range live {
		if t.Unhealthy {
			stop(t, StopReasonUnhealthy)
		}
	}
	// Old deployments' tasks that are not healthy serve nothing either.
	for _, t := range live {
		if t.Deployment != primary && !t.Healthy {
			stop(t, StopReasonDeployment)
		}
	}
	// Scale-in of the primary: the ones not yet healthy first, then the
	// newest.
	var prim []PlanTask
	for _, t := range live {
		if t.Deployment == primary && !stopped[t.ID] {
			prim = append(prim, t)
		}
	}
	slices.SortStableFunc(prim, func(x, y PlanTask) int {
		if x.Healthy != y.Healthy {
			if x.Healthy {
				return 1
			}
			return -1
		}
		return cmp.Compare(y.CreatedAt, x.CreatedAt)
	})
	for i, excess := 0, len(prim)-b.Desired; excess > 0 && i < len(prim); i++ {
		if stop(prim[i], StopReasonScaleIn) {
			excess--
		}
	}
	primLive := 0
	for _, t := range prim {
		if !stopped[t.ID] {
			primLive++
		}
	}
	// Old healthy tasks leave as far as the healthy minimum allows, oldest
	// first.
	var old []PlanTask
	for _, t := range live {
		if t.Deployment != primary && !stopped[t.ID] {
			old = append(old, t)
		}
	}
	slices.SortStableFunc(old, func(x, y PlanTask) int { return cmp.Compare(x.CreatedAt, y.CreatedAt) })
	for _, t := range old {
		if !t.Protected && !stop(t, StopReasonDeployment) {
			break // the healthy minimum is reached
		}
	}
	total := len(live) - len(stopped)
	room := b.MaxTasks() - total
	p.Start = max(0, min(b.Desired-primLive, room))
	return p
}

// DeploymentFailureThreshold is the circuit breaker's threshold for a
// desired count: half of it, at least 3 and at most 200.
func DeploymentFailureThreshold(desired int) int {
	return min(max((desired+1)/2, 3), 200)
}

// DaemonTask is what the DAEMON planner knows of a task.
type DaemonTask struct {
	ID         string
	Deployment string
	Instance   string // container instance ARN
	Stopping   bool   // desired STOPPED, not STOPPED yet (STOPPED tasks are not given)
	CreatedAt  int64
}

// DaemonPlan is one step of a DAEMON service: the instances to start a
// primary task on, and the tasks to stop.
type DaemonPlan struct {
	StartOn []string
	Stop    []StopOrder
}

// PlanDaemon keeps one task of the primary deployment on each of the
// eligible instances (ARNs): a task on an instance that is not eligible
// (gone, draining, not matching) stops; an old deployment's task on an
// instance stops before the primary's starts there (a DAEMON deployment
// is bounded by 100% and 0%: the instance has room for one); a second task
// on an instance stops.
func PlanDaemon(eligible []string, primary string, tasks []DaemonTask) DaemonPlan {
	var p DaemonPlan
	ok := map[string]bool{}
	for _, in := range eligible {
		ok[in] = true
	}
	byInst := map[string][]DaemonTask{}
	for _, t := range tasks {
		if t.Instance == "" || !ok[t.Instance] {
			if !t.Stopping {
				p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: StopReasonDaemonInstance})
			}
			continue
		}
		byInst[t.Instance] = append(byInst[t.Instance], t)
	}
	for _, in := range eligible {
		ts := byInst[in]
		slices.SortStableFunc(ts, func(x, y DaemonTask) int { return cmp.Compare(x.CreatedAt, y.CreatedAt) })
		busy, hasPrimary := false, false
		for _, t := range ts {
			switch {
			case t.Stopping:
				busy = true // still holds the instance's resources
			case t.Deployment != primary:
				p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: StopReasonDeployment})
				busy = true
			case hasPrimary:
				p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: StopReasonDaemonDuplicate})
			default:
				hasPrimary = true
			}
		}
		if !hasPrimary && !busy {
			p.StartOn = append(p.StartOn, in)
		}
	}
	return p
}

// Stop reasons of the DAEMON scheduler.
const (
	StopReasonDaemonInstance  = "Container instance is no longer eligible for the daemon service"
	StopReasonDaemonDuplicate = "Only one task of a daemon service runs on a container instance"
)
