package acs

import (
	"encoding/json"
	"fmt"
)

// Message types, as they appear in the envelope's "type".
const (
	TypePayload      = "PayloadMessage"
	TypeAck          = "AckRequest"
	TypeHeartbeat    = "HeartbeatMessage"
	TypeHeartbeatAck = "HeartbeatAckRequest"
	TypeError        = "ErrorMessage"
	TypeClose        = "CloseMessage"

	// Exceptions the server sends before closing a session it refuses.
	TypeInactiveInstance = "InactiveInstanceException"
	TypeInvalidInstance  = "InvalidInstanceException"
	TypeInvalidCluster   = "InvalidClusterException"
	TypeAccessDenied     = "AccessDeniedException"
	TypeBadRequest       = "BadRequestException"
)

// Envelope frames every message: {"type":"PayloadMessage","message":{...}}.
type Envelope struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

// Encode frames a message of the given type.
func Encode(typ string, msg any) ([]byte, error) {
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{Type: typ, Message: raw})
}

// Decode reads an envelope.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("acs: undecodable message: %w", err)
	}
	if e.Type == "" {
		return e, fmt.Errorf("acs: message without a type")
	}
	return e, nil
}

// PayloadMessage carries tasks for the instance to run or stop.
type PayloadMessage struct {
	MessageID            string `json:"messageId"`
	ClusterARN           string `json:"clusterArn"`
	ContainerInstanceARN string `json:"containerInstanceArn"`
	Tasks                []Task `json:"tasks"`
	GeneratedAt          int64  `json:"generatedAt,omitempty"`
	SeqNum               int    `json:"seqNum"`
}

// AckRequest acknowledges a PayloadMessage.
type AckRequest struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	MessageID         string `json:"messageId"`
}

// HeartbeatMessage says the sender is alive.
type HeartbeatMessage struct {
	Healthy   bool   `json:"healthy"`
	MessageID string `json:"messageId"`
}

// HeartbeatAckRequest answers a HeartbeatMessage.
type HeartbeatAckRequest struct {
	MessageID string `json:"messageId"`
}

// ErrorMessage is a message-level error (or, with an exception type, the
// reason a session is refused).
type ErrorMessage struct {
	Message string `json:"message"`
}

// Task is one task of a PayloadMessage, in ACS's Task shape: everything an
// agent needs to run the task definition exactly (the task's overrides are
// already applied to its containers). Task-level Cpu (vCPU) and Memory
// (MiB) are present only when the task has a task-level size.
type Task struct {
	ARN                      string                    `json:"arn"`
	TaskClusterARN           string                    `json:"taskClusterArn,omitempty"`
	Family                   string                    `json:"family"`
	Version                  string                    `json:"version"`
	DesiredStatus            string                    `json:"desiredStatus"`
	Overrides                string                    `json:"overrides,omitempty"`
	TaskDefinitionAccountID  string                    `json:"taskDefinitionAccountId,omitempty"`
	Containers               []Container               `json:"containers"`
	Volumes                  []Volume                  `json:"volumes,omitempty"`
	ElasticNetworkInterfaces []ElasticNetworkInterface `json:"elasticNetworkInterfaces,omitempty"`
	CPU                      float64                   `json:"cpu,omitempty"`
	Memory                   int                       `json:"memory,omitempty"`
	LaunchType               string                    `json:"launchType,omitempty"`
	NetworkMode              string                    `json:"networkMode,omitempty"`
	Group                    string                    `json:"group,omitempty"`
	ServiceName              string                    `json:"serviceName,omitempty"`
	PidMode                  string                    `json:"pidMode,omitempty"`
	IpcMode                  string                    `json:"ipcMode,omitempty"`
	// TaskRoleARN is the task's role (the definition's or the override):
	// the agent gets its credentials with GetTaskRoleCredentials.
	TaskRoleARN string `json:"taskRoleArn,omitempty"`
}

// Container is a container of an ACS task. What ACS has no member for
// travels in DockerConfig as Docker Engine API JSON, as ECS sends it:
// labels, the health check, the user and working directory in Config;
// the memory reservation, ulimits, log configuration and the like in
// HostConfig.
type Container struct {
	Name                  string                 `json:"name"`
	Image                 string                 `json:"image"`
	ContainerARN          string                 `json:"containerArn,omitempty"`
	Command               []string               `json:"command,omitempty"`
	EntryPoint            []string               `json:"entryPoint,omitempty"`
	CPU                   int                    `json:"cpu"`
	Memory                int                    `json:"memory,omitempty"`
	Environment           map[string]string      `json:"environment,omitempty"`
	EnvironmentFiles      []EnvironmentFile      `json:"environmentFiles,omitempty"`
	Essential             bool                   `json:"essential"`
	Links                 []string               `json:"links,omitempty"`
	PortMappings          []PortMapping          `json:"portMappings,omitempty"`
	MountPoints           []MountPoint           `json:"mountPoints,omitempty"`
	VolumesFrom           []VolumeFrom           `json:"volumesFrom,omitempty"`
	LinuxParameters       *LinuxParameters       `json:"linuxParameters,omitempty"`
	Privileged            *bool                  `json:"privileged,omitempty"`
	Secrets               []Secret               `json:"secrets,omitempty"`
	DependsOn             []ContainerDependency  `json:"dependsOn,omitempty"`
	StartTimeout          *int                   `json:"startTimeout,omitempty"`
	StopTimeout           *int                   `json:"stopTimeout,omitempty"`
	RestartPolicy         *RestartPolicy         `json:"restartPolicy,omitempty"`
	HealthCheckType       string                 `json:"healthCheckType,omitempty"`
	FirelensConfiguration *FirelensConfiguration `json:"firelensConfiguration,omitempty"`
	Overrides             string                 `json:"overrides,omitempty"`
	DockerConfig          *DockerConfig          `json:"dockerConfig,omitempty"`
}

