package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// Defaults of [Options].
const (
	DefaultAWSVPCNetwork = "berth-awsvpc"
	DefaultAWSVPCSubnet  = "172.31.0.0/16"
	DefaultSandboxImage  = "berth/sandbox:latest"
	DefaultBusybox       = "/usr/bin/busybox"
)

// Driver labels.
const (
	labelManaged     = driver.LabelDriverPrefix + "managed"      // "true" on everything the driver creates
	labelRole        = driver.LabelDriverPrefix + "role"         // "sandbox" on task network sandboxes
	labelNetworkMode = driver.LabelDriverPrefix + "network-mode" // the ECS network mode
	labelPorts       = driver.LabelDriverPrefix + "ports"        // declared port mappings, "80/tcp,53/udp"
	labelImageHash   = driver.LabelDriverPrefix + "image-hash"   // content hash of images the driver builds
	// labelTaskResources is the TaskResources.ID of a container's task, so
	// that PruneTaskResources spares the task cgroups containers still use.
	labelTaskResources = driver.LabelDriverPrefix + "task-resources"

	roleSandbox = "sandbox"
)

// Options configure a [Driver]. The zero value is usable.
type Options struct {
	// Logger receives the driver's logs; nil means slog.Default().
	Logger *slog.Logger
	// Host is the daemon address, e.g. "unix:///var/run/docker.sock".
	// Empty means DOCKER_HOST, or the platform default.
	Host string
	// AWSVPCNetwork names the bridge network that awsvpc task sandboxes
	// attach to; it is created with AWSVPCSubnet if missing.
	AWSVPCNetwork string
	AWSVPCSubnet  string
	// SandboxImage is the image of awsvpc sandboxes. If it is missing, the
	// driver builds it from Busybox or, failing that, from the running
	// executable (which must be static and implement "pause").
	SandboxImage string
	// Busybox is the path of a static busybox binary on the host.
	Busybox string
	// PauseBinary is the static executable copied into the sandbox image
	// when there is no busybox; it is run as "PauseBinary pause". Empty
	// means the running executable.
	PauseBinary string
	// CgroupRoot is the cgroup (relative to each hierarchy's root) under
	// which task cgroups are created, one per task: /CgroupRoot/<task id>.
	// Empty means DefaultCgroupRoot.
	CgroupRoot string
	// Owner is the identity of the berth data directory this driver works
	// for (see [driver.LabelOwner]). It scopes task cgroups to
	// /CgroupRoot/<Owner>/<task id>, so that pruning them never touches
	// those of another berth server or agent on the same host. Empty keeps
	// /CgroupRoot/<task id>.
	Owner string
	// NoTaskCgroups disables task cgroups: task-level limits are then
	// applied to each container of the task (see the package
	// documentation).
	NoTaskCgroups bool
	// DockerSandboxNetwork makes every awsvpc sandbox join the Docker
	// network, even where berth could plumb it itself.
	DockerSandboxNetwork bool
	// IPAMDir is where the addresses of the sandboxes berth plumbs are
	// reserved; empty means DefaultIPAMDir.
	IPAMDir string
}

// Driver is the Docker implementation of [driver.Driver].
type Driver struct {
	cli  *client.Client
	log  *slog.Logger
	opts Options

	// subnet is AWSVPCSubnet, parsed.
	subnet netip.Prefix

	netMu    sync.Mutex
	netReady bool     // the awsvpc network exists
	veth     *vethNet // how berth plumbs sandboxes; nil: Docker does

	imgMu    sync.Mutex
	imgReady bool // the sandbox image exists

	cgMu sync.Mutex
	cg   *taskCgroups // nil until detected

	ooms oomAnswers // final answers of lateOOM
}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.LogReader = (*Driver)(nil)
	_ driver.Pinger    = (*Driver)(nil)
)

