package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Labels the agent puts on every container it creates, so that it can
// re-adopt them after a restart.
const (
	LabelTaskARN       = "berth.task-arn"
	LabelContainerName = "berth.container-name"
	LabelCluster       = "berth.cluster"
	LabelInstance      = "berth.instance"
)

// LabelDriverPrefix prefixes labels that drivers add for their own
// bookkeeping. Callers must not set labels with this prefix.
const LabelDriverPrefix = "berth.driver."

// Driver runs ECS task containers. Implementations must be safe for
// concurrent use.
type Driver interface {
	ImageManager
	NetworkManager
	ContainerManager
	VolumeManager
	TaskResourceManager
	EventSource
	StatsReader

	// Close releases the driver's resources. It does not stop containers.
	Close() error
}

// ImageManager makes container images available locally.
type ImageManager interface {
	// PullImage pulls ref, authenticating with auth unless it is zero.
	// A failure is a *PullError carrying the daemon's message.
	PullImage(ctx context.Context, ref string, auth RegistryAuth) error
	// ImagePresent reports whether ref is available locally.
	ImagePresent(ctx context.Context, ref string) (bool, error)
}

// NetworkManager creates per-task network sandboxes for the awsvpc network
// mode: each task gets its own network namespace and private IPv4 address,
// and its containers join it with [NetworkAttachment.TaskNetworkID].
type NetworkManager interface {
	// CreateTaskNetwork creates and starts the task's network sandbox. It is
	// idempotent: if a sandbox named spec.Name with matching labels exists,
	// it is (re)started and returned.
	CreateTaskNetwork(ctx context.Context, spec TaskNetworkSpec) (TaskNetwork, error)
	// InspectTaskNetwork returns the current state of a task network, e.g.
	// after re-adopting it. id is TaskNetwork.ID.
	InspectTaskNetwork(ctx context.Context, id string) (TaskNetwork, error)
	// ListTaskNetworks returns the task networks that carry all the labels
	// in selector, e.g. to find sandboxes leaked by a crash.
	ListTaskNetworks(ctx context.Context, selector map[string]string) ([]TaskNetwork, error)
	// RemoveTaskNetwork destroys the sandbox. Remove the task's containers
	// first. Removing a task network that does not exist is not an error.
	RemoveTaskNetwork(ctx context.Context, id string) error
}

