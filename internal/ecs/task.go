package ecs

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Task lifecycle statuses. A task's lastStatus only ever moves down this
// list; ECS may skip states (a bridge-mode task has nothing to provision, a
// task that fails to start goes from PENDING straight to STOPPED), but never
// goes back:
//
//	PROVISIONING    ENIs and other task resources are being created
//	     │          (awsvpc / Fargate tasks only)
//	     ▼
//	PENDING         waiting for the agent; images are pulled here
//	     │          (pullStartedAt / pullStoppedAt, connectivityAt)
//	     ▼
//	ACTIVATING      post-launch steps (load balancer registration, ...)
//	     │
//	     ▼
//	RUNNING         containers are up                        (startedAt)
//	     │
//	     ▼
//	DEACTIVATING    pre-stop steps (load balancer deregistration, ...)
//	     │
//	     ▼
//	STOPPING        containers are being stopped              (stoppingAt)
//	     │
//	     ▼
//	DEPROVISIONING  ENIs and other task resources are released (executionStoppedAt)
//	     │
//	     ▼
//	STOPPED         terminal                                  (stoppedAt)
//
// desiredStatus is RUNNING until a stop is requested (RequestStop) or the
// task reaches one of the stop-side states, then STOPPED.
const (
	TaskProvisioning   = "PROVISIONING"
	TaskPending        = "PENDING"
	TaskActivating     = "ACTIVATING"
	TaskRunning        = "RUNNING"
	TaskDeactivating   = "DEACTIVATING"
	TaskStopping       = "STOPPING"
	TaskDeprovisioning = "DEPROVISIONING"
	TaskStopped        = "STOPPED"
)

// taskOrder is the position of each status in the lifecycle.
var taskOrder = map[string]int{
	TaskProvisioning: 0, TaskPending: 1, TaskActivating: 2, TaskRunning: 3,
	TaskDeactivating: 4, TaskStopping: 5, TaskDeprovisioning: 6, TaskStopped: 7,
}

// TaskStatusIndex returns the position of a task status in the lifecycle
// (PROVISIONING is 0, STOPPED is 7), or -1 for an unknown status.
func TaskStatusIndex(status string) int {
	if i, ok := taskOrder[status]; ok {
		return i
	}
	return -1
}

// Container statuses (a container has a shorter lifecycle than its task).
const (
	ContainerPending = "PENDING"
	ContainerRunning = "RUNNING"
	ContainerStopped = "STOPPED"
)

// Task stop codes.
const (
	StopTaskFailedToStart          = "TaskFailedToStart"
	StopEssentialContainerExited   = "EssentialContainerExited"
	StopUserInitiated              = "UserInitiated"
	StopServiceSchedulerInitiated  = "ServiceSchedulerInitiated"
	StopSpotInterruption           = "SpotInterruption"
	StopTerminationNotice          = "TerminationNotice"
	EssentialContainerExitedReason = "Essential container in task exited"
)

// Health statuses of tasks and containers.
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// Task connectivity.
const (
	ConnectivityConnected    = "CONNECTED"
	ConnectivityDisconnected = "DISCONNECTED"
)

// Fargate platform defaults.
const (
	FargatePlatformVersion = "1.4.0"
	FargatePlatformFamily  = "Linux"
)

// Attachment types and statuses.
const (
	AttachmentENI        = "ElasticNetworkInterface"
	AttachmentPrecreated = "PRECREATED"
	AttachmentAttached   = "ATTACHED"
	AttachmentDeleted    = "DELETED"
)

// MaxRunCount is the most tasks one RunTask call may start.
const MaxRunCount = 10

