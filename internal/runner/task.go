package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// Reasons the runner reports.
const (
	ReasonOutOfMemory      = "OutOfMemoryError: Container killed due to memory usage"
	ReasonContainerRemoved = "ContainerRemoved: the container was removed outside berth"
	ReasonOrphan           = "Task stopped by berth: it was not applied again after the agent restarted"
	// ReasonNetworkLost (and why) stops an awsvpc task whose network
	// sandbox (its ENI, on ECS) went away behind the runner's back: its
	// containers were left with only a loopback interface.
	ReasonNetworkLost = "TaskNetworkError: the task's network interface is gone"
)

// inbox is a task actor's unbounded, ordered message queue. An actor holds
// no goroutine while its inbox is empty: the first input that reaches an
// idle, active task schedules a worker goroutine (see [taskRun.work]),
// which processes the task until its inbox is empty again. At most one
// worker runs per task, so a task never reconciles concurrently.
type inbox struct {
	mu     sync.Mutex
	msgs   []message
	woken  bool // the task's timer fired
	active bool // the actor is started: inputs schedule a worker
	busy   bool // a worker is scheduled or running
	ops    int  // operations launched whose results are not queued yet
}

// push queues m and schedules t's worker if needed.
func (t *taskRun) push(m message) {
	q := &t.inbox
	q.mu.Lock()
	if m.op != nil {
		q.ops-- // from in flight to queued
	}
	q.msgs = append(q.msgs, m)
	kick := q.kickLocked()
	q.mu.Unlock()
	if kick {
		t.schedule()
	}
}

// wake is the task's timer: it makes the actor reconcile again.
func (t *taskRun) wake() {
	q := &t.inbox
	q.mu.Lock()
	q.woken = true
	kick := q.kickLocked()
	q.mu.Unlock()
	if kick {
		t.schedule()
	}
}

// kickLocked reports whether the caller must schedule a worker, and marks
// the inbox busy if so. q.mu is held.
func (q *inbox) kickLocked() bool {
	if !q.active || q.busy {
		return false
	}
	q.busy = true
	return true
}

// schedule starts a worker for t (whose inbox the caller marked busy),
// unless Run has ended.
func (t *taskRun) schedule() {
	if !t.r.spawn(t) {
		t.inbox.mu.Lock()
		t.inbox.busy = false
		t.inbox.mu.Unlock()
	}
}

// idle reports whether the actor has processed every input it was given
// and has no operation in flight: all it does next is wait for a driver
// event or its timer.
func (t *taskRun) idle() bool {
	q := &t.inbox
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.busy && !q.woken && len(q.msgs) == 0 && q.ops == 0
}

func (q *inbox) drain() []message {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs
	q.msgs = nil
	q.woken = false
	return m
}

// message is one input of a task actor.
type message struct {
	spec   *TaskSpec
	event  *driver.ContainerEvent
	op     *opResult
	resync bool
}

// opKind is the kind of a driver operation run in the background.
type opKind int

const (
	opNetwork opKind = iota
	opVolumes
	opImage
	opCreate
	opStart
	opStop
	opRemoveNetwork
	opCleanup
	opRestart
)

// opResult is the outcome of a background driver operation.
type opResult struct {
	kind     opKind
	epoch    int
	ctr      string // container name
	image    string
	err      error
	reason   string // the failure, as reported
	id       string
	state    *driver.ContainerState
	notFound bool
	net      *driver.TaskNetwork
}

// phase is a container's lifecycle position; it only moves forward.
type phase int

const (
	phPending phase = iota // not created
	phCreated
	phRunning
	phStopped
)

// ctr is the runner's view of one container of a task.
type ctr struct {
	name string
	// plan is what creating the container takes; nil if adopted and not
	// yet applied, and released once the container has started or stopped
	// (a container never starts twice).
	plan         *containerPlan
	image        string
	essential    bool
	healthCheck  bool
	stopTimeout  time.Duration
	startTimeout time.Duration // from the plan, see containerPlan
	dependsOn    []ecs.ContainerDependency
	taskVolumes  []string                // from labels of adopted containers
	hostPorts    []driver.NetworkBinding // from the plan (host mode)
	index        int                     // position in the definition

	id          string
	phase       phase
	busy        bool // an operation is in flight
	stopIssued  bool
	started     bool
	startedAt   time.Time // the driver's start time
	startedReal time.Time // real clock, when first seen started
	exitCode    *int
	reason      string
	oom         bool
	health      driver.HealthStatus
	bindings    []driver.NetworkBinding
	removed     bool

	// Restart policy: an exited container whose policy says so is started
	// again instead of stopping (restartDue until the actor launches the
	// restart, restarting while it runs).
	restart       *restartPolicy
	runStart      time.Time // real clock, when the current run was seen started
	restartDue    bool
	restarting    bool
	restartExit   int    // the exit that is being restarted
	restartReason string // and its reason, should the restart not happen
	restarts      int
}

