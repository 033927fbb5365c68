package docker

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// CreateContainer creates a container from spec. If a container with the
// same name and (a superset of) the same labels exists, its ID is returned
// instead: the agent may retry a create after a crash.
func (d *Driver) CreateContainer(ctx context.Context, spec driver.ContainerSpec) (string, error) {
	if spec.Name == "" || spec.Image == "" {
		return "", fmt.Errorf("docker: create container: name and image are required")
	}
	limits, err := d.taskLimitsFor(ctx, spec.TaskResources)
	if err != nil {
		return "", fmt.Errorf("docker: create container %s: %w", spec.Name, err)
	}
	cfg, hostCfg, err := d.containerConfig(spec, limits)
	if err != nil {
		return "", fmt.Errorf("docker: create container %s: %w", spec.Name, err)
	}
	res, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       spec.Name,
		Config:     cfg,
		HostConfig: hostCfg,
	})
	if err == nil {
		for _, w := range res.Warnings {
			d.log.WarnContext(ctx, "container create warning", "container", spec.Name, "warning", w)
		}
		d.log.DebugContext(ctx, "container created", "container", spec.Name, "id", res.ID)
		return res.ID, nil
	}
	if !cerrdefs.IsConflict(err) {
		return "", wrap("create container "+spec.Name, err)
	}
	// The name is taken: adopt the container if it is ours.
	existing, ierr := d.cli.ContainerInspect(ctx, spec.Name, client.ContainerInspectOptions{})
	if ierr != nil {
		return "", wrap("create container "+spec.Name, err)
	}
	var have map[string]string
	if existing.Container.Config != nil {
		have = existing.Container.Config.Labels
	}
	if !hasLabels(have, spec.Labels) {
		return "", &opError{op: "create container " + spec.Name, kind: driver.ErrConflict,
			err: fmt.Errorf("name taken by container %s with different labels", shortID(existing.Container.ID))}
	}
	d.log.InfoContext(ctx, "container already exists; adopting it", "container", spec.Name, "id", existing.Container.ID)
	return existing.Container.ID, nil
}

