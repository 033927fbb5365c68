package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// ErrExecutionRole is wrapped by the errors of Config hooks that could not
// obtain the task's execution role credentials; its text is ECS's
// ("execution resource retrieval failed").
var ErrExecutionRole = errors.New("execution resource retrieval failed")

// PullBehavior says when the runner pulls a container's image, after ECS's
// ECS_IMAGE_PULL_BEHAVIOR.
type PullBehavior string

// Pull behaviors.
const (
	// PullPreferCached pulls only images that are not present locally.
	// It is berth's default: local images are not pulled again.
	PullPreferCached PullBehavior = "prefer-cached"
	// PullDefault always pulls, and falls back to a local copy of the
	// image if the pull fails (the ECS agent's "default").
	PullDefault PullBehavior = "default"
	// PullAlways always pulls; a failed pull fails the container even if
	// the image is present.
	PullAlways PullBehavior = "always"
)

// Defaults of [Config].
const (
	DefaultStopTimeout    = 30 * time.Second
	DefaultCleanupAfter   = 2 * time.Minute
	DefaultOrphanGrace    = time.Minute
	DefaultResyncInterval = 30 * time.Second
	DefaultForgetAfter    = time.Hour
	DefaultMaxFinished    = 10_000
)

// Labels the runner adds to containers besides the driver's [driver.LabelTaskARN],
// [driver.LabelContainerName], [driver.LabelCluster] and [driver.LabelInstance].
// They let a restarted runner judge and stop adopted tasks before their
// definitions are applied again.
const (
	LabelEssential     = "berth.runner.essential"      // "true" or "false"
	LabelStopTimeout   = "berth.runner.stop-timeout"   // a Go duration, e.g. "30s"
	LabelDependsOn     = "berth.runner.depends-on"     // "name:CONDITION,..."
	LabelTaskVolumes   = "berth.runner.task-volumes"   // task-scoped volumes to remove, "a,b"
	LabelTaskDefFamily = "berth.runner.task-family"    // the task definition's family
	LabelTaskDefRev    = "berth.runner.task-revision"  // the task definition's revision
	LabelHealthCheck   = "berth.runner.health-check"   // "true" if the container has a health check
	LabelImage         = "berth.runner.original-image" // the image as the definition names it
	LabelIndex         = "berth.runner.index"          // the container's position in the definition
	LabelRestartPolicy = "berth.runner.restart-policy" // an enabled restart policy: "300s" or "300s:0,143" (ignored exit codes)
)

// Labels the ECS agent puts on task containers; the runner sets them too so
// that tools written for ECS container instances recognise berth's.
const (
	ecsLabelTaskARN    = "com.amazonaws.ecs.task-arn"
	ecsLabelContainer  = "com.amazonaws.ecs.container-name"
	ecsLabelFamily     = "com.amazonaws.ecs.task-definition-family"
	ecsLabelRevision   = "com.amazonaws.ecs.task-definition-version"
	ecsLabelClusterARN = "com.amazonaws.ecs.cluster"
)