func (c *ctr) markStarted() {
	c.started = true
	if c.startedReal.IsZero() {
		c.startedReal = time.Now()
	}
	if c.runStart.IsZero() {
		c.runStart = time.Now()
	}
}

func (c *ctr) stop(exitCode *int, reason string) {
	if c.phase == phStopped {
		return
	}
	c.phase = phStopped
	if exitCode != nil {
		v := *exitCode
		c.exitCode = &v
	}
	if c.reason == "" {
		c.reason = reason
	}
}

// imgState is the pull state of one image of a task.
type imgState int

const (
	imgNone imgState = iota
	imgPulling
	imgReady
	imgFailed
)

type imageStatus struct {
	image  string
	state  imgState
	reason string
}

// taskRun is one task: an actor owns its state and is the only one to
// reconcile it; driver events, applied specs and the results of background
// operations reach it through its inbox. The actor runs on a worker
// goroutine only while it has inputs to process (see inbox).
type taskRun struct {
	r     *Runner
	arn   string
	inbox inbox

	// guarded by r.mu
	started bool
	done    bool // stopped, cleaned up, replaced by a finishedTask

	repMu  sync.Mutex
	report *TaskChange // never modified once set

	emitMu      sync.Mutex
	lastEmitted *TaskChange

	// Owned by the actor (or by Adopt before the actor starts).
	fresh   bool // the actor (re)started: forget stale operations, resync
	epoch   int
	applied bool // a spec was applied
	// task is the applied task, kept while containers remain to be created
	// (for Config.Secrets).
	task        *ecs.Task
	plan        *taskPlan
	planned     bool
	specAt      time.Time // real clock, when the plan was made
	ctrs        []*ctr
	images      []*imageStatus
	timer       *time.Timer // wakes the actor at wakeAt
	net         *driver.TaskNetwork
	netBusy     bool
	netRemoved  bool
	volsReady   bool
	volsBusy    bool
	status      string
	stopping    bool
	stopCode    string
	reason      string
	inflight    int
	startCtx    context.Context
	cancelStart context.CancelFunc

	pullStartedAt, pullStoppedAt, startedAt time.Time
	stoppingAt, execStoppedAt, stoppedAt    time.Time

	orphanDeadline time.Time
	cleanupAt      time.Time
	cleanBusy      bool
	cleaned        bool
	cleanAttempts  int
	retryAt        time.Time
	wakeAt         time.Time
}

func newTaskRun(r *Runner, arn string) *taskRun {
	return &taskRun{
		r:      r,
		arn:    arn,
		report: &TaskChange{TaskARN: arn, LastStatus: ecs.TaskPending, HealthStatus: ecs.HealthUnknown},
	}
}

func (t *taskRun) now() time.Time { return t.r.cfg.Now() }

// logger is the task's logger (made on demand: tasks log rarely).
func (t *taskRun) logger() *slog.Logger { return t.r.log.With("task", t.arn) }

// image returns the pull state of image, nil if unknown.
func (t *taskRun) image(image string) *imageStatus {
	for _, s := range t.images {
		if s.image == image {
			return s
		}
	}
	return nil
}

