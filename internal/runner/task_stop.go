package runner

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// reconcileStop moves a stopping task towards STOPPED.
func (t *taskRun) reconcileStop(ctx context.Context) {
	d := t.r.cfg.Driver
	now := time.Now()
	if now.Before(t.retryAt) {
		t.wakeBy(t.retryAt)
	}
	for _, c := range t.ctrs {
		if c.busy {
			continue
		}
		switch c.phase {
		case phPending, phCreated:
			c.stop(nil, "")
		case phRunning:
			if c.stopIssued || !t.dependentsDown(c) || now.Before(t.retryAt) {
				continue
			}
			c.stopIssued = true
			c.busy = true
			id, name, timeout := c.id, c.name, c.stopTimeout
			t.launch(ctx, func(ctx context.Context) opResult {
				res := opResult{kind: opStop, ctr: name}
				res.err = d.StopContainer(ctx, id, timeout)
				res.observe(ctx, d, id)
				return res
			})
		}
	}
	if !t.allStopped() || t.inflight > 0 {
		return
	}
	if t.execStoppedAt.IsZero() {
		t.execStoppedAt = t.now()
	}
	if t.net != nil && !t.netRemoved {
		t.advance(ecs.TaskDeprovisioning)
		if !t.netBusy && !now.Before(t.retryAt) {
			t.netBusy = true
			id := t.net.ID
			t.launch(ctx, func(ctx context.Context) opResult {
				return opResult{kind: opRemoveNetwork, err: d.RemoveTaskNetwork(ctx, id)}
			})
		}
		return
	}
	t.advance(ecs.TaskStopped)
	t.stoppedAt = t.now()
	if t.stopCode == "" && t.startedAt.IsZero() {
		t.stopCode = ecs.StopTaskFailedToStart
	}
	t.cleanupAt = now.Add(max(t.r.cfg.CleanupAfter, 0))
	t.logger().Info("task stopped", "stopCode", t.stopCode, "reason", t.reason)
	t.reconcileCleanup(ctx)
}

// reconcileCleanup removes a STOPPED task's containers, network and
// task-scoped volumes once CleanupAfter has passed.
func (t *taskRun) reconcileCleanup(ctx context.Context) {
	if t.cleaned || t.cleanBusy {
		return
	}
	now := time.Now()
	if now.Before(t.cleanupAt) {
		t.wakeBy(t.cleanupAt)
		return
	}
	if now.Before(t.retryAt) {
		t.wakeBy(t.retryAt)
		return
	}
	var ids, vols []string
	for _, c := range t.ctrs {
		if c.id != "" && !c.removed {
			ids = append(ids, c.id)
		}
		for _, v := range c.taskVolumes {
			if !slices.Contains(vols, v) {
				vols = append(vols, v)
			}
		}
	}
	if t.plan != nil {
		for _, v := range t.plan.volumes {
			if v.taskScoped && !slices.Contains(vols, v.name) {
				vols = append(vols, v.name)
			}
		}
	}
	netID := ""
	if t.net != nil && !t.netRemoved {
		netID = t.net.ID
	}
	// The task-level limits (task cgroup) go once the containers are gone;
	// an adopted task has no plan, so its ID comes from its ARN.
	resID := TaskResourcesID(ecs.TaskIDFromARN(t.arn))
	if t.plan != nil && t.plan.resources != nil {
		resID = t.plan.resources.ID
	}
	d := t.r.cfg.Driver
	t.cleanBusy = true
	t.launch(ctx, func(ctx context.Context) opResult {
		var errs []error
		for _, id := range ids {
			if err := d.RemoveContainer(ctx, id); err != nil {
				errs = append(errs, err)
			}
		}
		if resID != "" {
			if err := d.RemoveTaskResources(ctx, resID); err != nil {
				errs = append(errs, err)
			}
		}
		if netID != "" {
			if err := d.RemoveTaskNetwork(ctx, netID); err != nil {
				errs = append(errs, err)
			}
		}
		for _, v := range vols {
			if err := d.RemoveVolume(ctx, v); err != nil {
				errs = append(errs, err)
			}
		}
		return opResult{kind: opCleanup, err: errors.Join(errs...)}
	})
}

// advance moves lastStatus forward to status.
func (t *taskRun) advance(status string) {
	if ecs.TaskStatusIndex(status) > ecs.TaskStatusIndex(t.status) {
		t.status = status
	}
}
