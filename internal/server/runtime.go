package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsapi"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsexec"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/leader"
	"github.com/berth-dev/berth/internal/runner"
	"github.com/berth-dev/berth/internal/store"
)

// taskRuntime is what makes tasks really run: the ACS websocket that agents
// connect to, the controllers under one manager (the state cache, ACS
// session hooks and task push on every server; agent disconnect timeout,
// stopped-task retention, managed capacity and the token sweep on the
// leader only) and the managed agents that run Fargate tasks in this
// process. newRuntime starts nothing; Run does, and stops it all (cancel,
// then wait) before it returns. Containers keep running when it stops;
// agents adopt them when the server starts again.
type taskRuntime struct {
	log     *slog.Logger
	acs     *acs.Server
	tcs, sc *acs.TelemetryServer
	manager *controller.Manager
	fleet   *managedFleet
	driver  driver.Driver
	// authenticate verifies an agent's signed websocket upgrade.
	authenticate func(*http.Request) (string, error)
}

// newRuntime wires the runtime and mounts the agent endpoints on mux. addr
// is the API listener's address, which the managed agents call over
// loopback like any agent.
func newRuntime(s settings, cache *ecscache.Cache, plane *ecscp.Plane, kv store.Store, auth *serverAuth, elector leader.Elector, sole bool, owner string, drivers *driver.Registry, mux *http.ServeMux, addr string, log *slog.Logger) *taskRuntime {
	drv, drvErr := openManagedDriver(drivers, s.driver, owner, log)
	if drvErr != nil {
		log.With("subsystem", "runtime").Warn("container driver unavailable: tasks on managed capacity will stop at once", "driver", s.driver, "error", drvErr)
	}
	fleet := &managedFleet{
		url: "http://" + addr, keys: auth.managed, driver: drv, owner: owner,
		log: log.With("subsystem", "managed-agent"), agents: map[string]*managedAgent{},
		metricsInterval: max(time.Second, time.Duration(float64(agent.DefaultMetricsInterval)/max(s.metricScale, 1))),
	}
	if drvErr != nil {
		fleet.driverErr = drvErr.Error()
	}
	if s.driver == "docker" {
		// What the runners created, so that a container removed while the
		// server was down is reported, not created again (fake containers
		// do not outlive the process: nothing to record).
		fleet.stateDir = filepath.Join(s.DataDir, "runner")
		if !sole {
			// Servers sharing a store take turns running the managed
			// capacity: the ledger must be theirs, not one data
			// directory's.
			fleet.ledger = storeLedgers(kv)
		}
	}
	authenticate := func(r *http.Request) (string, error) {
		id, err := auth.verifier.Authenticate(r, nil)
		if err != nil {
			return "", err
		}
		if id.Account == "" {
			id.Account = s.Account
		}
		return id.Account, nil
	}
	acsSrv := &acs.Server{Authenticate: authenticate, Logger: log.With("subsystem", "acs")}
	tcsSrv := &acs.TelemetryServer{Authenticate: authenticate, OnHealth: submitHealth(plane), Logger: log.With("subsystem", "tcs")}
	scSrv := &acs.TelemetryServer{Authenticate: authenticate, Logger: log.With("subsystem", "sc")}

	clog := log.With("subsystem", "controller")
	source := controller.NewCacheSource(cache)
	push := controller.NewPush(controller.PushConfig{
		Source: source, Sessions: controller.HubSessions{Hub: &acsSrv.Hub}, Loader: source.Loader(plane), Logger: clog,
	})
	// Servers sharing a store record which of them holds each agent's
	// session, so that the leader can tell a dead server's sessions.
	var registry *controller.SessionRegistry
	if !sole {
		registry = &controller.SessionRegistry{Store: kv, Identity: elector.Identity()}
	}
	hooks := controller.NewSessionHooks(controller.SessionsConfig{
		Hub: &acsSrv.Hub, Source: source, Instances: plane, Push: push, SoleServer: sole, Registry: registry, Logger: clog,
	})
	acsSrv.Connect, acsSrv.Ready, acsSrv.Disconnect = recordVersion(plane, hooks.Connect, log), hooks.Ready, hooks.Disconnect

	mgr := controller.NewManager(controller.ManagerConfig{Elector: elector, Logger: clog})
	mgr.Add("state-cache", cache)
	mgr.Add("sessions", hooks)
	mgr.Add("push", push)
	mgr.Add("disconnect", controller.NewDisconnect(controller.DisconnectConfig{
		Source: source, Stopper: lostTaskStopper{plane}, Timeout: s.disconnectTimeout, Recorded: !sole, Logger: clog,
	}))
	mgr.Add("retention", controller.NewRetention(controller.RetentionConfig{
		Source: source, Deleter: plane, Retention: s.taskRetention, Logger: clog,
	}))
	mgr.Add("managed", controller.NewManagedFleet(controller.ManagedFleetConfig{Source: source, Fleet: fleet, Logger: clog}))
	if registry != nil {
		mgr.Add("stale-sessions", controller.NewStaleSessions(controller.StaleSessionsConfig{
			Source: source, Registry: registry, Instances: plane, Logger: clog,
		}))
	}
	mgr.Add("tokens", controller.NewTokenSweep(controller.TokenSweepConfig{View: source, Tokens: plane, Logger: clog}))

	mux.Handle("GET "+acs.Path, acsSrv)
	mux.Handle("GET /"+ecsapi.TelemetryPath+"ws", tcsSrv)
	mux.Handle("GET /"+ecsapi.ServiceConnectPath+"ws", scSrv)
	return &taskRuntime{log: log, acs: acsSrv, tcs: tcsSrv, sc: scSrv, manager: mgr, fleet: fleet, driver: drv, authenticate: authenticate}
}

