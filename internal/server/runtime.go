package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/fake"
	"github.com/berth-dev/berth/internal/ecsapi"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/store"
)

// Defaults of the runtime settings.
const (
	DefaultDriver = "docker"
)

// runtimeSettings are the runtime's parsed settings.
type runtimeSettings struct {
	driver            string
	disconnectTimeout time.Duration
	taskRetention     time.Duration
}

func parseRuntimeSettings(cfg Config) (runtimeSettings, error) {
	rs := runtimeSettings{driver: cfg.Driver}
	if rs.driver == "" {
		rs.driver = DefaultDriver
	}
	switch rs.driver {
	case "docker", "fake":
	default:
		return rs, fmt.Errorf("driver %q: want docker or fake", cfg.Driver)
	}
	var err error
	if rs.disconnectTimeout, err = optDuration("agent_disconnect_timeout", cfg.AgentDisconnectTimeout); err != nil {
		return rs, err
	}
	if rs.taskRetention, err = optDuration("task_retention", cfg.TaskRetention); err != nil {
		return rs, err
	}
	return rs, nil
}

// startRuntime wires what makes tasks really run: the ACS websocket that
// agents connect to, the controllers (task push, agent disconnect timeout,
// stopped-task retention, managed capacity) and the managed agents that
// run Fargate tasks in this process. addr is the API listener's address,
// which the managed agents call over loopback like any agent. stop ends
// it all and waits (containers keep running; agents adopt them when the
// server starts again).
func startRuntime(ctx context.Context, cfg Config, auth *serverAuth, st store.Store, repo *ecsstore.Repo, mux *http.ServeMux, addr string, log *slog.Logger) (stop func(), err error) {
	rs, err := parseRuntimeSettings(cfg)
	if err != nil {
		return nil, err
	}
	drv, drvErr := openDriver(rs.driver, log)
	if drvErr != nil {
		log.Warn("container driver unavailable: tasks on managed capacity will stop at once", "driver", rs.driver, "error", drvErr)
	}

	ctx, cancel := context.WithCancel(ctx)
	api, _ := ecsapi.New(ecsapi.Config{Repo: repo, Logger: log, DefaultAccount: cfg.Account})
	fleet := &managedFleet{
		ctx: ctx, url: "http://" + addr, keys: auth.managed, defaultAccount: cfg.Account,
		driver: drv, log: log.With("subsystem", "managed-agent"), agents: map[string]context.CancelFunc{},
	}
	if drvErr != nil {
		fleet.driverErr = drvErr.Error()
	}
	acsSrv := &acs.Server{
		Authenticate: func(r *http.Request) (string, error) {
			id, err := auth.verifier.Authenticate(r, nil)
			if err != nil {
				return "", err
			}
			if id.Account == "" {
				id.Account = cfg.Account
			}
			return id.Account, nil
		},
		Logger: log.With("subsystem", "acs"),
	}
	ctl := controller.New(controller.Config{
		Repo: repo, Hub: &acsSrv.Hub, Resources: api.TaskResources,
		DisconnectTimeout: rs.disconnectTimeout, TaskRetention: rs.taskRetention,
		Managed: fleet.set, Logger: log.With("subsystem", "controller"),
	})
	acsSrv.Connect, acsSrv.Ready, acsSrv.Disconnect = ctl.Connect, ctl.Ready, ctl.Disconnect
	if err := ctl.Load(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("controllers: %w", err)
	}
	mux.Handle("GET "+acs.Path, acsSrv)
	mux.Handle("GET /"+ecsapi.TelemetryPath+"ws", acs.DrainHandler())
	mux.Handle("GET /"+ecsapi.ServiceConnectPath+"ws", acs.DrainHandler())

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ctl.Run(ctx) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			acsSrv.Hub.CloseAll()
			wg.Wait()
			fleet.wait()
			if drv != nil {
				_ = drv.Close()
			}
		})
	}, nil
}

// openDriver opens the container driver of the managed capacity. A
// Docker daemon that cannot be reached is reported but not fatal.
func openDriver(name string, log *slog.Logger) (driver.Driver, error) {
	if name == "fake" {
		return fake.New(fake.Options{Logger: log.With("subsystem", "driver")}), nil
	}
	d, err := docker.New(docker.Options{Logger: log.With("subsystem", "driver")})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Ping(pctx); err != nil {
		return d, fmt.Errorf("Docker is unreachable: %w", err)
	}
	return d, nil
}

// managedFleet runs one in-process agent per cluster with managed
// capacity, as the controller asks.
type managedFleet struct {
	ctx            context.Context
	url            string
	keys           map[string][2]string
	defaultAccount string
	driver         driver.Driver
	driverErr      string
	log            *slog.Logger

	mu     sync.Mutex
	agents map[string]context.CancelFunc // by instance ARN
	wg     sync.WaitGroup
}

func (f *managedFleet) set(m controller.ManagedInstance, run bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cancel, running := f.agents[m.InstanceARN]
	switch {
	case run && !running:
		if f.ctx.Err() != nil {
			return
		}
		key, ok := f.keys[m.Scope.Account]
		if !ok {
			f.log.Warn("no access key for the account: its managed capacity cannot run (add one with an account to the credentials file)", "account", m.Scope.Account, "cluster", m.Cluster)
			return
		}
		actx, cancel := context.WithCancel(f.ctx)
		f.agents[m.InstanceARN] = cancel
		a := agent.New(agent.Config{
			ServerURL: f.url, Cluster: m.Cluster, Region: m.Scope.Region, AccessKey: key[0], SecretKey: key[1],
			Driver: f.driver, DriverError: f.driverErr, InstanceARN: m.InstanceARN, Managed: true,
			Logger: f.log.With("cluster", m.Cluster),
		})
		f.wg.Add(1)
		go func() { defer f.wg.Done(); _ = a.Run(actx) }()
		f.log.Info("managed agent started", "cluster", m.Cluster, "account", m.Scope.Account, "region", m.Scope.Region)
	case !run && running:
		cancel()
		delete(f.agents, m.InstanceARN)
		f.log.Info("managed agent stopped", "cluster", m.Cluster)
	}
}

func (f *managedFleet) wait() { f.wg.Wait() }
