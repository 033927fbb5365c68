package fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

// Behavior scripts what a started container does.
type Behavior struct {
	// StartError, if set, makes StartContainer fail with it; the container
	// stays created.
	StartError error
	// ExitAfter, if positive, makes the container exit by itself after
	// this long, with ExitCode (or, with OOM, as killed by the OOM killer).
	ExitAfter time.Duration
	ExitCode  int
	OOM       bool
	// Health is the health the container's health check settles on; ""
	// means healthy. Containers without a health check report "none".
	Health driver.HealthStatus
	// HealthAfter delays reaching Health; meanwhile it is "starting".
	HealthAfter time.Duration
	// StopExitCode is the exit code when stopped gracefully (SIGTERM).
	StopExitCode int
	// IgnoreSIGTERM makes StopContainer kill the container: exit code 137.
	// The fake does not actually wait for the stop timeout.
	IgnoreSIGTERM bool
	// Output is what Logs returns.
	Output string
}

// Options configure a fake [Driver].
type Options struct {
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
	// Images are present from the start; anything else must be pulled.
	Images []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Driver is the in-memory driver. Set the hook fields before use.
type Driver struct {
	// OnStart, if set, decides the behavior of each started container.
	OnStart func(id string, spec driver.ContainerSpec) Behavior
	// OnPull, if set, is called by PullImage; an error fails the pull,
	// and its text becomes the PullError's message.
	OnPull func(ctx context.Context, ref string, auth driver.RegistryAuth) error
	// OnStats, if set, supplies Stats samples.
	OnStats func(id string, spec driver.ContainerSpec) driver.Stats

	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	images     map[string]bool
	pullErrors map[string]string
	containers map[string]*container            // by ID
	names      map[string]string                // container name → ID
	byTask     map[string]map[string]*container // LabelTaskARN → ID → container
	byRes      map[string]map[string]*container // TaskResources.ID → ID → container
	networks   map[string]*taskNetwork
	netNames   map[string]string
	volumes    map[string]map[string]string
	taskRes    map[string]taskResources // by TaskResources.ID
	subs       map[*subscriber]struct{}
	seq        uint64
	nextIP     uint32 // host part of the next IP
	nextPort   int
	closed     bool
	// down mirrors closed for Ping, which must not wait for mu: a driver
	// busy with many tasks is not a dead one.
	down atomic.Bool
}

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.LogReader = (*Driver)(nil)
	_ driver.Pinger    = (*Driver)(nil)
)

// Open is the fake driver's [driver.Factory], for a [driver.Registry]
// (the composition root registers it as "fake"). Param images: a
// comma-separated list of images present from the start.
func Open(cfg driver.Config) (driver.Driver, error) {
	var images []string
	if s := cfg.Params["images"]; s != "" {
		images = strings.Split(s, ",")
	}
	return New(Options{Logger: cfg.Logger, Images: images}), nil
}

// New returns an empty fake driver.
func New(opts Options) *Driver {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Driver{
		log:        opts.Logger.With("driver", "fake"),
		now:        opts.Now,
		images:     map[string]bool{},
		pullErrors: map[string]string{},
		containers: map[string]*container{},
		names:      map[string]string{},
		byTask:     map[string]map[string]*container{},
		byRes:      map[string]map[string]*container{},
		networks:   map[string]*taskNetwork{},
		netNames:   map[string]string{},
		volumes:    map[string]map[string]string{},
		taskRes:    map[string]taskResources{},
		subs:       map[*subscriber]struct{}{},
		nextIP:     2,
		nextPort:   firstPort,
	}
	for _, ref := range opts.Images {
		d.images[normalizeRef(ref)] = true
	}
	return d
}

// Dynamic host ports are taken round-robin from this range, like Docker's.
const (
	firstPort = 32768
	lastPort  = 60999
)

type container struct {
	id       string
	spec     driver.ContainerSpec
	behavior Behavior

	status     driver.Status
	exitCode   int
	oomKilled  bool
	createdAt  time.Time
	startedAt  time.Time
	finishedAt time.Time
	health     driver.HealthStatus
	healthOut  string
	ip         string
	bindings   []driver.NetworkBinding
	timers     []*time.Timer
	starting   bool // OnStart is running
}

type taskResources struct {
	r     driver.TaskResources
	setAt time.Time
}

type taskNetwork struct {
	tn driver.TaskNetwork
}