func (t *taskRun) ctr(name string) *ctr {
	for _, c := range t.ctrs {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (t *taskRun) snapshot() TaskChange {
	return *t.current()
}

func (t *taskRun) current() *TaskChange {
	t.repMu.Lock()
	defer t.repMu.Unlock()
	return t.report
}

// setReport publishes rep and returns the published report: the current
// one if rep is no different (reports are shared, not copied).
func (t *taskRun) setReport(rep TaskChange) *TaskChange {
	t.repMu.Lock()
	defer t.repMu.Unlock()
	if !reflect.DeepEqual(*t.report, rep) {
		t.report = &rep
	}
	return t.report
}

// emit calls OnChange with rep if it differs from the last report (or
// force), never concurrently for one task.
func (t *taskRun) emit(rep *TaskChange, force bool) {
	t.emitMu.Lock()
	defer t.emitMu.Unlock()
	if !force && t.lastEmitted != nil && (t.lastEmitted == rep || reflect.DeepEqual(*t.lastEmitted, *rep)) {
		return
	}
	t.lastEmitted = rep
	if t.r.cfg.OnChange != nil {
		t.r.cfg.OnChange(*rep)
	}
}

// work is a worker of the task's actor: it processes the task's inputs
// until its inbox is empty, ctx ends or the task is done. Only one worker
// runs per task (inbox.busy).
func (t *taskRun) work(ctx context.Context) {
	defer t.r.wg.Done()
	for {
		if !t.step(ctx) {
			break
		}
		q := &t.inbox
		q.mu.Lock()
		if len(q.msgs) == 0 && !q.woken {
			q.busy = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
	}
	t.inbox.mu.Lock()
	t.inbox.busy = false
	t.inbox.mu.Unlock()
}

// step processes the inputs queued for the task, reconciles it and
// reports its state. It returns false when ctx has ended or the task has
// stopped and been cleaned up.
func (t *taskRun) step(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false // Run is ending: inputs wait for the next Run
	}
	first := t.fresh
	if first {
		// A new Run: forget operations of an earlier Run, their results
		// are stale.
		t.fresh = false
		t.epoch++
		t.inflight = 0
		t.netBusy, t.volsBusy, t.cleanBusy = false, false, false
		for _, c := range t.ctrs {
			c.busy = false
			if c.restarting {
				// Its outcome is lost: restart again (starting a running
				// container is a no-op).
				c.restarting, c.restartDue = false, true
				c.restarts--
			}
		}
		for _, s := range t.images {
			if s.state == imgPulling {
				s.state = imgNone
			}
		}
		if t.cancelStart != nil {
			t.cancelStart()
		}
		t.startCtx, t.cancelStart = nil, nil
	}
	msgs := t.inbox.drain()
	if first {
		// Level-based start: whatever exists already (a restart, a crash
		// between create and start) is found before acting.
		t.resync(ctx, true)
	}
	for _, m := range msgs {
		t.handle(ctx, m)
	}
	if ctx.Err() != nil {
		return false
	}
	t.wakeAt = time.Time{}
	t.reconcile(ctx)
	t.compact()
	t.emit(t.setReport(t.buildReport()), false)
	if t.cleaned && t.inflight == 0 {
		t.r.finish(t)
		t.inbox.mu.Lock()
		t.inbox.active = false
		t.inbox.msgs = nil
		t.inbox.mu.Unlock()
		if t.timer != nil {
			t.timer.Stop()
			t.timer = nil
		}
		if t.cancelStart != nil {
			t.cancelStart()
			t.startCtx, t.cancelStart = nil, nil
		}
		t.logger().Debug("task finished")
		return false
	}
	switch {
	case !t.wakeAt.IsZero():
		wait := max(time.Until(t.wakeAt), time.Millisecond)
		if t.timer == nil {
			t.timer = time.AfterFunc(wait, t.wake)
		} else {
			t.timer.Reset(wait)
		}
	case t.timer != nil:
		t.timer.Stop()
	}
	return true
}

// startContext returns the context of the task's start operations
// (network, volumes, pulls, create, start), which beginStop cancels.
func (t *taskRun) startContext(ctx context.Context) context.Context {
	if t.startCtx == nil {
		t.startCtx, t.cancelStart = context.WithCancel(ctx)
		if t.stopping {
			t.cancelStart()
		}
	}
	return t.startCtx
}

// compact releases what the task no longer needs once its start is over:
// the plans of started containers, the task once every container is
// created, the network and volume specs once they exist, the start
// context once no start operation can be in flight.
func (t *taskRun) compact() {
	pending := false
	for _, c := range t.ctrs {
		if c.phase >= phRunning {
			c.plan = nil
		}
		if c.plan != nil {
			pending = true
		}
	}
	if !pending {
		t.task = nil
	}
	if p := t.plan; p != nil {
		p.containers = nil
		if t.net != nil {
			p.network = nil
		}
		if t.volsReady && len(p.volumes) > 0 {
			var vols []volumePlan
			for _, v := range p.volumes {
				if v.taskScoped {
					vols = append(vols, volumePlan{name: v.name, taskScoped: true})
				}
			}
			p.volumes = vols
		}
	}
	if t.cancelStart != nil && (t.stopping || !pending) && !t.netBusy && !t.volsBusy && !t.pulling() && !t.ctrBusy() {
		t.cancelStart()
		t.startCtx, t.cancelStart = nil, nil
	}
}

func (t *taskRun) pulling() bool {
	for _, s := range t.images {
		if s.state == imgPulling {
			return true
		}
	}
	return false
}

func (t *taskRun) ctrBusy() bool {
	for _, c := range t.ctrs {
		if c.busy {
			return true
		}
	}
	return false
}

func (t *taskRun) wakeBy(tm time.Time) {
	if t.wakeAt.IsZero() || tm.Before(t.wakeAt) {
		t.wakeAt = tm
	}
}

func (t *taskRun) handle(ctx context.Context, m message) {
	switch {
	case m.spec != nil:
		t.applySpec(*m.spec)
	case m.event != nil:
		t.handleEvent(ctx, *m.event)
	case m.op != nil:
		if m.op.epoch == t.epoch {
			t.handleOp(ctx, *m.op)
		}
	case m.resync:
		t.resync(ctx, false)
	}
}

// applySpec takes a new desired state.
// Only the plan is kept of the spec (and the task until its containers are
// created): the definition is not needed once planned.
func (t *taskRun) applySpec(spec TaskSpec) {
	t.applied = true
	t.orphanDeadline = time.Time{}
	if !t.planned && (spec.Definition != nil || spec.Task.DesiredStatus != ecs.TaskStopped) {
		t.planned = true
		plan, err := buildPlan(t.r.cfg, spec)
		if err != nil {
			t.logger().Warn("task cannot run", "error", err)
			t.beginStop(ecs.StopTaskFailedToStart, err.Error())
		} else {
			t.task = spec.Task
			t.attachPlan(plan)
		}
	}
	if spec.Task.DesiredStatus == ecs.TaskStopped {
		t.beginStop(spec.Task.StopCode, spec.Task.StoppedReason)
	}
}

// attachPlan sets the task's plan, merging containers already known (from
// Adopt or a resync) by name.
func (t *taskRun) attachPlan(p *taskPlan) {
	t.plan = p
	t.specAt = time.Now()
	var ordered []*ctr
	for i, cp := range p.containers {
		c := t.ctr(cp.name)
		if c == nil {
			c = &ctr{name: cp.name, health: driver.HealthNone}
		}
		c.plan = cp
		c.index = i
		c.image = cp.image
		c.essential = cp.essential
		c.healthCheck = cp.healthCheck
		c.stopTimeout = cp.stopTimeout
		c.startTimeout = cp.startTimeout
		c.dependsOn = cp.dependsOn
		c.hostPorts = cp.hostPorts
		c.restart = cp.restart
		ordered = append(ordered, c)
	}
	for _, c := range t.ctrs {
		if !slices.Contains(ordered, c) {
			// Not in the definition: it does not decide the task's fate,
			// and is stopped and removed with it.
			c.essential = false
			ordered = append(ordered, c)
		}
	}
	t.ctrs = ordered
}

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
func (t *taskRun) adopt(states []driver.ContainerState, records []ledgerRecord, net *driver.TaskNetwork, orphanDeadline time.Time) {
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
func (t *taskRun) adoptVanished(records []ledgerRecord) {
	last := map[string]ledgerRecord{}
	var names []string
	for _, rec := range records {
		if _, ok := last[rec.name]; !ok {
			names = append(names, rec.name)
		}
		last[rec.name] = rec
	}
	for _, name := range names {
		rec := last[name]
		if c := t.ctr(name); c != nil {
			continue // it exists (the driver's view wins)
		}
		c := &ctr{name: name, id: rec.id, essential: rec.essential, stopTimeout: t.r.cfg.StopTimeout,
			health: driver.HealthNone, phase: phCreated, index: len(t.ctrs)}
		if rec.started {
			c.phase = phRunning
			c.markStarted()
		}
		t.ctrs = append(t.ctrs, c)
		t.logger().Warn("a container of the task was removed while the runner was down", "container", name, "runtimeId", rec.id, "started", rec.started)
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
		if c.phase == phStopped && c.started && c.reason == "" && c.exitCode != nil && *c.exitCode == 137 {
			// Docker may report the exit before the OOM kill that caused it
			// (its OOMKilled is then false): a container's cgroup is gone
			// once it stopped, so this event is about its last run.
			c.reason = ReasonOutOfMemory
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

// launch runs fn in the background; its result comes back to the inbox.
func (t *taskRun) launch(ctx context.Context, fn func(ctx context.Context) opResult) {
	t.inflight++
	epoch := t.epoch
	t.inbox.mu.Lock()
	t.inbox.ops++
	t.inbox.mu.Unlock()
	t.r.wg.Add(1)
	go func() {
		defer t.r.wg.Done()
		res := fn(ctx)
		res.epoch = epoch
		t.push(message{op: &res})
	}()
}

func (t *taskRun) handleOp(ctx context.Context, res opResult) {
	t.inflight--
	c := t.ctr(res.ctr)
	switch res.kind {
	case opNetwork:
		t.netBusy = false
		switch {
		case res.err == nil:
			t.net = trimNetwork(res.net)
		case !t.stopping:
			t.beginStop(ecs.StopTaskFailedToStart, "ResourceInitializationError: failed to create the task network: "+res.err.Error())
		}
	case opVolumes:
		t.volsBusy = false
		switch {
		case res.err == nil:
			t.volsReady = true
		case !t.stopping:
			t.beginStop(ecs.StopTaskFailedToStart, "ResourceInitializationError: "+res.err.Error())
		}
	case opImage:
		s := t.image(res.image)
		switch {
		case res.err == nil:
			s.state = imgReady
		case t.stopping:
			s.state = imgNone
		default:
			s.state, s.reason = imgFailed, res.reason
		}
	case opCreate:
		c.busy = false
		switch {
		case res.err == nil:
			c.id = res.id
			if c.phase < phCreated {
				c.phase = phCreated
			}
		case !t.stopping:
			t.logger().Warn("cannot create container", "container", c.name, "error", res.err)
			c.stop(nil, res.reason)
		}
	case opStart:
		c.busy = false
		if res.state != nil {
			t.applyState(c, *res.state)
		}
		if res.err == nil {
			if c.phase < phRunning {
				c.phase = phRunning
				c.markStarted()
			}
		} else if !t.stopping && c.phase < phRunning {
			t.logger().Warn("cannot start container", "container", c.name, "error", res.err)
			c.stop(nil, res.reason)
		}
	case opStop:
		c.busy = false
		switch {
		case res.state != nil:
			t.applyState(c, *res.state)
		case res.notFound:
			t.vanished(c)
		}
		if c.phase == phRunning {
			t.logger().Warn("cannot stop container; retrying", "container", c.name, "error", res.err)
			c.stopIssued = false
			t.retryAt = time.Now().Add(time.Second)
		}
	case opRestart:
		c.busy, c.restarting = false, false
		switch {
		case res.notFound:
			t.vanished(c)
		case res.err != nil && (res.state == nil || res.state.Status != driver.StatusRunning):
			t.logger().Warn("cannot restart container", "container", c.name, "error", res.err)
			code := c.restartExit
			c.stop(&code, res.reason)
		default:
			c.runStart = time.Now()
			if res.state != nil {
				t.applyState(c, *res.state)
			}
		}
	case opRemoveNetwork:
		t.netBusy = false
		if res.err == nil {
			t.netRemoved = true
		} else {
			t.logger().Warn("cannot remove task network; retrying", "error", res.err)
			t.retryAt = time.Now().Add(time.Second)
		}
	case opCleanup:
		t.cleanBusy = false
		t.cleanAttempts++
		if res.err == nil || t.cleanAttempts >= 5 {
			if res.err != nil {
				t.logger().Error("giving up cleaning up the task", "error", res.err)
			}
			t.cleaned = true
			t.netRemoved = true
			for _, c := range t.ctrs {
				c.removed = true
			}
		} else {
			t.logger().Warn("cannot clean up the task; retrying", "error", res.err)
			t.retryAt = time.Now().Add(time.Duration(t.cleanAttempts) * time.Second)
		}
	}
}

// networkLost stops a task whose network sandbox died or vanished (why),
// as ECS stops a task whose ENI is gone.
func (t *taskRun) networkLost(why string) {
	if t.stopping || t.netRemoved || t.netBusy || t.status == ecs.TaskStopped {
		return // the runner is removing it itself
	}
	t.logger().Warn("the task's network sandbox is gone: stopping the task", "why", why)
	t.beginStop(ecs.StopEssentialContainerExited, ReasonNetworkLost+": "+why)
}

// beginStop starts stopping the task. The first stop code and reason win.
func (t *taskRun) beginStop(code, reason string) {
	if t.status == ecs.TaskStopped {
		return
	}
	if !t.stopping {
		t.stopping = true
		t.stoppingAt = t.now()
		if t.cancelStart != nil {
			t.cancelStart()
		}
		t.logger().Info("stopping task", "stopCode", code, "reason", reason)
	}
	if t.stopCode == "" {
		t.stopCode = code
	}
	if t.reason == "" {
		t.reason = reason
	}
}

// checkEssential stops the task when an essential container has stopped.
func (t *taskRun) checkEssential() {
	if t.stopping {
		return
	}
	for _, c := range t.ctrs {
		if !c.essential || c.phase != phStopped {
			continue
		}
		if c.started {
			t.beginStop(ecs.StopEssentialContainerExited, ecs.EssentialContainerExitedReason)
		} else {
			reason := c.reason
			if reason == "" {
				reason = fmt.Sprintf("Essential container %s failed to start", c.name)
			}
			t.beginStop(ecs.StopTaskFailedToStart, reason)
		}
		return
	}
}

func (t *taskRun) reconcile(ctx context.Context) {
	if t.status == ecs.TaskStopped {
		t.reconcileCleanup(ctx)
		return
	}
	if !t.stopping && !t.applied && !t.orphanDeadline.IsZero() {
		if time.Now().After(t.orphanDeadline) {
			t.logger().Warn("orphan task: stopping it")
			t.beginStop("", ReasonOrphan)
		} else {
			t.wakeBy(t.orphanDeadline)
		}
	}
	t.reconcileRestarts(ctx)
	t.checkEssential()
	if !t.stopping && t.plan != nil {
		t.reconcileStart(ctx)
		t.checkEssential()
	}
	t.updateStatus()
	if t.stopping {
		t.reconcileRestarts(ctx) // due restarts become stops
		t.notePullsDone()
		t.reconcileStop(ctx)
	}
}

// notePullsDone records pullStoppedAt once no image is being pulled.
func (t *taskRun) notePullsDone() {
	if t.pullStartedAt.IsZero() || !t.pullStoppedAt.IsZero() {
		return
	}
	for _, s := range t.images {
		if s.state == imgPulling {
			return
		}
	}
	t.pullStoppedAt = t.now()
}

// reconcileStart moves a task towards RUNNING: task network, volumes,
// images, then containers as their dependencies allow.
func (t *taskRun) reconcileStart(ctx context.Context) {
	p := t.plan
	d := t.r.cfg.Driver
	// The task network (sandbox) starts while the volumes, images and
	// containers are prepared: containers join it by name (the driver
	// resolves a task network's name when the container starts), and none
	// starts before it is up.
	netPending := p.network != nil && t.net == nil
	if netPending && !t.netBusy {
		t.netBusy = true
		spec := *p.network
		t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
			n, err := d.CreateTaskNetwork(ctx, spec)
			return opResult{kind: opNetwork, net: &n, err: err}
		})
	}
	if !t.volsReady {
		if len(p.volumes) == 0 {
			t.volsReady = true
		} else {
			if !t.volsBusy {
				t.volsBusy = true
				vols := slices.Clone(p.volumes)
				t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
					for _, v := range vols {
						if err := d.CreateVolume(ctx, v.name, v.labels); err != nil {
							return opResult{kind: opVolumes, err: fmt.Errorf("failed to create volume %s: %w", v.name, err)}
						}
					}
					return opResult{kind: opVolumes}
				})
			}
			return
		}
	}

	// Images, once per distinct image.
	for _, c := range t.ctrs {
		if c.plan == nil || c.phase != phPending || c.busy {
			continue
		}
		s := t.image(c.image)
		if s == nil {
			s = &imageStatus{image: c.image}
			t.images = append(t.images, s)
		}
		switch s.state {
		case imgNone:
			s.state = imgPulling
			if t.pullStartedAt.IsZero() {
				t.pullStartedAt = t.now()
			}
			t.launch(t.startContext(ctx), t.pullOp(c.image, c.plan.sourceImage))
		case imgFailed:
			c.stop(nil, s.reason)
		}
	}
	t.notePullsDone()

	now := time.Now()
	for _, c := range t.ctrs {
		if c.plan == nil || c.busy {
			continue
		}
		switch c.phase {
		case phPending:
			if s := t.image(c.image); s == nil || s.state != imgReady {
				continue
			}
			ready := true
			for _, src := range c.plan.volumesFrom {
				sc := t.ctr(src)
				switch {
				case sc != nil && sc.id != "":
				case sc == nil || sc.phase == phStopped:
					c.stop(nil, fmt.Sprintf("CannotCreateContainerError: volumesFrom container %s was never created", src))
					ready = false
				default:
					ready = false
				}
			}
			if ready {
				c.busy = true
				t.launch(t.startContext(ctx), t.createOp(c))
			}
		case phCreated:
			if netPending && c.plan.spec.Network.Mode == driver.NetworkModeAWSVPC {
				continue
			}
			ok, why := t.depsReady(c, now)
			switch {
			case why != "":
				c.stop(nil, why)
			case ok:
				c.busy = true
				id := c.id
				name := c.name
				led, arn, log := t.r.ledger, t.arn, t.logger
				t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
					res := opResult{kind: opStart, ctr: name}
					// Recorded first: a container that may have started is
					// one whose removal must not go unnoticed.
					if err := led.started(arn, name, id); err != nil {
						log().Warn("cannot record a started container", "container", name, "error", err)
					}
					if err := d.StartContainer(ctx, id); err != nil {
						res.err = err
						res.reason = "CannotStartContainerError: " + err.Error()
					}
					if st, err := d.InspectContainer(ctx, id); err == nil {
						res.state = &st
					}
					return res
				})
			}
		}
	}
}

