package ecs

import "time"

// Task definition statuses.
const (
	TaskDefActive         = "ACTIVE"
	TaskDefInactive       = "INACTIVE"
	TaskDefDeleteProgress = "DELETE_IN_PROGRESS"
)

// Launch types and compatibilities.
const (
	LaunchEC2      = "EC2"
	LaunchFargate  = "FARGATE"
	LaunchExternal = "EXTERNAL"
)

// Network modes.
const (
	NetworkAwsvpc = "awsvpc"
	NetworkBridge = "bridge"
	NetworkHost   = "host"
	NetworkNone   = "none"
)

// TaskDefinition is one revision of a task definition family. The shapes of
// the nested documents (container definitions, volumes, ...) are ECS's own
// documents, so their JSON form is AWS's; berth stores them as given.
type TaskDefinition struct {
	Family                  string                 `json:"family"`
	Revision                int                    `json:"revision"`
	ARN                     string                 `json:"taskDefinitionArn"`
	Status                  string                 `json:"status"`
	ContainerDefinitions    []ContainerDefinition  `json:"containerDefinitions"`
	TaskRoleARN             string                 `json:"taskRoleArn,omitempty"`
	ExecutionRoleARN        string                 `json:"executionRoleArn,omitempty"`
	NetworkMode             string                 `json:"networkMode,omitempty"`
	Volumes                 []Volume               `json:"volumes"`
	PlacementConstraints    []PlacementConstraint  `json:"placementConstraints"`
	RequiresCompatibilities []string               `json:"requiresCompatibilities,omitempty"`
	Compatibilities         []string               `json:"compatibilities,omitempty"`
	RequiresAttributes      []Attribute            `json:"requiresAttributes,omitempty"`
	CPU                     string                 `json:"cpu,omitempty"`
	Memory                  string                 `json:"memory,omitempty"`
	InferenceAccelerators   []InferenceAccelerator `json:"inferenceAccelerators,omitempty"`
	PidMode                 string                 `json:"pidMode,omitempty"`
	IpcMode                 string                 `json:"ipcMode,omitempty"`
	ProxyConfiguration      *ProxyConfiguration    `json:"proxyConfiguration,omitempty"`
	RuntimePlatform         *RuntimePlatform       `json:"runtimePlatform,omitempty"`
	EphemeralStorage        *EphemeralStorage      `json:"ephemeralStorage,omitempty"`
	EnableFaultInjection    *bool                  `json:"enableFaultInjection,omitempty"`
	RegisteredAt            time.Time              `json:"registeredAt"`
	RegisteredBy            string                 `json:"registeredBy,omitempty"`
	DeregisteredAt          time.Time              `json:"deregisteredAt,omitzero"`
}

// ContainerDefinition is ECS's container definition document.
type ContainerDefinition struct {
	Name                   string                 `json:"name,omitempty"`
	Image                  string                 `json:"image,omitempty"`
	RepositoryCredentials  *RepositoryCredentials `json:"repositoryCredentials,omitempty"`
	CPU                    int                    `json:"cpu"`
	Memory                 *int                   `json:"memory,omitempty"`
	MemoryReservation      *int                   `json:"memoryReservation,omitempty"`
	Links                  []string               `json:"links,omitempty"`
	PortMappings           []PortMapping          `json:"portMappings"`
	Essential              *bool                  `json:"essential,omitempty"`
	RestartPolicy          *RestartPolicy         `json:"restartPolicy,omitempty"`
	EntryPoint             []string               `json:"entryPoint,omitempty"`
	Command                []string               `json:"command,omitempty"`
	Environment            []KeyValuePair         `json:"environment"`
	EnvironmentFiles       []EnvironmentFile      `json:"environmentFiles,omitempty"`
	MountPoints            []MountPoint           `json:"mountPoints"`
	VolumesFrom            []VolumeFrom           `json:"volumesFrom"`
	LinuxParameters        *LinuxParameters       `json:"linuxParameters,omitempty"`
	Secrets                []Secret               `json:"secrets,omitempty"`
	DependsOn              []ContainerDependency  `json:"dependsOn,omitempty"`
	StartTimeout           *int                   `json:"startTimeout,omitempty"`
	StopTimeout            *int                   `json:"stopTimeout,omitempty"`
	VersionConsistency     string                 `json:"versionConsistency,omitempty"`
	Hostname               string                 `json:"hostname,omitempty"`
	User                   string                 `json:"user,omitempty"`
	WorkingDirectory       string                 `json:"workingDirectory,omitempty"`
	DisableNetworking      *bool                  `json:"disableNetworking,omitempty"`
	Privileged             *bool                  `json:"privileged,omitempty"`
	ReadonlyRootFilesystem *bool                  `json:"readonlyRootFilesystem,omitempty"`
	DNSServers             []string               `json:"dnsServers,omitempty"`
	DNSSearchDomains       []string               `json:"dnsSearchDomains,omitempty"`
	ExtraHosts             []HostEntry            `json:"extraHosts,omitempty"`
	DockerSecurityOptions  []string               `json:"dockerSecurityOptions,omitempty"`
	Interactive            *bool                  `json:"interactive,omitempty"`
	PseudoTerminal         *bool                  `json:"pseudoTerminal,omitempty"`
	DockerLabels           map[string]string      `json:"dockerLabels,omitempty"`
	Ulimits                []Ulimit               `json:"ulimits,omitempty"`
	LogConfiguration       *LogConfiguration      `json:"logConfiguration,omitempty"`
	HealthCheck            *HealthCheck           `json:"healthCheck,omitempty"`
	SystemControls         []SystemControl        `json:"systemControls"`
	ResourceRequirements   []ResourceRequirement  `json:"resourceRequirements,omitempty"`
	FirelensConfiguration  *FirelensConfiguration `json:"firelensConfiguration,omitempty"`
	CredentialSpecs        []string               `json:"credentialSpecs,omitempty"`
}

