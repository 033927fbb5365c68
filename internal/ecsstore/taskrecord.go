package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a task and its nested documents.

// taskRecord is a task as stored under tasks/<cluster>/<taskID>. The task
// ID is not stored (it is the ARN's last segment); the cluster ARN, each
// container's task ARN and the common prefix of its container ARN are
// left out when the task ARN says them (taskcodec.go). TaskHeader decodes
// the few fields the state cache indexes from the same JSON.
type taskRecord struct {
	ARN                  string                  `json:"taskArn,omitempty"`
	ClusterARN           string                  `json:"clusterArn,omitempty"`
	TaskDefinitionARN    string                  `json:"taskDefinitionArn,omitempty"`
	ContainerInstanceARN string                  `json:"containerInstanceArn,omitempty"`
	LaunchType           string                  `json:"launchType,omitempty"`
	CapacityProviderName string                  `json:"capacityProviderName,omitempty"`
	Group                string                  `json:"group,omitempty"`
	StartedBy            string                  `json:"startedBy,omitempty"`
	LastStatus           string                  `json:"lastStatus,omitempty"`
	DesiredStatus        string                  `json:"desiredStatus,omitempty"`
	HealthStatus         string                  `json:"healthStatus,omitempty"`
	CPU                  string                  `json:"cpu,omitempty"`
	Memory               string                  `json:"memory,omitempty"`
	Containers           []containerRecord       `json:"containers"`
	Overrides            taskOverrideRecord      `json:"overrides"`
	Attachments          []attachmentRecord      `json:"attachments"`
	CreatedAt            time.Time               `json:"createdAt,omitzero"`
	PullStartedAt        time.Time               `json:"pullStartedAt,omitzero"`
	PullStoppedAt        time.Time               `json:"pullStoppedAt,omitzero"`
	StartedAt            time.Time               `json:"startedAt,omitzero"`
	StoppingAt           time.Time               `json:"stoppingAt,omitzero"`
	StoppedAt            time.Time               `json:"stoppedAt,omitzero"`
	ExecutionStoppedAt   time.Time               `json:"executionStoppedAt,omitzero"`
	ConnectivityAt       time.Time               `json:"connectivityAt,omitzero"`
	StopCode             string                  `json:"stopCode,omitempty"`
	StoppedReason        string                  `json:"stoppedReason,omitempty"`
	Version              int64                   `json:"version,omitempty"`
	PlatformVersion      string                  `json:"platformVersion,omitempty"`
	PlatformFamily       string                  `json:"platformFamily,omitempty"`
	EnableExecuteCommand bool                    `json:"enableExecuteCommand,omitempty"`
	Tags                 []tagRecord             `json:"tags,omitempty"`
	AvailabilityZone     string                  `json:"availabilityZone,omitempty"`
	Connectivity         string                  `json:"connectivity,omitempty"`
	EphemeralStorage     *ephemeralStorageRecord `json:"ephemeralStorage,omitempty"`
	ProtectedUntil       time.Time               `json:"protectedUntil,omitzero"`
}

func taskRecordOf(v *ecs.Task) taskRecord {
	return taskRecord{
		ARN:                  v.ARN,
		ClusterARN:           v.ClusterARN,
		TaskDefinitionARN:    v.TaskDefinitionARN,
		ContainerInstanceARN: v.ContainerInstanceARN,
		LaunchType:           v.LaunchType,
		CapacityProviderName: v.CapacityProviderName,
		Group:                v.Group,
		StartedBy:            v.StartedBy,
		LastStatus:           v.LastStatus,
		DesiredStatus:        v.DesiredStatus,
		HealthStatus:         v.HealthStatus,
		CPU:                  v.CPU,
		Memory:               v.Memory,
		Containers:           mapSlice(v.Containers, containerRecordOf),
		Overrides:            taskOverrideRecordOf(&v.Overrides),
		Attachments:          mapSlice(v.Attachments, attachmentRecordOf),
		CreatedAt:            v.CreatedAt,
		PullStartedAt:        v.PullStartedAt,
		PullStoppedAt:        v.PullStoppedAt,
		StartedAt:            v.StartedAt,
		StoppingAt:           v.StoppingAt,
		StoppedAt:            v.StoppedAt,
		ExecutionStoppedAt:   v.ExecutionStoppedAt,
		ConnectivityAt:       v.ConnectivityAt,
		StopCode:             v.StopCode,
		StoppedReason:        v.StoppedReason,
		Version:              v.Version,
		PlatformVersion:      v.PlatformVersion,
		PlatformFamily:       v.PlatformFamily,
		EnableExecuteCommand: v.EnableExecuteCommand,
		Tags:                 mapSlice(v.Tags, tagRecordOf),
		AvailabilityZone:     v.AvailabilityZone,
		Connectivity:         v.Connectivity,
		EphemeralStorage:     mapPtr(v.EphemeralStorage, ephemeralStorageRecordOf),
		ProtectedUntil:       v.ProtectedUntil,
	}
}

