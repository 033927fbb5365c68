// Command berth runs AWS container services (ECS, ECR, ...) on your own
// machine: one binary that speaks the AWS wire protocols and really runs
// containers.
//
// Usage:
//
//	berth server [flags]   start the server (API on 127.0.0.1:4566)
//	berth agent [flags]    join this host to a cluster as a container instance
//	berth exec [flags]     run a command in a task's container (ECS Exec)
//	berth version          print the version
//	berth help [command]   print help (to stdout, status 0)
//
// A command line berth cannot use exits with status 2, any other failure
// with status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/berth-dev/berth/internal/driver/pause"
	"github.com/berth-dev/berth/internal/server"
)

var version = "dev"

const usage = `berth runs AWS container services (ECS, ECR) locally, for real.

Usage:
  berth <command> [flags]

Commands:
  server    Start the berth server: the AWS API on 127.0.0.1:4566 and its state
            in a data directory that survives restarts.
  agent     Join this host to a cluster as an EC2 container instance: berth
            agent --cluster prod-cluster --server http://127.0.0.1:4566
  exec      Run a command in a container of a running task (ECS Exec) and exit
            with its status: berth exec --cluster prod-cluster --task ID
            --container web --interactive --command /bin/sh
  version   Print berth's version.
  help      Show help for a command: berth help server

Point the aws CLI at it:
  export AWS_ENDPOINT_URL=http://localhost:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=eu-west-1
  aws ecs create-cluster --cluster-name prod-cluster

Help for a command: berth help server, berth agent --help.
`

func main() {
	// The awsvpc sandbox image may run this binary as its pause process.
	if pause.IsPause(os.Args) {
		os.Exit(pause.Main())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit statuses: 0 for success and for help asked for, 2 for a command
// line berth cannot use, 1 for everything else.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errHelpShown reports that help was asked for and printed.
var errHelpShown = errors.New("help shown")

// usageError is a command line berth cannot use; its message, printed as
// it is, says what is wrong and where to find the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// runMain runs berth with args and returns the exit status. Errors are
// printed once, to stderr; help asked for goes to stdout.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	err := run(ctx, args, stdout, stderr, getenv)
	var ue *usageError
	var xe *exitStatusError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &xe):
		return xe.code
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintln(stderr, ue.msg)
		}
		return exitUsage
	default:
		fmt.Fprintln(stderr, "berth:", err)
		return exitError
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &usageError{}
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stdout, stderr, getenv)
	case "agent":
		return runAgent(ctx, args[1:], stdout, stderr, getenv)
	case "exec":
		return runExec(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-version", "-v":
		fmt.Fprintln(stdout, "berth", version)
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			switch args[1] {
			case "server", "agent", "exec":
				return run(ctx, []string{args[1], "--help"}, stdout, stderr, getenv)
			case "version", "help":
				fmt.Fprint(stdout, usage)
				return nil
			}
			return &usageError{fmt.Sprintf("berth: no help for unknown command %q\nRun 'berth --help' for the commands.", args[1])}
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return &usageError{fmt.Sprintf("berth: unknown command %q\nRun 'berth --help' for usage.", args[0])}
}