// Config configures a [Runner]. Driver is required.
type Config struct {
	Driver driver.Driver
	// Logger receives the runner's logs; nil means slog.Default().
	Logger *slog.Logger
	// Cluster and InstanceARN label every container and task network the
	// runner creates; Adopt and event routing find this instance's
	// containers by them. Set both: with neither, Adopt takes every berth
	// container on the host.
	Cluster, InstanceARN string
	// Owner is the identity of the berth data directory the runner works
	// for ([driver.LabelOwner]): it labels everything the runner creates,
	// and the runner adopts, watches and removes only containers and task
	// networks that carry it (those without it when Owner is empty), so
	// that berth servers and agents sharing a Docker daemon, even with the
	// same cluster names and instance ARNs, never touch each other's.
	Owner string
	// Now is the clock of reported timestamps; nil means time.Now. Timers
	// (cleanup, grace periods, dependency timeouts) use the real clock.
	Now func() time.Time

	// RegistryAuth returns credentials for pulling a task's image (as the
	// task definition names it, before ImageRewrite); false means
	// anonymous. It is asked before every pull, and before a cached image
	// is used, so that an image of berth's ECR is run only by a task whose
	// execution role may have it. An error fails the container with
	// "ResourceInitializationError: unable to pull secrets or registry
	// auth: ...".
	RegistryAuth func(ctx context.Context, task *ecs.Task, image string) (driver.RegistryAuth, bool, error)
	// ImageRewrite maps a definition's image to the reference actually
	// pulled and run, e.g. an ECR repository to berth's registry. nil
	// keeps images as they are.
	ImageRewrite func(image string) string
	// PullBehavior is when to pull images; "" means PullPreferCached.
	PullBehavior PullBehavior

	// Secrets resolves a container's secrets (Secrets Manager or SSM
	// references) to environment variables. nil leaves secrets out, with
	// a warning. An error fails the container with
	// "ResourceInitializationError: unable to pull secrets or registry
	// auth: ...".
	Secrets func(ctx context.Context, task *ecs.Task, container string, secrets []ecs.Secret) (map[string]string, error)
	// LogSetup prepares a container's log destination before it is
	// created (the awslogs driver: its group and stream). An error fails
	// the container with the words of Docker's failing log driver as ECS
	// reports them: "CannotStartContainerError: ..." on EC2,
	// "ResourceInitializationError: failed to validate logger args: ..."
	// on Fargate; an error wrapping ErrExecutionRole with
	// "ResourceInitializationError: unable to pull secrets or registry
	// auth: ...". nil skips it.
	LogSetup func(ctx context.Context, task *ecs.Task, container string, lc *ecs.LogConfiguration) error
	// ExtraEnv returns environment variables to add to a container, e.g.
	// the task metadata endpoint. They override the definition's.
	ExtraEnv func(task *ecs.Task, container string) map[string]string

	// OnChange is called whenever a task's observed state changes, never
	// concurrently for one task (tasks report in parallel). It should not
	// block for long: the task's reconciliation waits for it. Reports share
	// their slices with the runner: do not modify them.
	OnChange func(TaskChange)

	// StopTimeout is the stop timeout of containers whose definition sets
	// none; 0 means DefaultStopTimeout (ECS_CONTAINER_STOP_TIMEOUT).
	StopTimeout time.Duration
	// CleanupAfter is how long a STOPPED task's containers and task-scoped
	// volumes are kept (for logs and inspection) before they are removed;
	// 0 means DefaultCleanupAfter, negative removes them at once.
	CleanupAfter time.Duration
	// OrphanGrace is how long a task found by Adopt may wait to be applied
	// again; past it the task is stopped and removed. 0 means
	// DefaultOrphanGrace; negative keeps orphans running forever.
	OrphanGrace time.Duration
	// ResyncInterval is how often each task re-reads its containers from
	// the driver, a safety net for lost events; 0 means
	// DefaultResyncInterval.
	ResyncInterval time.Duration
	// ForgetAfter is how long a cleaned-up task is remembered (so that
	// applying it again does not run it twice) and listed by Tasks; 0
	// means DefaultForgetAfter.
	ForgetAfter time.Duration
	// MaxFinished bounds how many cleaned-up tasks are remembered (only
	// their final reports, about 1-2 KB each); past it the oldest are
	// forgotten before ForgetAfter. 0 means DefaultMaxFinished.
	MaxFinished int
	// StateDir is where the runner records which containers it created
	// and started (as the ECS agent's state file does), so that after a
	// restart Adopt tells a container removed meanwhile from one never
	// created: the removed one is reported STOPPED (ContainerRemoved, and
	// an essential one stops its task) instead of being created again.
	// Empty records nothing.
	StateDir string
	// Ledger, when set, opens the ledger of a scope (LedgerScope: owner,
	// cluster, instance) elsewhere than StateDir, e.g. in a store that
	// the servers of a managed capacity share, so that whichever server
	// runs it next knows what the last one created.
	Ledger func(scope string) Ledger
}

