package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/berth-dev/berth/internal/server"
)

// runAgent runs `berth agent`: this host becomes a container instance of a
// cluster, running its tasks with Docker. The wiring is server.NewAgent's.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := server.AgentDefaults(getenv)
	fs := flag.NewFlagSet("berth agent", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Join this host to an ECS cluster served by berth, as an EC2 container
instance: the agent registers, keeps an ACS session with the server and runs
the tasks placed on this instance with Docker.

Usage:
  berth agent --cluster NAME [--server URL] [--region REGION] [flags]

The cluster must exist in the agent's region: --region, else AWS_REGION,
else AWS_DEFAULT_REGION, else `+server.DefaultAgentRegion+` (the agent logs which).
If the cluster is not there, the agent says so once and keeps retrying
quietly, so that it joins as soon as the cluster is created.

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (test/test
when unset).

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Cluster, "cluster", cfg.Cluster, "cluster `name` to join (env ECS_CLUSTER)")
	fs.StringVar(&cfg.ServerURL, "server", cfg.ServerURL, "berth's API `URL` (env BERTH_SERVER or AWS_ENDPOINT_URL)")
	region := fs.String("region", "", "`region` of the cluster (env AWS_REGION or AWS_DEFAULT_REGION; default "+server.DefaultAgentRegion+")")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "`directory` where the agent keeps its instance identity, so that a restart is the same instance (env BERTH_AGENT_DATA_DIR)")
	fs.IntVar(&cfg.CPU, "cpu", 0, "CPU `units` to register (default: 1024 per host CPU)")
	fs.IntVar(&cfg.MemoryMiB, "memory", 0, "memory `MiB` to register (default: the host's, less 256)")
	fs.StringVar(&cfg.Attributes, "attributes", "", "custom instance attributes, `name=value,...`")
	fs.StringVar(&cfg.Driver, "driver", "", "container `driver`: docker or fake (an in-memory stand-in for tests; default docker)")
	fs.StringVar(&cfg.DockerHost, "docker-host", cfg.DockerHost, "Docker daemon `address` (env DOCKER_HOST)")
	fs.StringVar(&cfg.Heartbeat, "heartbeat", "", "ACS heartbeat `interval`, a Go duration (default 10s)")
	logLevel := fs.String("log-level", envOr(getenv, "BERTH_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if set(fs, "region") {
		cfg.Region, cfg.RegionSource = *region, "--region"
	}
	log, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return err
	}
	a, err := server.NewAgent(cfg, log)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
