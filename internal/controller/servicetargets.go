package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// Target states, as TargetRegistry.TargetHealth reports them: ELBv2's
// (healthy, unhealthy, initial, draining, unused, unavailable) and
// TargetNotRegistered for a target the group does not hold.
const (
	TargetHealthy       = "healthy"
	TargetUnhealthy     = "unhealthy"
	TargetInitial       = "initial"
	TargetDraining      = "draining"
	TargetUnused        = "unused"
	TargetNotRegistered = "notregistered"
)

// targetPoll is how soon a service whose targets are registering or
// draining is looked at again: the load balancer's health changes are
// not state-cache events.
const targetPoll = time.Second

// targetsOf returns a task's target in each of its target groups (by
// target group ARN; its deployment's blue/green group, or under EXTERNAL
// its task set's): an awsvpc task's ENI address and the load
// balancer's container port (target type ip); a bridge or host task's
// container instance (its EC2 instance ID) and the host port the
// container port is published on (target type instance), as ECS
// registers them. hosts maps container instance ARNs to EC2 instance
// IDs. A task without an address or binding yet has none.
func targetsOf(svc *ecs.Service, t *ecs.Task, hosts map[string]string) map[string]Target {
	ip := taskIP(t)
	host := hosts[t.ContainerInstanceARN]
	if ip == "" && host == "" {
		return nil
	}
	out := map[string]Target{}
	dep := svc.Deployment(t.StartedBy)
	for i, lb := range svc.TaskLoadBalancers(t.StartedBy) {
		if lb.TargetGroupARN == "" || lb.ContainerPort == nil {
			continue
		}
		tg := lb.TargetGroupARN
		if !svc.IsExternal() {
			tg = svc.TargetGroupOf(dep, i)
		}
		if ip != "" {
			out[tg] = Target{ID: ip, Port: *lb.ContainerPort}
		} else if port := hostPort(t, lb.ContainerName, *lb.ContainerPort); port != 0 {
			out[tg] = Target{ID: host, Port: port}
		}
	}
	return out
}

// hostPort is the host port a container's TCP port is published on (0:
// none yet). An IPv4 binding wins: Docker may publish the IPv6 side on
// another port, and load balancers reach hosts over IPv4.
func hostPort(t *ecs.Task, container string, port int) int {
	found := 0
	for _, c := range t.Containers {
		if container != "" && c.Name != container {
			continue
		}
		for _, b := range c.NetworkBindings {
			if b.ContainerPort != port || b.HostPort == 0 || b.Protocol != "" && b.Protocol != "tcp" {
				continue
			}
			if !strings.Contains(b.BindIP, ":") {
				return b.HostPort
			}
			if found == 0 {
				found = b.HostPort
			}
		}
	}
	return found
}

// instanceHosts maps the service's cluster's container instance ARNs to
// their EC2 instance IDs, for instance targets.
func (s *Services) instanceHosts(ref ServiceRef) map[string]string {
	out := map[string]string{}
	for _, ci := range s.cfg.Source.ClusterInstances(ref) {
		if ci.EC2InstanceID != "" {
			out[ci.ARN] = ci.EC2InstanceID
		}
	}
	return out
}

// taskIP is a task's private IPv4 address (awsvpc tasks).
func taskIP(t *ecs.Task) string {
	for _, c := range t.Containers {
		for _, ni := range c.NetworkInterfaces {
			if ni.PrivateIPv4Address != "" {
				return ni.PrivateIPv4Address
			}
		}
	}
	for _, a := range t.Attachments {
		if ip := a.Detail("privateIPv4Address"); ip != "" {
			return ip
		}
	}
	return ""
}

// lbView is the load balancers' view of a service's tasks.
type lbView struct {
	// state is each task's worst target state over its target groups
	// (absent: the task has no target).
	state map[string]string
	// targets are each target group's targets of the tasks and their
	// states.
	groups map[string]map[Target]string
	// busy: a target is registering or draining; look again soon.
	busy bool
	errs []string
}

var targetRank = map[string]int{TargetHealthy: 0, TargetUnused: 0, TargetInitial: 1, TargetNotRegistered: 2, TargetDraining: 3, TargetUnhealthy: 4}