func (d *Driver) newID() string {
	d.seq++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], d.seq)
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

// allocIP returns the next address in prefix. Both the bridge and the
// awsvpc network draw from one counter, so addresses are sparse; they
// repeat only after about 65,000 allocations.
func (d *Driver) allocIP(prefix [2]byte) string {
	n := d.nextIP
	d.nextIP++
	if d.nextIP%65536 == 0 || d.nextIP%65536 == 65535 {
		d.nextIP += 3
	}
	return netip.AddrFrom4([4]byte{prefix[0], prefix[1], byte(n >> 8), byte(n)}).String()
}

func (d *Driver) allocPort() int {
	p := d.nextPort
	d.nextPort++
	if d.nextPort > lastPort {
		d.nextPort = firstPort
	}
	return p
}

func normalizeRef(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		return ref + ":latest"
	}
	return ref
}

func notFound(kind, id string) error {
	return fmt.Errorf("fake: no such %s: %s: %w", kind, id, driver.ErrNotFound)
}

// Ping fails only after Close. It does not take the driver's lock, so it
// answers at once however busy the driver is.
func (d *Driver) Ping(ctx context.Context) error {
	if d.down.Load() {
		return fmt.Errorf("fake: driver closed")
	}
	return ctx.Err()
}

// Close stops event streams; containers are left as they are.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.down.Store(true)
	for s := range d.subs {
		s.close()
		delete(d.subs, s)
	}
	return nil
}

// AddImage makes images present, as if pulled.
func (d *Driver) AddImage(refs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ref := range refs {
		d.images[normalizeRef(ref)] = true
	}
}

// FailPull makes pulls of ref fail with message.
func (d *Driver) FailPull(ref, message string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pullErrors[normalizeRef(ref)] = message
}

