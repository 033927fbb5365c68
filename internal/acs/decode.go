package acs

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
)

// Definition reads an ACS task back into the task and task definition an
// agent runs: everything the task's containers are to get, as the domain
// describes it, with the overrides already applied (the returned task has
// none). The definition is nil for a task sent only to be stopped (no
// containers); an error means the task cannot be read.
func (t *Task) Definition() (*ecs.Task, *ecs.TaskDefinition, error) {
	task := &ecs.Task{
		ARN: t.ARN, ID: ecs.TaskIDFromARN(t.ARN), ClusterARN: t.TaskClusterARN, DesiredStatus: t.DesiredStatus,
		LaunchType: t.LaunchType, Group: t.Group,
	}
	for _, eni := range t.ElasticNetworkInterfaces {
		id := eni.AttachmentARN
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			id = id[i+1:]
		}
		task.Attachments = append(task.Attachments, ecs.Attachment{
			ID: id, Type: ecs.AttachmentENI,
			Details: []ecs.KeyValuePair{{Name: "networkInterfaceId", Value: eni.Ec2ID}, {Name: "macAddress", Value: eni.MACAddress}},
		})
	}
	if len(t.Containers) == 0 {
		return task, nil, nil
	}
	rev, err := strconv.Atoi(t.Version)
	if err != nil {
		return task, nil, fmt.Errorf("acs: task %s: invalid version %q", t.ARN, t.Version)
	}
	td := &ecs.TaskDefinition{
		Family: t.Family, Revision: rev, Status: ecs.TaskDefActive,
		NetworkMode: t.NetworkMode, PidMode: t.PidMode, IpcMode: t.IpcMode, TaskRoleARN: t.TaskRoleARN,
	}
	if p, ok := ecs.ParseARN(t.ARN); ok {
		td.ARN = ecs.Scope{Account: p.Account, Region: p.Region}.TaskDefinitionARN(t.Family, rev)
	}
	if t.CPU > 0 {
		td.CPU = strconv.Itoa(int(math.Round(t.CPU * 1024)))
		task.CPU = td.CPU
	}
	if t.Memory > 0 {
		td.Memory = strconv.Itoa(t.Memory)
		task.Memory = td.Memory
	}
	for _, v := range t.Volumes {
		td.Volumes = append(td.Volumes, v.volume())
	}
	for i := range t.Containers {
		cd, err := t.Containers[i].definition()
		if err != nil {
			return task, nil, fmt.Errorf("acs: task %s: %w", t.ARN, err)
		}
		td.ContainerDefinitions = append(td.ContainerDefinitions, cd)
		task.Containers = append(task.Containers, ecs.Container{ContainerARN: t.Containers[i].ContainerARN, Name: cd.Name, Image: cd.Image})
	}
	return task, td, nil
}

func (v Volume) volume() ecs.Volume {
	out := ecs.Volume{Name: v.Name}
	switch {
	case v.DockerVolumeConfiguration != nil:
		dv := v.DockerVolumeConfiguration
		out.DockerVolumeConfiguration = &ecs.DockerVolumeConfiguration{
			Scope: dv.Scope, Autoprovision: dv.Autoprovision, Driver: dv.Driver, DriverOpts: dv.DriverOpts, Labels: dv.Labels,
		}
	case v.Host != nil && v.Host.SourcePath != "":
		out.Host = &ecs.HostVolumeProperties{SourcePath: v.Host.SourcePath}
	default:
		out.Host = &ecs.HostVolumeProperties{}
	}
	return out
}