// containerConfig translates spec, with its task-level limits, into
// Docker's configuration.
func (d *Driver) containerConfig(spec driver.ContainerSpec, limits taskLimits) (*container.Config, *container.HostConfig, error) {
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	for k := range labels {
		if strings.HasPrefix(k, driver.LabelDriverPrefix) {
			return nil, nil, fmt.Errorf("label %q uses the reserved prefix %q", k, driver.LabelDriverPrefix)
		}
	}
	mode := spec.Network.Mode
	if mode == "" {
		mode = driver.NetworkModeBridge
	}
	labels[labelManaged] = "true"
	labels[labelNetworkMode] = string(mode)
	if r := spec.TaskResources; r != nil && !r.IsZero() {
		labels[labelTaskResources] = r.ID
	}
	if len(spec.Network.PortMappings) > 0 {
		labels[labelPorts] = formatPorts(spec.Network.PortMappings)
	}

	cfg := &container.Config{
		Image:      spec.Image,
		Entrypoint: spec.Entrypoint,
		Cmd:        spec.Command,
		Env:        envList(spec.Env),
		WorkingDir: spec.WorkingDir,
		User:       spec.User,
		Labels:     labels,
	}
	if spec.StopTimeout > 0 {
		cfg.StopTimeout = new(ceilSeconds(spec.StopTimeout))
	}
	if hc := spec.HealthCheck; hc != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test:        slices.Clone(hc.Command),
			Interval:    hc.Interval,
			Timeout:     hc.Timeout,
			Retries:     hc.Retries,
			StartPeriod: hc.StartPeriod,
		}
	}

	hostCfg := &container.HostConfig{
		Privileged:     spec.Privileged,
		ReadonlyRootfs: spec.ReadonlyRootFilesystem,
		CapAdd:         spec.CapAdd,
		CapDrop:        spec.CapDrop,
		VolumesFrom:    spec.VolumesFrom,
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyDisabled},
	}
	if spec.Init {
		hostCfg.Init = new(true)
	}
	r := &hostCfg.Resources
	r.CPUShares = spec.CPUShares
	if spec.MemoryMiB > 0 {
		r.Memory = spec.MemoryMiB << 20
		r.MemorySwap = (spec.MemoryMiB + max(spec.SwapMiB, 0)) << 20
	}
	r.MemoryReservation = spec.MemoryReservationMiB << 20
	r.CgroupParent = limits.cgroupParent
	if f := limits.fallback; f != nil {
		// No task cgroup: the container gets the task's limits itself.
		if f.MemoryMiB > 0 && spec.MemoryMiB <= 0 {
			r.Memory = f.MemoryMiB << 20
			r.MemorySwap = (f.MemoryMiB + max(spec.SwapMiB, 0)) << 20
		}
		if f.CPUUnits > 0 {
			r.NanoCPUs = fallbackNanoCPUs(f.CPUUnits, limits.ncpu)
		}
	}
	for _, u := range spec.Ulimits {
		r.Ulimits = append(r.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}

	for _, m := range spec.Mounts {
		switch m.Type {
		case driver.MountTypeBind:
			bind := m.Source + ":" + m.Target
			if m.ReadOnly {
				bind += ":ro"
			}
			hostCfg.Binds = append(hostCfg.Binds, bind)
		case driver.MountTypeVolume:
			hostCfg.Mounts = append(hostCfg.Mounts, mount.Mount{
				Type: mount.TypeVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly,
			})
		case driver.MountTypeTmpfs:
			mt := mount.Mount{Type: mount.TypeTmpfs, Target: m.Target, ReadOnly: m.ReadOnly}
			if m.SizeMiB > 0 {
				mt.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.SizeMiB << 20}
			}
			hostCfg.Mounts = append(hostCfg.Mounts, mt)
		default:
			return nil, nil, fmt.Errorf("unknown mount type %q", m.Type)
		}
	}

	switch mode {
	case driver.NetworkModeAWSVPC:
		if spec.Network.TaskNetworkID == "" {
			return nil, nil, fmt.Errorf("awsvpc mode needs a task network")
		}
		hostCfg.NetworkMode = container.NetworkMode("container:" + spec.Network.TaskNetworkID)
	case driver.NetworkModeBridge:
		hostCfg.NetworkMode = network.NetworkBridge
		exposed, bindings, err := portBindings(spec.Network.PortMappings, netip.Addr{}, true)
		if err != nil {
			return nil, nil, err
		}
		cfg.ExposedPorts, hostCfg.PortBindings = exposed, bindings
		cfg.Hostname = spec.Hostname
		if hostCfg.DNS, err = parseAddrs(spec.DNSServers); err != nil {
			return nil, nil, err
		}
		hostCfg.ExtraHosts = extraHosts(spec.ExtraHosts)
	case driver.NetworkModeHost:
		hostCfg.NetworkMode = network.NetworkHost
	case driver.NetworkModeNone:
		hostCfg.NetworkMode = network.NetworkNone
		cfg.Hostname = spec.Hostname
	default:
		return nil, nil, fmt.Errorf("unknown network mode %q", mode)
	}
	return cfg, hostCfg, nil
}

// fallbackNanoCPUs converts cpu units to Docker's NanoCPUs: units/1024
// CPUs, within what the daemon accepts (0.01 to its number of CPUs).
func fallbackNanoCPUs(units int64, ncpu int) int64 {
	n := max(units*1e9/1024, 1e7)
	if ncpu > 0 {
		n = min(n, int64(ncpu)*1e9)
	}
	return n
}

// portBindings translates port mappings. With honourHostPort false every
// host port is dynamic.
func portBindings(pms []driver.PortMapping, hostIP netip.Addr, honourHostPort bool) (network.PortSet, network.PortMap, error) {
	if len(pms) == 0 {
		return nil, nil, nil
	}
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, pm := range pms {
		port, err := toPort(pm)
		if err != nil {
			return nil, nil, err
		}
		exposed[port] = struct{}{}
		b := network.PortBinding{HostIP: hostIP}
		if honourHostPort && pm.HostPort > 0 {
			b.HostPort = strconv.Itoa(pm.HostPort)
		}
		bindings[port] = append(bindings[port], b)
	}
	return exposed, bindings, nil
}

func toPort(pm driver.PortMapping) (network.Port, error) {
	proto := pm.Protocol
	if proto == "" {
		proto = driver.ProtocolTCP
	}
	if proto != driver.ProtocolTCP && proto != driver.ProtocolUDP {
		return network.Port{}, fmt.Errorf("invalid protocol %q", proto)
	}
	if pm.ContainerPort <= 0 || pm.ContainerPort > math.MaxUint16 {
		return network.Port{}, fmt.Errorf("invalid container port %d", pm.ContainerPort)
	}
	p, ok := network.PortFrom(uint16(pm.ContainerPort), network.IPProtocol(proto))
	if !ok {
		return network.Port{}, fmt.Errorf("invalid protocol %q", proto)
	}
	return p, nil
}