// Task is an ECS task. Its JSON form uses ECS's field names; it is the form
// berth persists. ID is derived from the ARN and not stored.
type Task struct {
	ARN                  string            `json:"taskArn"`
	ID                   string            `json:"-"`
	ClusterARN           string            `json:"clusterArn"`
	TaskDefinitionARN    string            `json:"taskDefinitionArn"`
	ContainerInstanceARN string            `json:"containerInstanceArn,omitempty"`
	LaunchType           string            `json:"launchType,omitempty"`
	CapacityProviderName string            `json:"capacityProviderName,omitempty"`
	Group                string            `json:"group,omitempty"`
	StartedBy            string            `json:"startedBy,omitempty"`
	LastStatus           string            `json:"lastStatus"`
	DesiredStatus        string            `json:"desiredStatus"`
	HealthStatus         string            `json:"healthStatus,omitempty"`
	CPU                  string            `json:"cpu,omitempty"`
	Memory               string            `json:"memory,omitempty"`
	Containers           []Container       `json:"containers"`
	Overrides            TaskOverride      `json:"overrides"`
	Attachments          []Attachment      `json:"attachments"`
	CreatedAt            time.Time         `json:"createdAt,omitzero"`
	PullStartedAt        time.Time         `json:"pullStartedAt,omitzero"`
	PullStoppedAt        time.Time         `json:"pullStoppedAt,omitzero"`
	StartedAt            time.Time         `json:"startedAt,omitzero"`
	StoppingAt           time.Time         `json:"stoppingAt,omitzero"`
	StoppedAt            time.Time         `json:"stoppedAt,omitzero"`
	ExecutionStoppedAt   time.Time         `json:"executionStoppedAt,omitzero"`
	ConnectivityAt       time.Time         `json:"connectivityAt,omitzero"`
	StopCode             string            `json:"stopCode,omitempty"`
	StoppedReason        string            `json:"stoppedReason,omitempty"`
	Version              int64             `json:"version"`
	PlatformVersion      string            `json:"platformVersion,omitempty"`
	PlatformFamily       string            `json:"platformFamily,omitempty"`
	EnableExecuteCommand bool              `json:"enableExecuteCommand"`
	Tags                 []Tag             `json:"tags,omitempty"`
	AvailabilityZone     string            `json:"availabilityZone,omitempty"`
	Connectivity         string            `json:"connectivity,omitempty"`
	EphemeralStorage     *EphemeralStorage `json:"ephemeralStorage,omitempty"`
	// ProtectedUntil is when the task's scale-in protection
	// (UpdateTaskProtection) ends; zero: not protected. The service
	// scheduler does not stop a protected task for a scale-in or a
	// deployment.
	ProtectedUntil time.Time `json:"protectedUntil,omitzero"`
}

// UnmarshalJSON decodes a task and derives its ID from the ARN.
// Types that embed it inherit this method: give them their own UnmarshalJSON
// if they are ever decoded.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	if err := json.Unmarshal(b, (*plain)(t)); err != nil {
		return err
	}
	t.ID = TaskIDFromARN(t.ARN)
	return nil
}

// Container is a container of a task, in ECS's shape. Essential and
// HealthCheck are berth's bookkeeping (copied from the container definition
// so that a task can judge its own health and exit without its definition);
// they are not part of ECS's Container and the API layer leaves them out.
type Container struct {
	ContainerARN      string             `json:"containerArn"`
	TaskARN           string             `json:"taskArn"`
	Name              string             `json:"name"`
	Image             string             `json:"image,omitempty"`
	ImageDigest       string             `json:"imageDigest,omitempty"`
	RuntimeID         string             `json:"runtimeId,omitempty"`
	LastStatus        string             `json:"lastStatus"`
	ExitCode          *int               `json:"exitCode,omitempty"`
	Reason            string             `json:"reason,omitempty"`
	HealthStatus      string             `json:"healthStatus,omitempty"`
	NetworkBindings   []NetworkBinding   `json:"networkBindings"`
	NetworkInterfaces []NetworkInterface `json:"networkInterfaces"`
	CPU               string             `json:"cpu,omitempty"`
	Memory            string             `json:"memory,omitempty"`
	MemoryReservation string             `json:"memoryReservation,omitempty"`
	Essential         bool               `json:"essential"`
	HealthCheck       bool               `json:"healthCheck,omitempty"`
}