// ContainerManager runs containers.
type ContainerManager interface {
	// CreateContainer creates (but does not start) a container and returns
	// its ID. It is idempotent for retries: if a container named spec.Name
	// already exists and carries all of spec.Labels, its ID is returned;
	// if its labels differ the error wraps ErrConflict.
	CreateContainer(ctx context.Context, spec ContainerSpec) (string, error)
	// StartContainer starts a created container. Starting a running
	// container is not an error.
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM (or the image's stop signal) and, if the
	// container is still running after timeout, SIGKILL. A negative timeout
	// uses the container's own stop timeout. Stopping a container that is
	// not running is not an error.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	// RemoveContainer removes a container, killing it if it still runs.
	// Anonymous volumes are removed with it; named volumes are not.
	// Removing a container that does not exist is not an error.
	RemoveContainer(ctx context.Context, id string) error
	// InspectContainer returns a snapshot of a container's state. The error
	// wraps ErrNotFound if there is no such container.
	InspectContainer(ctx context.Context, id string) (ContainerState, error)
	// ListContainers returns every container, running or not, that carries
	// all the labels in selector (an empty selector matches every container
	// the driver can see). Task network sandboxes are never listed.
	ListContainers(ctx context.Context, selector map[string]string) ([]ContainerState, error)
}

// VolumeManager manages named volumes (ECS "docker" volumes).
type VolumeManager interface {
	// CreateVolume creates a named volume. Creating an existing volume is
	// not an error.
	CreateVolume(ctx context.Context, name string, labels map[string]string) error
	// RemoveVolume removes a named volume. Removing a volume that does not
	// exist is not an error; removing one in use wraps ErrConflict.
	RemoveVolume(ctx context.Context, name string) error
}

// TaskResourceManager enforces task-level resource limits (ECS task cpu
// and memory), which all the containers of a task share. A task's limits
// are set up by CreateContainer for each container whose spec carries
// [ContainerSpec.TaskResources]; this interface releases them.
type TaskResourceManager interface {
	// RemoveTaskResources releases what the driver set up for the limits
	// of task id (TaskResources.ID), e.g. the task's cgroup. Remove the
	// task's containers first. Removing the resources of a task that has
	// none is not an error.
	RemoveTaskResources(ctx context.Context, id string) error
	// PruneTaskResources removes the task-level resources that no
	// container (of any instance) uses any more and that were set up more
	// than minAge ago: leftovers of a crash between removing a task's
	// containers and its resources, or of containers removed behind the
	// agent's back. It returns the IDs it removed.
	PruneTaskResources(ctx context.Context, minAge time.Duration) ([]string, error)
}

// EventSource streams container lifecycle events.
type EventSource interface {
	// WaitEvents subscribes to container events (start, die, oom,
	// health_status, destroy) from now on. The channel is closed when ctx is
	// done or the underlying stream fails (e.g. the daemon restarted); the
	// consumer should then resynchronise with ListContainers and subscribe
	// again. Subscribe before starting containers to see all their events.
	// Events are delivered in order; a slow consumer slows the stream, it
	// does not lose events. Of a task network sandbox only die and destroy
	// are reported, with TaskNetwork set: its task has lost its network.
	WaitEvents(ctx context.Context) (<-chan ContainerEvent, error)
}

// StatsReader samples container resource usage.
type StatsReader interface {
	// Stats returns one sample of a running container's resource usage.
	Stats(ctx context.Context, id string) (Stats, error)
}

// LogReader is an optional capability: reading a container's output.
type LogReader interface {
	// Logs returns the container's stdout and stderr, interleaved, as plain
	// text (no multiplexing headers). With opts.Follow the reader stays open
	// until the container stops or ctx is done.
	Logs(ctx context.Context, id string, opts LogOptions) (io.ReadCloser, error)
}

// Pinger is an optional capability: checking that the driver's backend
// (e.g. the Docker daemon) is reachable, for readiness checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// LogOptions selects container output for [LogReader.Logs].
type LogOptions struct {
	Follow bool      // keep streaming until the container exits
	Since  time.Time // only output after this time; zero means all
	// Timestamps prefixes each line with its RFC 3339 (nanoseconds)
	// timestamp and a space, as `docker logs --timestamps` does.
	Timestamps bool
}

// RegistryAuth is basic auth for a registry, as ECR's GetAuthorizationToken
// hands out. The zero value means anonymous.
type RegistryAuth struct {
	Username      string
	Password      string
	ServerAddress string // e.g. "123456789012.dkr.ecr.us-east-1.amazonaws.com"
}

// IsZero reports whether a is anonymous.
func (a RegistryAuth) IsZero() bool { return a == RegistryAuth{} }

// NetworkMode is an ECS task network mode.
type NetworkMode string

// Network modes.
const (
	NetworkModeAWSVPC NetworkMode = "awsvpc" // join a TaskNetwork sandbox
	NetworkModeBridge NetworkMode = "bridge" // the default bridge, with port mappings
	NetworkModeHost   NetworkMode = "host"   // the host's network namespace
	NetworkModeNone   NetworkMode = "none"   // loopback only
)

// Protocol is a transport protocol of a port mapping.
type Protocol string

// Protocols.
const (
	ProtocolTCP Protocol = "tcp"
	ProtocolUDP Protocol = "udp"
)

// PortMapping asks for a container port to be published on the host.
type PortMapping struct {
	ContainerPort int
	// HostPort is the host port to bind; 0 asks for a dynamic port, which
	// is then reported in the container's NetworkBindings. Ignored in
	// awsvpc mode, where published ports are always dynamic.
	HostPort int
	Protocol Protocol // "" means tcp
}

// NetworkBinding is a published port, in ECS's networkBindings shape.
type NetworkBinding struct {
	BindIP        string
	ContainerPort int
	HostPort      int
	Protocol      Protocol
}

// TaskNetworkSpec describes the network sandbox of one awsvpc task.
type TaskNetworkSpec struct {
	// Name names the sandbox; it must be unique on the host, e.g.
	// "berth-task-<task id>".
	Name   string
	Labels map[string]string
	// PortMappings are the ports of all the task's containers, reached at
	// the task's private IP. A driver whose host cannot route to that
	// address (Docker Desktop) also publishes them on 127.0.0.1 with
	// dynamic host ports, reported as the TaskNetwork's Bindings.
	PortMappings []PortMapping
	Hostname     string   // optional
	DNSServers   []string // optional
	ExtraHosts   []Host   // optional /etc/hosts entries
}

// Host is an /etc/hosts entry (ECS extraHosts).
type Host struct {
	Hostname  string
	IPAddress string
}

// TaskNetwork is a created awsvpc network sandbox.
type TaskNetwork struct {
	ID          string // pass as NetworkAttachment.TaskNetworkID
	Name        string
	Labels      map[string]string
	Running     bool   // false if the sandbox died (e.g. the daemon restarted)
	IPv4Address string // the task's private IP, reachable from the host
	IPv4Subnet  string // CIDR of the network the task is attached to
	Gateway     string
	MACAddress  string
	// Bindings are the task's ports published on 127.0.0.1, if the driver
	// publishes them (see TaskNetworkSpec.PortMappings); usually none.
	Bindings []NetworkBinding
}

// NetworkAttachment says how a container is networked.
type NetworkAttachment struct {
	Mode NetworkMode // "" means bridge
	// TaskNetworkID is the TaskNetwork.ID, or TaskNetworkSpec.Name, to join;
	// awsvpc mode only. The container may be created before the task
	// network exists; the network must be running when it starts.
	TaskNetworkID string
	// PortMappings are published in bridge mode. In awsvpc mode they are
	// only used to report the container's share of the task network's
	// bindings; publish them with TaskNetworkSpec.PortMappings.
	PortMappings []PortMapping
}

// MountType is the kind of a [Mount].
type MountType string

// Mount types.
const (
	MountTypeBind   MountType = "bind"   // a host path (ECS host volume)
	MountTypeVolume MountType = "volume" // a named volume (ECS docker volume)
	MountTypeTmpfs  MountType = "tmpfs"  // an in-memory file system
)

// Mount mounts something into a container.
type Mount struct {
	Type MountType
	// Source is the host path (bind; created if missing) or the volume
	// name (volume). Unused for tmpfs.
	Source   string
	Target   string // path in the container
	ReadOnly bool
	// SizeMiB limits a tmpfs mount; 0 means the default.
	SizeMiB int64
}

// TaskResources are the task-level size of an ECS task: limits that the
// task's containers share, as ECS enforces them with one cgroup per task
// (Fargate task sizes, task-level cpu and memory on EC2). A driver that
// cannot share limits between containers gives each container of the task
// the task's limits instead, where it has none of its own.
type TaskResources struct {
	// ID names the task's resources on the host, unique per task (the ECS
	// task ID): letters, digits, '_', '.' and '-', not starting with '.'.
	ID string
	// CPUUnits is the task's cpu in ECS units (1024 per vCPU): together,
	// its containers may use at most CPUUnits/1024 CPUs. 0 means no limit.
	CPUUnits int64
	// MemoryMiB is the hard limit of the task's containers together:
	// exceeding it gets a process of the task OOM-killed. 0 means none.
	MemoryMiB int64
}

// IsZero reports whether r sets no limit.
func (r TaskResources) IsZero() bool { return r.CPUUnits <= 0 && r.MemoryMiB <= 0 }

// Validate checks r's ID (it names host objects, e.g. a cgroup directory)
// and limits.
func (r TaskResources) Validate() error {
	if err := ValidateTaskResourcesID(r.ID); err != nil {
		return err
	}
	if r.CPUUnits < 0 || r.MemoryMiB < 0 {
		return fmt.Errorf("task resources %s: negative limit (cpu %d, memory %d MiB)", r.ID, r.CPUUnits, r.MemoryMiB)
	}
	return nil
}

// ValidateTaskResourcesID checks the syntax of a [TaskResources] ID.
func ValidateTaskResourcesID(id string) error {
	ok := id != "" && len(id) <= 255 && id[0] != '.'
	for _, r := range id {
		if !ok {
			break
		}
		ok = r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
	}
	if !ok {
		return fmt.Errorf("invalid task resources ID %q: want 1-255 letters, digits, '_', '.' or '-', not starting with '.'", id)
	}
	return nil
}

// Ulimit is a resource limit (ECS ulimits).
type Ulimit struct {
	Name string // e.g. "nofile"
	Soft int64
	Hard int64
}

// HealthCheck is a container health check with ECS (and Docker) semantics.
// Zero durations and retries take the driver's defaults (Docker's: 30s
// interval, 30s timeout, 3 retries, no start period); the agent applies
// ECS's defaults before calling the driver.
type HealthCheck struct {
	// Command is ["CMD", exe, args...] or ["CMD-SHELL", "shell command"].
	Command     []string
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
}

// ContainerSpec describes a container to create.
type ContainerSpec struct {
	// Name is the container's name on the host; it must be unique, and is
	// the idempotency key of CreateContainer.
	Name  string
	Image string
	// Entrypoint and Command override the image's; nil keeps the image's.
	Entrypoint []string
	Command    []string
	Env        map[string]string
	WorkingDir string
	User       string // "user", "uid", "user:group" or "uid:gid"
	Labels     map[string]string

	CPUShares int64 // relative CPU weight (ECS cpu units); 0 = default
	// MemoryMiB is the hard limit: exceeding it gets the container
	// OOM-killed. 0 means unlimited.
	MemoryMiB int64
	// MemoryReservationMiB is the soft limit. 0 means none.
	MemoryReservationMiB int64
	// SwapMiB is swap allowed on top of MemoryMiB (ECS maxSwap); 0 means
	// none, so that exceeding MemoryMiB kills promptly.
	SwapMiB int64
	Ulimits []Ulimit
	// TaskResources, if set, are the limits of the container's task,
	// shared with the task's other containers (see [TaskResources]). Every
	// container of a task must carry the same.
	TaskResources *TaskResources

	ReadonlyRootFilesystem bool
	Privileged             bool
	// Init runs a tiny init as PID 1 that forwards signals and reaps zombies
	// (ECS linuxParameters.initProcessEnabled).
	Init    bool
	CapAdd  []string
	CapDrop []string

	Mounts []Mount
	// VolumesFrom lists containers (ID or name, optionally ":ro") whose
	// volumes this container mounts too.
	VolumesFrom []string

	HealthCheck *HealthCheck
	// StopTimeout is how long StopContainer with a negative timeout waits
	// before SIGKILL. 0 means the driver's default (10s for Docker).
	StopTimeout time.Duration

	Network NetworkAttachment
	// Hostname, DNSServers and ExtraHosts apply in bridge mode; in awsvpc
	// mode set them on the TaskNetworkSpec.
	Hostname   string
	DNSServers []string
	ExtraHosts []Host
}

// Status is a container's lifecycle state.
type Status string

// Container statuses.
const (
	StatusCreated Status = "created" // created, never started
	StatusRunning Status = "running"
	StatusExited  Status = "exited" // stopped, exited or dead
)

// HealthStatus is a container's health.
type HealthStatus string

// Health statuses, as Docker reports them.
const (
	HealthNone      HealthStatus = "none" // no health check
	HealthStarting  HealthStatus = "starting"
	HealthHealthy   HealthStatus = "healthy"
	HealthUnhealthy HealthStatus = "unhealthy"
)

// ContainerState is a snapshot of a container.
type ContainerState struct {
	ID     string
	Name   string // without Docker's leading "/"
	Image  string // as given in the spec
	Labels map[string]string

	Status    Status
	ExitCode  int  // meaningful when Status is exited
	OOMKilled bool // the kernel's OOM killer ended it
	Error     string

	CreatedAt  time.Time
	StartedAt  time.Time // zero if never started
	FinishedAt time.Time // zero if not finished

	Health       HealthStatus
	HealthOutput string // output of the last health check, if any

	NetworkMode NetworkMode
	// TaskNetworkID is the joined task network (awsvpc mode).
	TaskNetworkID string
	// IPv4Address is the container's private IP: the task network's in
	// awsvpc mode, the bridge IP in bridge mode, "" otherwise.
	IPv4Address string
	// NetworkBindings are the container's published ports: dynamic host
	// ports in bridge mode; in awsvpc mode, the task network's 127.0.0.1
	// bindings (if any) of the container's own port mappings.
	NetworkBindings []NetworkBinding
}

// EventType is the kind of a [ContainerEvent].
type EventType string

// Event types.
const (
	EventStart        EventType = "start"
	EventDie          EventType = "die"           // ExitCode is set
	EventOOM          EventType = "oom"           // the kernel OOM-killed a process of the container's run; usually before its die event, but it can come after it
	EventHealthStatus EventType = "health_status" // Health is set
	EventDestroy      EventType = "destroy"       // the container was removed
)

// ContainerEvent is a container lifecycle event.
type ContainerEvent struct {
	Type        EventType
	ContainerID string
	Name        string
	Image       string
	// Labels are the container's labels at the time of the event.
	Labels   map[string]string
	ExitCode int          // for EventDie
	Health   HealthStatus // for EventHealthStatus
	Time     time.Time
	// TaskNetwork marks a die or destroy of a task network sandbox;
	// ContainerID is then its TaskNetwork.ID.
	TaskNetwork bool
}

// Stats is one sample of a container's resource usage. CPU counters are
// cumulative: compute utilisation from the deltas between two samples.
type Stats struct {
	Time time.Time
	// CPUUsageNanos is the CPU time the container has used.
	CPUUsageNanos uint64
	// SystemCPUUsageNanos is the host's total CPU time (all CPUs) at Time.
	SystemCPUUsageNanos uint64
	OnlineCPUs          int
	// MemoryUsageBytes excludes the page cache, like `docker stats`.
	MemoryUsageBytes uint64
	MemoryLimitBytes uint64
}

// ErrNotFound is wrapped by errors about a container, network, volume or
// image that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by errors about an object that exists in a state
// that conflicts with the request, e.g. a name taken by a container with
// other labels, or a volume in use.
var ErrConflict = errors.New("conflict")

// PullError is a failed image pull.
type PullError struct {
	Ref string
	// Message is the daemon's (or registry's) explanation, verbatim.
	Message string
	Err     error // the underlying error, if any
}

// Error returns the daemon's message verbatim, so that the agent can report
// "CannotPullContainerError: " + err.Error().
func (e *PullError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("pull %s failed", e.Ref)
	}
	return e.Message
}

func (e *PullError) Unwrap() error { return e.Err }

// Execer is an optional capability: running a command in a running
// container, as ECS Exec does.
type Execer interface {
	// Exec starts spec.Cmd in container id. The process's output (stdout
	// and stderr together) is read from it, its input written to it.
	Exec(ctx context.Context, id string, spec ExecSpec) (ExecProcess, error)
}

// ExecSpec is a command to run in a container.
type ExecSpec struct {
	Cmd []string
	// TTY runs the command on a terminal of Cols x Rows (0: the default).
	TTY        bool
	Cols, Rows uint
}

// ExecProcess is a running exec.
type ExecProcess interface {
	io.Reader // the output; io.EOF once the command has exited
	io.Writer // the input
	// Resize sets the terminal's size.
	Resize(ctx context.Context, cols, rows uint) error
	// Wait returns the exit code, once the output has ended.
	Wait(ctx context.Context) (int, error)
	// Close ends the attachment (with a terminal the command gets SIGHUP).
	Close() error
}

// RawStatsReader is an optional capability: one sample of a container's
// resource usage in the runtime's own JSON (Docker's stats response), as
// the ECS task metadata endpoint serves it.
type RawStatsReader interface {
	RawStats(ctx context.Context, id string) ([]byte, error)
}