// formatPorts renders port mappings as "80/tcp,53/udp" for labelPorts.
func formatPorts(pms []driver.PortMapping) string {
	parts := make([]string, 0, len(pms))
	for _, pm := range pms {
		proto := pm.Protocol
		if proto == "" {
			proto = driver.ProtocolTCP
		}
		parts = append(parts, fmt.Sprintf("%d/%s", pm.ContainerPort, proto))
	}
	return strings.Join(parts, ",")
}

func parseAddrs(ss []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("dns server: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func extraHosts(hs []driver.Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Hostname+":"+h.IPAddress)
	}
	return out
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func ceilSeconds(t time.Duration) int {
	return int(math.Ceil(t.Seconds()))
}

// hasLabels reports whether have contains every label of want.
func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// StartContainer starts a container.
func (d *Driver) StartContainer(ctx context.Context, id string) error {
	_, err := d.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	if err != nil {
		return wrap("start container "+id, err)
	}
	d.log.DebugContext(ctx, "container started", "id", id)
	return nil
}

// StopContainer stops a container: SIGTERM, then SIGKILL after timeout.
func (d *Driver) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	opts := client.ContainerStopOptions{}
	if timeout >= 0 {
		opts.Timeout = new(ceilSeconds(timeout))
	}
	if _, err := d.cli.ContainerStop(ctx, id, opts); err != nil {
		return wrap("stop container "+id, err)
	}
	d.log.DebugContext(ctx, "container stopped", "id", id)
	return nil
}

// RemoveContainer force-removes a container and its anonymous volumes.
func (d *Driver) RemoveContainer(ctx context.Context, id string) error {
	_, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return wrap("remove container "+id, err)
	}
	d.ooms.forget(id)
	d.log.DebugContext(ctx, "container removed", "id", id)
	return nil
}

// InspectContainer returns a container's state.
func (d *Driver) InspectContainer(ctx context.Context, id string) (driver.ContainerState, error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return driver.ContainerState{}, wrap("inspect container "+id, err)
	}
	return d.toState(ctx, res.Container, nil), nil
}

