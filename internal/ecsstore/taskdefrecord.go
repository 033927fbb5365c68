package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a task definition revision (taskdefs/ records); the
// container definitions are in taskdefcontainerrecord.go.

// taskDefinitionRecord is a task definition revision as stored under
// taskdefs/<family>/<revision>; its status is also kept alone under
// taskdef-index/ so that lists decode little. Its documents keep ECS's
// shapes and names.
type taskDefinitionRecord struct {
	Family                  string                       `json:"family,omitempty"`
	Revision                int                          `json:"revision,omitempty"`
	ARN                     string                       `json:"taskDefinitionArn,omitempty"`
	Status                  string                       `json:"status,omitempty"`
	ContainerDefinitions    []containerDefinitionRecord  `json:"containerDefinitions"`
	TaskRoleARN             string                       `json:"taskRoleArn,omitempty"`
	ExecutionRoleARN        string                       `json:"executionRoleArn,omitempty"`
	NetworkMode             string                       `json:"networkMode,omitempty"`
	Volumes                 []volumeRecord               `json:"volumes"`
	PlacementConstraints    []placementConstraintRecord  `json:"placementConstraints"`
	RequiresCompatibilities []string                     `json:"requiresCompatibilities,omitempty"`
	Compatibilities         []string                     `json:"compatibilities,omitempty"`
	RequiresAttributes      []attributeRecord            `json:"requiresAttributes,omitempty"`
	CPU                     string                       `json:"cpu,omitempty"`
	Memory                  string                       `json:"memory,omitempty"`
	InferenceAccelerators   []inferenceAcceleratorRecord `json:"inferenceAccelerators,omitempty"`
	PidMode                 string                       `json:"pidMode,omitempty"`
	IpcMode                 string                       `json:"ipcMode,omitempty"`
	ProxyConfiguration      *proxyConfigurationRecord    `json:"proxyConfiguration,omitempty"`
	RuntimePlatform         *runtimePlatformRecord       `json:"runtimePlatform,omitempty"`
	EphemeralStorage        *ephemeralStorageRecord      `json:"ephemeralStorage,omitempty"`
	EnableFaultInjection    *bool                        `json:"enableFaultInjection,omitempty"`
	RegisteredAt            time.Time                    `json:"registeredAt,omitzero"`
	RegisteredBy            string                       `json:"registeredBy,omitempty"`
	DeregisteredAt          time.Time                    `json:"deregisteredAt,omitzero"`
}

func taskDefinitionRecordOf(v *ecs.TaskDefinition) taskDefinitionRecord {
	return taskDefinitionRecord{
		Family:                  v.Family,
		Revision:                v.Revision,
		ARN:                     v.ARN,
		Status:                  v.Status,
		ContainerDefinitions:    mapSlice(v.ContainerDefinitions, containerDefinitionRecordOf),
		TaskRoleARN:             v.TaskRoleARN,
		ExecutionRoleARN:        v.ExecutionRoleARN,
		NetworkMode:             v.NetworkMode,
		Volumes:                 mapSlice(v.Volumes, volumeRecordOf),
		PlacementConstraints:    mapSlice(v.PlacementConstraints, placementConstraintRecordOf),
		RequiresCompatibilities: v.RequiresCompatibilities,
		Compatibilities:         v.Compatibilities,
		RequiresAttributes:      mapSlice(v.RequiresAttributes, attributeRecordOf),
		CPU:                     v.CPU,
		Memory:                  v.Memory,
		InferenceAccelerators:   mapSlice(v.InferenceAccelerators, inferenceAcceleratorRecordOf),
		PidMode:                 v.PidMode,
		IpcMode:                 v.IpcMode,
		ProxyConfiguration:      mapPtr(v.ProxyConfiguration, proxyConfigurationRecordOf),
		RuntimePlatform:         mapPtr(v.RuntimePlatform, runtimePlatformRecordOf),
		EphemeralStorage:        mapPtr(v.EphemeralStorage, ephemeralStorageRecordOf),
		EnableFaultInjection:    v.EnableFaultInjection,
		RegisteredAt:            v.RegisteredAt,
		RegisteredBy:            v.RegisteredBy,
		DeregisteredAt:          v.DeregisteredAt,
	}
}