// pullOp makes an image available according to the pull behavior.
func (t *taskRun) pullOp(image, source string) func(ctx context.Context) opResult {
	cfg := t.r.cfg
	log := t.logger
	return func(ctx context.Context) opResult {
		res := opResult{kind: opImage, image: image}
		d := cfg.Driver
		if cfg.PullBehavior == PullPreferCached {
			present, err := d.ImagePresent(ctx, image)
			if err == nil && present {
				return res
			}
		}
		var auth driver.RegistryAuth
		if cfg.RegistryAuth != nil {
			if a, ok := cfg.RegistryAuth(source); ok {
				auth = a
			}
		}
		err := d.PullImage(ctx, image, auth)
		if err == nil {
			return res
		}
		if cfg.PullBehavior == PullDefault {
			if present, perr := d.ImagePresent(ctx, image); perr == nil && present {
				log().Warn("image pull failed; using the cached image", "image", image, "error", err)
				return res
			}
		}
		res.err = err
		res.reason = "CannotPullContainerError: " + err.Error()
		return res
	}
}

// createOp creates c's container.
func (t *taskRun) createOp(c *ctr) func(ctx context.Context) opResult {
	cfg := t.r.cfg
	d := cfg.Driver
	spec := c.plan.spec
	spec.Env = maps.Clone(spec.Env)
	if spec.Network.Mode == driver.NetworkModeAWSVPC {
		switch {
		case t.net != nil:
			spec.Network.TaskNetworkID = t.net.ID
		case t.plan.network != nil:
			// Being created: joined by name (see reconcileStart).
			spec.Network.TaskNetworkID = t.plan.network.Name
		}
	}
	secrets := c.plan.secrets
	task := t.task
	name := c.name
	log := t.logger
	led, arn, essential := t.r.ledger, t.arn, c.essential
	return func(ctx context.Context) opResult {
		res := opResult{kind: opCreate, ctr: name}
		if len(secrets) > 0 {
			if cfg.Secrets == nil {
				log().Warn("container secrets are not injected: no secrets resolver configured", "container", name, "secrets", len(secrets))
			} else {
				env, err := cfg.Secrets(ctx, task, name, secrets)
				if err != nil {
					res.err = err
					res.reason = "ResourceInitializationError: unable to pull secrets or registry auth: " + err.Error()
					return res
				}
				if spec.Env == nil {
					spec.Env = map[string]string{}
				}
				maps.Copy(spec.Env, env)
			}
		}
		id, err := d.CreateContainer(ctx, spec)
		if err != nil {
			res.err = err
			res.reason = "CannotCreateContainerError: " + err.Error()
			return res
		}
		res.id = id
		if err := led.created(arn, name, id, essential); err != nil {
			log().Warn("cannot record a created container", "container", name, "error", err)
		}
		return res
	}
}

