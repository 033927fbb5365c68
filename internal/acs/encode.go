package acs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
)

// NewTask builds the ACS task for a stored task and its definition: the
// definition with the task's overrides applied, in ACS's shape. td may be
// nil for a task that is only to be stopped.
func NewTask(t *ecs.Task, td *ecs.TaskDefinition) Task {
	out := Task{
		ARN: t.ARN, TaskClusterARN: t.ClusterARN, DesiredStatus: t.DesiredStatus,
		LaunchType: t.LaunchType, Group: t.Group, Containers: []Container{},
	}
	if svc, ok := strings.CutPrefix(t.Group, "service:"); ok {
		out.ServiceName = svc
	}
	if p, ok := ecs.ParseARN(t.ARN); ok {
		out.TaskDefinitionAccountID = p.Account
	}
	for _, a := range t.Attachments {
		if a.Type == ecs.AttachmentENI {
			out.ElasticNetworkInterfaces = append(out.ElasticNetworkInterfaces, ElasticNetworkInterface{
				AttachmentARN: AttachmentARN(t, a.ID), Ec2ID: a.Detail("networkInterfaceId"), MACAddress: a.Detail("macAddress"),
			})
		}
	}
	if td == nil {
		return out
	}
	out.Family, out.Version = td.Family, strconv.Itoa(td.Revision)
	out.TaskRoleARN = td.TaskRoleARN
	if t.Overrides.TaskRoleARN != "" {
		out.TaskRoleARN = t.Overrides.TaskRoleARN
	}
	out.NetworkMode, out.PidMode, out.IpcMode = td.NetworkMode, td.PidMode, td.IpcMode
	cpu, mem := taskSize(td, &t.Overrides)
	if cpu > 0 {
		out.CPU = float64(cpu) / 1024
	}
	out.Memory = mem
	for _, v := range td.Volumes {
		out.Volumes = append(out.Volumes, newVolume(v))
	}
	defs, err := ecs.ApplyContainerOverrides(td, &t.Overrides, "")
	if err != nil {
		// RunTask validated the overrides; a definition that no longer
		// takes them runs as registered.
		defs = td.ContainerDefinitions
	}
	for i := range defs {
		c := newContainer(&defs[i])
		if tc := t.Container(defs[i].Name); tc != nil {
			c.ContainerARN = tc.ContainerARN
		}
		out.Containers = append(out.Containers, c)
	}
	return out
}

// taskSize returns the task-level cpu units and memory MiB of a task: its
// overrides', else its definition's; 0 where it has none.
func taskSize(td *ecs.TaskDefinition, o *ecs.TaskOverride) (cpu, mem int) {
	if td.CPU != "" {
		cpu, _ = ecs.ParseCPU(td.CPU)
	}
	if o.CPU != "" {
		if c, err := ecs.ParseCPU(o.CPU); err == nil {
			cpu = c
		}
	}
	if td.Memory != "" {
		mem, _ = ecs.ParseMemory(td.Memory)
	}
	if o.Memory != "" {
		if m, err := ecs.ParseMemory(o.Memory); err == nil {
			mem = m
		}
	}
	return cpu, mem
}

func newVolume(v ecs.Volume) Volume {
	out := Volume{Name: v.Name, Type: VolumeTypeHost}
	switch {
	case v.DockerVolumeConfiguration != nil:
		dv := v.DockerVolumeConfiguration
		out.Type = VolumeTypeDocker
		out.DockerVolumeConfiguration = &DockerVolumeConfiguration{
			Scope: dv.Scope, Autoprovision: dv.Autoprovision, Driver: dv.Driver, DriverOpts: dv.DriverOpts, Labels: dv.Labels,
		}
		if out.DockerVolumeConfiguration.Scope == "" {
			out.DockerVolumeConfiguration.Scope = "task"
		}
	case v.Host != nil && v.Host.SourcePath != "":
		out.Host = &HostVolumeProperties{SourcePath: v.Host.SourcePath}
	default:
		out.Host = &HostVolumeProperties{}
	}
	return out
}

func secretProvider(valueFrom string) string {
	if strings.Contains(valueFrom, ":secretsmanager:") {
		return SecretProviderASM
	}
	return SecretProviderSSM
}

