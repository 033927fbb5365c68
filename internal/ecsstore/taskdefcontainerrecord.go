package ecsstore

import (
	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a task definition's container definitions (part of
// the taskdefs/ records, taskdefrecord.go).

// containerDefinitionRecord is the stored form of ecs.ContainerDefinition.
type containerDefinitionRecord struct {
	Name                   string                       `json:"name,omitempty"`
	Image                  string                       `json:"image,omitempty"`
	RepositoryCredentials  *repositoryCredentialsRecord `json:"repositoryCredentials,omitempty"`
	CPU                    int                          `json:"cpu,omitempty"`
	Memory                 *int                         `json:"memory,omitempty"`
	MemoryReservation      *int                         `json:"memoryReservation,omitempty"`
	Links                  []string                     `json:"links,omitempty"`
	PortMappings           []portMappingRecord          `json:"portMappings"`
	Essential              *bool                        `json:"essential,omitempty"`
	RestartPolicy          *restartPolicyRecord         `json:"restartPolicy,omitempty"`
	EntryPoint             []string                     `json:"entryPoint,omitempty"`
	Command                []string                     `json:"command,omitempty"`
	Environment            []keyValuePairRecord         `json:"environment"`
	EnvironmentFiles       []environmentFileRecord      `json:"environmentFiles,omitempty"`
	MountPoints            []mountPointRecord           `json:"mountPoints"`
	VolumesFrom            []volumeFromRecord           `json:"volumesFrom"`
	LinuxParameters        *linuxParametersRecord       `json:"linuxParameters,omitempty"`
	Secrets                []secretRecord               `json:"secrets,omitempty"`
	DependsOn              []containerDependencyRecord  `json:"dependsOn,omitempty"`
	StartTimeout           *int                         `json:"startTimeout,omitempty"`
	StopTimeout            *int                         `json:"stopTimeout,omitempty"`
	VersionConsistency     string                       `json:"versionConsistency,omitempty"`
	Hostname               string                       `json:"hostname,omitempty"`
	User                   string                       `json:"user,omitempty"`
	WorkingDirectory       string                       `json:"workingDirectory,omitempty"`
	DisableNetworking      *bool                        `json:"disableNetworking,omitempty"`
	Privileged             *bool                        `json:"privileged,omitempty"`
	ReadonlyRootFilesystem *bool                        `json:"readonlyRootFilesystem,omitempty"`
	DNSServers             []string                     `json:"dnsServers,omitempty"`
	DNSSearchDomains       []string                     `json:"dnsSearchDomains,omitempty"`
	ExtraHosts             []hostEntryRecord            `json:"extraHosts,omitempty"`
	DockerSecurityOptions  []string                     `json:"dockerSecurityOptions,omitempty"`
	Interactive            *bool                        `json:"interactive,omitempty"`
	PseudoTerminal         *bool                        `json:"pseudoTerminal,omitempty"`
	DockerLabels           map[string]string            `json:"dockerLabels,omitempty"`
	Ulimits                []ulimitRecord               `json:"ulimits,omitempty"`
	LogConfiguration       *logConfigurationRecord      `json:"logConfiguration,omitempty"`
	HealthCheck            *healthCheckRecord           `json:"healthCheck,omitempty"`
	SystemControls         []systemControlRecord        `json:"systemControls"`
	ResourceRequirements   []resourceRequirementRecord  `json:"resourceRequirements,omitempty"`
	FirelensConfiguration  *firelensConfigurationRecord `json:"firelensConfiguration,omitempty"`
	CredentialSpecs        []string                     `json:"credentialSpecs,omitempty"`
}

func containerDefinitionRecordOf(v *ecs.ContainerDefinition) containerDefinitionRecord {
	return containerDefinitionRecord{
		Name:                   v.Name,
		Image:                  v.Image,
		RepositoryCredentials:  mapPtr(v.RepositoryCredentials, repositoryCredentialsRecordOf),
		CPU:                    v.CPU,
		Memory:                 v.Memory,
		MemoryReservation:      v.MemoryReservation,
		Links:                  v.Links,
		PortMappings:           mapSlice(v.PortMappings, portMappingRecordOf),
		Essential:              v.Essential,
		RestartPolicy:          mapPtr(v.RestartPolicy, restartPolicyRecordOf),
		EntryPoint:             v.EntryPoint,
		Command:                v.Command,
		Environment:            mapSlice(v.Environment, keyValuePairRecordOf),
		EnvironmentFiles:       mapSlice(v.EnvironmentFiles, environmentFileRecordOf),
		MountPoints:            mapSlice(v.MountPoints, mountPointRecordOf),
		VolumesFrom:            mapSlice(v.VolumesFrom, volumeFromRecordOf),
		LinuxParameters:        mapPtr(v.LinuxParameters, linuxParametersRecordOf),
		Secrets:                mapSlice(v.Secrets, secretRecordOf),
		DependsOn:              mapSlice(v.DependsOn, containerDependencyRecordOf),
		StartTimeout:           v.StartTimeout,
		StopTimeout:            v.StopTimeout,
		VersionConsistency:     v.VersionConsistency,
		Hostname:               v.Hostname,
		User:                   v.User,
		WorkingDirectory:       v.WorkingDirectory,
		DisableNetworking:      v.DisableNetworking,
		Privileged:             v.Privileged,
		ReadonlyRootFilesystem: v.ReadonlyRootFilesystem,
		DNSServers:             v.DNSServers,
		DNSSearchDomains:       v.DNSSearchDomains,
		ExtraHosts:             mapSlice(v.ExtraHosts, hostEntryRecordOf),
		DockerSecurityOptions:  v.DockerSecurityOptions,
		Interactive:            v.Interactive,
		PseudoTerminal:         v.PseudoTerminal,
		DockerLabels:           v.DockerLabels,
		Ulimits:                mapSlice(v.Ulimits, ulimitRecordOf),
		LogConfiguration:       mapPtr(v.LogConfiguration, logConfigurationRecordOf),
		HealthCheck:            mapPtr(v.HealthCheck, healthCheckRecordOf),
		SystemControls:         mapSlice(v.SystemControls, systemControlRecordOf),
		ResourceRequirements:   mapSlice(v.ResourceRequirements, resourceRequirementRecordOf),
		FirelensConfiguration:  mapPtr(v.FirelensConfiguration, firelensConfigurationRecordOf),
		CredentialSpecs:        v.CredentialSpecs,
	}
}

func (r *containerDefinitionRecord) domain() ecs.ContainerDefinition {
	return ecs.ContainerDefinition{
		Name:                   r.Name,
		Image:                  r.Image,
		RepositoryCredentials:  mapPtr(r.RepositoryCredentials, (*repositoryCredentialsRecord).domain),
		CPU:                    r.CPU,
		Memory:                 r.Memory,
		MemoryReservation:      r.MemoryReservation,
		Links:                  r.Links,
		PortMappings:           mapSlice(r.PortMappings, (*portMappingRecord).domain),
		Essential:              r.Essential,
		RestartPolicy:          mapPtr(r.RestartPolicy, (*restartPolicyRecord).domain),
		EntryPoint:             r.EntryPoint,
		Command:                r.Command,
		Environment:            mapSlice(r.Environment, (*keyValuePairRecord).domain),
		EnvironmentFiles:       mapSlice(r.EnvironmentFiles, (*environmentFileRecord).domain),
		MountPoints:            mapSlice(r.MountPoints, (*mountPointRecord).domain),
		VolumesFrom:            mapSlice(r.VolumesFrom, (*volumeFromRecord).domain),
		LinuxParameters:        mapPtr(r.LinuxParameters, (*linuxParametersRecord).domain),
		Secrets:                mapSlice(r.Secrets, (*secretRecord).domain),
		DependsOn:              mapSlice(r.DependsOn, (*containerDependencyRecord).domain),
		StartTimeout:           r.StartTimeout,
		StopTimeout:            r.StopTimeout,
		VersionConsistency:     r.VersionConsistency,
		Hostname:               r.Hostname,
		User:                   r.User,
		WorkingDirectory:       r.WorkingDirectory,
		DisableNetworking:      r.DisableNetworking,
		Privileged:             r.Privileged,
		ReadonlyRootFilesystem: r.ReadonlyRootFilesystem,
		DNSServers:             r.DNSServers,
		DNSSearchDomains:       r.DNSSearchDomains,
		ExtraHosts:             mapSlice(r.ExtraHosts, (*hostEntryRecord).domain),
		DockerSecurityOptions:  r.DockerSecurityOptions,
		Interactive:            r.Interactive,
		PseudoTerminal:         r.PseudoTerminal,
		DockerLabels:           r.DockerLabels,
		Ulimits:                mapSlice(r.Ulimits, (*ulimitRecord).domain),
		LogConfiguration:       mapPtr(r.LogConfiguration, (*logConfigurationRecord).domain),
		HealthCheck:            mapPtr(r.HealthCheck, (*healthCheckRecord).domain),
		SystemControls:         mapSlice(r.SystemControls, (*systemControlRecord).domain),
		ResourceRequirements:   mapSlice(r.ResourceRequirements, (*resourceRequirementRecord).domain),
		FirelensConfiguration:  mapPtr(r.FirelensConfiguration, (*firelensConfigurationRecord).domain),
		CredentialSpecs:        r.CredentialSpecs,
	}
}

// repositoryCredentialsRecord is the stored form of ecs.RepositoryCredentials.
type repositoryCredentialsRecord struct {
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
}

func repositoryCredentialsRecordOf(v *ecs.RepositoryCredentials) repositoryCredentialsRecord {
	return repositoryCredentialsRecord{
		CredentialsParameter: v.CredentialsParameter,
	}
}

func (r *repositoryCredentialsRecord) domain() ecs.RepositoryCredentials {
	return ecs.RepositoryCredentials{
		CredentialsParameter: r.CredentialsParameter,
	}
}

// portMappingRecord is the stored form of ecs.PortMapping.
type portMappingRecord struct {
	ContainerPort      *int   `json:"containerPort,omitempty"`
	HostPort           *int   `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	Name               string `json:"name,omitempty"`
	AppProtocol        string `json:"appProtocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
}

func portMappingRecordOf(v *ecs.PortMapping) portMappingRecord {
	return portMappingRecord{
		ContainerPort:      v.ContainerPort,
		HostPort:           v.HostPort,
		Protocol:           v.Protocol,
		Name:               v.Name,
		AppProtocol:        v.AppProtocol,
		ContainerPortRange: v.ContainerPortRange,
	}
}

func (r *portMappingRecord) domain() ecs.PortMapping {
	return ecs.PortMapping{
		ContainerPort:      r.ContainerPort,
		HostPort:           r.HostPort,
		Protocol:           r.Protocol,
		Name:               r.Name,
		AppProtocol:        r.AppProtocol,
		ContainerPortRange: r.ContainerPortRange,
	}
}

// restartPolicyRecord is the stored form of ecs.RestartPolicy.
type restartPolicyRecord struct {
	Enabled              bool  `json:"enabled,omitempty"`
	IgnoredExitCodes     []int `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod *int  `json:"restartAttemptPeriod,omitempty"`
}

func restartPolicyRecordOf(v *ecs.RestartPolicy) restartPolicyRecord {
	return restartPolicyRecord{
		Enabled:              v.Enabled,
		IgnoredExitCodes:     v.IgnoredExitCodes,
		RestartAttemptPeriod: v.RestartAttemptPeriod,
	}
}

func (r *restartPolicyRecord) domain() ecs.RestartPolicy {
	return ecs.RestartPolicy{
		Enabled:              r.Enabled,
		IgnoredExitCodes:     r.IgnoredExitCodes,
		RestartAttemptPeriod: r.RestartAttemptPeriod,
	}
}

// mountPointRecord is the stored form of ecs.MountPoint.
type mountPointRecord struct {
	SourceVolume  string `json:"sourceVolume,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	ReadOnly      *bool  `json:"readOnly,omitempty"`
}

func mountPointRecordOf(v *ecs.MountPoint) mountPointRecord {
	return mountPointRecord{
		SourceVolume:  v.SourceVolume,
		ContainerPath: v.ContainerPath,
		ReadOnly:      v.ReadOnly,
	}
}

func (r *mountPointRecord) domain() ecs.MountPoint {
	return ecs.MountPoint{
		SourceVolume:  r.SourceVolume,
		ContainerPath: r.ContainerPath,
		ReadOnly:      r.ReadOnly,
	}
}

// volumeFromRecord is the stored form of ecs.VolumeFrom.
type volumeFromRecord struct {
	SourceContainer string `json:"sourceContainer,omitempty"`
	ReadOnly        *bool  `json:"readOnly,omitempty"`
}

func volumeFromRecordOf(v *ecs.VolumeFrom) volumeFromRecord {
	return volumeFromRecord{
		SourceContainer: v.SourceContainer,
		ReadOnly:        v.ReadOnly,
	}
}

func (r *volumeFromRecord) domain() ecs.VolumeFrom {
	return ecs.VolumeFrom{
		SourceContainer: r.SourceContainer,
		ReadOnly:        r.ReadOnly,
	}
}

// linuxParametersRecord is the stored form of ecs.LinuxParameters.
type linuxParametersRecord struct {
	Capabilities       *kernelCapabilitiesRecord `json:"capabilities,omitempty"`
	Devices            []deviceRecord            `json:"devices,omitempty"`
	InitProcessEnabled *bool                     `json:"initProcessEnabled,omitempty"`
	SharedMemorySize   *int                      `json:"sharedMemorySize,omitempty"`
	Tmpfs              []tmpfsRecord             `json:"tmpfs,omitempty"`
	MaxSwap            *int                      `json:"maxSwap,omitempty"`
	Swappiness         *int                      `json:"swappiness,omitempty"`
}

func linuxParametersRecordOf(v *ecs.LinuxParameters) linuxParametersRecord {
	return linuxParametersRecord{
		Capabilities:       mapPtr(v.Capabilities, kernelCapabilitiesRecordOf),
		Devices:            mapSlice(v.Devices, deviceRecordOf),
		InitProcessEnabled: v.InitProcessEnabled,
		SharedMemorySize:   v.SharedMemorySize,
		Tmpfs:              mapSlice(v.Tmpfs, tmpfsRecordOf),
		MaxSwap:            v.MaxSwap,
		Swappiness:         v.Swappiness,
	}
}

func (r *linuxParametersRecord) domain() ecs.LinuxParameters {
	return ecs.LinuxParameters{
		Capabilities:       mapPtr(r.Capabilities, (*kernelCapabilitiesRecord).domain),
		Devices:            mapSlice(r.Devices, (*deviceRecord).domain),
		InitProcessEnabled: r.InitProcessEnabled,
		SharedMemorySize:   r.SharedMemorySize,
		Tmpfs:              mapSlice(r.Tmpfs, (*tmpfsRecord).domain),
		MaxSwap:            r.MaxSwap,
		Swappiness:         r.Swappiness,
	}
}

// kernelCapabilitiesRecord is the stored form of ecs.KernelCapabilities.
type kernelCapabilitiesRecord struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

func kernelCapabilitiesRecordOf(v *ecs.KernelCapabilities) kernelCapabilitiesRecord {
	return kernelCapabilitiesRecord{
		Add:  v.Add,
		Drop: v.Drop,
	}
}

func (r *kernelCapabilitiesRecord) domain() ecs.KernelCapabilities {
	return ecs.KernelCapabilities{
		Add:  r.Add,
		Drop: r.Drop,
	}
}

// deviceRecord is the stored form of ecs.Device.
type deviceRecord struct {
	HostPath      string   `json:"hostPath,omitempty"`
	ContainerPath string   `json:"containerPath,omitempty"`
	Permissions   []string `json:"permissions,omitempty"`
}

func deviceRecordOf(v *ecs.Device) deviceRecord {
	return deviceRecord{
		HostPath:      v.HostPath,
		ContainerPath: v.ContainerPath,
		Permissions:   v.Permissions,
	}
}

func (r *deviceRecord) domain() ecs.Device {
	return ecs.Device{
		HostPath:      r.HostPath,
		ContainerPath: r.ContainerPath,
		Permissions:   r.Permissions,
	}
}

// tmpfsRecord is the stored form of ecs.Tmpfs.
type tmpfsRecord struct {
	ContainerPath string   `json:"containerPath,omitempty"`
	Size          int      `json:"size,omitempty"`
	MountOptions  []string `json:"mountOptions,omitempty"`
}

func tmpfsRecordOf(v *ecs.Tmpfs) tmpfsRecord {
	return tmpfsRecord{
		ContainerPath: v.ContainerPath,
		Size:          v.Size,
		MountOptions:  v.MountOptions,
	}
}

func (r *tmpfsRecord) domain() ecs.Tmpfs {
	return ecs.Tmpfs{
		ContainerPath: r.ContainerPath,
		Size:          r.Size,
		MountOptions:  r.MountOptions,
	}
}

// secretRecord is the stored form of ecs.Secret.
type secretRecord struct {
	Name      string `json:"name,omitempty"`
	ValueFrom string `json:"valueFrom,omitempty"`
}

func secretRecordOf(v *ecs.Secret) secretRecord {
	return secretRecord{
		Name:      v.Name,
		ValueFrom: v.ValueFrom,
	}
}

func (r *secretRecord) domain() ecs.Secret {
	return ecs.Secret{
		Name:      r.Name,
		ValueFrom: r.ValueFrom,
	}
}

// containerDependencyRecord is the stored form of ecs.ContainerDependency.
type containerDependencyRecord struct {
	ContainerName string `json:"containerName,omitempty"`
	Condition     string `json:"condition,omitempty"`
}

func containerDependencyRecordOf(v *ecs.ContainerDependency) containerDependencyRecord {
	return containerDependencyRecord{
		ContainerName: v.ContainerName,
		Condition:     v.Condition,
	}
}

func (r *containerDependencyRecord) domain() ecs.ContainerDependency {
	return ecs.ContainerDependency{
		ContainerName: r.ContainerName,
		Condition:     r.Condition,
	}
}

// hostEntryRecord is the stored form of ecs.HostEntry.
type hostEntryRecord struct {
	Hostname  string `json:"hostname,omitempty"`
	IPAddress string `json:"ipAddress,omitempty"`
}

func hostEntryRecordOf(v *ecs.HostEntry) hostEntryRecord {
	return hostEntryRecord{
		Hostname:  v.Hostname,
		IPAddress: v.IPAddress,
	}
}

func (r *hostEntryRecord) domain() ecs.HostEntry {
	return ecs.HostEntry{
		Hostname:  r.Hostname,
		IPAddress: r.IPAddress,
	}
}

// ulimitRecord is the stored form of ecs.Ulimit.
type ulimitRecord struct {
	Name      string `json:"name,omitempty"`
	SoftLimit int    `json:"softLimit,omitempty"`
	HardLimit int    `json:"hardLimit,omitempty"`
}

func ulimitRecordOf(v *ecs.Ulimit) ulimitRecord {
	return ulimitRecord{
		Name:      v.Name,
		SoftLimit: v.SoftLimit,
		HardLimit: v.HardLimit,
	}
}

func (r *ulimitRecord) domain() ecs.Ulimit {
	return ecs.Ulimit{
		Name:      r.Name,
		SoftLimit: r.SoftLimit,
		HardLimit: r.HardLimit,
	}
}

// logConfigurationRecord is the stored form of ecs.LogConfiguration.
type logConfigurationRecord struct {
	LogDriver     string            `json:"logDriver,omitempty"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []secretRecord    `json:"secretOptions,omitempty"`
}

func logConfigurationRecordOf(v *ecs.LogConfiguration) logConfigurationRecord {
	return logConfigurationRecord{
		LogDriver:     v.LogDriver,
		Options:       v.Options,
		SecretOptions: mapSlice(v.SecretOptions, secretRecordOf),
	}
}

func (r *logConfigurationRecord) domain() ecs.LogConfiguration {
	return ecs.LogConfiguration{
		LogDriver:     r.LogDriver,
		Options:       r.Options,
		SecretOptions: mapSlice(r.SecretOptions, (*secretRecord).domain),
	}
}

// healthCheckRecord is the stored form of ecs.HealthCheck.
type healthCheckRecord struct {
	Command     []string `json:"command"`
	Interval    *int     `json:"interval,omitempty"`
	Timeout     *int     `json:"timeout,omitempty"`
	Retries     *int     `json:"retries,omitempty"`
	StartPeriod *int     `json:"startPeriod,omitempty"`
}

func healthCheckRecordOf(v *ecs.HealthCheck) healthCheckRecord {
	return healthCheckRecord{
		Command:     v.Command,
		Interval:    v.Interval,
		Timeout:     v.Timeout,
		Retries:     v.Retries,
		StartPeriod: v.StartPeriod,
	}
}

func (r *healthCheckRecord) domain() ecs.HealthCheck {
	return ecs.HealthCheck{
		Command:     r.Command,
		Interval:    r.Interval,
		Timeout:     r.Timeout,
		Retries:     r.Retries,
		StartPeriod: r.StartPeriod,
	}
}

// systemControlRecord is the stored form of ecs.SystemControl.
type systemControlRecord struct {
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value,omitempty"`
}

func systemControlRecordOf(v *ecs.SystemControl) systemControlRecord {
	return systemControlRecord{
		Namespace: v.Namespace,
		Value:     v.Value,
	}
}

func (r *systemControlRecord) domain() ecs.SystemControl {
	return ecs.SystemControl{
		Namespace: r.Namespace,
		Value:     r.Value,
	}
}

// firelensConfigurationRecord is the stored form of ecs.FirelensConfiguration.
type firelensConfigurationRecord struct {
	Type    string            `json:"type,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

func firelensConfigurationRecordOf(v *ecs.FirelensConfiguration) firelensConfigurationRecord {
	return firelensConfigurationRecord{
		Type:    v.Type,
		Options: v.Options,
	}
}

func (r *firelensConfigurationRecord) domain() ecs.FirelensConfiguration {
	return ecs.FirelensConfiguration{
		Type:    r.Type,
		Options: r.Options,
	}
}