// PullImage "pulls" ref: it becomes present unless FailPull or OnPull say
// otherwise.
func (d *Driver) PullImage(ctx context.Context, ref string, auth driver.RegistryAuth) error {
	if err := ctx.Err(); err != nil {
		return &driver.PullError{Ref: ref, Message: err.Error(), Err: err}
	}
	if d.OnPull != nil {
		if err := d.OnPull(ctx, ref, auth); err != nil {
			return &driver.PullError{Ref: ref, Message: err.Error(), Err: err}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	key := normalizeRef(ref)
	if msg, ok := d.pullErrors[key]; ok {
		return &driver.PullError{Ref: ref, Message: msg}
	}
	d.images[key] = true
	return nil
}

// ImagePresent reports whether ref was added or pulled.
func (d *Driver) ImagePresent(ctx context.Context, ref string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.images[normalizeRef(ref)], nil
}

// CreateTaskNetwork allocates a private IP in 172.31.0.0/16 and 127.0.0.1
// host ports for spec.PortMappings.
func (d *Driver) CreateTaskNetwork(ctx context.Context, spec driver.TaskNetworkSpec) (driver.TaskNetwork, error) {
	if spec.Name == "" {
		return driver.TaskNetwork{}, fmt.Errorf("fake: create task network: name is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.netNames[spec.Name]; ok {
		n := d.networks[id]
		if !hasLabels(n.tn.Labels, spec.Labels) {
			return driver.TaskNetwork{}, fmt.Errorf("fake: create task network %s: name taken with other labels: %w", spec.Name, driver.ErrConflict)
		}
		n.tn.Running = true // (re)started, as Docker's sandbox would be
		return cloneNetwork(n.tn), nil
	}
	if d.names[spec.Name] != "" {
		return driver.TaskNetwork{}, fmt.Errorf("fake: create task network %s: name taken by a container: %w", spec.Name, driver.ErrConflict)
	}
	tn := driver.TaskNetwork{
		ID:          d.newID(),
		Name:        spec.Name,
		Labels:      maps.Clone(spec.Labels),
		Running:     true,
		IPv4Address: d.allocIP([2]byte{172, 31}),
		IPv4Subnet:  "172.31.0.0/16",
		Gateway:     "172.31.0.1",
	}
	tn.MACAddress = fmt.Sprintf("02:42:%s:%s", tn.ID[:2], strings.Join([]string{tn.ID[2:4], tn.ID[4:6], tn.ID[6:8]}, ":"))
	for _, pm := range spec.PortMappings {
		tn.Bindings = append(tn.Bindings, driver.NetworkBinding{
			BindIP:        "127.0.0.1",
			ContainerPort: pm.ContainerPort,
			HostPort:      d.allocPort(),
			Protocol:      protocol(pm.Protocol),
		})
	}
	d.networks[tn.ID] = &taskNetwork{tn: tn}
	d.netNames[tn.Name] = tn.ID
	return cloneNetwork(tn), nil
}

// InspectTaskNetwork returns a task network.
func (d *Driver) InspectTaskNetwork(ctx context.Context, id string) (driver.TaskNetwork, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.network(id)
	if n == nil {
		return driver.TaskNetwork{}, notFound("task network", id)
	}
	return cloneNetwork(n.tn), nil
}

// ListTaskNetworks lists task networks by label.
func (d *Driver) ListTaskNetworks(ctx context.Context, selector map[string]string) ([]driver.TaskNetwork, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []driver.TaskNetwork
	for _, n := range d.networks {
		if hasLabels(n.tn.Labels, selector) {
			out = append(out, cloneNetwork(n.tn))
		}
	}
	slices.SortFunc(out, func(a, b driver.TaskNetwork) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveTaskNetwork deletes a task network.
func (d *Driver) RemoveTaskNetwork(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n := d.network(id); n != nil {
		if n.tn.Running {
			d.emitNetwork(n, driver.EventDie)
		}
		d.emitNetwork(n, driver.EventDestroy)
		delete(d.networks, n.tn.ID)
		delete(d.netNames, n.tn.Name)
	}
	return nil
}

// KillTaskNetwork makes a task network's sandbox die behind the runner's
// back (as `docker kill` of the sandbox would): it is reported not
// running, with a die event.
func (d *Driver) KillTaskNetwork(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.network(id)
	if n == nil {
		return notFound("task network", id)
	}
	if n.tn.Running {
		n.tn.Running = false
		d.emitNetwork(n, driver.EventDie)
	}
	return nil
}

func (d *Driver) network(idOrName string) *taskNetwork {
	if n, ok := d.networks[idOrName]; ok {
		return n
	}
	if id, ok := d.netNames[idOrName]; ok {
		return d.networks[id]
	}
	return nil
}

func cloneNetwork(tn driver.TaskNetwork) driver.TaskNetwork {
	tn.Labels = maps.Clone(tn.Labels)
	tn.Bindings = slices.Clone(tn.Bindings)
	return tn
}

func protocol(p driver.Protocol) driver.Protocol {
	if p == "" {
		return driver.ProtocolTCP
	}
	return p
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// CreateContainer records a container. The image must be present.
func (d *Driver) CreateContainer(ctx context.Context, spec driver.ContainerSpec) (string, error) {
	if spec.Name == "" || spec.Image == "" {
		return "", fmt.Errorf("fake: create container: name and image are required")
	}
	if r := spec.TaskResources; r != nil {
		if err := r.Validate(); err != nil {
			return "", fmt.Errorf("fake: create container %s: %w", spec.Name, err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := spec.TaskResources; r != nil && !r.IsZero() {
		d.taskRes[r.ID] = taskResources{r: *r, setAt: d.now()} // created, or refreshed by a retry
	}
	if id, ok := d.names[spec.Name]; ok {
		if !hasLabels(d.containers[id].spec.Labels, spec.Labels) {
			return "", fmt.Errorf("fake: create container %s: name taken with other labels: %w", spec.Name, driver.ErrConflict)
		}
		return id, nil
	}
	if !d.images[normalizeRef(spec.Image)] {
		return "", fmt.Errorf("fake: create container %s: no such image %s: %w", spec.Name, spec.Image, driver.ErrNotFound)
	}
	mode := spec.Network.Mode
	if mode == "" {
		mode = driver.NetworkModeBridge
	}
	// Like Docker, an awsvpc container may be created before the task
	// network it joins (by ID or name) exists; it must exist to start.
	if mode == driver.NetworkModeAWSVPC && spec.Network.TaskNetworkID == "" {
		return "", fmt.Errorf("fake: create container %s: awsvpc mode needs a task network", spec.Name)
	}
	for _, m := range spec.Mounts {
		if m.Type == driver.MountTypeVolume {
			if _, ok := d.volumes[m.Source]; !ok {
				d.volumes[m.Source] = map[string]string{} // Docker creates it too
			}
		}
	}
	spec = cloneSpec(spec)
	spec.Network.Mode = mode
	c := &container{
		id:        d.newID(),
		spec:      spec,
		status:    driver.StatusCreated,
		createdAt: d.now(),
		health:    driver.HealthNone,
	}
	d.containers[c.id] = c
	d.names[spec.Name] = c.id
	if task, ok := spec.Labels[driver.LabelTaskARN]; ok {
		if d.byTask[task] == nil {
			d.byTask[task] = map[string]*container{}
		}
		d.byTask[task][c.id] = c
	}
	if r := spec.TaskResources; r != nil {
		if d.byRes[r.ID] == nil {
			d.byRes[r.ID] = map[string]*container{}
		}
		d.byRes[r.ID][c.id] = c
	}
	return c.id, nil
}

func cloneSpec(s driver.ContainerSpec) driver.ContainerSpec {
	s.Labels = maps.Clone(s.Labels)
	s.Env = maps.Clone(s.Env)
	s.Command = slices.Clone(s.Command)
	s.Entrypoint = slices.Clone(s.Entrypoint)
	s.Mounts = slices.Clone(s.Mounts)
	s.Network.PortMappings = slices.Clone(s.Network.PortMappings)
	if s.TaskResources != nil {
		r := *s.TaskResources
		s.TaskResources = &r
	}
	return s
}

func (d *Driver) container(idOrName string) *container {
	if c, ok := d.containers[idOrName]; ok {
		return c
	}
	if id, ok := d.names[idOrName]; ok {
		return d.containers[id]
	}
	return nil
}

// StartContainer "runs" a container, applying OnStart's behavior.
func (d *Driver) StartContainer(ctx context.Context, id string) error {
	d.mu.Lock()
	c := d.container(id)
	if c == nil {
		d.mu.Unlock()
		return notFound("container", id)
	}
	if c.status == driver.StatusRunning || c.starting {
		d.mu.Unlock()
		return nil
	}
	c.starting = true
	cid, spec := c.id, c.spec
	d.mu.Unlock()

	var b Behavior
	if d.OnStart != nil {
		b = d.OnStart(cid, spec)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	c.starting = false
	if d.containers[cid] != c {
		return notFound("container", id) // removed meanwhile
	}
	if b.StartError != nil {
		return fmt.Errorf("fake: start container %s: %w", spec.Name, b.StartError)
	}
	if spec.Network.Mode == driver.NetworkModeAWSVPC && d.network(spec.Network.TaskNetworkID) == nil {
		return fmt.Errorf("fake: start container %s: task network %s is gone: %w", spec.Name, spec.Network.TaskNetworkID, driver.ErrNotFound)
	}
	now := d.now()
	c.behavior = b
	c.status = driver.StatusRunning
	c.startedAt = now
	c.finishedAt = time.Time{}
	c.exitCode = 0
	c.oomKilled = false
	if spec.Network.Mode == driver.NetworkModeBridge {
		if c.ip == "" {
			c.ip = d.allocIP([2]byte{172, 17})
		}
		c.bindings = c.bindings[:0]
		for _, pm := range spec.Network.PortMappings {
			hp := pm.HostPort
			if hp == 0 {
				hp = d.allocPort()
			}
			c.bindings = append(c.bindings, driver.NetworkBinding{
				BindIP: "0.0.0.0", ContainerPort: pm.ContainerPort, HostPort: hp, Protocol: protocol(pm.Protocol),
			})
		}
	}
	d.emit(c, driver.EventStart)

	if spec.HealthCheck != nil {
		target := b.Health
		if target == "" {
			target = driver.HealthHealthy
		}
		if b.HealthAfter > 0 {
			c.health = driver.HealthStarting
			c.timers = append(c.timers, time.AfterFunc(b.HealthAfter, func() {
				_ = d.SetHealth(cid, target, "")
			}))
		} else {
			d.setHealth(c, target, "")
		}
	}
	if b.ExitAfter > 0 {
		c.timers = append(c.timers, time.AfterFunc(b.ExitAfter, func() {
			if b.OOM {
				_ = d.OOMKill(cid)
			} else {
				_ = d.Exit(cid, b.ExitCode)
			}
		}))
	}
	return nil
}

// StopContainer stops a running container at once: with the behavior's
// StopExitCode, or 137 if it ignores SIGTERM.
func (d *Driver) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return notFound("container", id)
	}
	if c.status != driver.StatusRunning {
		return nil
	}
	code := c.behavior.StopExitCode
	if c.behavior.IgnoreSIGTERM {
		code = 137
	}
	d.exit(c, code, false)
	return nil
}

// RemoveContainer deletes a container, killing it if it runs.
func (d *Driver) RemoveContainer(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return nil
	}
	if c.status == driver.StatusRunning {
		d.exit(c, 137, false)
	}
	d.emit(c, driver.EventDestroy)
	delete(d.containers, c.id)
	delete(d.names, c.spec.Name)
	if task, ok := c.spec.Labels[driver.LabelTaskARN]; ok {
		delete(d.byTask[task], c.id)
		if len(d.byTask[task]) == 0 {
			delete(d.byTask, task)
		}
	}
	if r := c.spec.TaskResources; r != nil {
		delete(d.byRes[r.ID], c.id)
		if len(d.byRes[r.ID]) == 0 {
			delete(d.byRes, r.ID)
		}
	}
	return nil
}

// Exit makes a running container exit with code, as if its process ended.
func (d *Driver) Exit(id string, code int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return notFound("container", id)
	}
	if c.status == driver.StatusRunning {
		d.exit(c, code, false)
	}
	return nil
}

// OOMKill makes a running container die at the hands of the OOM killer.
func (d *Driver) OOMKill(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return notFound("container", id)
	}
	if c.status == driver.StatusRunning {
		d.emit(c, driver.EventOOM)
		d.exit(c, 137, true)
	}
	return nil
}

// SetHealth sets a running container's health, emitting health_status.
func (d *Driver) SetHealth(id string, status driver.HealthStatus, output string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return notFound("container", id)
	}
	if c.status == driver.StatusRunning {
		d.setHealth(c, status, output)
	}
	return nil
}

func (d *Driver) setHealth(c *container, status driver.HealthStatus, output string) {
	c.healthOut = output
	if c.health == status {
		return
	}
	c.health = status
	d.emit(c, driver.EventHealthStatus)
}

// exit ends a running container; d.mu is held.
func (d *Driver) exit(c *container, code int, oom bool) {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
	c.status = driver.StatusExited
	c.exitCode = code
	c.oomKilled = oom
	c.finishedAt = d.now()
	d.emit(c, driver.EventDie)
}

// InspectContainer returns a container's state.
func (d *Driver) InspectContainer(ctx context.Context, id string) (driver.ContainerState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return driver.ContainerState{}, notFound("container", id)
	}
	return d.state(c), nil
}

// ListContainers lists containers by label, sorted by name. Selecting by
// LabelTaskARN is indexed.
func (d *Driver) ListContainers(ctx context.Context, selector map[string]string) ([]driver.ContainerState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	candidates := d.containers
	if task, ok := selector[driver.LabelTaskARN]; ok {
		candidates = d.byTask[task]
	}
	var out []driver.ContainerState
	for _, c := range candidates {
		if hasLabels(c.spec.Labels, selector) {
			out = append(out, d.state(c))
		}
	}
	slices.SortFunc(out, func(a, b driver.ContainerState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// state snapshots c; d.mu is held.
func (d *Driver) state(c *container) driver.ContainerState {
	st := driver.ContainerState{
		ID:              c.id,
		Name:            c.spec.Name,
		Image:           c.spec.Image,
		Labels:          maps.Clone(c.spec.Labels),
		Status:          c.status,
		ExitCode:        c.exitCode,
		OOMKilled:       c.oomKilled,
		CreatedAt:       c.createdAt,
		StartedAt:       c.startedAt,
		FinishedAt:      c.finishedAt,
		Health:          c.health,
		HealthOutput:    c.healthOut,
		NetworkMode:     c.spec.Network.Mode,
		IPv4Address:     c.ip,
		NetworkBindings: slices.Clone(c.bindings),
	}
	if c.spec.Network.Mode == driver.NetworkModeAWSVPC {
		st.TaskNetworkID = c.spec.Network.TaskNetworkID
		if n := d.network(st.TaskNetworkID); n != nil {
			st.TaskNetworkID = n.tn.ID
			st.IPv4Address = n.tn.IPv4Address
			for _, b := range n.tn.Bindings {
				for _, pm := range c.spec.Network.PortMappings {
					if pm.ContainerPort == b.ContainerPort && protocol(pm.Protocol) == b.Protocol {
						st.NetworkBindings = append(st.NetworkBindings, b)
					}
				}
			}
		}
	}
	return st
}

// CreateVolume records a volume.
func (d *Driver) CreateVolume(ctx context.Context, name string, labels map[string]string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.volumes[name]; !ok {
		d.volumes[name] = maps.Clone(labels)
	}
	return nil
}

// RemoveVolume deletes a volume unless a container uses it.
func (d *Driver) RemoveVolume(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.containers {
		for _, m := range c.spec.Mounts {
			if m.Type == driver.MountTypeVolume && m.Source == name {
				return fmt.Errorf("fake: remove volume %s: in use by %s: %w", name, c.spec.Name, driver.ErrConflict)
			}
		}
	}
	delete(d.volumes, name)
	return nil
}

// RemoveTaskResources forgets task id's limits. Like a cgroup that still
// holds processes, the limits of a task with a running container cannot
// be removed: the error wraps ErrConflict.
func (d *Driver) RemoveTaskResources(ctx context.Context, id string) error {
	if err := driver.ValidateTaskResourcesID(id); err != nil {
		return fmt.Errorf("fake: remove task resources: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// By index: scanning every container here held the driver's lock
	// for as long as thousands of tasks took to clean up.
	for _, c := range d.byRes[id] {
		if c.status == driver.StatusRunning {
			return fmt.Errorf("fake: remove task resources %s: in use by %s: %w", id, c.spec.Name, driver.ErrConflict)
		}
	}
	delete(d.taskRes, id)
	return nil
}

// PruneTaskResources forgets the limits of tasks that no container uses
// and that were set up more than minAge ago (by the driver's clock).
func (d *Driver) PruneTaskResources(ctx context.Context, minAge time.Duration) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	used := map[string]bool{}
	for _, c := range d.containers {
		if r := c.spec.TaskResources; r != nil {
			used[r.ID] = true
		}
	}
	var removed []string
	for id, tr := range d.taskRes {
		if !used[id] && d.now().Sub(tr.setAt) >= minAge {
			delete(d.taskRes, id)
			removed = append(removed, id)
		}
	}
	slices.Sort(removed)
	return removed, nil
}

// TaskResources returns the limits set up for task id, if they exist.
func (d *Driver) TaskResources(id string) (driver.TaskResources, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tr, ok := d.taskRes[id]
	return tr.r, ok
}

// VolumeExists reports whether a volume exists.
func (d *Driver) VolumeExists(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.volumes[name]
	return ok
}

// Stats returns OnStats's sample or, by default, a synthetic one: a tenth
// of a CPU since start, and the memory reservation (or 8 MiB) in use.
func (d *Driver) Stats(ctx context.Context, id string) (driver.Stats, error) {
	d.mu.Lock()
	c := d.container(id)
	if c == nil {
		d.mu.Unlock()
		return driver.Stats{}, notFound("container", id)
	}
	cid, spec, status, started := c.id, c.spec, c.status, c.startedAt
	d.mu.Unlock()
	if d.OnStats != nil {
		return d.OnStats(cid, spec), nil
	}
	now := d.now()
	st := driver.Stats{Time: now, OnlineCPUs: 2, MemoryLimitBytes: uint64(spec.MemoryMiB) << 20}
	if st.MemoryLimitBytes == 0 {
		st.MemoryLimitBytes = 8 << 30
	}
	st.SystemCPUUsageNanos = uint64(now.UnixNano()) * 2
	if status == driver.StatusRunning {
		st.CPUUsageNanos = uint64(now.Sub(started).Nanoseconds() / 10)
		st.MemoryUsageBytes = uint64(max(spec.MemoryReservationMiB, 8)) << 20
	}
	return st, nil
}

// Logs returns the behavior's Output. Follow is ignored.
func (d *Driver) Logs(ctx context.Context, id string, opts driver.LogOptions) (io.ReadCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.container(id)
	if c == nil {
		return nil, notFound("container", id)
	}
	return io.NopCloser(bytes.NewReader([]byte(c.behavior.Output))), nil
}

// Count returns how many containers exist and how many of them run.
func (d *Driver) Count() (total, running int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.containers {
		if c.status == driver.StatusRunning {
			running++
		}
	}
	return len(d.containers), running
}