func (r *taskDefinitionRecord) domain() ecs.TaskDefinition {
	return ecs.TaskDefinition{
		Family:                  r.Family,
		Revision:                r.Revision,
		ARN:                     r.ARN,
		Status:                  r.Status,
		ContainerDefinitions:    mapSlice(r.ContainerDefinitions, (*containerDefinitionRecord).domain),
		TaskRoleARN:             r.TaskRoleARN,
		ExecutionRoleARN:        r.ExecutionRoleARN,
		NetworkMode:             r.NetworkMode,
		Volumes:                 mapSlice(r.Volumes, (*volumeRecord).domain),
		PlacementConstraints:    mapSlice(r.PlacementConstraints, (*placementConstraintRecord).domain),
		RequiresCompatibilities: r.RequiresCompatibilities,
		Compatibilities:         r.Compatibilities,
		RequiresAttributes:      mapSlice(r.RequiresAttributes, (*attributeRecord).domain),
		CPU:                     r.CPU,
		Memory:                  r.Memory,
		InferenceAccelerators:   mapSlice(r.InferenceAccelerators, (*inferenceAcceleratorRecord).domain),
		PidMode:                 r.PidMode,
		IpcMode:                 r.IpcMode,
		ProxyConfiguration:      mapPtr(r.ProxyConfiguration, (*proxyConfigurationRecord).domain),
		RuntimePlatform:         mapPtr(r.RuntimePlatform, (*runtimePlatformRecord).domain),
		EphemeralStorage:        mapPtr(r.EphemeralStorage, (*ephemeralStorageRecord).domain),
		EnableFaultInjection:    r.EnableFaultInjection,
		RegisteredAt:            r.RegisteredAt,
		RegisteredBy:            r.RegisteredBy,
		DeregisteredAt:          r.DeregisteredAt,
	}
}