// NetworkBinding is a host port a container port is published on.
type NetworkBinding struct {
	BindIP             string `json:"bindIP,omitempty"`
	ContainerPort      int    `json:"containerPort,omitempty"`
	HostPort           int    `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	HostPortRange      string `json:"hostPortRange,omitempty"`
}

// NetworkInterface is a container's view of its task's ENI.
type NetworkInterface struct {
	AttachmentID       string `json:"attachmentId,omitempty"`
	PrivateIPv4Address string `json:"privateIpv4Address,omitempty"`
	IPv6Address        string `json:"ipv6Address,omitempty"`
}

// Attachment is a resource attached to a task (today: its ENI).
type Attachment struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Details []KeyValuePair `json:"details"`
}

// Detail returns the value of an attachment detail.
func (a Attachment) Detail(name string) string {
	for _, d := range a.Details {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

func (a *Attachment) setDetail(name, value string) {
	for i := range a.Details {
		if a.Details[i].Name == name {
			a.Details[i].Value = value
			return
		}
	}
	a.Details = append(a.Details, KeyValuePair{Name: name, Value: value})
}

// TaskOverride is RunTask's overrides document.
type TaskOverride struct {
	ContainerOverrides            []ContainerOverride            `json:"containerOverrides"`
	CPU                           string                         `json:"cpu,omitempty"`
	Memory                        string                         `json:"memory,omitempty"`
	TaskRoleARN                   string                         `json:"taskRoleArn,omitempty"`
	ExecutionRoleARN              string                         `json:"executionRoleArn,omitempty"`
	InferenceAcceleratorOverrides []InferenceAcceleratorOverride `json:"inferenceAcceleratorOverrides"`
	EphemeralStorage              *EphemeralStorage              `json:"ephemeralStorage,omitempty"`
}

// ContainerOverride overrides one container of a task definition.
type ContainerOverride struct {
	Name                 string                `json:"name,omitempty"`
	Command              []string              `json:"command,omitempty"`
	Environment          []KeyValuePair        `json:"environment,omitempty"`
	EnvironmentFiles     []EnvironmentFile     `json:"environmentFiles,omitempty"`
	CPU                  *int                  `json:"cpu,omitempty"`
	Memory               *int                  `json:"memory,omitempty"`
	MemoryReservation    *int                  `json:"memoryReservation,omitempty"`
	ResourceRequirements []ResourceRequirement `json:"resourceRequirements,omitempty"`
}

// InferenceAcceleratorOverride overrides an inference accelerator.
type InferenceAcceleratorOverride struct {
	DeviceName string `json:"deviceName,omitempty"`
	DeviceType string `json:"deviceType,omitempty"`
}

// NetworkConfiguration is RunTask's network configuration.
type NetworkConfiguration struct {
	AwsvpcConfiguration *AwsVpcConfiguration `json:"awsvpcConfiguration,omitempty"`
}

// AwsVpcConfiguration places a task's ENI.
type AwsVpcConfiguration struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

// PlacementStrategy is one task placement strategy.
type PlacementStrategy struct {
	Type  string `json:"type,omitempty"`
	Field string `json:"field,omitempty"`
}

// Placement strategy and constraint types.
const (
	StrategyRandom             = "random"
	StrategySpread             = "spread"
	StrategyBinpack            = "binpack"
	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"
	MaxPlacementStrategies     = 5
	MaxPlacementConstraints    = 10
)

// RunRequest is what NewTask needs from a RunTask (or StartTask) call, with
// the cluster and task definition already resolved.
type RunRequest struct {
	LaunchType           string
	CapacityProviderName string // FARGATE or FARGATE_SPOT when run through a capacity provider
	Group                string
	StartedBy            string
	Count                int // 0 means 1
	Overrides            *TaskOverride
	NetworkConfiguration *NetworkConfiguration
	PlatformVersion      string
	EnableExecuteCommand bool
	Tags                 []Tag
	PlacementConstraints []PlacementConstraint
	PlacementStrategy    []PlacementStrategy
	AvailabilityZone     string
	// NewID returns the UUID for each container ARN and attachment ID. When
	// nil, IDs are derived deterministically from the task ID.
	NewID func() string
}

// TaskIDFromARN returns the ID of a task from its ARN (long or short
// format), or the reference itself if it is not an ARN.
func TaskIDFromARN(arn string) string { return lastSegment(arn) }

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TaskARN returns the long-format ARN of a task.
func (s Scope) TaskARN(cluster, id string) string { return s.ARN("task/" + cluster + "/" + id) }

// ContainerARN returns the ARN of a task's container.
func (s Scope) ContainerARN(cluster, taskID, id string) string {
	return s.ARN("container/" + cluster + "/" + taskID + "/" + id)
}

// NewTask builds a task for one run of td in cluster. It validates req
// (ValidateRunRequest), applies ECS's defaults (group "family:<family>",
// launch type EC2, Fargate platform version) and returns the task in its
// first state: PROVISIONING for awsvpc tasks (their ENI has to be created),
// PENDING otherwise. id and now are inputs; the task does no I/O and draws
// no randomness (container UUIDs come from req.NewID).
func NewTask(scope Scope, cluster *Cluster, td *TaskDefinition, req RunRequest, id string, now time.Time) (*Task, error) {
	if err := ValidateRunRequest(td, req); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalidParam("A task ID is required.")
	}
	lt := req.EffectiveLaunchType()
	defs, err := ApplyContainerOverrides(td, req.Overrides, lt)
	if err != nil {
		return nil, err
	}
	cpu, mem, err := taskSize(td, req.Overrides)
	if err != nil {
		return nil, err
	}
	newID := req.NewID
	if newID == nil {
		n := 0
		newID = func() string { n++; return derivedUUID(id, n) }
	}
	t := &Task{
		ARN:                  scope.TaskARN(cluster.Name, id),
		ID:                   id,
		ClusterARN:           cluster.ARN,
		TaskDefinitionARN:    td.ARN,
		LaunchType:           lt,
		CapacityProviderName: req.CapacityProviderName,
		Group:                req.Group,
		StartedBy:            req.StartedBy,
		LastStatus:           TaskPending,
		DesiredStatus:        TaskRunning,
		HealthStatus:         HealthUnknown,
		CPU:                  strconv.Itoa(cpu),
		Memory:               strconv.Itoa(mem),
		Attachments:          []Attachment{},
		CreatedAt:            now,
		Version:              1,
		EnableExecuteCommand: req.EnableExecuteCommand,
		Tags:                 slices.Clone(req.Tags),
		AvailabilityZone:     req.AvailabilityZone,
		EphemeralStorage:     td.EphemeralStorage,
	}
	if t.Group == "" {
		t.Group = "family:" + td.Family
	}
	if req.Overrides != nil {
		t.Overrides = cloneOverride(*req.Overrides)
		if t.Overrides.EphemeralStorage != nil {
			t.EphemeralStorage = t.Overrides.EphemeralStorage
		}
	}
	if t.Overrides.ContainerOverrides == nil {
		t.Overrides.ContainerOverrides = []ContainerOverride{}
	}
	if t.Overrides.InferenceAcceleratorOverrides == nil {
		t.Overrides.InferenceAcceleratorOverrides = []InferenceAcceleratorOverride{}
	}
	if lt == LaunchFargate {
		t.PlatformVersion = FargatePlatformVersion
		if req.PlatformVersion != "" && req.PlatformVersion != "LATEST" {
			t.PlatformVersion = req.PlatformVersion
		}
		t.PlatformFamily = FargatePlatformFamily
		if t.EphemeralStorage == nil {
			t.EphemeralStorage = &EphemeralStorage{SizeInGiB: 20}
		}
	}
	if td.NetworkMode == NetworkAwsvpc {
		t.LastStatus = TaskProvisioning
		subnet := req.NetworkConfiguration.AwsvpcConfiguration.Subnets[0]
		t.Attachments = append(t.Attachments, Attachment{
			ID: newID(), Type: AttachmentENI, Status: AttachmentPrecreated,
			Details: []KeyValuePair{{Name: "subnetId", Value: subnet}},
		})
	}
	for _, c := range defs {
		ctr := Container{
			ContainerARN:      scope.ContainerARN(cluster.Name, id, newID()),
			TaskARN:           t.ARN,
			Name:              c.Name,
			Image:             c.Image,
			LastStatus:        ContainerPending,
			HealthStatus:      HealthUnknown,
			NetworkBindings:   []NetworkBinding{},
			NetworkInterfaces: []NetworkInterface{},
			CPU:               strconv.Itoa(c.CPU),
			Essential:         c.Essential == nil || *c.Essential,
			HealthCheck:       c.HealthCheck != nil && len(c.HealthCheck.Command) > 0 && c.HealthCheck.Command[0] != "NONE",
		}
		if c.Memory != nil {
			ctr.Memory = strconv.Itoa(*c.Memory)
		}
		if c.MemoryReservation != nil {
			ctr.MemoryReservation = strconv.Itoa(*c.MemoryReservation)
		}
		t.Containers = append(t.Containers, ctr)
	}
	return t, nil
}

func cloneOverride(o TaskOverride) TaskOverride {
	out := o
	out.ContainerOverrides = make([]ContainerOverride, len(o.ContainerOverrides))
	for i, co := range o.ContainerOverrides {
		c := co
		c.Command = slices.Clone(co.Command)
		c.Environment = slices.Clone(co.Environment)
		c.EnvironmentFiles = slices.Clone(co.EnvironmentFiles)
		c.ResourceRequirements = slices.Clone(co.ResourceRequirements)
		c.CPU, c.Memory, c.MemoryReservation = cloneInt(co.CPU), cloneInt(co.Memory), cloneInt(co.MemoryReservation)
		out.ContainerOverrides[i] = c
	}
	out.InferenceAcceleratorOverrides = slices.Clone(o.InferenceAcceleratorOverrides)
	if o.EphemeralStorage != nil {
		e := *o.EphemeralStorage
		out.EphemeralStorage = &e
	}
	return out
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// derivedUUID formats a hash of the task ID and a counter as a UUID, so a
// task built without an ID source still gets stable, distinct container IDs.
func derivedUUID(taskID string, n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", taskID, n))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
