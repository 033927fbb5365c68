package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// runAgent runs `berth agent`: this host becomes a container instance of a
// cluster, running its tasks with Docker.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("berth agent", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Join this host to an ECS cluster served by berth, as an EC2 container
instance: the agent registers, keeps an ACS session with the server and runs
the tasks placed on this instance with Docker.

Usage:
  berth agent --cluster NAME [--server URL] [flags]

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (test/test
when unset).

`)
		fs.PrintDefaults()
	}
	home, _ := os.UserHomeDir()
	cluster := fs.String("cluster", envOr(getenv, "ECS_CLUSTER", "default"), "cluster `name` to join (env ECS_CLUSTER)")
	serverURL := fs.String("server", envOr(getenv, "BERTH_SERVER", envOr(getenv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566")), "berth's API `URL` (env BERTH_SERVER or AWS_ENDPOINT_URL)")
	region := fs.String("region", envOr(getenv, "AWS_REGION", envOr(getenv, "AWS_DEFAULT_REGION", "us-east-1")), "`region` of the cluster (env AWS_REGION)")
	dataDir := fs.String("data-dir", envOr(getenv, "BERTH_AGENT_DATA_DIR", filepath.Join(home, ".local", "share", "berth-agent")), "`directory` where the agent keeps its instance identity, so that a restart is the same instance")
	cpu := fs.Int("cpu", 0, "CPU `units` to register (default: 1024 per host CPU)")
	memory := fs.Int("memory", 0, "memory `MiB` to register (default: the host's, less 256)")
	attrs := fs.String("attributes", "", "custom instance attributes, `name=value,...`")
	dockerHost := fs.String("docker-host", getenv("DOCKER_HOST"), "Docker daemon `address` (env DOCKER_HOST)")
	heartbeat := fs.Duration("heartbeat", 0, "ACS heartbeat `interval` (default 10s)")
	logLevel := fs.String("log-level", envOr(getenv, "BERTH_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return err
	}
	var attributes []ecs.Attribute
	for _, kv := range strings.Split(*attrs, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		attributes = append(attributes, ecs.Attribute{Name: name, Value: value})
	}
	// The data directory's identity labels what this agent creates: it
	// adopts and removes only its own, whoever else shares the daemon.
	owner, err := driver.LoadOwner(*dataDir)
	if err != nil {
		return err
	}
	drv, err := docker.New(docker.Options{Logger: log.With("subsystem", "driver"), Host: *dockerHost, Owner: owner})
	if err != nil {
		return err
	}
	defer drv.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	perr := drv.Ping(pctx)
	cancel()
	if perr != nil {
		log.Warn("Docker is unreachable; tasks will be refused until it is", "error", perr)
	}
	a := agent.New(agent.Config{
		ServerURL: *serverURL, Cluster: *cluster, Region: *region,
		AccessKey: getenv("AWS_ACCESS_KEY_ID"), SecretKey: getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: getenv("AWS_SESSION_TOKEN"),
		Driver: drv, DataDir: *dataDir, CPU: *cpu, MemoryMiB: *memory, Attributes: attributes, Heartbeat: *heartbeat,
		Runner: runner.Config{Owner: owner, StateDir: filepath.Join(*dataDir, "runner")}, Logger: log,
	})
	log.Info("berth agent starting", "cluster", *cluster, "server", *serverURL, "data_dir", *dataDir, "owner", owner)
	return a.Run(ctx)
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