// parseFlags parses args into fs. Help asked for (-h, --help) prints fs's
// usage to stdout and returns errHelpShown; a bad flag is a usageError that
// names it once and points at the help. fs.Usage must write to fs.Output().
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package would print the error and the usage itself
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelpShown
	case err != nil:
		return &usageError{fmt.Sprintf("%s: %v\nRun '%s --help' for usage.", fs.Name(), err, fs.Name())}
	case fs.NArg() > 0:
		return &usageError{fmt.Sprintf("%s takes no arguments, got %q\nRun '%s --help' for usage.", fs.Name(), strings.Join(fs.Args(), " "), fs.Name())}
	}
	return nil
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := server.Defaults()
	fs := flag.NewFlagSet("berth server", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Start the berth server.

Usage:
  berth server [flags]

Settings come from (lowest to highest precedence) the defaults, a JSON config
file (--config or BERTH_CONFIG, keys as in "listen", "data_dir"), BERTH_*
environment variables, and these flags:

`)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", getenv("BERTH_CONFIG"), "JSON config `file` (env BERTH_CONFIG)")
	// Each setting flag overlays the config only when given, so that the
	// file and the environment keep their say otherwise.
	var overlays []func()
	str := func(name string, dst *string, help string) {
		v := fs.String(name, "", help)
		overlays = append(overlays, func() {
			if set(fs, name) {
				*dst = *v
			}
		})
	}
	str("listen", &cfg.Listen, "API listen `address` (env BERTH_LISTEN; default "+cfg.Listen+")")
	str("data-dir", &cfg.DataDir, "`directory` for state and image blobs (env BERTH_DATA_DIR; default "+cfg.DataDir+")")
	str("region", &cfg.Region, "region for unsigned requests (env BERTH_REGION; default "+cfg.Region+"); signed requests use their signature's region")
	str("account", &cfg.Account, "AWS account ID berth serves (env BERTH_ACCOUNT; default "+cfg.Account+")")
	str("credentials-file", &cfg.CredentialsFile, "AWS shared-credentials style `file` of extra access keys (env BERTH_CREDENTIALS_FILE)")
	str("registry-host", &cfg.RegistryHost, "`host[:port]` docker uses for berth's ECR registry, in repositoryUri (env BERTH_REGISTRY_HOST; default: the listen address)")
	str("lifecycle-interval", &cfg.LifecycleInterval, "how often ECR lifecycle policies run, a Go `duration` (env BERTH_LIFECYCLE_INTERVAL; default 30s)")
	str("registry-gc-grace-period", &cfg.RegistryGCGracePeriod, "image blobs younger than this `duration` are never garbage-collected (env BERTH_REGISTRY_GC_GRACE_PERIOD; default 1h)")
	str("driver", &cfg.Driver, "container `driver` of the managed (Fargate) capacity: docker or fake (env BERTH_DRIVER; default docker)")
	str("agent-disconnect-timeout", &cfg.AgentDisconnectTimeout, "stop a container instance's tasks when its agent stays disconnected this long, a Go `duration` (env BERTH_AGENT_DISCONNECT_TIMEOUT; default 3m)")
	str("task-retention", &cfg.TaskRetention, "how long STOPPED tasks stay visible, a Go `duration` (env BERTH_TASK_RETENTION; default 1h)")
	str("eks-control-plane", &cfg.EKSControlPlane, "what serves EKS clusters' Kubernetes API: kubernetes (kube-apiserver, kube-controller-manager and kube-scheduler per cluster, as child processes) or none (clusters go to FAILED) (env BERTH_EKS_CONTROL_PLANE; default kubernetes)")
	str("deployment-time-scale", &cfg.DeploymentTimeScale, "divide the bake times of BLUE_GREEN, LINEAR and CANARY service deployments by this `factor` for local testing, e.g. 60 makes a one-minute bake one second (env BERTH_DEPLOYMENT_TIME_SCALE; default 1: AWS's time)")
	str("metric-time-scale", &cfg.MetricTimeScale, "divide CloudWatch metric periods and alarm evaluation by this `factor` for local testing, e.g. 60 makes a one-minute period one second (env BERTH_METRIC_TIME_SCALE; default 1: AWS's time)")
	str("store", &cfg.Store, "state `store`: bolt (embedded file), embedded-etcd (single-node etcd in the data dir) etcd://host:port[,host:port...][/namespace], or etcds://... for etcd over TLS (env BERTH_STORE; default bolt)")
	str("etcd-ca", &cfg.EtcdCA, "PEM `file` of the CA that signs an etcds:// store's member certificates (env BERTH_ETCD_CA; default: the system's roots)")
	str("etcd-cert", &cfg.EtcdCert, "PEM `file` of the client certificate for an etcds:// store (env BERTH_ETCD_CERT; with --etcd-key)")
	str("etcd-key", &cfg.EtcdKey, "PEM `file` of the client certificate's key for an etcds:// store (env BERTH_ETCD_KEY)")
	str("advertise-addr", &cfg.AdvertiseAddr, "`host:port` at which the other servers sharing an etcd store reach this one, to fetch image blobs (env BERTH_ADVERTISE_ADDR; default: the listen address, an unspecified host replaced by the hostname)")
	str("log-level", &cfg.LogLevel, "debug, info, warn or error (env BERTH_LOG_LEVEL; default info)")
	str("log-format", &cfg.LogFormat, "text or json (env BERTH_LOG_FORMAT; default text)")
	strict := fs.Bool("strict-auth", false, "refuse unknown access keys and unsigned requests (env BERTH_STRICT_AUTH)")
	enforce := fs.Bool("enforce-iam", false, "allow calls signed with IAM user or assumed-role credentials only what their identity policies allow (env BERTH_ENFORCE_IAM)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *configPath != "" {
		if err := cfg.LoadFile(*configPath); err != nil {
			return err
		}
	}
	if err := cfg.LoadEnv(getenv); err != nil {
		return err
	}
	for _, o := range overlays {
		o()
	}
	if set(fs, "strict-auth") {
		cfg.StrictAuth = *strict
	}
	if set(fs, "enforce-iam") {
		cfg.EnforceIAM = *enforce
	}
	log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	// EKS clusters' Kubernetes components run as child processes of the
	// separate berth-kube binary, so that berth itself does not link
	// Kubernetes (its size, start and memory stay berth's own).
	if cfg.EKSControlPlane != "none" {
		if bin, err := findKubeBinary(getenv); err == nil {
			cfg.KubeCommand = []string{bin}
			log.Info("EKS clusters get their Kubernetes control plane from berth-kube", "path", bin)
		} else {
			exe, _ := os.Executable()
			log.Info("EKS clusters get no Kubernetes control plane (they go to FAILED): "+err.Error(), "hint", kubeBinaryHint(exe))
		}
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// set reports whether the flag was given on the command line.
func set(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
