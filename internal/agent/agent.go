package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/awslogs"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// Version is the agent version reported to the control plane.
const Version = "1.0.0-berth"

// Config configures an Agent.
type Config struct {
	// ServerURL is berth's API endpoint, e.g. "http://127.0.0.1:4566".
	ServerURL string
	// Cluster is the cluster (name or ARN) to join.
	Cluster string
	Region  string
	// AccessKey and SecretKey sign the agent's requests (test/test when
	// empty); SessionToken is optional.
	AccessKey, SecretKey, SessionToken string
	// Driver runs the containers. Nil (or a driver that cannot be
	// reached) makes every task stop at once with DriverError as reason.
	Driver driver.Driver
	// DriverError explains why there is no driver.
	DriverError string
	// DataDir keeps the agent's state (its container instance ARN) so that
	// a restarted agent is the same instance. Empty keeps nothing.
	DataDir string
	// AwslogsDir keeps the awslogs shipper's positions (default
	// DataDir/awslogs; none when both are empty).
	AwslogsDir string
	// InstanceARN, when set, is the instance the agent is (the managed
	// capacity's hidden instance); it re-registers as it.
	InstanceARN string
	// Managed marks berth's own in-process agent.
	Managed bool
	// CPU (units) and MemoryMiB override what the agent registers (the
	// host's by default); Attributes are added to the instance.
	CPU, MemoryMiB int
	Attributes     []ecs.Attribute
	Tags           []ecs.Tag
	// Heartbeat is the ACS heartbeat interval (acs.DefaultHeartbeat).
	Heartbeat time.Duration
	// MetricsInterval is how often containers' CPU and memory are sampled
	// and published on the telemetry session (DefaultMetricsInterval when
	// 0; negative turns metrics off).
	MetricsInterval time.Duration
	// Runner tunes the task runner (Driver, Cluster, InstanceARN, Logger
	// and OnChange are set by the agent).
	Runner runner.Config
	Logger *slog.Logger
}

// Agent is a container instance's agent: it registers the instance, keeps
// an ACS session open, runs the tasks it is sent through a runner and
// reports their state with SubmitTaskStateChange.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	api    *apiClient
	runner *runner.Runner
	// shipper ships awslogs containers' output (nil without a driver
	// that reads logs); defs are the definitions of the tasks it ships.
	shipper *awslogs.Shipper
	// metadata serves the task metadata endpoint v4 (nil if it could
	// not listen).
	metadata *metadataServer

	mu          sync.Mutex
	instanceARN string
	clusterARN  string
	eniARNs     map[string]string         // task ARN → its ENI attachment ARN (awsvpc tasks)
	defs        map[string]taskDef        // task ARN → task and definition, for log shipping
	pending     map[string]*pendingReport // task ARN → its latest state not sent yet
	inflight    map[string]bool           // task ARN → a SubmitTaskStateChange is in flight
	known       map[string]knownState     // task ARN → what the control plane has (see report)
	retryAfter  time.Duration             // delay of a failed report's retry (backoff)
	wake        chan struct{}
	connected   bool
	runnerErr   error
	pingAt      time.Time
	pingErr     error
	dockerVer   string // versionInfo.dockerVersion, as the ECS agent words it; read at registration

	execs sync.WaitGroup // the ECS Exec relays (exec.go)
}

// New returns an agent; call Run.
func New(cfg Config) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccessKey == "" {
		cfg.AccessKey, cfg.SecretKey = "test", "test"
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "default"
	}
	creds := aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, SessionToken: cfg.SessionToken}
	return &Agent{
		cfg: cfg, log: cfg.Logger.With("component", "agent", "cluster", cfg.Cluster),
		api:     newAPIClient(cfg.ServerURL, cfg.Region, creds),
		eniARNs: map[string]string{}, defs: map[string]taskDef{},
		pending: map[string]*pendingReport{}, inflight: map[string]bool{}, known: map[string]knownState{},
		retryAfter: minRetry, wake: make(chan struct{}, 1), instanceARN: cfg.InstanceARN,
	}
}

// InstanceARN returns the agent's container instance ARN ("" until
// registered).
func (a *Agent) InstanceARN() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.instanceARN
}

// Connected reports whether the ACS session is up.
func (a *Agent) Connected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

type agentState struct {
	ClusterARN           string `json:"clusterArn"`
	ContainerInstanceARN string `json:"containerInstanceArn"`
}