// RepositoryCredentials names a secret holding private registry credentials.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// PortMapping maps a container port.
type PortMapping struct {
	ContainerPort      *int   `json:"containerPort,omitempty"`
	HostPort           *int   `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	Name               string `json:"name,omitempty"`
	AppProtocol        string `json:"appProtocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
}

// RestartPolicy is a container restart policy.
type RestartPolicy struct {
	Enabled              bool  `json:"enabled"`
	IgnoredExitCodes     []int `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod *int  `json:"restartAttemptPeriod,omitempty"`
}

// KeyValuePair is a name/value pair (environment variables, ...).
type KeyValuePair struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// EnvironmentFile is an S3 environment file.
type EnvironmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	ReadOnly      *bool  `json:"readOnly,omitempty"`
}

// VolumeFrom mounts another container's volumes.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer,omitempty"`
	ReadOnly        *bool  `json:"readOnly,omitempty"`
}

// LinuxParameters are Linux-specific container options.
type LinuxParameters struct {
	Capabilities       *KernelCapabilities `json:"capabilities,omitempty"`
	Devices            []Device            `json:"devices,omitempty"`
	InitProcessEnabled *bool               `json:"initProcessEnabled,omitempty"`
	SharedMemorySize   *int                `json:"sharedMemorySize,omitempty"`
	Tmpfs              []Tmpfs             `json:"tmpfs,omitempty"`
	MaxSwap            *int                `json:"maxSwap,omitempty"`
	Swappiness         *int                `json:"swappiness,omitempty"`
}

// KernelCapabilities adds or drops Linux capabilities.
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

// Tmpfs is a tmpfs mount.
type Tmpfs struct {
	ContainerPath string   `json:"containerPath"`
	Size          int      `json:"size"`
	MountOptions  []string `json:"mountOptions,omitempty"`
}

// Secret injects a secret as an environment variable.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDependency orders container start-up.
type ContainerDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// HostEntry is an /etc/hosts entry.
type HostEntry struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ipAddress"`
}

// Ulimit is a resource limit.
type Ulimit struct {
	Name      string `json:"name"`
	SoftLimit int    `json:"softLimit"`
	HardLimit int    `json:"hardLimit"`
}

// LogConfiguration selects a log driver.
type LogConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []Secret          `json:"secretOptions,omitempty"`
}

// HealthCheck is a container health check.
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    *int     `json:"interval,omitempty"`
	Timeout     *int     `json:"timeout,omitempty"`
	Retries     *int     `json:"retries,omitempty"`
	StartPeriod *int     `json:"startPeriod,omitempty"`
}

// SystemControl is a namespaced kernel parameter.
type SystemControl struct {
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value,omitempty"`
}

// ResourceRequirement reserves a GPU or inference accelerator.
type ResourceRequirement struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// FirelensConfiguration configures a FireLens log router.
type FirelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

// Volume is a task volume.
type Volume struct {
	Name                           string                     `json:"name,omitempty"`
	Host                           *HostVolumeProperties      `json:"host,omitempty"`
	DockerVolumeConfiguration      *DockerVolumeConfiguration `json:"dockerVolumeConfiguration,omitempty"`
	EfsVolumeConfiguration         map[string]any             `json:"efsVolumeConfiguration,omitempty"`
	FsxWindowsFileServerVolumeConf map[string]any             `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
	ConfiguredAtLaunch             *bool                      `json:"configuredAtLaunch,omitempty"`
}

// HostVolumeProperties binds a host path.
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

// PlacementConstraint constrains where a task is placed.
type PlacementConstraint struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// Attribute is a container instance attribute (also a task definition's
// required attribute).
type Attribute struct {
	Name       string `json:"name"`
	Value      string `json:"value,omitempty"`
	TargetType string `json:"targetType,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
}

// InferenceAccelerator is an Elastic Inference accelerator.
type InferenceAccelerator struct {
	DeviceName string `json:"deviceName"`
	DeviceType string `json:"deviceType"`
}

// ProxyConfiguration configures an App Mesh proxy.
type ProxyConfiguration struct {
	Type          string         `json:"type,omitempty"`
	ContainerName string         `json:"containerName"`
	Properties    []KeyValuePair `json:"properties,omitempty"`
}

// RuntimePlatform is the OS and CPU architecture of a task.
type RuntimePlatform struct {
	CPUArchitecture       string `json:"cpuArchitecture,omitempty"`
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
}

// EphemeralStorage is a Fargate task's ephemeral storage size.
type EphemeralStorage struct {
	SizeInGiB int `json:"sizeInGiB"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
