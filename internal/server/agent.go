package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// DefaultAgentRegion is the region `berth agent` joins when neither
// --region nor AWS_REGION / AWS_DEFAULT_REGION says one.
const DefaultAgentRegion = "us-east-1"

// AgentConfig is everything `berth agent` can be told, as strings and
// numbers from flags and the environment; NewAgent parses it.
type AgentConfig struct {
	// Cluster is the cluster (name or ARN) to join.
	Cluster string
	// ServerURL is berth's API endpoint.
	ServerURL string
	// Region is the cluster's region; RegionSource says where it came
	// from (for the log: "--region", "AWS_REGION", "AWS_DEFAULT_REGION"
	// or "default").
	Region, RegionSource string
	// DataDir keeps the instance identity across restarts.
	DataDir string
	// CPU (units) and MemoryMiB override what the agent registers (0: the
	// host's).
	CPU, MemoryMiB int
	// Attributes are custom instance attributes, "name=value,...".
	Attributes string
	// Driver names the container driver (DefaultDriver when empty);
	// DockerHost is the docker driver's daemon address.
	Driver, DockerHost string
	// Heartbeat is the ACS heartbeat interval, a Go duration ("" for the
	// default).
	Heartbeat string
	// AccessKey, SecretKey and SessionToken sign the agent's requests
	// (test/test when empty).
	AccessKey, SecretKey, SessionToken string
}

// AgentDefaults returns the agent's defaults, from the environment where
// it says: ECS_CLUSTER, BERTH_SERVER or AWS_ENDPOINT_URL, AWS_REGION or
// AWS_DEFAULT_REGION, BERTH_AGENT_DATA_DIR, DOCKER_HOST and the AWS_*
// credentials.
func AgentDefaults(getenv func(string) string) AgentConfig {
	home, _ := os.UserHomeDir()
	cfg := AgentConfig{
		Cluster:      envOr(getenv, "ECS_CLUSTER", "default"),
		ServerURL:    envOr(getenv, "BERTH_SERVER", envOr(getenv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566")),
		Region:       DefaultAgentRegion,
		RegionSource: "default",
		DataDir:      envOr(getenv, "BERTH_AGENT_DATA_DIR", filepath.Join(home, ".local", "share", "berth-agent")),
		DockerHost:   getenv("DOCKER_HOST"),
		AccessKey:    getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"),
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := getenv(name); v != "" {
			cfg.Region, cfg.RegionSource = v, name
			break
		}
	}
	return cfg
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// Agent is a running `berth agent`: the composition of a container
// driver and the node agent. NewAgent builds it (opening nothing that
// runs); Run runs it.
type Agent struct {
	cfg    AgentConfig
	log    *slog.Logger
	driver driver.Driver
	agent  *agent.Agent
	owner  string
}

// NewAgent parses cfg completely (attributes, durations, the driver's
// name) and builds the agent; errors surface before anything runs.
func NewAgent(cfg AgentConfig, log *slog.Logger) (*Agent, error) {
	if cfg.Cluster == "" {
		return nil, fmt.Errorf("cluster must not be empty")
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("region must not be empty")
	}
	if cfg.ServerURL == "" {
		return nil, fmt.Errorf("server URL must not be empty")
	}
	attributes, err := parseAttributes(cfg.Attributes)
	if err != nil {
		return nil, err
	}
	heartbeat, err := optDuration("heartbeat", cfg.Heartbeat)
	if err != nil {
		return nil, err
	}
	if cfg.CPU < 0 || cfg.MemoryMiB < 0 {
		return nil, fmt.Errorf("cpu and memory must not be negative")
	}
	drivers := Drivers()
	name := cfg.Driver
	if name == "" {
		name = DefaultDriver
	}
	if err := drivers.Check(name); err != nil {
		return nil, err
	}
	// The data directory's identity labels what this agent creates: it
	// adopts and removes only its own, whoever else shares the daemon.
	owner, err := driver.LoadOwner(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	params := map[string]string{"owner": owner}
	if cfg.DockerHost != "" {
		params["host"] = cfg.DockerHost
	}
	drv, err := drivers.Open(name, driver.Config{Logger: log.With("subsystem", "driver"), Params: params})
	if err != nil {
		return nil, err
	}
	stateDir := ""
	if name == "docker" && cfg.DataDir != "" {
		// What the runner created, so that a container removed while the
		// agent was down is reported, not created again.
		stateDir = filepath.Join(cfg.DataDir, "runner")
	}
	a := agent.New(agent.Config{
		ServerURL: cfg.ServerURL, Cluster: cfg.Cluster, Region: cfg.Region,
		AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, SessionToken: cfg.SessionToken,
		Driver: drv, DataDir: cfg.DataDir, CPU: cfg.CPU, MemoryMiB: cfg.MemoryMiB, Attributes: attributes, Heartbeat: heartbeat,
		Runner: runner.Config{Owner: owner, StateDir: stateDir}, Logger: log,
	})
	return &Agent{cfg: cfg, log: log, driver: drv, agent: a, owner: owner}, nil
}

// parseAttributes parses "name=value,..." (a name alone has no value).
func parseAttributes(s string) ([]ecs.Attribute, error) {
	var out []ecs.Attribute
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		if name = strings.TrimSpace(name); name == "" {
			return nil, fmt.Errorf("attributes: %q has no name", kv)
		}
		out = append(out, ecs.Attribute{Name: name, Value: strings.TrimSpace(value)})
	}
	return out, nil
}

// Run runs the agent until ctx ends, then closes the driver.
func (a *Agent) Run(ctx context.Context) error {
	defer a.driver.Close()
	if p, ok := a.driver.(driver.Pinger); ok {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.Ping(pctx)
		cancel()
		if err != nil {
			a.log.Warn("the container runtime is unreachable; tasks will be refused until it is", "error", err)
		}
	}
	a.log.Info("berth agent starting", "cluster", a.cfg.Cluster, "region", a.cfg.Region, "region_from", a.cfg.RegionSource,
		"server", a.cfg.ServerURL, "data_dir", a.cfg.DataDir, "owner", a.owner)
	return a.agent.Run(ctx)
}
