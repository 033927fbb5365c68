package runner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// ECS's health check defaults (seconds), for definitions that were not
// normalised by RegisterTaskDefinition.
const (
	defaultHealthInterval = 30
	defaultHealthTimeout  = 5
	defaultHealthRetries  = 3
)

// Linux CPU share bounds: ECS passes cpu units as shares, clamped to them.
const (
	minCPUShares = 2
	maxCPUShares = 262144
)

// taskPlan is what a task needs from the driver, derived once from its
// spec: the task network, the volumes and the containers.
type taskPlan struct {
	family   string
	revision int
	mode     driver.NetworkMode
	// network is the awsvpc sandbox to create; nil in other modes.
	network    *driver.TaskNetworkSpec
	volumes    []volumePlan
	containers []*containerPlan
	// resources are the task-level cpu and memory, shared by the task's
	// containers; nil if the task has no task-level size.
	resources *driver.TaskResources
}

// volumePlan is a Docker volume the task needs.
type volumePlan struct {
	name   string // Docker volume name
	labels map[string]string
	// taskScoped volumes are removed with the task; shared ones are kept.
	taskScoped bool
}

// containerPlan is one container of the task.
type containerPlan struct {
	name         string
	essential    bool
	image        string // after ImageRewrite
	sourceImage  string // as the definition names it
	spec         driver.ContainerSpec
	dependsOn    []ecs.ContainerDependency
	volumesFrom  []string // containers that must exist before this one is created
	stopTimeout  time.Duration
	startTimeout time.Duration // how long dependents wait for this container's condition; 0 forever
	healthCheck  bool
	restart      *restartPolicy // nil: not restarted
	secrets      []ecs.Secret
	logConfig    *ecs.LogConfiguration
	// hostPorts are the bindings reported in host mode, where the driver
	// publishes nothing.
	hostPorts []driver.NetworkBinding
}

// restartPolicy is an enabled ECS container restart policy.
type restartPolicy struct {
	// period is how long a run must last for its exit to be followed by a
	// restart (restartAttemptPeriod).
	period  time.Duration
	ignored []int // exit codes that are not restarted
}

// newRestartPolicy returns the policy of a container definition, nil if
// it has none enabled. The period is taken as given: RegisterTaskDefinition
// keeps it within ECS's 60-1800 seconds.
func newRestartPolicy(rp *ecs.RestartPolicy) *restartPolicy {
	if rp == nil || !rp.Enabled {
		return nil
	}
	p := &restartPolicy{period: ecs.DefaultRestartAttemptPeriod * time.Second, ignored: slices.Clone(rp.IgnoredExitCodes)}
	if rp.RestartAttemptPeriod != nil && *rp.RestartAttemptPeriod >= 0 {
		p.period = time.Duration(*rp.RestartAttemptPeriod) * time.Second
	}
	return p
}

// label renders p for LabelRestartPolicy: "300s" or "300s:0,143".
func (p *restartPolicy) label() string {
	s := p.period.String()
	if len(p.ignored) > 0 {
		codes := make([]string, len(p.ignored))
		for i, c := range p.ignored {
			codes[i] = strconv.Itoa(c)
		}
		s += ":" + strings.Join(codes, ",")
	}
	return s
}

// parseRestartPolicy parses LabelRestartPolicy; "" or garbage is nil.
func parseRestartPolicy(s string) *restartPolicy {
	period, codes, _ := strings.Cut(s, ":")
	d, err := time.ParseDuration(period)
	if err != nil || d < 0 {
		return nil
	}
	p := &restartPolicy{period: d}
	for _, c := range splitList(codes) {
		if n, err := strconv.Atoi(c); err == nil {
			p.ignored = append(p.ignored, n)
		}
	}
	return p
}

// planError is a task that cannot be run as specified.
type planError struct{ msg string }

func (e *planError) Error() string { return e.msg }

func planErrorf(format string, args ...any) error {
	return &planError{msg: fmt.Sprintf(format, args...)}
}