// depsReady reports whether c's dependsOn conditions are met, or why they
// never will be, in the ECS agent's words (its dependency graph's
// "failed to resolve container ordering dependency [x] for target [c]"),
// naming the dependency and the condition.
func (t *taskRun) depsReady(c *ctr, now time.Time) (bool, string) {
	ready := true
	for _, dep := range c.dependsOn {
		x := t.ctr(dep.ContainerName)
		if x == nil {
			return false, fmt.Sprintf("CannotStartContainerError: dependency graph: container ordering dependency [%s] for target [%s] does not exist", dep.ContainerName, c.name)
		}
		met, never := false, ""
		switch dep.Condition {
		case "START":
			met = x.started
			if !met && x.phase == phStopped {
				never = "because dependency will never start"
			}
		case "COMPLETE":
			met = x.phase == phStopped && x.started
			if x.phase == phStopped && !x.started {
				never = "because dependency will never start"
			}
		case "SUCCESS":
			if x.phase == phStopped {
				switch {
				case !x.started:
					never = "because dependency will never start"
				case x.exitCode != nil && *x.exitCode == 0:
					met = true
				case x.exitCode != nil:
					never = "as dependency did not exit successfully (exit code " + strconv.Itoa(*x.exitCode) + ")"
				default:
					never = "as dependency did not exit successfully (exit code unknown)"
				}
			}
		case "HEALTHY":
			met = x.started && x.health == driver.HealthHealthy
			switch {
			case met:
			case x.phase == phStopped:
				never = "as dependency stopped before it was healthy"
			case !x.healthCheck && x.phase >= phCreated:
				never = "as dependency has no health check"
			case x.health == driver.HealthUnhealthy:
				// Docker's verdict after the check's retries, past its
				// start period: the dependency failed its health check.
				never = "as dependency is UNHEALTHY"
			}
		default:
			never = "as the condition " + dep.Condition + " is unknown"
		}
		if !met && never == "" && x.startTimeout > 0 {
			ref := x.startedReal
			if ref.IsZero() {
				ref = t.specAt
			}
			deadline := ref.Add(x.startTimeout)
			if now.After(deadline) {
				return false, fmt.Sprintf("CannotStartContainerError: dependency graph: container ordering dependency [%s] for target [%s] has timed out (condition %s, startTimeout %s)",
					dep.ContainerName, c.name, dep.Condition, x.startTimeout)
			}
			t.wakeBy(deadline)
		}
		if never != "" {
			return false, fmt.Sprintf("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [%s] for target [%s] %s (condition %s)",
				dep.ContainerName, c.name, never, dep.Condition)
		}
		ready = ready && met
	}
	return ready, ""
}

