package runner

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// ctrFromLabels rebuilds a container's view from its labels (adoption).
func (t *taskRun) ctrFromLabels(st driver.ContainerState) *ctr {
	l := st.Labels
	c := &ctr{
		name:        l[driver.LabelContainerName],
		image:       st.Image,
		essential:   l[LabelEssential] != "false",
		healthCheck: l[LabelHealthCheck] == "true",
		stopTimeout: t.r.cfg.StopTimeout,
		dependsOn:   parseDependsOn(l[LabelDependsOn]),
		taskVolumes: splitList(l[LabelTaskVolumes]),
		health:      driver.HealthNone,
		restart:     parseRestartPolicy(l[LabelRestartPolicy]),
	}
	if d, err := time.ParseDuration(l[LabelStopTimeout]); err == nil && d >= 0 {
		c.stopTimeout = d
	}
	c.index = len(t.ctrs)
	if i, err := strconv.Atoi(l[LabelIndex]); err == nil {
		c.index = i
	}
	return c
}

// adopt builds the state of a task found on the host; the actor is not
// running yet.
func (t *taskRun) adopt(states []driver.ContainerState, records []LedgerRecord, net *driver.TaskNetwork, orphanDeadline time.Time) {
	for _, st := range states {
		c := t.ctrFromLabels(st)
		t.ctrs = append(t.ctrs, c)
		t.applyState(c, st)
	}
	t.adoptVanished(records)
	slices.SortStableFunc(t.ctrs, func(a, b *ctr) int {
		if a.index != b.index {
			return a.index - b.index
		}
		return strings.Compare(a.name, b.name)
	})
	t.net = trimNetwork(net)
	t.orphanDeadline = orphanDeadline
	t.checkEssential()
	if t.stopping && t.allStopped() {
		// It had stopped before the restart: nothing is left to do but
		// tear it down, so report the truth at once.
		t.execStoppedAt = t.now()
		if t.net == nil {
			t.status = ecs.TaskStopped
			t.stoppedAt = t.execStoppedAt
			t.cleanupAt = time.Now().Add(max(t.r.cfg.CleanupAfter, 0))
		}
	}
	t.updateStatus()
	if t.status == ecs.TaskRunning {
		// The task became RUNNING when its last essential container started.
		var last time.Time
		for _, c := range t.ctrs {
			if c.essential && c.startedAt.After(last) {
				last = c.startedAt
			}
		}
		if !last.IsZero() {
			t.startedAt = last
		}
	}
}

// adoptVanished adds the containers that the ledger says the runner
// created (the last of each name) but the driver no longer has: they were
// removed while no runner watched. One that had started is reported
// STOPPED with ReasonContainerRemoved, as on a live runner, and stops its
// task if essential; one that never started is created again.
func (t *taskRun) adoptVanished(records []LedgerRecord) {
	last := map[string]LedgerRecord{}
	var names []string
	for _, rec := range records {
		if _, ok := last[rec.Name]; !ok {
			names = append(names, rec.Name)
		}
		last[rec.Name] = rec
	}
	for _, name := range names {
		rec := last[name]
		if c := t.ctr(name); c != nil {
			continue // it exists (the driver's view wins)
		}
		c := &ctr{name: name, id: rec.ID, essential: rec.Essential, stopTimeout: t.r.cfg.StopTimeout,
			health: driver.HealthNone, phase: phCreated, index: len(t.ctrs)}
		if rec.Started {
			c.phase = phRunning
			c.markStarted()
		}
		t.ctrs = append(t.ctrs, c)
		t.logger().Warn("a container of the task was removed while the runner was down", "container", name, "runtimeId", rec.ID, "started", rec.Started)
		t.vanished(c)
	}
}