func (r *taskRecord) domain() ecs.Task {
	return ecs.Task{
		ARN:                  r.ARN,
		ClusterARN:           r.ClusterARN,
		TaskDefinitionARN:    r.TaskDefinitionARN,
		ContainerInstanceARN: r.ContainerInstanceARN,
		LaunchType:           r.LaunchType,
		CapacityProviderName: r.CapacityProviderName,
		Group:                r.Group,
		StartedBy:            r.StartedBy,
		LastStatus:           r.LastStatus,
		DesiredStatus:        r.DesiredStatus,
		HealthStatus:         r.HealthStatus,
		CPU:                  r.CPU,
		Memory:               r.Memory,
		Containers:           mapSlice(r.Containers, (*containerRecord).domain),
		Overrides:            r.Overrides.domain(),
		Attachments:          mapSlice(r.Attachments, (*attachmentRecord).domain),
		CreatedAt:            r.CreatedAt,
		PullStartedAt:        r.PullStartedAt,
		PullStoppedAt:        r.PullStoppedAt,
		StartedAt:            r.StartedAt,
		StoppingAt:           r.StoppingAt,
		StoppedAt:            r.StoppedAt,
		ExecutionStoppedAt:   r.ExecutionStoppedAt,
		ConnectivityAt:       r.ConnectivityAt,
		StopCode:             r.StopCode,
		StoppedReason:        r.StoppedReason,
		Version:              r.Version,
		PlatformVersion:      r.PlatformVersion,
		PlatformFamily:       r.PlatformFamily,
		EnableExecuteCommand: r.EnableExecuteCommand,
		Tags:                 mapSlice(r.Tags, (*tagRecord).domain),
		AvailabilityZone:     r.AvailabilityZone,
		Connectivity:         r.Connectivity,
		EphemeralStorage:     mapPtr(r.EphemeralStorage, (*ephemeralStorageRecord).domain),
		ProtectedUntil:       r.ProtectedUntil,
	}
}

// containerRecord is the stored form of ecs.Container.
type containerRecord struct {
	ContainerARN      string                   `json:"containerArn,omitempty"`
	TaskARN           string                   `json:"taskArn,omitempty"`
	Name              string                   `json:"name,omitempty"`
	Image             string                   `json:"image,omitempty"`
	ImageDigest       string                   `json:"imageDigest,omitempty"`
	RuntimeID         string                   `json:"runtimeId,omitempty"`
	LastStatus        string                   `json:"lastStatus,omitempty"`
	ExitCode          *int                     `json:"exitCode,omitempty"`
	Reason            string                   `json:"reason,omitempty"`
	HealthStatus      string                   `json:"healthStatus,omitempty"`
	NetworkBindings   []networkBindingRecord   `json:"networkBindings"`
	NetworkInterfaces []networkInterfaceRecord `json:"networkInterfaces"`
	CPU               string                   `json:"cpu,omitempty"`
	Memory            string                   `json:"memory,omitempty"`
	MemoryReservation string                   `json:"memoryReservation,omitempty"`
	Essential         bool                     `json:"essential,omitempty"`
	HealthCheck       bool                     `json:"healthCheck,omitempty"`
}

func containerRecordOf(v *ecs.Container) containerRecord {
	return containerRecord{
		ContainerARN:      v.ContainerARN,
		TaskARN:           v.TaskARN,
		Name:              v.Name,
		Image:             v.Image,
		ImageDigest:       v.ImageDigest,
		RuntimeID:         v.RuntimeID,
		LastStatus:        v.LastStatus,
		ExitCode:          v.ExitCode,
		Reason:            v.Reason,
		HealthStatus:      v.HealthStatus,
		NetworkBindings:   mapSlice(v.NetworkBindings, networkBindingRecordOf),
		NetworkInterfaces: mapSlice(v.NetworkInterfaces, networkInterfaceRecordOf),
		CPU:               v.CPU,
		Memory:            v.Memory,
		MemoryReservation: v.MemoryReservation,
		Essential:         v.Essential,
		HealthCheck:       v.HealthCheck,
	}
}