func (a *Agent) statePath() string {
	if a.cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(a.cfg.DataDir, "agent-state.json")
}

func (a *Agent) loadState() {
	p := a.statePath()
	if p == "" || a.instanceARN != "" {
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	var st agentState
	if json.Unmarshal(b, &st) == nil {
		a.instanceARN = st.ContainerInstanceARN
	}
}

func (a *Agent) saveState() error {
	p := a.statePath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(agentState{ClusterARN: a.clusterARN, ContainerInstanceARN: a.instanceARN})
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Run runs the agent until ctx ends. It retries everything that fails
// (registration, the ACS session, reports) with backoff.
func (a *Agent) Run(ctx context.Context) error {
	a.loadState()
	if err := a.registerLoop(ctx); err != nil {
		return nil // ctx ended
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer a.execs.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if a.cfg.Driver != nil {
		rc := a.cfg.Runner
		rc.Driver, rc.Cluster, rc.InstanceARN = a.cfg.Driver, a.cfg.Cluster, a.InstanceARN()
		rc.Logger = a.cfg.Logger
		rc.OnChange = a.report
		// Secrets, ECR pulls and awslogs go as each task's execution role.
		roles := newExecRoles(a.api, a.InstanceARN)
		if rc.Secrets == nil {
			rc.Secrets = apiSecrets{roles: roles}.resolve
		}
		if rc.ImageRewrite == nil && rc.RegistryAuth == nil {
			ecr := &ecrAuth{api: a.api, roles: roles}
			rc.ImageRewrite, rc.RegistryAuth = ecr.rewrite, ecr.auth
		}
		if lr, ok := a.cfg.Driver.(driver.LogReader); ok {
			stateDir := a.cfg.AwslogsDir
			if stateDir == "" && a.cfg.DataDir != "" {
				stateDir = filepath.Join(a.cfg.DataDir, "awslogs")
			}
			a.shipper = awslogs.New(awslogs.Config{Driver: lr, Sink: logsSink{api: a.api, roles: roles}, StateDir: stateDir,
				Region: a.cfg.Region, Logger: a.cfg.Logger.With("component", "awslogs"), OnDropped: a.logsDropped})
			if rc.LogSetup == nil {
				rc.LogSetup = a.shipper.Prepare
			}
			wg.Go(func() { _ = a.shipper.Run(ctx) })
		}
		// The task metadata endpoint v4, its URI in every container.
		mdPath := ""
		switch {
		case a.cfg.DataDir != "":
			mdPath = filepath.Join(a.cfg.DataDir, "metadata.state")
		case a.cfg.AwslogsDir != "":
			mdPath = filepath.Join(a.cfg.AwslogsDir, "metadata.state")
			_ = os.MkdirAll(a.cfg.AwslogsDir, 0o755)
		}
		if md, ln, err := a.startMetadata(mdPath); err != nil {
			a.log.Warn("task metadata endpoint unavailable", "err", err)
		} else {
			a.metadata = md
			wg.Go(func() { md.serve(ctx, ln) })
			extra := rc.ExtraEnv
			rc.ExtraEnv = func(task *ecs.Task, container string) map[string]string {
				env := md.env(task, container)
				if extra != nil {
					maps.Copy(env, extra(task, container))
				}
				return env
			}
		}
		a.runner = runner.New(rc)
		adopted, err := a.runner.Adopt(ctx)
		if err != nil {
			a.log.Warn("cannot adopt this instance's containers", "error", err)
		}
		for _, ch := range adopted {
			a.report(ch)
		}
		wg.Add(1)
		go func() { defer wg.Done(); a.runRunner(ctx) }()
		if a.cfg.MetricsInterval >= 0 {
			wg.Go(func() { a.telemetryLoop(ctx) })
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); a.reportLoop(ctx) }()
	a.sessionLoop(ctx)
	return nil
}

// runRunner keeps the runner running; while it cannot (the driver is
// unreachable), tasks are refused with the reason.
func (a *Agent) runRunner(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := a.runner.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		a.mu.Lock()
		a.runnerErr = err
		a.mu.Unlock()
		a.log.Warn("the container runtime is unavailable; tasks sent meanwhile stop at once", "error", err, "retryIn", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
		a.mu.Lock()
		a.runnerErr = nil
		a.mu.Unlock()
	}
}

type registerOut struct {
	ContainerInstance struct {
		ARN string `json:"containerInstanceArn"`
	} `json:"containerInstance"`
}

// registerLoop registers (or re-registers) until it succeeds or ctx ends.
// A cluster that does not exist (in the agent's region) is said once,
// clearly, then retried quietly: the agent joins once it is created.
func (a *Agent) registerLoop(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	saidNotFound := false
	for {
		err := a.register(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Code == "ClusterNotFoundException" && !saidNotFound:
			saidNotFound = true
			a.log.Error(fmt.Sprintf("cluster %s not found in region %s: create it there, or start the agent with the cluster's region (--region, AWS_REGION); retrying quietly until it exists", a.cfg.Cluster, a.cfg.Region))
		case errors.As(err, &ae) && ae.Code == "ClusterNotFoundException":
			a.log.Debug("registration failed; retrying", "error", err, "in", backoff)
		default:
			a.log.Warn("registration failed; retrying", "error", err, "in", backoff)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(jitter(backoff)):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (a *Agent) register(ctx context.Context) error {
	cpu, mem := a.cfg.CPU, a.cfg.MemoryMiB
	if cpu <= 0 {
		cpu = runtime.NumCPU() * 1024
	}
	if mem <= 0 {
		mem = hostMemoryMiB()
	}
	doc, _ := json.Marshal(map[string]string{"instanceType": "berth.host", "architecture": goarch()})
	in := acs.RegisterContainerInstanceInput{
		Cluster: a.cfg.Cluster, ContainerInstanceARN: a.InstanceARN(), InstanceIdentityDocument: string(doc),
		TotalResources: []ecs.Resource{
			{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: cpu},
			{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: mem},
			{Name: ecs.ResourcePorts, Type: ecs.ResourceTypeStringSet, StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
			{Name: ecs.ResourcePortsUDP, Type: ecs.ResourceTypeStringSet, StringSetValue: []string{}},
		},
		VersionInfo: &ecs.VersionInfo{AgentVersion: Version, AgentHash: "berth", DockerVersion: a.dockerVersion(ctx)},
		Attributes:  append(ecs.BerthAgentCapabilities(a.dockerAPIVersion(ctx), true), a.cfg.Attributes...), Tags: a.cfg.Tags,
	}
	var out registerOut
	err := a.api.call(ctx, "RegisterContainerInstance", in, &out)
	var ae *APIError
	if errors.As(err, &ae) && in.ContainerInstanceARN != "" && !a.cfg.Managed && ae.Status < 500 && ae.Code != "ClusterNotFoundException" {
		// The instance is gone (deregistered): become a new one.
		a.log.Warn("the saved container instance is gone; registering a new one", "instance", in.ContainerInstanceARN, "error", err)
		in.ContainerInstanceARN = ""
		err = a.api.call(ctx, "RegisterContainerInstance", in, &out)
	}
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.instanceARN = out.ContainerInstance.ARN
	a.clusterARN = clusterARNOf(a.instanceARN, a.cfg.Cluster)
	a.mu.Unlock()
	if err := a.saveState(); err != nil {
		a.log.Warn("cannot save the agent's state", "error", err)
	}
	if a.cfg.Managed {
		a.log.Info("registered managed capacity instance", "instance", a.instanceARN)
	} else {
		a.log.Info("registered container instance", "instance", a.instanceARN, "cpu", cpu, "memory", mem)
	}
	return nil
}

// dockerAPIVersion is the Docker API version the driver speaks ("" when
// it cannot tell), which caps the docker-remote-api capabilities the
// agent advertises.
func (a *Agent) dockerAPIVersion(ctx context.Context) string {
	v, ok := a.cfg.Driver.(interface{ APIVersion() string })
	if !ok {
		return ""
	}
	if p, ok := a.cfg.Driver.(driver.Pinger); ok && v.APIVersion() == "" {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = p.Ping(pctx) // negotiates the version
		cancel()
	}
	return v.APIVersion()
}

// dockerVersion reads the container runtime's version from a driver that
// can tell it (Docker's), worded as the ECS agent sends it in versionInfo
// and the ACS connection ("DockerVersion: 25.0.3"), and remembers it for
// the ACS sessions. "" when the driver cannot tell or the daemon does not
// answer.
func (a *Agent) dockerVersion(ctx context.Context) string {
	v, ok := a.cfg.Driver.(interface {
		ServerVersion(context.Context) (string, error)
	})
	if !ok {
		return ""
	}
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ver, err := v.ServerVersion(vctx)
	if err != nil || ver == "" {
		a.log.Warn("cannot read the Docker version: versionInfo will not have it", "error", err)
		return ""
	}
	out := "DockerVersion: " + ver
	a.mu.Lock()
	a.dockerVer = out
	a.mu.Unlock()
	return out
}

// clusterARNOf derives the cluster ARN from an instance ARN.
func clusterARNOf(instanceARN, cluster string) string {
	p, ok := ecs.ParseARN(instanceARN)
	if !ok {
		return cluster
	}
	name := strings.TrimPrefix(p.Resource, "container-instance/")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	return ecs.Scope{Account: p.Account, Region: p.Region}.ClusterARN(name)
}

func goarch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// hostMemoryMiB is the host's memory, less 256 MiB for the system (the ECS
// agent reserves some too).
func hostMemoryMiB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					return max(kb/1024-256, 256)
				}
			}
		}
	}
	return 2048
}

// sessionLoop keeps an ACS session open.
func (a *Agent) sessionLoop(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := a.session(ctx)
		a.setConnected(false)
		if ctx.Err() != nil {
			return
		}
		var re *acs.RefusedError
		if errors.As(err, &re) && re.Type == acs.TypeInactiveInstance && !a.cfg.Managed {
			a.log.Warn("the control plane no longer knows this instance; registering again", "reason", re.Message)
			a.mu.Lock()
			a.instanceARN = ""
			a.mu.Unlock()
			// Containers of the old instance are orphans now; the new
			// instance does not adopt them.
			if err := a.registerLoop(ctx); err != nil {
				return
			}
		}
		if time.Since(start) > time.Minute {
			backoff = 200 * time.Millisecond
		}
		a.log.Warn("ACS session ended; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(jitter(backoff)):
		}
		backoff = min(backoff*2, 15*time.Second)
	}
}

func (a *Agent) setConnected(v bool) {
	a.mu.Lock()
	a.connected = v
	a.mu.Unlock()
}

func (a *Agent) session(ctx context.Context) error {
	arn := a.InstanceARN()
	var out acs.DiscoverPollEndpointOutput
	if err := a.api.call(ctx, "DiscoverPollEndpoint", acs.DiscoverPollEndpointInput{Cluster: a.cfg.Cluster, ContainerInstance: arn}, &out); err != nil {
		return err
	}
	a.mu.Lock()
	dockerVer := a.dockerVer
	a.mu.Unlock()
	c := &acs.Client{
		Endpoint: out.Endpoint, ClusterARN: clusterARNOf(arn, a.cfg.Cluster), InstanceARN: arn,
		AgentVersion: Version, AgentHash: "berth", DockerVersion: dockerVer, Sign: a.api.sign, OnPayload: a.onPayload,
		OnExec:    a.onExec(out.Endpoint),
		Heartbeat: a.cfg.Heartbeat, Logger: a.log,
	}
	return c.Run(ctx, func() {
		a.setConnected(true)
		a.log.Info("ACS session established", "endpoint", out.Endpoint)
		// Anything not yet acknowledged is reported again, now.
		a.mu.Lock()
		now := time.Now()
		for _, p := range a.pending {
			p.due = now
		}
		a.mu.Unlock()
		a.kick()
	})
}

// onPayload hands the tasks of a PayloadMessage to the runner, read back
// from their ACS form: the agent runs exactly what the message says.
func (a *Agent) onPayload(ctx context.Context, m *acs.PayloadMessage) error {
	for i := range m.Tasks {
		task, td, err := m.Tasks[i].Definition()
		if err != nil {
			a.log.Warn("task cannot be read; refusing it", "task", m.Tasks[i].ARN, "error", err)
			if task.DesiredStatus != ecs.TaskStopped {
				a.report(runner.TaskChange{
					TaskARN: task.ARN, LastStatus: ecs.TaskStopped, StopCode: ecs.StopTaskFailedToStart,
					Reason: "ResourceInitializationError: " + err.Error(), StoppedAt: time.Now(),
				})
			}
			continue
		}
		a.mu.Lock()
		for _, eni := range m.Tasks[i].ElasticNetworkInterfaces {
			a.eniARNs[task.ARN] = eni.AttachmentARN
		}
		if task.DesiredStatus != ecs.TaskStopped {
			a.defs[task.ARN] = taskDef{task: task, def: td}
		}
		rerr := a.runnerErr
		a.mu.Unlock()
		if rerr == nil && task.DesiredStatus != ecs.TaskStopped {
			if _, known := a.knownTask(task.ARN); !known {
				rerr = a.runtimeHealth(ctx)
			}
		}
		switch {
		case a.runner == nil || rerr != nil:
			reason := a.cfg.DriverError
			if rerr != nil {
				reason = rerr.Error()
			}
			if reason == "" {
				reason = "no container runtime"
			}
			a.report(runner.TaskChange{
				TaskARN: task.ARN, LastStatus: ecs.TaskStopped, StopCode: ecs.StopTaskFailedToStart,
				Reason: "ResourceInitializationError: the container runtime is unavailable: " + reason, StoppedAt: time.Now(),
			})
		default:
			a.runner.Apply(runner.TaskSpec{Task: task, Definition: td})
		}
	}
	return nil
}

func (a *Agent) knownTask(arn string) (runner.TaskChange, bool) {
	if a.runner == nil {
		return runner.TaskChange{}, false
	}
	return a.runner.Task(arn)
}

// runtimeHealth pings the driver (when it can be pinged) before a new task
// is accepted, so that a task is refused with the reason rather than left
// waiting for a runtime that is not there. A driver that does not answer
// within pingTimeout is busy, not dead (e.g. the fake under a burst of
// thousands of tasks, or a loaded daemon): the task is accepted, and its
// own operations report what really happens. Only a ping that fails
// (e.g. the daemon's socket refuses connections) refuses tasks, with the
// driver's own words; that verdict is kept for pingCache.
func (a *Agent) runtimeHealth(ctx context.Context) error {
	p, ok := a.cfg.Driver.(driver.Pinger)
	if !ok {
		return nil
	}
	a.mu.Lock()
	if time.Since(a.pingAt) < pingCache {
		err := a.pingErr
		a.mu.Unlock()
		return err
	}
	a.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	err := p.Ping(pctx)
	slow := pctx.Err() != nil
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return err // the session is ending: no verdict on the driver
	case slow:
		a.log.Warn("the container runtime is slow to answer; accepting tasks meanwhile", "error", err, "timeout", pingTimeout)
		err = nil
	}
	a.mu.Lock()
	a.pingAt, a.pingErr = time.Now(), err
	a.mu.Unlock()
	return err
}