// dependentsDown reports whether every container that depends on x has
// stopped, so that x may stop (dependencies stop in reverse order).
func (t *taskRun) dependentsDown(x *ctr) bool {
	for _, y := range t.ctrs {
		if y == x || (y.phase != phRunning && !y.busy) {
			continue
		}
		for _, dep := range y.dependsOn {
			if dep.ContainerName == x.name {
				return false
			}
		}
	}
	return true
}

func (t *taskRun) allStopped() bool {
	for _, c := range t.ctrs {
		if c.phase != phStopped {
			return false
		}
	}
	return true
}

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

// updateStatus derives the task's lastStatus from its containers.
func (t *taskRun) updateStatus() {
	switch {
	case t.status == ecs.TaskStopped:
	case t.stopping:
		t.advance(ecs.TaskStopping)
	default:
		if t.plan != nil && t.plan.network != nil && t.net == nil {
			t.advance(ecs.TaskProvisioning)
		} else {
			t.advance(ecs.TaskPending)
		}
		essential, started := 0, 0
		for _, c := range t.ctrs {
			if c.essential {
				essential++
				if c.started {
					started++
				}
			}
		}
		if essential > 0 && started == essential {
			t.advance(ecs.TaskRunning)
			if t.startedAt.IsZero() {
				t.startedAt = t.now()
			}
		}
	}
}