// applyState merges a driver snapshot of c; phases only move forward.
func (t *taskRun) applyState(c *ctr, st driver.ContainerState) {
	if c.id == "" {
		c.id = st.ID
	}
	if st.ID != c.id {
		return
	}
	switch st.Status {
	case driver.StatusCreated:
		if c.phase < phCreated {
			c.phase = phCreated
		}
	case driver.StatusRunning:
		if c.phase < phRunning {
			c.phase = phRunning
			c.markStarted()
		}
		if c.startedAt.IsZero() {
			c.startedAt = st.StartedAt
		}
		if c.phase == phRunning {
			c.health = st.Health
			if len(st.NetworkBindings) > 0 {
				c.bindings = slices.Clone(st.NetworkBindings)
			}
		}
	case driver.StatusExited:
		if c.restarting || c.restartDue {
			return // being restarted: the restart's outcome decides
		}
		if c.phase < phStopped {
			if !st.StartedAt.IsZero() {
				c.markStarted()
				if c.startedAt.IsZero() {
					c.startedAt = st.StartedAt
				}
			}
			c.oom = c.oom || st.OOMKilled
			reason := ""
			if c.oom {
				reason = ReasonOutOfMemory
			} else if !c.started && st.Error != "" {
				reason = "CannotStartContainerError: " + st.Error
			}
			code := st.ExitCode
			if c.started && t.shouldRestart(c, code, c.ranFor(st)) {
				c.restartDue, c.restartExit, c.restartReason = true, code, reason
				return
			}
			c.stop(&code, reason)
			if len(c.bindings) == 0 && len(st.NetworkBindings) > 0 {
				c.bindings = slices.Clone(st.NetworkBindings)
			}
		}
	}
}

// ranFor returns how long the run that st ended lasted: by the driver's
// clock, or else since the runner saw it start.
func (c *ctr) ranFor(st driver.ContainerState) time.Duration {
	if !st.StartedAt.IsZero() && st.FinishedAt.After(st.StartedAt) {
		return st.FinishedAt.Sub(st.StartedAt)
	}
	if !c.runStart.IsZero() {
		return time.Since(c.runStart)
	}
	return 0
}

// shouldRestart applies c's restart policy (as the ECS agent does) to an
// exit with code after a run of ran: never once the task is stopping (its
// desired status is STOPPED, or an essential container stopped it), not
// for ignored exit codes, and not if the run was shorter than the
// policy's restartAttemptPeriod.
func (t *taskRun) shouldRestart(c *ctr, code int, ran time.Duration) bool {
	rp := c.restart
	if rp == nil || t.stopping || c.removed || slices.Contains(rp.ignored, code) {
		return false
	}
	if ran < rp.period {
		t.logger().Info("container exited before its restartAttemptPeriod: not restarting it",
			"container", c.name, "exitCode", code, "ran", ran.Round(time.Millisecond), "period", rp.period)
		return false
	}
	return true
}

// reconcileRestarts restarts the containers whose restart is due, in
// place; once the task is stopping, they are stopped instead.
func (t *taskRun) reconcileRestarts(ctx context.Context) {
	d := t.r.cfg.Driver
	for _, c := range t.ctrs {
		if !c.restartDue || c.busy {
			continue
		}
		c.restartDue = false
		if t.stopping {
			code := c.restartExit
			c.stop(&code, c.restartReason)
			continue
		}
		c.busy, c.restarting = true, true
		c.restarts++
		c.oom = false
		t.logger().Info("restarting container under its restart policy", "container", c.name, "exitCode", c.restartExit, "restarts", c.restarts)
		id, name := c.id, c.name
		// Not the start context: a restart that a stop cancelled halfway
		// could leave a container running unseen; it is stopped after.
		t.launch(ctx, func(ctx context.Context) opResult {
			res := opResult{kind: opRestart, ctr: name}
			if err := d.StartContainer(ctx, id); err != nil {
				res.err = err
				res.reason = "CannotStartContainerError: " + err.Error()
			}
			res.observe(ctx, d, id)
			return res
		})
	}
}

// trimNetwork keeps of a task network what the runner uses: its ID (to
// join and remove it) and its addresses (reported).
func trimNetwork(n *driver.TaskNetwork) *driver.TaskNetwork {
	if n == nil {
		return nil
	}
	return &driver.TaskNetwork{ID: n.ID, IPv4Address: n.IPv4Address, MACAddress: n.MACAddress}
}

// vanished handles a container that no longer exists.
func (t *taskRun) vanished(c *ctr) {
	c.removed = true
	switch c.phase {
	case phPending, phCreated:
		if !t.stopping && !c.started {
			// Created but never started, then removed: create it again.
			c.id, c.phase, c.removed = "", phPending, false
			return
		}
		c.stop(nil, "")
	case phRunning:
		c.stop(nil, ReasonContainerRemoved)
	}
}