func (r *containerRecord) domain() ecs.Container {
	return ecs.Container{
		ContainerARN:      r.ContainerARN,
		TaskARN:           r.TaskARN,
		Name:              r.Name,
		Image:             r.Image,
		ImageDigest:       r.ImageDigest,
		RuntimeID:         r.RuntimeID,
		LastStatus:        r.LastStatus,
		ExitCode:          r.ExitCode,
		Reason:            r.Reason,
		HealthStatus:      r.HealthStatus,
		NetworkBindings:   mapSlice(r.NetworkBindings, (*networkBindingRecord).domain),
		NetworkInterfaces: mapSlice(r.NetworkInterfaces, (*networkInterfaceRecord).domain),
		CPU:               r.CPU,
		Memory:            r.Memory,
		MemoryReservation: r.MemoryReservation,
		Essential:         r.Essential,
		HealthCheck:       r.HealthCheck,
	}
}

// networkBindingRecord is the stored form of ecs.NetworkBinding.
type networkBindingRecord struct {
	BindIP             string `json:"bindIP,omitempty"`
	ContainerPort      int    `json:"containerPort,omitempty"`
	HostPort           int    `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	HostPortRange      string `json:"hostPortRange,omitempty"`
}

func networkBindingRecordOf(v *ecs.NetworkBinding) networkBindingRecord {
	return networkBindingRecord{
		BindIP:             v.BindIP,
		ContainerPort:      v.ContainerPort,
		HostPort:           v.HostPort,
		Protocol:           v.Protocol,
		ContainerPortRange: v.ContainerPortRange,
		HostPortRange:      v.HostPortRange,
	}
}

func (r *networkBindingRecord) domain() ecs.NetworkBinding {
	return ecs.NetworkBinding{
		BindIP:             r.BindIP,
		ContainerPort:      r.ContainerPort,
		HostPort:           r.HostPort,
		Protocol:           r.Protocol,
		ContainerPortRange: r.ContainerPortRange,
		HostPortRange:      r.HostPortRange,
	}
}

// networkInterfaceRecord is the stored form of ecs.NetworkInterface.
type networkInterfaceRecord struct {
	AttachmentID       string `json:"attachmentId,omitempty"`
	PrivateIPv4Address string `json:"privateIpv4Address,omitempty"`
	IPv6Address        string `json:"ipv6Address,omitempty"`
}

func networkInterfaceRecordOf(v *ecs.NetworkInterface) networkInterfaceRecord {
	return networkInterfaceRecord{
		AttachmentID:       v.AttachmentID,
		PrivateIPv4Address: v.PrivateIPv4Address,
		IPv6Address:        v.IPv6Address,
	}
}

func (r *networkInterfaceRecord) domain() ecs.NetworkInterface {
	return ecs.NetworkInterface{
		AttachmentID:       r.AttachmentID,
		PrivateIPv4Address: r.PrivateIPv4Address,
		IPv6Address:        r.IPv6Address,
	}
}

// taskOverrideRecord is the stored form of ecs.TaskOverride.
type taskOverrideRecord struct {
	ContainerOverrides            []containerOverrideRecord            `json:"containerOverrides"`
	CPU                           string                               `json:"cpu,omitempty"`
	Memory                        string                               `json:"memory,omitempty"`
	TaskRoleARN                   string                               `json:"taskRoleArn,omitempty"`
	ExecutionRoleARN              string                               `json:"executionRoleArn,omitempty"`
	InferenceAcceleratorOverrides []inferenceAcceleratorOverrideRecord `json:"inferenceAcceleratorOverrides"`
	EphemeralStorage              *ephemeralStorageRecord              `json:"ephemeralStorage,omitempty"`
}

func taskOverrideRecordOf(v *ecs.TaskOverride) taskOverrideRecord {
	return taskOverrideRecord{
		ContainerOverrides:            mapSlice(v.ContainerOverrides, containerOverrideRecordOf),
		CPU:                           v.CPU,
		Memory:                        v.Memory,
		TaskRoleARN:                   v.TaskRoleARN,
		ExecutionRoleARN:              v.ExecutionRoleARN,
		InferenceAcceleratorOverrides: mapSlice(v.InferenceAcceleratorOverrides, inferenceAcceleratorOverrideRecordOf),
		EphemeralStorage:              mapPtr(v.EphemeralStorage, ephemeralStorageRecordOf),
	}
}

func (r *taskOverrideRecord) domain() ecs.TaskOverride {
	return ecs.TaskOverride{
		ContainerOverrides:            mapSlice(r.ContainerOverrides, (*containerOverrideRecord).domain),
		CPU:                           r.CPU,
		Memory:                        r.Memory,
		TaskRoleARN:                   r.TaskRoleARN,
		ExecutionRoleARN:              r.ExecutionRoleARN,
		InferenceAcceleratorOverrides: mapSlice(r.InferenceAcceleratorOverrides, (*inferenceAcceleratorOverrideRecord).domain),
		EphemeralStorage:              mapPtr(r.EphemeralStorage, (*ephemeralStorageRecord).domain),
	}
}

// containerOverrideRecord is the stored form of ecs.ContainerOverride.
type containerOverrideRecord struct {
	Name                 string                      `json:"name,omitempty"`
	Command              []string                    `json:"command,omitempty"`
	Environment          []keyValuePairRecord        `json:"environment,omitempty"`
	EnvironmentFiles     []environmentFileRecord     `json:"environmentFiles,omitempty"`
	CPU                  *int                        `json:"cpu,omitempty"`
	Memory               *int                        `json:"memory,omitempty"`
	MemoryReservation    *int                        `json:"memoryReservation,omitempty"`
	ResourceRequirements []resourceRequirementRecord `json:"resourceRequirements,omitempty"`
}

func containerOverrideRecordOf(v *ecs.ContainerOverride) containerOverrideRecord {
	return containerOverrideRecord{
		Name:                 v.Name,
		Command:              v.Command,
		Environment:          mapSlice(v.Environment, keyValuePairRecordOf),
		EnvironmentFiles:     mapSlice(v.EnvironmentFiles, environmentFileRecordOf),
		CPU:                  v.CPU,
		Memory:               v.Memory,
		MemoryReservation:    v.MemoryReservation,
		ResourceRequirements: mapSlice(v.ResourceRequirements, resourceRequirementRecordOf),
	}
}

func (r *containerOverrideRecord) domain() ecs.ContainerOverride {
	return ecs.ContainerOverride{
		Name:                 r.Name,
		Command:              r.Command,
		Environment:          mapSlice(r.Environment, (*keyValuePairRecord).domain),
		EnvironmentFiles:     mapSlice(r.EnvironmentFiles, (*environmentFileRecord).domain),
		CPU:                  r.CPU,
		Memory:               r.Memory,
		MemoryReservation:    r.MemoryReservation,
		ResourceRequirements: mapSlice(r.ResourceRequirements, (*resourceRequirementRecord).domain),
	}
}

// inferenceAcceleratorOverrideRecord is the stored form of ecs.InferenceAcceleratorOverride.
type inferenceAcceleratorOverrideRecord struct {
	DeviceName string `json:"deviceName,omitempty"`
	DeviceType string `json:"deviceType,omitempty"`
}

func inferenceAcceleratorOverrideRecordOf(v *ecs.InferenceAcceleratorOverride) inferenceAcceleratorOverrideRecord {
	return inferenceAcceleratorOverrideRecord{
		DeviceName: v.DeviceName,
		DeviceType: v.DeviceType,
	}
}

func (r *inferenceAcceleratorOverrideRecord) domain() ecs.InferenceAcceleratorOverride {
	return ecs.InferenceAcceleratorOverride{
		DeviceName: r.DeviceName,
		DeviceType: r.DeviceType,
	}
}

// attachmentRecord is the stored form of ecs.Attachment.
type attachmentRecord struct {
	ID      string               `json:"id,omitempty"`
	Type    string               `json:"type,omitempty"`
	Status  string               `json:"status,omitempty"`
	Details []keyValuePairRecord `json:"details"`
}

func attachmentRecordOf(v *ecs.Attachment) attachmentRecord {
	return attachmentRecord{
		ID:      v.ID,
		Type:    v.Type,
		Status:  v.Status,
		Details: mapSlice(v.Details, keyValuePairRecordOf),
	}
}

func (r *attachmentRecord) domain() ecs.Attachment {
	return ecs.Attachment{
		ID:      r.ID,
		Type:    r.Type,
		Status:  r.Status,
		Details: mapSlice(r.Details, (*keyValuePairRecord).domain),
	}
}