// taskID returns the ID of a task.
func taskID(t *ecs.Task) string {
	if t.ID != "" {
		return t.ID
	}
	return ecs.TaskIDFromARN(t.ARN)
}

// dockerName makes s safe as (part of) a Docker object name:
// [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func dockerName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ContainerName is the host name of a task's container, unique per task and
// stable (it is CreateContainer's idempotency key):
// ecs-<family>-<revision>-<container>-<task id>.
func ContainerName(family string, revision int, container, taskID string) string {
	return dockerName(fmt.Sprintf("ecs-%s-%d-%s-%s", family, revision, container, taskID))
}

// NetworkName is the name of an awsvpc task's network sandbox.
func NetworkName(taskID string) string { return dockerName("berth-task-" + taskID) }

// TaskResourcesID names a task's task-level resources on the host (e.g.
// its cgroup, /berth/<id>): the task ID, made safe.
func TaskResourcesID(taskID string) string { return strings.TrimLeft(dockerName(taskID), ".") }

// TaskVolumeName is the Docker volume of a task-scoped ECS volume.
func TaskVolumeName(family string, revision int, volume, taskID string) string {
	return dockerName(fmt.Sprintf("ecs-%s-%d-%s-%s", family, revision, volume, taskID))
}

// buildPlan translates a task and its definition into driver terms, with
// ECS's semantics and defaults.
func buildPlan(cfg Config, spec TaskSpec) (*taskPlan, error) {
	td, task := spec.Definition, spec.Task
	if td == nil {
		return nil, planErrorf("ResourceInitializationError: the task definition of task %s is unknown", task.ARN)
	}
	id := taskID(task)
	defs, err := ecs.ApplyContainerOverrides(td, &task.Overrides, "")
	if err != nil {
		return nil, planErrorf("ResourceInitializationError: invalid overrides: %v", err)
	}
	p := &taskPlan{family: td.Family, revision: td.Revision}
	switch td.NetworkMode {
	case "", ecs.NetworkBridge:
		p.mode = driver.NetworkModeBridge
	case ecs.NetworkAwsvpc:
		p.mode = driver.NetworkModeAWSVPC
	case ecs.NetworkHost:
		p.mode = driver.NetworkModeHost
	case ecs.NetworkNone:
		p.mode = driver.NetworkModeNone
	default:
		return nil, planErrorf("ResourceInitializationError: unsupported network mode %q", td.NetworkMode)
	}

	taskLabels := map[string]string{driver.LabelTaskARN: task.ARN}
	if cfg.Cluster != "" {
		taskLabels[driver.LabelCluster] = cfg.Cluster
	}
	if cfg.InstanceARN != "" {
		taskLabels[driver.LabelInstance] = cfg.InstanceARN
	}
	if cfg.Owner != "" {
		taskLabels[driver.LabelOwner] = cfg.Owner
	}

	// Volumes: what each ECS volume mounts as.
	type source struct {
		typ  driver.MountType
		name string
	}
	sources := map[string]source{}
	var taskVolumes []string
	for _, v := range td.Volumes {
		switch {
		case v.EfsVolumeConfiguration != nil:
			return nil, planErrorf("ResourceInitializationError: EFS volumes are not supported (volume %s)", v.Name)
		case v.FsxWindowsFileServerVolumeConf != nil:
			return nil, planErrorf("ResourceInitializationError: FSx volumes are not supported (volume %s)", v.Name)
		case v.ConfiguredAtLaunch != nil && *v.ConfiguredAtLaunch:
			return nil, planErrorf("ResourceInitializationError: volumes configured at launch are not supported (volume %s)", v.Name)
		case v.DockerVolumeConfiguration != nil:
			dv := v.DockerVolumeConfiguration
			if dv.Scope == "shared" {
				p.volumes = append(p.volumes, volumePlan{name: dockerName(v.Name), labels: maps.Clone(dv.Labels)})
				sources[v.Name] = source{driver.MountTypeVolume, dockerName(v.Name)}
				continue
			}
			name := TaskVolumeName(td.Family, td.Revision, v.Name, id)
			labels := maps.Clone(dv.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			maps.Copy(labels, taskLabels)
			p.volumes = append(p.volumes, volumePlan{name: name, labels: labels, taskScoped: true})
			sources[v.Name] = source{driver.MountTypeVolume, name}
			taskVolumes = append(taskVolumes, name)
		case v.Host != nil && v.Host.SourcePath != "":
			sources[v.Name] = source{driver.MountTypeBind, v.Host.SourcePath}
		default:
			// An empty host volume: a scratch volume the task's containers
			// share, living as long as the task.
			name := TaskVolumeName(td.Family, td.Revision, v.Name, id)
			p.volumes = append(p.volumes, volumePlan{name: name, labels: maps.Clone(taskLabels), taskScoped: true})
			sources[v.Name] = source{driver.MountTypeVolume, name}
			taskVolumes = append(taskVolumes, name)
		}
	}

	taskCPU, taskMem := 0, 0
	if td.CPU != "" {
		taskCPU, _ = ecs.ParseCPU(td.CPU)
	}
	if task.Overrides.CPU != "" {
		if c, err := ecs.ParseCPU(task.Overrides.CPU); err == nil {
			taskCPU = c
		}
	}
	if td.Memory != "" {
		taskMem, _ = ecs.ParseMemory(td.Memory)
	}
	if task.Overrides.Memory != "" {
		if m, err := ecs.ParseMemory(task.Overrides.Memory); err == nil {
			taskMem = m
		}
	}
	if taskCPU > 0 || taskMem > 0 {
		// The task's size is enforced on the task as a whole, like the ECS
		// agent's task cgroup.
		p.resources = &driver.TaskResources{ID: TaskResourcesID(id), CPUUnits: int64(taskCPU), MemoryMiB: int64(taskMem)}
	}

	names := map[string]bool{}
	for _, d := range defs {
		names[d.Name] = true
	}
	var netSpec driver.TaskNetworkSpec
	for i := range defs {
		d := &defs[i]
		cp := &containerPlan{
			name:        d.Name,
			essential:   d.Essential == nil || *d.Essential,
			sourceImage: d.Image,
			image:       d.Image,
			dependsOn:   slices.Clone(d.DependsOn),
			secrets:     slices.Clone(d.Secrets),
			logConfig:   d.LogConfiguration,
			stopTimeout: cfg.StopTimeout,
		}
		if cfg.ImageRewrite != nil {
			cp.image = cfg.ImageRewrite(d.Image)
		}
		if d.StopTimeout != nil {
			cp.stopTimeout = time.Duration(*d.StopTimeout) * time.Second
		}
		if d.StartTimeout != nil && *d.StartTimeout > 0 {
			cp.startTimeout = time.Duration(*d.StartTimeout) * time.Second
		}
		for _, dep := range d.DependsOn {
			if !names[dep.ContainerName] {
				return nil, planErrorf("ResourceInitializationError: container %s depends on unknown container %s", d.Name, dep.ContainerName)
			}
		}

		s := driver.ContainerSpec{
			Name:                   ContainerName(td.Family, td.Revision, d.Name, id),
			Image:                  cp.image,
			WorkingDir:             d.WorkingDirectory,
			User:                   d.User,
			ReadonlyRootFilesystem: d.ReadonlyRootFilesystem != nil && *d.ReadonlyRootFilesystem,
			Privileged:             d.Privileged != nil && *d.Privileged,
			StopTimeout:            cp.stopTimeout,
		}
		if len(d.EntryPoint) > 0 {
			s.Entrypoint = slices.Clone(d.EntryPoint)
		}
		if len(d.Command) > 0 {
			s.Command = slices.Clone(d.Command)
		}
		s.Env = map[string]string{}
		for _, e := range d.Environment {
			s.Env[e.Name] = e.Value
		}
		if cfg.ExtraEnv != nil {
			maps.Copy(s.Env, cfg.ExtraEnv(task, d.Name))
		}

		// Labels: the definition's docker labels, then berth's and ECS's,
		// which win.
		s.Labels = maps.Clone(d.DockerLabels)
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for k := range s.Labels {
			if strings.HasPrefix(k, driver.LabelDriverPrefix) {
				delete(s.Labels, k)
			}
		}
		maps.Copy(s.Labels, taskLabels)
		s.Labels[driver.LabelContainerName] = d.Name
		s.Labels[LabelEssential] = strconv.FormatBool(cp.essential)
		s.Labels[LabelStopTimeout] = cp.stopTimeout.String()
		s.Labels[LabelTaskDefFamily] = td.Family
		s.Labels[LabelTaskDefRev] = strconv.Itoa(td.Revision)
		s.Labels[LabelImage] = d.Image
		s.Labels[LabelIndex] = strconv.Itoa(i)
		if len(d.DependsOn) > 0 {
			deps := make([]string, 0, len(d.DependsOn))
			for _, dep := range d.DependsOn {
				deps = append(deps, dep.ContainerName+":"+dep.Condition)
			}
			s.Labels[LabelDependsOn] = strings.Join(deps, ",")
		}
		if len(taskVolumes) > 0 {
			s.Labels[LabelTaskVolumes] = strings.Join(taskVolumes, ",")
		}
		if cp.restart = newRestartPolicy(d.RestartPolicy); cp.restart != nil {
			s.Labels[LabelRestartPolicy] = cp.restart.label()
		}
		s.Labels[ecsLabelTaskARN] = task.ARN
		s.Labels[ecsLabelContainer] = d.Name
		s.Labels[ecsLabelFamily] = td.Family
		s.Labels[ecsLabelRevision] = strconv.Itoa(td.Revision)
		if task.ClusterARN != "" {
			s.Labels[ecsLabelClusterARN] = task.ClusterARN
		}

		// Resources. ECS passes cpu units as CPU shares (at least 2); a
		// container without units in a task with a task-level size gets the
		// task's units, as its share of the host.
		shares := d.CPU
		if shares == 0 && taskCPU > 0 {
			shares = taskCPU
		}
		s.CPUShares = int64(min(max(shares, minCPUShares), maxCPUShares))
		if d.Memory != nil {
			s.MemoryMiB = int64(*d.Memory)
		}
		if d.MemoryReservation != nil {
			s.MemoryReservationMiB = int64(*d.MemoryReservation)
		}
		s.TaskResources = p.resources
		for _, u := range d.Ulimits {
			s.Ulimits = append(s.Ulimits, driver.Ulimit{Name: u.Name, Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
		}
		if lp := d.LinuxParameters; lp != nil {
			s.Init = lp.InitProcessEnabled != nil && *lp.InitProcessEnabled
			if lp.Capabilities != nil {
				s.CapAdd = slices.Clone(lp.Capabilities.Add)
				s.CapDrop = slices.Clone(lp.Capabilities.Drop)
			}
			if lp.MaxSwap != nil && *lp.MaxSwap > 0 {
				s.SwapMiB = int64(*lp.MaxSwap)
			}
			for _, tf := range lp.Tmpfs {
				s.Mounts = append(s.Mounts, driver.Mount{Type: driver.MountTypeTmpfs, Target: tf.ContainerPath, SizeMiB: int64(tf.Size)})
			}
		}

		for _, mp := range d.MountPoints {
			src, ok := sources[mp.SourceVolume]
			if !ok {
				return nil, planErrorf("ResourceInitializationError: container %s mounts unknown volume %s", d.Name, mp.SourceVolume)
			}
			s.Mounts = append(s.Mounts, driver.Mount{
				Type: src.typ, Source: src.name, Target: mp.ContainerPath,
				ReadOnly: mp.ReadOnly != nil && *mp.ReadOnly,
			})
		}
		for _, vf := range d.VolumesFrom {
			if !names[vf.SourceContainer] {
				return nil, planErrorf("ResourceInitializationError: container %s takes volumes from unknown container %s", d.Name, vf.SourceContainer)
			}
			ref := ContainerName(td.Family, td.Revision, vf.SourceContainer, id)
			if vf.ReadOnly != nil && *vf.ReadOnly {
				ref += ":ro"
			}
			s.VolumesFrom = append(s.VolumesFrom, ref)
			cp.volumesFrom = append(cp.volumesFrom, vf.SourceContainer)
		}

		if hc := d.HealthCheck; hc != nil && len(hc.Command) > 0 && hc.Command[0] != "NONE" {
			cp.healthCheck = true
			s.Labels[LabelHealthCheck] = "true"
			s.HealthCheck = &driver.HealthCheck{
				Command:     slices.Clone(hc.Command),
				Interval:    seconds(hc.Interval, defaultHealthInterval),
				Timeout:     seconds(hc.Timeout, defaultHealthTimeout),
				Retries:     defaultHealthRetries,
				StartPeriod: seconds(hc.StartPeriod, 0),
			}
			if hc.Retries != nil {
				s.HealthCheck.Retries = *hc.Retries
			}
		}

		// Networking.
		mode := p.mode
		if d.DisableNetworking != nil && *d.DisableNetworking && mode == driver.NetworkModeBridge {
			mode = driver.NetworkModeNone
		}
		s.Network.Mode = mode
		var pms []driver.PortMapping
		for _, pm := range d.PortMappings {
			if pm.ContainerPort == nil {
				continue // port ranges are not supported
			}
			m := driver.PortMapping{ContainerPort: *pm.ContainerPort, Protocol: driver.Protocol(pm.Protocol)}
			if m.Protocol == "" {
				m.Protocol = driver.ProtocolTCP
			}
			if pm.HostPort != nil {
				m.HostPort = *pm.HostPort
			}
			pms = append(pms, m)
		}
		switch mode {
		case driver.NetworkModeBridge:
			s.Network.PortMappings = pms
			s.Hostname = d.Hostname
			s.DNSServers = slices.Clone(d.DNSServers)
			s.ExtraHosts = hosts(d.ExtraHosts)
		case driver.NetworkModeAWSVPC:
			s.Network.PortMappings = pms
			netSpec.PortMappings = append(netSpec.PortMappings, pms...)
			if len(netSpec.DNSServers) == 0 {
				netSpec.DNSServers = slices.Clone(d.DNSServers)
			}
			netSpec.ExtraHosts = append(netSpec.ExtraHosts, hosts(d.ExtraHosts)...)
		case driver.NetworkModeHost:
			for _, m := range pms {
				cp.hostPorts = append(cp.hostPorts, driver.NetworkBinding{
					BindIP: "0.0.0.0", ContainerPort: m.ContainerPort, HostPort: m.ContainerPort, Protocol: m.Protocol,
				})
			}
		case driver.NetworkModeNone:
			s.Hostname = d.Hostname
		}
		cp.spec = s
		p.containers = append(p.containers, cp)
	}
	if p.mode == driver.NetworkModeAWSVPC {
		netSpec.Name = NetworkName(id)
		netSpec.Labels = maps.Clone(taskLabels)
		p.network = &netSpec
	}
	return p, nil
}

func seconds(p *int, def int) time.Duration {
	if p == nil {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*p) * time.Second
}

func hosts(hs []ecs.HostEntry) []driver.Host {
	var out []driver.Host
	for _, h := range hs {
		out = append(out, driver.Host{Hostname: h.Hostname, IPAddress: h.IPAddress})
	}
	return out
}

// parseDependsOn parses LabelDependsOn.
func parseDependsOn(s string) []ecs.ContainerDependency {
	var out []ecs.ContainerDependency
	for part := range strings.SplitSeq(s, ",") {
		name, cond, ok := strings.Cut(part, ":")
		if ok && name != "" {
			out = append(out, ecs.ContainerDependency{ContainerName: name, Condition: cond})
		}
	}
	return out
}

// splitList parses a comma-separated label.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}