// buildReport renders the task's observed state.
func (t *taskRun) buildReport() TaskChange {
	rep := TaskChange{
		TaskARN:            t.arn,
		LastStatus:         t.status,
		Reason:             t.reason,
		StopCode:           t.stopCode,
		PullStartedAt:      t.pullStartedAt,
		PullStoppedAt:      t.pullStoppedAt,
		StartedAt:          t.startedAt,
		StoppingAt:         t.stoppingAt,
		ExecutionStoppedAt: t.execStoppedAt,
		StoppedAt:          t.stoppedAt,
	}
	if rep.LastStatus == "" {
		rep.LastStatus = ecs.TaskPending
	}
	if t.net != nil {
		rep.PrivateIPv4 = t.net.IPv4Address
		rep.MACAddress = t.net.MACAddress
	}
	health := &ecs.Task{}
	for _, c := range t.ctrs {
		cc := ContainerChange{
			Name:         c.name,
			RuntimeID:    c.id,
			Image:        c.image,
			LastStatus:   ecs.ContainerPending,
			Reason:       c.reason,
			HealthStatus: ecs.HealthUnknown,
			Essential:    c.essential,
			RestartCount: c.restarts,
		}
		switch c.phase {
		case phRunning:
			cc.LastStatus = ecs.ContainerRunning
		case phStopped:
			cc.LastStatus = ecs.ContainerStopped
		}
		if c.exitCode != nil {
			v := *c.exitCode
			cc.ExitCode = &v
		}
		if c.healthCheck {
			switch c.health {
			case driver.HealthHealthy:
				cc.HealthStatus = ecs.HealthHealthy
			case driver.HealthUnhealthy:
				cc.HealthStatus = ecs.HealthUnhealthy
			}
		}
		bindings := c.bindings
		if len(bindings) == 0 && c.started {
			bindings = c.hostPorts
		}
		for _, b := range bindings {
			cc.NetworkBindings = append(cc.NetworkBindings, ecs.NetworkBinding{
				BindIP: b.BindIP, ContainerPort: b.ContainerPort, HostPort: b.HostPort, Protocol: string(b.Protocol),
			})
		}
		rep.Containers = append(rep.Containers, cc)
		health.Containers = append(health.Containers, ecs.Container{
			Name: c.name, Essential: c.essential, HealthCheck: c.healthCheck, HealthStatus: cc.HealthStatus,
		})
	}
	health.DeriveHealth()
	rep.HealthStatus = health.HealthStatus
	return rep
}

// observe records the container's state after an operation: its snapshot,
// or that it is gone.
func (res *opResult) observe(ctx context.Context, d driver.Driver, id string) {
	st, err := d.InspectContainer(ctx, id)
	switch {
	case err == nil:
		res.state = &st
	case errors.Is(err, driver.ErrNotFound):
		res.notFound = true
	}
}