// Open is the docker driver's [driver.Factory], for a [driver.Registry]
// (the composition root registers it as "docker"). Params: host,
// awsvpc-network, awsvpc-subnet, sandbox-image, busybox, cgroup-root,
// owner, task-cgroups ("false" turns task cgroups off) and awsvpc-plumbing
// ("docker": sandboxes always join the Docker network).
func Open(cfg driver.Config) (driver.Driver, error) {
	return New(Options{
		Logger:        cfg.Logger,
		Host:          cfg.Params["host"],
		AWSVPCNetwork: cfg.Params["awsvpc-network"],
		AWSVPCSubnet:  cfg.Params["awsvpc-subnet"],
		SandboxImage:  cfg.Params["sandbox-image"],
		Busybox:       cfg.Params["busybox"],
		CgroupRoot:    cfg.Params["cgroup-root"],
		Owner:         cfg.Params["owner"],
		NoTaskCgroups: cfg.Params["task-cgroups"] == "false",

		DockerSandboxNetwork: cfg.Params["awsvpc-plumbing"] == "docker",
	})
}

// New returns a driver talking to the Docker daemon. It does not contact
// the daemon; use [Driver.Ping] to check that it is reachable.
func New(opts Options) (*Driver, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.AWSVPCNetwork == "" {
		opts.AWSVPCNetwork = DefaultAWSVPCNetwork
	}
	if opts.AWSVPCSubnet == "" {
		opts.AWSVPCSubnet = DefaultAWSVPCSubnet
	}
	if opts.SandboxImage == "" {
		opts.SandboxImage = DefaultSandboxImage
	}
	if opts.Busybox == "" {
		opts.Busybox = DefaultBusybox
	}
	if opts.IPAMDir == "" {
		opts.IPAMDir = DefaultIPAMDir
	}
	if opts.CgroupRoot == "" {
		opts.CgroupRoot = DefaultCgroupRoot
	}
	opts.CgroupRoot = strings.TrimPrefix(path.Clean("/"+opts.CgroupRoot), "/")
	if opts.Owner != "" {
		if err := driver.ValidateOwner(opts.Owner); err != nil {
			return nil, fmt.Errorf("docker driver: %w", err)
		}
		opts.CgroupRoot = path.Join(opts.CgroupRoot, opts.Owner)
	}
	for el := range strings.SplitSeq(opts.CgroupRoot, "/") {
		if driver.ValidateTaskResourcesID(el) != nil {
			return nil, fmt.Errorf("docker driver: invalid cgroup root %q", opts.CgroupRoot)
		}
	}
	subnet, err := netip.ParsePrefix(opts.AWSVPCSubnet)
	if err != nil {
		return nil, fmt.Errorf("docker driver: awsvpc subnet: %w", err)
	}
	clientOpts := []client.Opt{client.FromEnv}
	if opts.Host != "" {
		clientOpts = append(clientOpts, client.WithHost(opts.Host))
	}
	cli, err := client.New(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("docker driver: %w", err)
	}
	return &Driver{
		cli:    cli,
		log:    opts.Logger.With("driver", "docker"),
		opts:   opts,
		subnet: subnet.Masked(),
	}, nil
}

// Client returns the underlying Docker client, for tests and tools.
func (d *Driver) Client() *client.Client { return d.cli }

// Ping checks that the daemon is reachable and negotiates the API version.
func (d *Driver) Ping(ctx context.Context) error {
	if _, err := d.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("docker: ping: %w", err)
	}
	return nil
}

// APIVersion returns the negotiated API version ("" before any request).
func (d *Driver) APIVersion() string { return d.cli.ClientVersion() }

// ServerVersion returns the daemon's version ("25.0.3").
func (d *Driver) ServerVersion(ctx context.Context) (string, error) {
	v, err := d.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", fmt.Errorf("docker: version: %w", err)
	}
	return v.Version, nil
}

// Close releases the client's connections.
func (d *Driver) Close() error { return d.cli.Close() }

// opError is an error from the daemon, classified with the driver's
// sentinel errors.
type opError struct {
	op   string
	kind error // driver.ErrNotFound, driver.ErrConflict or nil
	err  error
}

func (e *opError) Error() string { return "docker: " + e.op + ": " + e.err.Error() }

func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// wrap classifies a daemon error; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	switch {
	case cerrdefs.IsNotFound(err):
		kind = driver.ErrNotFound
	case cerrdefs.IsConflict(err), cerrdefs.IsAlreadyExists(err):
		kind = driver.ErrConflict
	}
	return &opError{op: op, kind: kind, err: err}
}

func isNotFound(err error) bool {
	return errors.Is(err, driver.ErrNotFound) || cerrdefs.IsNotFound(err)
}