func boolPtr(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// definition reads an ACS container back into a container definition.
func (c *Container) definition() (ecs.ContainerDefinition, error) {
	essential := c.Essential
	cd := ecs.ContainerDefinition{
		Name: c.Name, Image: c.Image, CPU: c.CPU, Essential: &essential,
		Command: slices.Clone(c.Command), EntryPoint: slices.Clone(c.EntryPoint), Links: slices.Clone(c.Links),
		Privileged: c.Privileged, StartTimeout: c.StartTimeout, StopTimeout: c.StopTimeout,
	}
	if c.Memory > 0 {
		m := c.Memory
		cd.Memory = &m
	}
	names := make([]string, 0, len(c.Environment))
	for k := range c.Environment {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		cd.Environment = append(cd.Environment, ecs.KeyValuePair{Name: k, Value: c.Environment[k]})
	}
	for _, f := range c.EnvironmentFiles {
		cd.EnvironmentFiles = append(cd.EnvironmentFiles, ecs.EnvironmentFile{Value: f.Value, Type: f.Type})
	}
	for _, pm := range c.PortMappings {
		m := ecs.PortMapping{Protocol: pm.Protocol, ContainerPortRange: pm.ContainerPortRange}
		if pm.ContainerPort != 0 {
			cp := pm.ContainerPort
			m.ContainerPort = &cp
		}
		if pm.HostPort != 0 {
			hp := pm.HostPort
			m.HostPort = &hp
		}
		cd.PortMappings = append(cd.PortMappings, m)
	}
	for _, mp := range c.MountPoints {
		cd.MountPoints = append(cd.MountPoints, ecs.MountPoint{SourceVolume: mp.SourceVolume, ContainerPath: mp.ContainerPath, ReadOnly: boolPtr(mp.ReadOnly)})
	}
	for _, vf := range c.VolumesFrom {
		cd.VolumesFrom = append(cd.VolumesFrom, ecs.VolumeFrom{SourceContainer: vf.SourceContainer, ReadOnly: boolPtr(vf.ReadOnly)})
	}
	for _, d := range c.DependsOn {
		cd.DependsOn = append(cd.DependsOn, ecs.ContainerDependency{ContainerName: d.ContainerName, Condition: d.Condition})
	}
	var logSecrets []ecs.Secret
	for _, s := range c.Secrets {
		if s.Target == SecretTargetLogDriver {
			logSecrets = append(logSecrets, ecs.Secret{Name: s.Name, ValueFrom: s.ValueFrom})
			continue
		}
		cd.Secrets = append(cd.Secrets, ecs.Secret{Name: s.Name, ValueFrom: s.ValueFrom})
	}
	if rp := c.RestartPolicy; rp != nil {
		cd.RestartPolicy = &ecs.RestartPolicy{Enabled: rp.Enabled, IgnoredExitCodes: slices.Clone(rp.IgnoredExitCodes), RestartAttemptPeriod: rp.RestartAttemptPeriod}
	}
	if f := c.FirelensConfiguration; f != nil {
		cd.FirelensConfiguration = &ecs.FirelensConfiguration{Type: f.Type, Options: f.Options}
	}
	lp := &ecs.LinuxParameters{}
	if l := c.LinuxParameters; l != nil {
		lp.InitProcessEnabled, lp.SharedMemorySize = l.InitProcessEnabled, l.SharedMemorySize
		if l.Capabilities != nil {
			lp.Capabilities = &ecs.KernelCapabilities{Add: slices.Clone(l.Capabilities.Add), Drop: slices.Clone(l.Capabilities.Drop)}
		}
		for _, d := range l.Devices {
			lp.Devices = append(lp.Devices, ecs.Device{HostPath: d.HostPath, ContainerPath: d.ContainerPath, Permissions: slices.Clone(d.Permissions)})
		}
	}
	if dc := c.DockerConfig; dc != nil {
		if err := readDockerConfig(dc, c.HealthCheckType, &cd, lp); err != nil {
			return cd, fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	if cd.LogConfiguration != nil {
		cd.LogConfiguration.SecretOptions = logSecrets
	}
	if lp.Capabilities != nil || len(lp.Devices) > 0 || lp.InitProcessEnabled != nil || lp.SharedMemorySize != nil ||
		len(lp.Tmpfs) > 0 || lp.MaxSwap != nil || lp.Swappiness != nil {
		cd.LinuxParameters = lp
	}
	return cd, nil
}

// readDockerConfig reads the Docker JSON of a container into its
// definition.
func readDockerConfig(dc *DockerConfig, healthCheckType string, cd *ecs.ContainerDefinition, lp *ecs.LinuxParameters) error {
	if dc.Config != "" {
		var cfg dockerContainerConfig
		if err := json.Unmarshal([]byte(dc.Config), &cfg); err != nil {
			return fmt.Errorf("undecodable dockerConfig.config: %w", err)
		}
		cd.Hostname, cd.User, cd.WorkingDirectory = cfg.Hostname, cfg.User, cfg.WorkingDir
		cd.PseudoTerminal, cd.Interactive, cd.DisableNetworking = boolPtr(cfg.Tty), boolPtr(cfg.OpenStdin), boolPtr(cfg.NetworkDisabled)
		cd.DockerLabels = cfg.Labels
		if hc := cfg.Healthcheck; hc != nil && healthCheckType == HealthCheckDocker {
			retries := hc.Retries
			cd.HealthCheck = &ecs.HealthCheck{
				Command: slices.Clone(hc.Test), Interval: nanosToSeconds(hc.Interval), Timeout: nanosToSeconds(hc.Timeout),
				StartPeriod: nanosToSeconds(hc.StartPeriod), Retries: &retries,
			}
		}
	}
	if dc.HostConfig != "" {
		var host dockerHostConfig
		if err := json.Unmarshal([]byte(dc.HostConfig), &host); err != nil {
			return fmt.Errorf("undecodable dockerConfig.hostConfig: %w", err)
		}
		if host.Privileged {
			cd.Privileged = boolPtr(true)
		}
		cd.ReadonlyRootFilesystem = boolPtr(host.ReadonlyRootfs)
		if host.MemoryReservation > 0 {
			r := int(host.MemoryReservation / mib)
			cd.MemoryReservation = &r
		}
		for _, u := range host.Ulimits {
			cd.Ulimits = append(cd.Ulimits, ecs.Ulimit{Name: u.Name, SoftLimit: int(u.Soft), HardLimit: int(u.Hard)})
		}
		if lc := host.LogConfig; lc != nil {
			cd.LogConfiguration = &ecs.LogConfiguration{LogDriver: lc.Type, Options: lc.Config}
		}
		cd.DNSServers, cd.DNSSearchDomains, cd.DockerSecurityOptions = host.DNS, host.DNSSearch, host.SecurityOpt
		for _, h := range host.ExtraHosts {
			name, ip, _ := strings.Cut(h, ":")
			cd.ExtraHosts = append(cd.ExtraHosts, ecs.HostEntry{Hostname: name, IPAddress: ip})
		}
		ns := make([]string, 0, len(host.Sysctls))
		for k := range host.Sysctls {
			ns = append(ns, k)
		}
		slices.Sort(ns)
		for _, k := range ns {
			cd.SystemControls = append(cd.SystemControls, ecs.SystemControl{Namespace: k, Value: host.Sysctls[k]})
		}
		paths := make([]string, 0, len(host.Tmpfs))
		for p := range host.Tmpfs {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			size, opts := parseTmpfsOptions(host.Tmpfs[p])
			lp.Tmpfs = append(lp.Tmpfs, ecs.Tmpfs{ContainerPath: p, Size: size, MountOptions: opts})
		}
		if host.MemorySwap > 0 && cd.Memory != nil {
			s := int(host.MemorySwap/mib) - *cd.Memory
			lp.MaxSwap = &s
		}
		if host.MemorySwappiness != nil {
			s := int(*host.MemorySwappiness)
			lp.Swappiness = &s
		}
	}
	return nil
}