// TaskSpec is the desired state of one task: the task as the control plane
// knows it (its DesiredStatus, overrides, stop code and reason) and its task
// definition. Definition may be nil when DesiredStatus is STOPPED.
type TaskSpec struct {
	Task       *ecs.Task
	Definition *ecs.TaskDefinition
}

// TaskChange is the observed state of a task, as the agent reports it to
// the control plane.
type TaskChange struct {
	TaskARN string
	// LastStatus moves forward only: PROVISIONING (awsvpc: creating the
	// task network), PENDING (pulling, creating, waiting on dependencies),
	// RUNNING (every essential container started), STOPPING (containers
	// being stopped), DEPROVISIONING (awsvpc: removing the task network),
	// STOPPED.
	LastStatus string
	// HealthStatus is HEALTHY, UNHEALTHY or UNKNOWN, derived from the
	// essential containers that have a health check.
	HealthStatus string
	// Reason is the stopped reason, e.g. "Essential container in task
	// exited" or "CannotPullContainerError: ...".
	Reason   string
	StopCode string

	// PullStartedAt and PullStoppedAt bracket the task's image step (a mere
	// presence check for cached images under PullPreferCached).
	PullStartedAt      time.Time
	PullStoppedAt      time.Time
	StartedAt          time.Time // when the task became RUNNING
	StoppingAt         time.Time // when the runner began stopping it
	ExecutionStoppedAt time.Time // when its last container stopped
	StoppedAt          time.Time

	// PrivateIPv4 and MACAddress are the task network's (awsvpc only).
	PrivateIPv4 string
	MACAddress  string

	Containers []ContainerChange
}

// ContainerChange is the observed state of one container of a task.
type ContainerChange struct {
	Name string
	// RuntimeID is the driver's container ID; empty until created.
	RuntimeID string
	// ImageDigest is not known to the driver yet and is always empty.
	ImageDigest string
	// Image is the reference the container runs (after ImageRewrite).
	Image string
	// LastStatus is PENDING, RUNNING or STOPPED.
	LastStatus string
	// Reason explains a stop that was not a plain exit, e.g.
	// "OutOfMemoryError: Container killed due to memory usage".
	Reason       string
	HealthStatus string
	ExitCode     *int
	Essential    bool
	// RestartCount is how many times the runner restarted the container
	// under its restart policy (counted since the runner adopted it).
	RestartCount int
	// NetworkBindings are the published ports: dynamic host ports in
	// bridge mode, 127.0.0.1 ports in awsvpc mode (if the driver publishes
	// them; usually none, as on ECS), the container ports
	// themselves in host mode.
	NetworkBindings []ecs.NetworkBinding
}

// Runner turns desired ECS tasks into containers through a driver and
// reports what it observes. See the package documentation.
type Runner struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	tasks    map[string]*taskRun // by task ARN, until finished
	finished finishedTasks       // cleaned-up tasks, remembered
	ledger   Ledger              // Config.Ledger's, the StateDir's, or none
	running  bool                // Run is active
	wg       sync.WaitGroup      // actor workers and their operations

	// liveMu guards live and liveCtx: while Run is active, actor workers
	// may be started (with liveCtx) from anywhere, e.g. a task's timer.
	liveMu  sync.Mutex
	live    bool
	liveCtx context.Context
}

// spawn starts a worker for t's actor, unless Run has ended.
func (r *Runner) spawn(t *taskRun) bool {
	r.liveMu.Lock()
	defer r.liveMu.Unlock()
	if !r.live {
		return false
	}
	r.wg.Add(1)
	go t.work(r.liveCtx)
	return true
}