// volumeRecord is the stored form of ecs.Volume.
type volumeRecord struct {
	Name                           string                           `json:"name,omitempty"`
	Host                           *hostVolumePropertiesRecord      `json:"host,omitempty"`
	DockerVolumeConfiguration      *dockerVolumeConfigurationRecord `json:"dockerVolumeConfiguration,omitempty"`
	EfsVolumeConfiguration         map[string]any                   `json:"efsVolumeConfiguration,omitempty"`
	FsxWindowsFileServerVolumeConf map[string]any                   `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
	ConfiguredAtLaunch             *bool                            `json:"configuredAtLaunch,omitempty"`
}

func volumeRecordOf(v *ecs.Volume) volumeRecord {
	return volumeRecord{
		Name:                           v.Name,
		Host:                           mapPtr(v.Host, hostVolumePropertiesRecordOf),
		DockerVolumeConfiguration:      mapPtr(v.DockerVolumeConfiguration, dockerVolumeConfigurationRecordOf),
		EfsVolumeConfiguration:         v.EfsVolumeConfiguration,
		FsxWindowsFileServerVolumeConf: v.FsxWindowsFileServerVolumeConf,
		ConfiguredAtLaunch:             v.ConfiguredAtLaunch,
	}
}

func (r *volumeRecord) domain() ecs.Volume {
	return ecs.Volume{
		Name:                           r.Name,
		Host:                           mapPtr(r.Host, (*hostVolumePropertiesRecord).domain),
		DockerVolumeConfiguration:      mapPtr(r.DockerVolumeConfiguration, (*dockerVolumeConfigurationRecord).domain),
		EfsVolumeConfiguration:         r.EfsVolumeConfiguration,
		FsxWindowsFileServerVolumeConf: r.FsxWindowsFileServerVolumeConf,
		ConfiguredAtLaunch:             r.ConfiguredAtLaunch,
	}
}

// hostVolumePropertiesRecord is the stored form of ecs.HostVolumeProperties.
type hostVolumePropertiesRecord struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

func hostVolumePropertiesRecordOf(v *ecs.HostVolumeProperties) hostVolumePropertiesRecord {
	return hostVolumePropertiesRecord{
		SourcePath: v.SourcePath,
	}
}

func (r *hostVolumePropertiesRecord) domain() ecs.HostVolumeProperties {
	return ecs.HostVolumeProperties{
		SourcePath: r.SourcePath,
	}
}

// dockerVolumeConfigurationRecord is the stored form of ecs.DockerVolumeConfiguration.
type dockerVolumeConfigurationRecord struct {
	Scope         string            `json:"scope,omitempty"`
	Autoprovision *bool             `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

func dockerVolumeConfigurationRecordOf(v *ecs.DockerVolumeConfiguration) dockerVolumeConfigurationRecord {
	return dockerVolumeConfigurationRecord{
		Scope:         v.Scope,
		Autoprovision: v.Autoprovision,
		Driver:        v.Driver,
		DriverOpts:    v.DriverOpts,
		Labels:        v.Labels,
	}
}

func (r *dockerVolumeConfigurationRecord) domain() ecs.DockerVolumeConfiguration {
	return ecs.DockerVolumeConfiguration{
		Scope:         r.Scope,
		Autoprovision: r.Autoprovision,
		Driver:        r.Driver,
		DriverOpts:    r.DriverOpts,
		Labels:        r.Labels,
	}
}

// placementConstraintRecord is the stored form of ecs.PlacementConstraint.
type placementConstraintRecord struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

func placementConstraintRecordOf(v *ecs.PlacementConstraint) placementConstraintRecord {
	return placementConstraintRecord{
		Type:       v.Type,
		Expression: v.Expression,
	}
}

func (r *placementConstraintRecord) domain() ecs.PlacementConstraint {
	return ecs.PlacementConstraint{
		Type:       r.Type,
		Expression: r.Expression,
	}
}

// inferenceAcceleratorRecord is the stored form of ecs.InferenceAccelerator.
type inferenceAcceleratorRecord struct {
	DeviceName string `json:"deviceName,omitempty"`
	DeviceType string `json:"deviceType,omitempty"`
}

func inferenceAcceleratorRecordOf(v *ecs.InferenceAccelerator) inferenceAcceleratorRecord {
	return inferenceAcceleratorRecord{
		DeviceName: v.DeviceName,
		DeviceType: v.DeviceType,
	}
}

func (r *inferenceAcceleratorRecord) domain() ecs.InferenceAccelerator {
	return ecs.InferenceAccelerator{
		DeviceName: r.DeviceName,
		DeviceType: r.DeviceType,
	}
}

// proxyConfigurationRecord is the stored form of ecs.ProxyConfiguration.
type proxyConfigurationRecord struct {
	Type          string               `json:"type,omitempty"`
	ContainerName string               `json:"containerName,omitempty"`
	Properties    []keyValuePairRecord `json:"properties,omitempty"`
}

func proxyConfigurationRecordOf(v *ecs.ProxyConfiguration) proxyConfigurationRecord {
	return proxyConfigurationRecord{
		Type:          v.Type,
		ContainerName: v.ContainerName,
		Properties:    mapSlice(v.Properties, keyValuePairRecordOf),
	}
}

func (r *proxyConfigurationRecord) domain() ecs.ProxyConfiguration {
	return ecs.ProxyConfiguration{
		Type:          r.Type,
		ContainerName: r.ContainerName,
		Properties:    mapSlice(r.Properties, (*keyValuePairRecord).domain),
	}
}

// runtimePlatformRecord is the stored form of ecs.RuntimePlatform.
type runtimePlatformRecord struct {
	CPUArchitecture       string `json:"cpuArchitecture,omitempty"`
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
}

func runtimePlatformRecordOf(v *ecs.RuntimePlatform) runtimePlatformRecord {
	return runtimePlatformRecord{
		CPUArchitecture:       v.CPUArchitecture,
		OperatingSystemFamily: v.OperatingSystemFamily,
	}
}

func (r *runtimePlatformRecord) domain() ecs.RuntimePlatform {
	return ecs.RuntimePlatform{
		CPUArchitecture:       r.CPUArchitecture,
		OperatingSystemFamily: r.OperatingSystemFamily,
	}
}
