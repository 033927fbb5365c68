package runner

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
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