// ListContainers lists the containers carrying all labels of selector.
func (d *Driver) ListContainers(ctx context.Context, selector map[string]string) ([]driver.ContainerState, error) {
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilters(selector)})
	if err != nil {
		return nil, wrap("list containers", err)
	}
	sandboxes := map[string]*container.InspectResponse{}
	var out []driver.ContainerState
	for _, c := range res.Items {
		if c.Labels[labelRole] == roleSandbox {
			continue
		}
		ins, err := d.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue // removed meanwhile
		} else if err != nil {
			return nil, wrap("inspect container "+c.ID, err)
		}
		out = append(out, d.toState(ctx, ins.Container, sandboxes))
	}
	slices.SortFunc(out, func(a, b driver.ContainerState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func labelFilters(selector map[string]string) client.Filters {
	f := client.Filters{}
	for _, k := range slices.Sorted(maps.Keys(selector)) {
		f.Add("label", k+"="+selector[k])
	}
	return f
}

// toState converts an inspect response. sandboxes caches sandbox inspects
// across calls (may be nil).
func (d *Driver) toState(ctx context.Context, c container.InspectResponse, sandboxes map[string]*container.InspectResponse) driver.ContainerState {
	st := driver.ContainerState{
		ID:        c.ID,
		Name:      strings.TrimPrefix(c.Name, "/"),
		CreatedAt: parseTime(c.Created),
		Health:    driver.HealthNone,
	}
	if c.Config != nil {
		st.Image = c.Config.Image
		st.Labels = userLabels(c.Config.Labels)
	}
	if s := c.State; s != nil {
		switch s.Status {
		case container.StateCreated:
			st.Status = driver.StatusCreated
		case container.StateRunning, container.StatePaused, container.StateRestarting:
			st.Status = driver.StatusRunning
		default: // exited, dead, removing
			st.Status = driver.StatusExited
		}
		st.ExitCode = s.ExitCode
		st.OOMKilled = s.OOMKilled
		if st.Status == driver.StatusExited && !st.OOMKilled && memoryLimited(c) {
			if started := parseTime(s.StartedAt); !started.IsZero() {
				st.OOMKilled = d.lateOOM(ctx, c.ID, started, parseTime(s.FinishedAt))
			}
		}
		st.Error = s.Error
		st.StartedAt = parseTime(s.StartedAt)
		st.FinishedAt = parseTime(s.FinishedAt)
		if h := s.Health; h != nil {
			st.Health = driver.HealthStatus(h.Status)
			if n := len(h.Log); n > 0 && h.Log[n-1] != nil {
				st.HealthOutput = strings.TrimSpace(h.Log[n-1].Output)
			}
		}
	}

	var netMode container.NetworkMode
	if c.HostConfig != nil {
		netMode = c.HostConfig.NetworkMode
	}
	var labels map[string]string
	if c.Config != nil {
		labels = c.Config.Labels
	}
	st.NetworkMode = driver.NetworkMode(labels[labelNetworkMode])
	switch {
	case netMode.IsContainer():
		if st.NetworkMode == "" {
			st.NetworkMode = driver.NetworkModeAWSVPC
		}
		st.TaskNetworkID = netMode.ConnectedContainer()
		sb := d.inspectSandbox(ctx, st.TaskNetworkID, sandboxes)
		if sb == nil {
			break
		}
		tn := d.toTaskNetwork(*sb)
		st.TaskNetworkID = tn.ID
		st.IPv4Address = tn.IPv4Address
		st.NetworkBindings = filterBindings(tn.Bindings, labels[labelPorts])
	case netMode.IsHost():
		st.NetworkMode = cmpOrStr(st.NetworkMode, driver.NetworkModeHost)
	case netMode.IsNone():
		st.NetworkMode = cmpOrStr(st.NetworkMode, driver.NetworkModeNone)
	default:
		st.NetworkMode = cmpOrStr(st.NetworkMode, driver.NetworkModeBridge)
		if ns := c.NetworkSettings; ns != nil {
			st.IPv4Address = endpointIP(ns.Networks, string(netMode))
			st.NetworkBindings = bindingsOf(ns.Ports)
		}
	}
	return st
}

func cmpOrStr(v, def driver.NetworkMode) driver.NetworkMode {
	if v == "" {
		return def
	}
	return v
}

// inspectSandbox inspects a sandbox container, through cache if not nil.
// It returns nil if the sandbox is gone.
func (d *Driver) inspectSandbox(ctx context.Context, id string, cache map[string]*container.InspectResponse) *container.InspectResponse {
	if sb, ok := cache[id]; ok {
		return sb
	}
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	var sb *container.InspectResponse
	if err == nil {
		sb = &res.Container
	} else {
		d.log.DebugContext(ctx, "cannot inspect task network sandbox", "id", id, "error", err)
	}
	if cache != nil {
		cache[id] = sb
	}
	return sb
}

// endpointIP picks the container's IPv4 address, preferring network name.
func endpointIP(nets map[string]*network.EndpointSettings, name string) string {
	if ep := nets[name]; ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	for _, n := range slices.Sorted(maps.Keys(nets)) {
		if ep := nets[n]; ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress.String()
		}
	}
	return ""
}

// bindingsOf converts Docker's published ports, skipping unpublished ones.
func bindingsOf(ports network.PortMap) []driver.NetworkBinding {
	var out []driver.NetworkBinding
	for port, bs := range ports {
		for _, b := range bs {
			hp, err := strconv.Atoi(b.HostPort)
			if err != nil || hp == 0 {
				continue
			}
			ip := ""
			if b.HostIP.IsValid() {
				ip = b.HostIP.String()
			}
			out = append(out, driver.NetworkBinding{
				BindIP:        ip,
				ContainerPort: int(port.Num()),
				HostPort:      hp,
				Protocol:      driver.Protocol(port.Proto()),
			})
		}
	}
	slices.SortFunc(out, func(a, b driver.NetworkBinding) int {
		if c := a.ContainerPort - b.ContainerPort; c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Protocol), string(b.Protocol)); c != 0 {
			return c
		}
		return strings.Compare(a.BindIP, b.BindIP)
	})
	return out
}

// filterBindings keeps the bindings of the ports listed in spec
// ("80/tcp,53/udp", as labelPorts).
func filterBindings(bs []driver.NetworkBinding, spec string) []driver.NetworkBinding {
	if spec == "" {
		return nil
	}
	want := strings.Split(spec, ",")
	var out []driver.NetworkBinding
	for _, b := range bs {
		if slices.Contains(want, fmt.Sprintf("%d/%s", b.ContainerPort, b.Protocol)) {
			out = append(out, b)
		}
	}
	return out
}

// userLabels returns labels without the driver's bookkeeping labels.
func userLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if !strings.HasPrefix(k, driver.LabelDriverPrefix) {
			out[k] = v
		}
	}
	return out
}

// parseTime parses Docker's RFC 3339 timestamps; Docker's "never" (year 1)
// and garbage become the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