// readTargets reads the health of the service's tasks' targets and folds
// it into o: a task is healthy only when its targets are; a task whose
// target is unhealthy past the grace period is replaced. It writes
// nothing.
func (s *Services) readTargets(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, o *observation, now time.Time) lbView {
	v := lbView{state: map[string]string{}, groups: map[string]map[Target]string{}}
	lbs := svc.TargetLoadBalancers() // the task sets' too, under EXTERNAL
	if s.cfg.Targets == nil || len(lbs) == 0 {
		return v
	}
	hosts := s.instanceHosts(ref)
	for _, tg := range serviceTargetGroups(svc) {
		var targets []Target
		owner := map[Target][]string{}
		for _, t := range tasks {
			tt, ok := targetsOf(svc, t, hosts)[tg]
			if !ok || t.LastStatus != ecs.TaskRunning && t.LastStatus != ecs.TaskStopped && t.DesiredStatus == ecs.TaskRunning {
				continue // not running yet: nothing to register
			}
			if owner[tt] == nil {
				targets = append(targets, tt)
			}
			owner[tt] = append(owner[tt], t.ID)
		}
		if len(targets) == 0 {
			continue
		}
		health, err := s.cfg.Targets.TargetHealth(ctx, ref.Scope, tg, targets)
		if err != nil {
			v.errs = append(v.errs, fmt.Sprintf("(service %s) failed to describe target health in (target-group %s): %v", svc.Name, tg, err))
			continue
		}
		g := map[Target]string{}
		v.groups[tg] = g
		for _, tt := range targets {
			st := health[tt]
			if st == "" {
				st = TargetNotRegistered
			}
			g[tt] = st
			if st == TargetInitial || st == TargetDraining {
				v.busy = true
			}
			for _, id := range owner[tt] {
				if cur, ok := v.state[id]; !ok || targetRank[st] > targetRank[cur] {
					v.state[id] = st
				}
			}
		}
	}
	grace := time.Duration(0)
	if svc.HealthCheckGracePeriodSeconds != nil {
		grace = time.Duration(*svc.HealthCheckGracePeriodSeconds) * time.Second
	}
	for i := range o.live {
		pt := &o.live[i]
		st, ok := v.state[pt.ID]
		if !ok {
			continue
		}
		switch st {
		case TargetHealthy, TargetUnused:
		case TargetUnhealthy:
			pt.Healthy = false
			if end := o.byID[pt.ID].StartedAt.Add(grace); now.Before(end) {
				if o.wakeAt.IsZero() || end.Before(o.wakeAt) {
					o.wakeAt = end
				}
			} else {
				pt.Unhealthy = true
			}
		default:
			pt.Healthy = false
		}
	}
	return v
}

// drained reports whether a task may stop: none of its targets is still
// registered (a target being drained keeps it).
func (v lbView) drained(taskID string) bool {
	st, ok := v.state[taskID]
	return !ok || st == TargetNotRegistered || st == TargetUnused
}

// writeTargets registers the targets of the running tasks that stay, and
// deregisters those of the tasks that stop (stopping: the tasks this step
// stops or holds until drained) or have stopped.
func (s *Services) writeTargets(ctx context.Context, ref ServiceRef, svc *ecs.Service, tasks []*ecs.Task, v *lbView, stopping map[string]bool) {
	hosts := s.instanceHosts(ref)
	for tg, g := range v.groups {
		var reg, dereg []Target
		leaving := func(t *ecs.Task) bool {
			return stopping[t.ID] || t.DesiredStatus != ecs.TaskRunning || t.LastStatus == ecs.TaskStopped
		}
		// A stopped task's address may serve a newer task already: a
		// target that a staying task holds is never deregistered.
		keep := map[Target]bool{}
		for _, t := range tasks {
			if tt, ok := targetsOf(svc, t, hosts)[tg]; ok && !leaving(t) {
				keep[tt] = true
			}
		}
		for _, t := range tasks {
			tt, ok := targetsOf(svc, t, hosts)[tg]
			if !ok {
				continue
			}
			st, known := g[tt]
			if !known {
				continue
			}
			switch {
			case !leaving(t) && t.LastStatus == ecs.TaskRunning && st == TargetNotRegistered && !slices.Contains(reg, tt):
				reg = append(reg, tt)
			case leaving(t) && !keep[tt] && st != TargetNotRegistered && st != TargetDraining && !slices.Contains(dereg, tt):
				dereg = append(dereg, tt)
			}
		}
		if len(reg) > 0 {
			v.busy = true
			if err := s.cfg.Targets.RegisterTargets(ctx, ref.Scope, tg, reg); err != nil {
				v.errs = append(v.errs, fmt.Sprintf("(service %s) failed to register targets in (target-group %s): %v", svc.Name, tg, err))
			}
		}
		if len(dereg) > 0 {
			v.busy = true
			if err := s.cfg.Targets.DeregisterTargets(ctx, ref.Scope, tg, dereg); err != nil {
				v.errs = append(v.errs, fmt.Sprintf("(service %s) failed to deregister targets in (target-group %s): %v", svc.Name, tg, err))
			}
		}
	}
}