func newContainer(cd *ecs.ContainerDefinition) Container {
	c := Container{
		Name: cd.Name, Image: cd.Image, Command: slices.Clone(cd.Command), EntryPoint: slices.Clone(cd.EntryPoint),
		CPU: cd.CPU, Essential: cd.Essential == nil || *cd.Essential, Links: slices.Clone(cd.Links),
		Privileged: cd.Privileged, StartTimeout: cd.StartTimeout, StopTimeout: cd.StopTimeout,
	}
	if cd.Memory != nil {
		c.Memory = *cd.Memory
	}
	if len(cd.Environment) > 0 {
		c.Environment = make(map[string]string, len(cd.Environment))
		for _, e := range cd.Environment {
			c.Environment[e.Name] = e.Value
		}
	}
	for _, f := range cd.EnvironmentFiles {
		c.EnvironmentFiles = append(c.EnvironmentFiles, EnvironmentFile{Value: f.Value, Type: f.Type})
	}
	for _, pm := range cd.PortMappings {
		m := PortMapping{Protocol: pm.Protocol, ContainerPortRange: pm.ContainerPortRange}
		if m.Protocol == "" {
			m.Protocol = "tcp"
		}
		if pm.ContainerPort != nil {
			m.ContainerPort = *pm.ContainerPort
		}
		if pm.HostPort != nil {
			m.HostPort = *pm.HostPort
		}
		c.PortMappings = append(c.PortMappings, m)
	}
	for _, mp := range cd.MountPoints {
		c.MountPoints = append(c.MountPoints, MountPoint{SourceVolume: mp.SourceVolume, ContainerPath: mp.ContainerPath, ReadOnly: mp.ReadOnly != nil && *mp.ReadOnly})
	}
	for _, vf := range cd.VolumesFrom {
		c.VolumesFrom = append(c.VolumesFrom, VolumeFrom{SourceContainer: vf.SourceContainer, ReadOnly: vf.ReadOnly != nil && *vf.ReadOnly})
	}
	for _, d := range cd.DependsOn {
		c.DependsOn = append(c.DependsOn, ContainerDependency{ContainerName: d.ContainerName, Condition: d.Condition})
	}
	for _, s := range cd.Secrets {
		c.Secrets = append(c.Secrets, Secret{
			Name: s.Name, ValueFrom: s.ValueFrom, Type: SecretTypeEnv, Provider: secretProvider(s.ValueFrom), Target: SecretTargetContainer,
		})
	}
	if rp := cd.RestartPolicy; rp != nil {
		c.RestartPolicy = &RestartPolicy{Enabled: rp.Enabled, IgnoredExitCodes: slices.Clone(rp.IgnoredExitCodes), RestartAttemptPeriod: rp.RestartAttemptPeriod}
	}
	if f := cd.FirelensConfiguration; f != nil {
		c.FirelensConfiguration = &FirelensConfiguration{Type: f.Type, Options: f.Options}
	}
	if lp := cd.LinuxParameters; lp != nil {
		l := &LinuxParameters{InitProcessEnabled: lp.InitProcessEnabled, SharedMemorySize: lp.SharedMemorySize}
		if lp.Capabilities != nil {
			l.Capabilities = &KernelCapabilities{Add: slices.Clone(lp.Capabilities.Add), Drop: slices.Clone(lp.Capabilities.Drop)}
		}
		for _, d := range lp.Devices {
			l.Devices = append(l.Devices, Device{HostPath: d.HostPath, ContainerPath: d.ContainerPath, Permissions: slices.Clone(d.Permissions)})
		}
		if l.Capabilities != nil || len(l.Devices) > 0 || l.InitProcessEnabled != nil || l.SharedMemorySize != nil {
			c.LinuxParameters = l
		}
	}
	if cd.HealthCheck != nil && len(cd.HealthCheck.Command) > 0 && cd.HealthCheck.Command[0] != "NONE" {
		c.HealthCheckType = HealthCheckDocker
	}
	var hostSecrets []Secret
	c.DockerConfig, hostSecrets = newDockerConfig(cd)
	c.Secrets = append(c.Secrets, hostSecrets...)
	return c
}