// New returns a runner. It does nothing until Run is called.
func New(cfg Config) *Runner {
	if cfg.Driver == nil {
		panic("runner: Config.Driver is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PullBehavior == "" {
		cfg.PullBehavior = PullPreferCached
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.CleanupAfter == 0 {
		cfg.CleanupAfter = DefaultCleanupAfter
	}
	if cfg.OrphanGrace == 0 {
		cfg.OrphanGrace = DefaultOrphanGrace
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = DefaultResyncInterval
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = DefaultForgetAfter
	}
	if cfg.MaxFinished <= 0 {
		cfg.MaxFinished = DefaultMaxFinished
	}
	return &Runner{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "runner"),
		tasks:  map[string]*taskRun{},
		ledger: newLedger(cfg),
	}
}

// instanceSelector selects the containers and task networks of this
// instance.
func (r *Runner) instanceSelector() map[string]string {
	sel := map[string]string{}
	if r.cfg.Cluster != "" {
		sel[driver.LabelCluster] = r.cfg.Cluster
	}
	if r.cfg.InstanceARN != "" {
		sel[driver.LabelInstance] = r.cfg.InstanceARN
	}
	if r.cfg.Owner != "" {
		sel[driver.LabelOwner] = r.cfg.Owner
	}
	return sel
}

// ours reports whether labels belong to this instance's containers.
func (r *Runner) ours(labels map[string]string) bool {
	if labels[driver.LabelTaskARN] == "" || labels[driver.LabelOwner] != r.cfg.Owner {
		return false
	}
	for k, v := range r.instanceSelector() {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Apply sets a task's desired state: it starts the task, or stops it when
// spec.Task.DesiredStatus is STOPPED. It is idempotent and level-based:
// applying a spec again only updates the desired state, and a task that has
// stopped is never started again. Apply does not block; the work happens
// while Run runs.
func (r *Runner) Apply(spec TaskSpec) {
	if spec.Task == nil || spec.Task.ARN == "" {
		r.log.Error("apply: task without an ARN ignored")
		return
	}
	arn := spec.Task.ARN
	spec = cloneSpec(spec)
	r.mu.Lock()
	if ft := r.finished.get(arn); ft != nil {
		// Already stopped and cleaned up: report the final state again, so
		// that a control plane that missed it learns it.
		r.mu.Unlock()
		if spec.Task.DesiredStatus != ecs.TaskStopped {
			r.emitFinished(ft)
		}
		return
	}
	t := r.tasks[arn]
	if t == nil {
		t = newTaskRun(r, arn)
		r.tasks[arn] = t
	}
	t.push(message{spec: &spec})
	r.startLocked(t)
	r.mu.Unlock()
}

// startLocked starts t's actor if Run is active and it is not running yet.
// r.mu is held.
func (r *Runner) startLocked(t *taskRun) {
	if !r.running || t.started || t.done {
		return
	}
	t.started = true
	t.fresh = true
	t.inbox.mu.Lock()
	t.inbox.active = true
	kick := t.inbox.kickLocked()
	t.inbox.mu.Unlock()
	if kick {
		t.schedule()
	}
}

// Adopt finds the containers and task networks of this instance (by the
// cluster, instance and owner labels), rebuilds the runner's state from them and
// returns the observed state of every task found. Call it after a restart,
// before or after Run, and before applying tasks again.
//
// Adopted tasks are not restarted and nothing is created for them: running
// containers keep running and are reported RUNNING. A task the agent does
// not apply again within Config.OrphanGrace is an orphan (e.g. the control
// plane forgot it): it is stopped and its containers removed. Until its
// spec is applied, an adopted task is judged from its containers' labels:
// an essential container that exits still stops the task.
func (r *Runner) Adopt(ctx context.Context) ([]TaskChange, error) {
	sel := r.instanceSelector()
	states, err := r.cfg.Driver.ListContainers(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("runner: adopt: %w", err)
	}
	nets, err := r.cfg.Driver.ListTaskNetworks(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("runner: adopt: %w", err)
	}
	byTask := map[string][]driver.ContainerState{}
	for _, st := range states {
		if arn := st.Labels[driver.LabelTaskARN]; r.ours(st.Labels) && st.Labels[driver.LabelContainerName] != "" {
			byTask[arn] = append(byTask[arn], st)
		}
	}
	// What the runner created before the restart: containers it knows of
	// that are gone were removed meanwhile.
	records, err := r.ledger.Load()
	if err != nil {
		r.log.WarnContext(ctx, "adopt: cannot read what the runner created before; removed containers would be created again", "error", err)
	}
	for arn := range records {
		if _, ok := byTask[arn]; !ok {
			byTask[arn] = nil
		}
	}
	netByTask := map[string]driver.TaskNetwork{}
	for _, n := range nets {
		if arn := n.Labels[driver.LabelTaskARN]; r.ours(n.Labels) {
			netByTask[arn] = n
			if _, ok := byTask[arn]; !ok {
				byTask[arn] = nil
			}
		}
	}

	var out []TaskChange
	deadline := time.Time{}
	if r.cfg.OrphanGrace > 0 {
		deadline = time.Now().Add(r.cfg.OrphanGrace)
	}
	for _, arn := range sortedKeys(byTask) {
		r.mu.Lock()
		if ft := r.finished.get(arn); ft != nil {
			r.mu.Unlock()
			out = append(out, *ft.report)
			continue
		}
		t := r.tasks[arn]
		if t != nil {
			r.mu.Unlock()
			out = append(out, t.snapshot())
			continue
		}
		t = newTaskRun(r, arn)
		var netp *driver.TaskNetwork
		if n, ok := netByTask[arn]; ok {
			netp = &n
		}
		t.adopt(byTask[arn], records[arn], netp, deadline)
		rep := t.buildReport()
		t.report = &rep
		t.lastEmitted = &rep
		r.tasks[arn] = t
		r.startLocked(t)
		r.mu.Unlock()
		r.log.InfoContext(ctx, "adopted task", "task", arn, "status", rep.LastStatus, "containers", len(rep.Containers))
		out = append(out, rep)
	}
	// Task-level resources whose containers are all gone (e.g. removed
	// while no agent ran) are nobody's any more.
	if removed, err := r.cfg.Driver.PruneTaskResources(ctx, pruneTaskResourcesAge); err != nil {
		r.log.WarnContext(ctx, "adopt: cannot prune task-level resources", "error", err)
	} else if len(removed) > 0 {
		r.log.InfoContext(ctx, "adopt: removed task-level resources no container uses", "tasks", removed)
	}
	return out, nil
}

// pruneTaskResourcesAge spares the task-level resources of tasks that are
// creating their first container.
const pruneTaskResourcesAge = time.Minute

// Tasks returns the observed state of every task the runner knows,
// including stopped ones it still remembers, sorted by ARN.
func (r *Runner) Tasks() []TaskChange {
	r.mu.Lock()
	ts := make([]*taskRun, 0, len(r.tasks))
	for _, t := range r.tasks {
		ts = append(ts, t)
	}
	out := make([]TaskChange, 0, len(ts)+r.finished.len())
	for _, ft := range r.finished.byARN {
		out = append(out, *ft.report)
	}
	r.mu.Unlock()
	for _, t := range ts {
		out = append(out, t.snapshot())
	}
	slices.SortFunc(out, func(a, b TaskChange) int { return strings.Compare(a.TaskARN, b.TaskARN) })
	return out
}

// Task returns the observed state of one task.
func (r *Runner) Task(arn string) (TaskChange, bool) {
	r.mu.Lock()
	t := r.tasks[arn]
	ft := r.finished.get(arn)
	r.mu.Unlock()
	switch {
	case ft != nil:
		return *ft.report, true
	case t == nil:
		return TaskChange{}, false
	}
	return t.snapshot(), true
}

// ErrAlreadyRunning is returned by a second concurrent call of Run.
var ErrAlreadyRunning = errors.New("runner: already running")

// Run subscribes to the driver's events and drives every task's
// reconciliation until ctx ends; then it waits for in-flight work to wind
// down and returns nil. Containers are left as they are: a new runner
// adopts them. Run fails if it cannot subscribe to events at first; later
// stream failures (e.g. the daemon restarted) are retried, and every task
// re-reads its containers.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return ErrAlreadyRunning
	}
	events, err := r.cfg.Driver.WaitEvents(ctx)
	if err != nil {
		r.mu.Unlock()
		return fmt.Errorf("runner: subscribe to driver events: %w", err)
	}
	r.running = true
	r.liveMu.Lock()
	r.live, r.liveCtx = true, ctx
	r.liveMu.Unlock()
	for _, t := range r.tasks {
		r.startLocked(t)
	}
	r.mu.Unlock()

	defer func() {
		// No actor may start once we wait for them.
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
		r.liveMu.Lock()
		r.live, r.liveCtx = false, nil
		r.liveMu.Unlock()
		r.wg.Wait()
		r.mu.Lock()
		for _, t := range r.tasks {
			t.started = false
			t.inbox.mu.Lock()
			t.inbox.active = false
			t.inbox.mu.Unlock()
		}
		r.mu.Unlock()
	}()

	resync := time.NewTicker(r.cfg.ResyncInterval)
	defer resync.Stop()
	backoff := 100 * time.Millisecond
	for {
		if events == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			events, err = r.cfg.Driver.WaitEvents(ctx)
			if err != nil {
				r.log.WarnContext(ctx, "cannot subscribe to driver events; retrying", "error", err, "in", backoff)
				events = nil
				backoff = min(backoff*2, 10*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			r.log.InfoContext(ctx, "driver event stream restored; resynchronising")
			r.broadcast(message{resync: true})
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				r.log.WarnContext(ctx, "driver event stream ended; resubscribing")
				events = nil
				continue
			}
			r.route(ev)
		case <-resync.C:
			r.broadcast(message{resync: true})
			r.forget()
		}
	}
}

// route hands a driver event to its task's actor.
func (r *Runner) route(ev driver.ContainerEvent) {
	if !r.ours(ev.Labels) {
		return
	}
	r.mu.Lock()
	t := r.tasks[ev.Labels[driver.LabelTaskARN]]
	if t != nil && !t.done {
		t.push(message{event: &ev})
	}
	r.mu.Unlock()
}

func (r *Runner) broadcast(m message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tasks {
		if !t.done {
			t.push(m)
		}
	}
}

// forget drops cleaned-up tasks older than ForgetAfter.
func (r *Runner) forget() {
	cutoff := time.Now().Add(-r.cfg.ForgetAfter)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished.forget(cutoff)
}

// finish replaces a cleaned-up task's actor with its final report: the
// actor, its containers and plan become garbage.
func (r *Runner) finish(t *taskRun) {
	if err := r.ledger.Forget(t.arn); err != nil {
		r.log.Warn("cannot forget a finished task's record", "task", t.arn, "error", err)
	}
	ft := &finishedTask{report: t.current(), doneAt: time.Now()}
	r.mu.Lock()
	t.done = true
	if r.tasks[t.arn] == t {
		delete(r.tasks, t.arn)
	}
	r.finished.add(t.arn, ft, r.cfg.MaxFinished)
	r.mu.Unlock()
}

// cloneSpec deep-copies a spec, so that the caller may keep changing its
// task (e.g. recording reported state on it) while the runner reads it.
func cloneSpec(spec TaskSpec) TaskSpec {
	if b, err := json.Marshal(spec.Task); err == nil {
		var t ecs.Task
		if json.Unmarshal(b, &t) == nil {
			t.ID = spec.Task.ID
			spec.Task = &t
		}
	}
	if spec.Definition != nil {
		if b, err := json.Marshal(spec.Definition); err == nil {
			var td ecs.TaskDefinition
			if json.Unmarshal(b, &td) == nil {
				spec.Definition = &td
			}
		}
	}
	return spec
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