// Driver health checks: how long a ping may take before the driver is
// deemed busy, and how long a verdict is kept.
const (
	pingTimeout = 5 * time.Second
	pingCache   = 2 * time.Second
)

// Reporting. Every change the runner observes is reported with
// SubmitTaskStateChange, each task's latest state replacing one not sent
// yet. A change of what the control plane shows at a glance (the task's
// lastStatus or healthStatus) is sent at once; any other change (pull
// times, a container's runtime ID, bindings) waits up to reportDelay,
// usually to ride along with the next status change: a task that starts
// in a second is reported once (RUNNING, with all the rest) instead of
// after each step, so that no report competes with the start or delays
// the one that matters. Reports of different tasks are sent concurrently
// (the server commits them together); a failed report is retried with
// backoff until it is acknowledged or refused.
const (
	reportDelay = time.Second
	maxSubmits  = 8
	minRetry    = 200 * time.Millisecond
	maxRetry    = 10 * time.Second
	maxKnown    = 10_000
)

// pendingReport is a task's latest state, to be sent by due.
type pendingReport struct {
	ch  runner.TaskChange
	due time.Time
}

// knownState is what the control plane has of a task: the last state it
// acknowledged.
type knownState struct {
	status, health string
}

func sameHealth(a, b string) bool {
	if a == "" {
		a = ecs.HealthUnknown
	}
	if b == "" {
		b = ecs.HealthUnknown
	}
	return a == b
}