// resync re-reads the task's containers from the driver. With full, it
// also looks for the task's network (a restart without Adopt).
func (t *taskRun) resync(ctx context.Context, full bool) {
	if t.cleaned || (t.status == ecs.TaskStopped && t.cleanBusy) {
		return
	}
	d := t.r.cfg.Driver
	states, err := d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: t.arn})
	if err != nil {
		if ctx.Err() == nil {
			t.logger().Warn("resync: cannot list containers", "error", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, st := range states {
		if !t.r.ours(st.Labels) {
			continue
		}
		name := st.Labels[driver.LabelContainerName]
		if name == "" {
			continue
		}
		seen[st.ID] = true
		c := t.ctr(name)
		if c == nil {
			c = t.ctrFromLabels(st)
			t.ctrs = append(t.ctrs, c)
		}
		t.applyState(c, st)
	}
	for _, c := range t.ctrs {
		if c.id == "" || seen[c.id] || c.removed || c.busy {
			continue
		}
		if _, err := d.InspectContainer(ctx, c.id); errors.Is(err, driver.ErrNotFound) {
			t.vanished(c)
		}
	}
	if t.net != nil && !t.netRemoved && !t.netBusy && !t.stopping {
		// A lost event must not leave a task without a network RUNNING.
		n, err := d.InspectTaskNetwork(ctx, t.net.ID)
		switch {
		case errors.Is(err, driver.ErrNotFound):
			t.networkLost("its sandbox container was removed")
		case err == nil && !n.Running:
			t.networkLost("its sandbox container is not running")
		}
	}
	if full && t.net == nil && !t.netBusy { // a sandbox being created is the op's to report
		nets, err := d.ListTaskNetworks(ctx, map[string]string{driver.LabelTaskARN: t.arn})
		for _, n := range nets {
			if err == nil && t.r.ours(n.Labels) {
				t.net = trimNetwork(&n)
				break
			}
		}
	}
}

func (t *taskRun) handleEvent(ctx context.Context, ev driver.ContainerEvent) {
	if ev.TaskNetwork {
		if t.net != nil && ev.ContainerID == t.net.ID {
			t.networkLost("its sandbox container exited")
		}
		return
	}
	name := ev.Labels[driver.LabelContainerName]
	c := t.ctr(name)
	if c == nil {
		if name != "" && ev.Type != driver.EventDestroy {
			t.resync(ctx, false) // a container the actor does not know yet
		}
		return
	}
	if c.id == "" {
		c.id = ev.ContainerID
	}
	if c.id != ev.ContainerID {
		return // an earlier container of the same name
	}
	switch ev.Type {
	case driver.EventOOM:
		if c.restarting {
			return // about the run being restarted
		}
		c.oom = true
		// The driver may report the exit before the OOM kill of that run
		// (Docker 20.10 does, now and then, its OOMKilled then false): a
		// container's cgroup is gone once it stopped, so this event is
		// about its last run, whatever its exit code (an OOM-killed child
		// can leave its parent to exit with its own code), as Docker's
		// OOMKilled and so ECS's reason are.
		switch {
		case c.phase == phStopped && c.started && c.reason == "":
			c.reason = ReasonOutOfMemory
		case c.restartDue && c.restartReason == "":
			c.restartReason = ReasonOutOfMemory // should the restart not happen
		}
	case driver.EventDestroy:
		if !c.removed {
			t.vanished(c)
		}
	case driver.EventHealthStatus:
		if c.phase == phRunning {
			c.health = ev.Health
		}
	case driver.EventStart, driver.EventDie:
		st, err := t.r.cfg.Driver.InspectContainer(ctx, c.id)
		switch {
		case err == nil:
			t.applyState(c, st)
		case ev.Type == driver.EventStart:
			if c.phase < phRunning {
				c.phase = phRunning
				c.markStarted()
			}
		default:
			code := ev.ExitCode
			reason := ""
			if c.oom {
				reason = ReasonOutOfMemory
			}
			c.stop(&code, reason)
		}
	}
}