// HealthCheckDocker is the only healthCheckType: the agent reads Docker's
// health status of the container.
const HealthCheckDocker = "docker"

// PortMapping is a container port mapping.
type PortMapping struct {
	ContainerPort      int    `json:"containerPort,omitempty"`
	HostPort           int    `json:"hostPort,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
}

// EnvironmentFile is an environment file (in S3) of a container.
type EnvironmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
}

// VolumeFrom mounts the volumes of another container of the task.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer"`
	ReadOnly        bool   `json:"readOnly,omitempty"`
}

// LinuxParameters are a container's Linux-specific settings that ACS
// carries as members (the rest is in DockerConfig.HostConfig).
type LinuxParameters struct {
	Capabilities       *KernelCapabilities `json:"capabilities,omitempty"`
	Devices            []Device            `json:"devices,omitempty"`
	InitProcessEnabled *bool               `json:"initProcessEnabled,omitempty"`
	SharedMemorySize   *int                `json:"sharedMemorySize,omitempty"`
}

// KernelCapabilities are the capabilities added to and dropped from
// Docker's default set.
type KernelCapabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Device is a host device exposed to a container.
type Device struct {
	HostPath      string   `json:"hostPath"`
	ContainerPath string   `json:"containerPath,omitempty"`
	Permissions   []string `json:"permissions,omitempty"`
}

// Secret is a reference to a Secrets Manager secret or SSM parameter that
// the agent resolves; its value never travels in the payload.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
	Type      string `json:"type,omitempty"`     // ENVIRONMENT_VARIABLE, MOUNT_POINT, BOOTSTRAP
	Provider  string `json:"provider,omitempty"` // ssm or asm
	Region    string `json:"region,omitempty"`
	Target    string `json:"target,omitempty"` // CONTAINER or LOG_DRIVER
}

// Secret types, providers and targets.
const (
	SecretTypeEnv         = "ENVIRONMENT_VARIABLE"
	SecretTypeBootstrap   = "BOOTSTRAP"
	SecretProviderSSM     = "ssm"
	SecretProviderASM     = "asm"
	SecretTargetContainer = "CONTAINER"
	SecretTargetLogDriver = "LOG_DRIVER"
)

// ContainerDependency is a container's startup dependency.
type ContainerDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// RestartPolicy is a container restart policy.
type RestartPolicy struct {
	Enabled              bool  `json:"enabled"`
	IgnoredExitCodes     []int `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod *int  `json:"restartAttemptPeriod,omitempty"`
}

// FirelensConfiguration is a container's FireLens log router setting.
type FirelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

// DockerConfig carries Docker Engine API JSON for what ACS has no member
// for: Config (a container create body) and HostConfig (its HostConfig),
// each a JSON document in a string, merged by the agent over what it
// derives from the members. Version is the Docker API version the
// container needs at least.
type DockerConfig struct {
	Config     string `json:"config,omitempty"`
	HostConfig string `json:"hostConfig,omitempty"`
	Version    string `json:"version,omitempty"`
}

// Volume is a task volume.
type Volume struct {
	Name                      string                     `json:"name"`
	Type                      string                     `json:"type"` // host or docker
	Host                      *HostVolumeProperties      `json:"host,omitempty"`
	DockerVolumeConfiguration *DockerVolumeConfiguration `json:"dockerVolumeConfiguration,omitempty"`
}

// Volume types.
const (
	VolumeTypeHost   = "host"
	VolumeTypeDocker = "docker"
)

// HostVolumeProperties is a bind mount's host path; without one the
// volume is an empty scratch volume that lives as long as the task.
type HostVolumeProperties struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

// DockerVolumeConfiguration is a Docker volume.
type DockerVolumeConfiguration struct {
	Scope         string            `json:"scope,omitempty"`
	Autoprovision *bool             `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// ElasticNetworkInterface is the network interface of an awsvpc task.
type ElasticNetworkInterface struct {
	AttachmentARN string `json:"attachmentArn"`
	Ec2ID         string `json:"ec2Id,omitempty"`
	MACAddress    string `json:"macAddress,omitempty"`
}