// report queues a task's observed state for SubmitTaskStateChange; the
// latest state of a task replaces one not sent yet.
func (a *Agent) report(ch runner.TaskChange) {
	a.shipLogs(ch)
	now := time.Now()
	a.mu.Lock()
	due := now
	if k, ok := a.known[ch.TaskARN]; ok && k.status == ch.LastStatus && sameHealth(k.health, ch.HealthStatus) {
		due = now.Add(reportDelay)
	}
	if p := a.pending[ch.TaskARN]; p != nil && p.due.Before(due) {
		due = p.due
	}
	a.pending[ch.TaskARN] = &pendingReport{ch: ch, due: due}
	a.mu.Unlock()
	a.kick()
}

func (a *Agent) kick() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// reportLoop submits queued task states when they are due, up to
// maxSubmits at once (one at a time per task), retrying failures.
func (a *Agent) reportLoop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		var next time.Time
		var ready []runner.TaskChange
		a.mu.Lock()
		for arn, p := range a.pending {
			switch {
			case a.inflight[arn]:
			case p.due.After(now):
				if next.IsZero() || p.due.Before(next) {
					next = p.due
				}
			case len(a.inflight) < maxSubmits:
				delete(a.pending, arn)
				a.inflight[arn] = true
				ready = append(ready, p.ch)
			}
		}
		a.mu.Unlock()
		for _, ch := range ready {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.deliver(ctx, ch)
				a.kick()
			}()
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-timer.C:
		}
	}
}