// ECS's health check defaults (seconds), for definitions that were not
// normalised by RegisterTaskDefinition.
const (
	defaultHealthInterval = 30
	defaultHealthTimeout  = 5
	defaultHealthRetries  = 3
)

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// newDockerConfig renders what ACS has no member for as Docker JSON, and
// returns the log driver's secrets (which travel as LOG_DRIVER secrets).
func newDockerConfig(cd *ecs.ContainerDefinition) (*DockerConfig, []Secret) {
	cfg := dockerContainerConfig{
		Hostname: cd.Hostname, User: cd.User, WorkingDir: cd.WorkingDirectory,
		Tty: cd.PseudoTerminal != nil && *cd.PseudoTerminal, OpenStdin: cd.Interactive != nil && *cd.Interactive,
		NetworkDisabled: cd.DisableNetworking != nil && *cd.DisableNetworking, Labels: cd.DockerLabels,
	}
	version := 17
	if len(cd.DockerLabels) > 0 {
		version = max(version, 18)
	}
	if hc := cd.HealthCheck; hc != nil && len(hc.Command) > 0 && hc.Command[0] != "NONE" {
		cfg.Healthcheck = &dockerHealthcheck{
			Test:        slices.Clone(hc.Command),
			Interval:    secondsToNanos(intOr(hc.Interval, defaultHealthInterval)),
			Timeout:     secondsToNanos(intOr(hc.Timeout, defaultHealthTimeout)),
			StartPeriod: secondsToNanos(intOr(hc.StartPeriod, 0)),
			Retries:     intOr(hc.Retries, defaultHealthRetries),
		}
		version = max(version, 24)
	}
	host := dockerHostConfig{
		Privileged: cd.Privileged != nil && *cd.Privileged, ReadonlyRootfs: cd.ReadonlyRootFilesystem != nil && *cd.ReadonlyRootFilesystem,
		DNS: cd.DNSServers, DNSSearch: cd.DNSSearchDomains, SecurityOpt: cd.DockerSecurityOptions,
	}
	if cd.MemoryReservation != nil {
		host.MemoryReservation = int64(*cd.MemoryReservation) * mib
	}
	for _, u := range cd.Ulimits {
		host.Ulimits = append(host.Ulimits, dockerUlimit{Name: u.Name, Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
	}
	if len(host.Ulimits) > 0 {
		version = max(version, 18)
	}
	var secrets []Secret
	if lc := cd.LogConfiguration; lc != nil {
		host.LogConfig = &dockerLogConfig{Type: lc.LogDriver, Config: lc.Options}
		version = max(version, 18)
		for _, s := range lc.SecretOptions {
			secrets = append(secrets, Secret{
				Name: s.Name, ValueFrom: s.ValueFrom, Type: SecretTypeEnv, Provider: secretProvider(s.ValueFrom), Target: SecretTargetLogDriver,
			})
		}
	}
	for _, h := range cd.ExtraHosts {
		host.ExtraHosts = append(host.ExtraHosts, h.Hostname+":"+h.IPAddress)
	}
	for _, sc := range cd.SystemControls {
		if host.Sysctls == nil {
			host.Sysctls = map[string]string{}
		}
		host.Sysctls[sc.Namespace] = sc.Value
	}
	if lp := cd.LinuxParameters; lp != nil {
		for _, tf := range lp.Tmpfs {
			if host.Tmpfs == nil {
				host.Tmpfs = map[string]string{}
			}
			host.Tmpfs[tf.ContainerPath] = tmpfsOptions(tf.Size, tf.MountOptions)
		}
		if lp.MaxSwap != nil && cd.Memory != nil {
			host.MemorySwap = int64(*cd.Memory+max(*lp.MaxSwap, 0)) * mib
		}
		if lp.Swappiness != nil {
			v := int64(*lp.Swappiness)
			host.MemorySwappiness = &v
		}
		if lp.InitProcessEnabled != nil && *lp.InitProcessEnabled {
			version = max(version, 25)
		}
	}
	dc := &DockerConfig{Version: fmt.Sprintf("1.%d", version)}
	// Both documents hold only strings, numbers and string maps: they
	// always encode.
	dc.Config, _ = marshalIfAny(cfg)
	dc.HostConfig, _ = marshalIfAny(host)
	return dc, secrets
}

// AttachmentARN returns the ARN of a task's attachment.
func AttachmentARN(t *ecs.Task, id string) string {
	p, ok := ecs.ParseARN(t.ARN)
	if !ok {
		return id
	}
	return ecs.Scope{Account: p.Account, Region: p.Region}.ARN("attachment/" + id)
}