// serveExec gives ECS Exec's broker this server's agent sessions and
// mounts its data channel (clients) and agent endpoints.
func (rt *taskRuntime) serveExec(b *ecsexec.Broker, mux *http.ServeMux) {
	b.Agents, b.Authenticate = &rt.acs.Hub, rt.authenticate
	mux.HandleFunc("GET "+ecsexec.DataChannelPath+"{id}", b.ServeDataChannel)
	mux.HandleFunc("GET "+acs.ExecAgentPath+"{id}", b.ServeAgent)
}

// Run runs the controllers until ctx ends, then closes the agents'
// sessions, stops the managed agents and closes the driver.
func (rt *taskRuntime) Run(ctx context.Context) error {
	err := rt.manager.Run(ctx)
	rt.acs.Hub.CloseAll()
	rt.tcs.Close()
	rt.sc.Close()
	rt.fleet.StopAll()
	if rt.driver != nil {
		_ = rt.driver.Close()
	}
	return err
}

// recordVersion wraps an ACS Connect hook: an accepted session's agent and
// Docker versions are stored on its instance.
func recordVersion(plane *ecscp.Plane, connect func(context.Context, *acs.Session) error, log *slog.Logger) func(context.Context, *acs.Session) error {
	return func(ctx context.Context, s *acs.Session) error {
		if err := connect(ctx, s); err != nil {
			return err
		}
		v := ecs.VersionInfo{AgentVersion: s.AgentVersion, AgentHash: s.AgentHash, DockerVersion: s.DockerVersion}
		if err := plane.RecordAgentVersion(ctx, s.InstanceARN, v); err != nil {
			log.Warn("cannot record the agent's version", "instance", s.InstanceARN, "error", err)
		}
		return nil
	}
}

// submitHealth records the container health agents publish on telemetry.
// lostTaskStopper is the disconnect reconciler's TaskStopper over the
// control plane: a lost agent's task is stopped now, with no stop code (as
// before), by the plane's clock.
type lostTaskStopper struct{ plane *ecscp.Plane }

func (s lostTaskStopper) StopAway(ctx context.Context, t controller.TaskInfo, reason string, _ time.Time) (bool, error) {
	return s.plane.StopLostTask(ctx, t.Scope, t.Cluster, t.ID, t.Instance, "", reason)
}

func submitHealth(plane *ecscp.Plane) func(context.Context, string, string, *acs.PublishHealthRequest) error {
	return func(ctx context.Context, account, instance string, h *acs.PublishHealthRequest) error {
		for _, th := range h.Tasks {
			health := ecscp.TaskHealth{TaskARN: th.TaskARN, ClusterARN: th.ClusterARN}
			for _, c := range th.Containers {
				health.Containers = append(health.Containers, ecscp.ContainerChange{Name: c.ContainerName, HealthStatus: c.HealthStatus})
			}
			err := plane.SubmitTaskHealth(ctx, account, instance, health)
			switch {
			case fault.Is(err, fault.AccessDenied), fault.Is(err, fault.InvalidParameter):
				// Refused for good: acknowledged, not retried.
			case err != nil:
				return err
			}
		}
		return nil
	}
}