// deliver submits one task's state and records the outcome.
func (a *Agent) deliver(ctx context.Context, ch runner.TaskChange) {
	err := a.submit(ctx, ch)
	if ctx.Err() != nil {
		return
	}
	var ae *APIError
	retry := err != nil && !(errors.As(err, &ae) && ae.Status < 500 && ae.Code != "ThrottlingException")
	arn := ch.TaskARN
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inflight, arn)
	if retry {
		if _, newer := a.pending[arn]; !newer {
			a.pending[arn] = &pendingReport{ch: ch, due: time.Now().Add(jitter(a.retryAfter))}
		}
		a.retryAfter = min(a.retryAfter*2, maxRetry)
		a.log.Debug("state change not delivered; will retry", "task", arn, "error", err)
		return
	}
	a.retryAfter = minRetry
	if err != nil {
		a.log.Warn("state change refused", "task", arn, "status", ch.LastStatus, "error", err)
	}
	switch {
	case ch.LastStatus == ecs.TaskStopped:
		delete(a.known, arn)
	case err == nil:
		if len(a.known) >= maxKnown {
			clear(a.known)
		}
		a.known[arn] = knownState{status: ch.LastStatus, health: ch.HealthStatus}
	}
}

// submit sends one task's state with SubmitTaskStateChange.
func (a *Agent) submit(ctx context.Context, ch runner.TaskChange) error {
	out := acs.SubmitTaskStateChangeInput{
		Cluster: clusterOfTask(ch.TaskARN, a.cfg.Cluster), Task: ch.TaskARN, Status: ch.LastStatus, Reason: ch.Reason,
		PullStartedAt: awsproto.Epoch(ch.PullStartedAt), PullStoppedAt: awsproto.Epoch(ch.PullStoppedAt),
		ExecutionStoppedAt: awsproto.Epoch(ch.ExecutionStoppedAt), StopCode: ch.StopCode, StartedAt: awsproto.Epoch(ch.StartedAt),
	}
	for _, c := range ch.Containers {
		cc := acs.ContainerStateChange{
			ContainerName: c.Name, ImageDigest: c.ImageDigest, RuntimeID: c.RuntimeID, ExitCode: c.ExitCode,
			Reason: c.Reason, Status: c.LastStatus, HealthStatus: c.HealthStatus,
		}
		for _, b := range c.NetworkBindings {
			cc.NetworkBindings = append(cc.NetworkBindings, acs.NetworkBinding(b))
		}
		out.Containers = append(out.Containers, cc)
	}
	if ch.PrivateIPv4 != "" {
		at := acs.AttachmentStateChange{Status: ecs.AttachmentAttached, MACAddress: ch.MACAddress, PrivateIPv4Address: ch.PrivateIPv4}
		a.mu.Lock()
		at.AttachmentARN = a.eniARNs[ch.TaskARN]
		a.mu.Unlock()
		out.Attachments = append(out.Attachments, at)
	}
	err := a.api.call(ctx, "SubmitTaskStateChange", out, nil)
	if err == nil && ch.LastStatus == ecs.TaskStopped {
		a.mu.Lock()
		delete(a.eniARNs, ch.TaskARN)
		a.mu.Unlock()
	}
	return err
}

// clusterOfTask returns the cluster name of a long-format task ARN.
func clusterOfTask(taskARN, def string) string {
	p, ok := ecs.ParseARN(taskARN)
	if !ok {
		return def
	}
	rest := strings.TrimPrefix(p.Resource, "task/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return def
}

// String describes the agent for logs.
func (a *Agent) String() string { return fmt.Sprintf("agent(%s, %s)", a.cfg.Cluster, a.InstanceARN()) }