// openManagedDriver opens the container driver of the managed capacity. A
// runtime that cannot be reached (a Docker daemon that is not running) is
// reported, in the words of the driver it is, but not fatal.
func openManagedDriver(drivers *driver.Registry, name, owner string, log *slog.Logger) (driver.Driver, error) {
	d, err := drivers.Open(name, driver.Config{Logger: log.With("subsystem", "driver"), Params: map[string]string{"owner": owner}})
	if err != nil {
		return nil, err
	}
	if p, ok := d.(driver.Pinger); ok {
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Ping(pctx); err != nil {
			return d, unreachable(name, err)
		}
	}
	return d, nil
}

// unreachable says that driver name's runtime did not answer: Docker's
// daemon for the docker driver, the driver itself for any other.
func unreachable(name string, err error) error {
	if name == "docker" {
		return fmt.Errorf("Docker is unreachable: %w", err)
	}
	return fmt.Errorf("the %s container driver is unreachable: %w", name, err)
}

// managedFleet runs one in-process agent per cluster with managed
// capacity, as the managed fleet controller asks. It implements
// controller.Fleet.
type managedFleet struct {
	url       string
	keys      map[string][2]string
	driver    driver.Driver
	driverErr string
	owner     string // the data directory's identity (driver.LabelOwner)
	stateDir  string // runner.Config.StateDir (empty: nothing recorded)
	// metricsInterval is the managed agents' metrics sampling interval
	// (agent.DefaultMetricsInterval divided by the metric time scale,
	// at least a second).
	metricsInterval time.Duration
	// ledger, when set, keeps the runners' ledgers in the shared store
	// instead of stateDir (runner.Config.Ledger).
	ledger func(scope string) runner.Ledger
	log    *slog.Logger

	mu     sync.Mutex
	agents map[string]*managedAgent // by cluster key
	wg     sync.WaitGroup
}

type managedAgent struct {
	cluster     string
	instanceARN string
	cancel      context.CancelFunc
	done        chan struct{}
}

var _ controller.Fleet = (*managedFleet)(nil)

// Set implements controller.Fleet.
func (f *managedFleet) Set(ctx context.Context, key string, m controller.ManagedInstance, run bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.agents[key]
	if cur != nil && (!run || cur.instanceARN != m.InstanceARN) {
		cur.cancel()
		<-cur.done
		delete(f.agents, key)
		f.log.Info("managed agent stopped", "cluster", cur.cluster)
		cur = nil
	}
	if !run || cur != nil || ctx.Err() != nil {
		return
	}
	key2, ok := f.keys[m.Scope.Account]
	if !ok {
		f.log.Warn("no access key for the account: its managed capacity cannot run (add one with an account to the credentials file)", "account", m.Scope.Account, "cluster", m.Cluster)
		return
	}
	actx, cancel := context.WithCancel(ctx)
	a := agent.New(agent.Config{
		ServerURL: f.url, Cluster: m.Cluster, Region: m.Scope.Region, AccessKey: key2[0], SecretKey: key2[1],
		Driver: f.driver, DriverError: f.driverErr, InstanceARN: m.InstanceARN, Managed: true, AwslogsDir: f.awslogsDir(m.InstanceARN),
		MetricsInterval: f.metricsInterval,
		Runner:          runner.Config{Owner: f.owner, StateDir: f.stateDir, Ledger: f.ledger},
		Logger:          f.log, // the agent adds the cluster
	})
	ma := &managedAgent{cluster: m.Cluster, instanceARN: m.InstanceARN, cancel: cancel, done: make(chan struct{})}
	f.agents[key] = ma
	f.wg.Go(func() { defer close(ma.done); _ = a.Run(actx) })
	f.log.Info("managed agent started", "cluster", m.Cluster, "account", m.Scope.Account, "region", m.Scope.Region)
}

// awslogsDir is where a managed agent keeps its awslogs positions: one
// directory per instance, so that each agent resumes only its own
// containers' output.
func (f *managedFleet) awslogsDir(instanceARN string) string {
	if f.stateDir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(f.stateDir), "awslogs", instanceARN[strings.LastIndexByte(instanceARN, '/')+1:])
}

// StopAll implements controller.Fleet.
func (f *managedFleet) StopAll() {
	f.mu.Lock()
	for key, a := range f.agents {
		a.cancel()
		delete(f.agents, key)
	}
	f.mu.Unlock()
	f.wg.Wait()
}
