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

// EffectiveLaunchType returns the launch type a request runs with: its
// launch type, FARGATE for the Fargate capacity providers, or EC2.
func (r RunRequest) EffectiveLaunchType() string {
	switch {
	case r.LaunchType != "":
		return r.LaunchType
	case r.CapacityProviderName == CapacityFargate || r.CapacityProviderName == CapacityFargateSpot:
		return LaunchFargate
	}
	return LaunchEC2
}

// ValidateRunRequest checks a run request against the task definition it
// runs, as RunTask does before placing anything.
func ValidateRunRequest(td *TaskDefinition, req RunRequest) error {
	if req.Count < 0 || req.Count > MaxRunCount {
		return invalidParam("Count must be between 1 and %d.", MaxRunCount)
	}
	if req.LaunchType != "" && req.CapacityProviderName != "" {
		return invalidParam("Specifying both a launchType and capacityProviderStrategy is not supported.")
	}
	lt := req.EffectiveLaunchType()
	switch lt {
	case LaunchEC2, LaunchFargate, LaunchExternal:
	default:
		return invalidParam("Invalid launch type %q. Valid values: EC2, FARGATE, EXTERNAL.", lt)
	}
	if !slices.Contains(td.Compatibilities, lt) {
		return invalidParam("Task definition does not support launch_type %s.", lt)
	}
	if err := validateNetworkConfiguration(td, req.NetworkConfiguration); err != nil {
		return err
	}
	if lt == LaunchFargate {
		switch req.PlatformVersion {
		case "", "LATEST", "1.4.0", "1.3.0":
		default:
			return invalidParam("The specified platform version (%s) does not exist.", req.PlatformVersion)
		}
	} else if req.PlatformVersion != "" {
		return invalidParam("The platform version must be null when specifying an %s launch type.", lt)
	}
	if len(req.StartedBy) > 128 {
		return invalidParam("startedBy can be up to 128 characters.")
	}
	if len(req.Group) > 255 {
		return invalidParam("group can be up to 255 characters.")
	}
	if err := ValidateTags(req.Tags); err != nil {
		return err
	}
	if err := ValidatePlacement(lt, req.PlacementConstraints, req.PlacementStrategy); err != nil {
		return err
	}
	_, err := ApplyContainerOverrides(td, req.Overrides, lt)
	return err
}

func validateNetworkConfiguration(td *TaskDefinition, nc *NetworkConfiguration) error {
	if td.NetworkMode != NetworkAwsvpc {
		if nc != nil && nc.AwsvpcConfiguration != nil {
			return invalidParam("Network Configuration is not valid for the given networkMode of this task definition.")
		}
		return nil
	}
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	vpc := nc.AwsvpcConfiguration
	if len(vpc.Subnets) == 0 {
		return invalidParam("subnets can not be empty.")
	}
	if len(vpc.Subnets) > 16 {
		return invalidParam("At most 16 subnets can be specified.")
	}
	if len(vpc.SecurityGroups) > 5 {
		return invalidParam("At most 5 security groups can be specified.")
	}
	switch vpc.AssignPublicIP {
	case "", "ENABLED", "DISABLED":
	default:
		return invalidParam("Invalid assignPublicIp value %q. Valid values: ENABLED, DISABLED.", vpc.AssignPublicIP)
	}
	return nil
}

// ValidatePlacement checks placement constraints and strategies as RunTask
// and CreateService do: known types, parsable memberOf expressions, at most
// ten constraints and five strategies, and none of them for Fargate.
func ValidatePlacement(launchType string, constraints []PlacementConstraint, strategies []PlacementStrategy) error {
	if launchType == LaunchFargate && (len(constraints) > 0 || len(strategies) > 0) {
		return invalidParam("Task placement constraints and strategies are not supported for tasks using the Fargate launch type.")
	}
	if len(constraints) > MaxPlacementConstraints {
		return invalidParam("At most %d placement constraints can be specified.", MaxPlacementConstraints)
	}
	for _, c := range constraints {
		switch c.Type {
		case ConstraintDistinctInstance:
			if c.Expression != "" {
				return invalidParam("Expression cannot be specified for the distinctInstance placement constraint.")
			}
		case ConstraintMemberOf:
			if c.Expression == "" {
				return invalidParam("Expression must be specified for the memberOf placement constraint.")
			}
			if _, err := ParseQuery(c.Expression); err != nil {
				return err
			}
		default:
			return invalidParam("Invalid placement constraint type %q. Valid values: distinctInstance, memberOf.", c.Type)
		}
	}
	if len(strategies) > MaxPlacementStrategies {
		return invalidParam("At most %d placement strategies can be specified.", MaxPlacementStrategies)
	}
	for _, s := range strategies {
		switch s.Type {
		case StrategyRandom:
			if s.Field != "" {
				return invalidParam("Field cannot be specified for the random placement strategy.")
			}
		case StrategyBinpack:
			if f := strings.ToLower(s.Field); f != "cpu" && f != "memory" {
				return invalidParam("Invalid field %q for the binpack placement strategy. Valid values: cpu, memory.", s.Field)
			}
		case StrategySpread:
			switch {
			case s.Field == "":
				return invalidParam("Field must be specified for the spread placement strategy.")
			case strings.EqualFold(s.Field, "instanceId"), strings.EqualFold(s.Field, "host"):
			case strings.HasPrefix(s.Field, "attribute:") && len(s.Field) > len("attribute:"):
			default:
				return invalidParam("Invalid field %q for the spread placement strategy. Valid values: instanceId, host, attribute:<name>.", s.Field)
			}
		default:
			return invalidParam("Invalid placement strategy type %q. Valid values: random, spread, binpack.", s.Type)
		}
	}
	return nil
}

// ApplyContainerOverrides validates task overrides against a task definition
// and returns the container definitions with the overrides applied (command
// replaced, environment merged by name, environment files appended, cpu and
// memory replaced). td is not modified. launchType decides whether the
// task-level size must be a Fargate size.
func ApplyContainerOverrides(td *TaskDefinition, o *TaskOverride, launchType string) ([]ContainerDefinition, error) {
	out := make([]ContainerDefinition, len(td.ContainerDefinitions))
	copy(out, td.ContainerDefinitions)
	taskCPU, taskMem, err := taskSize(td, o)
	if err != nil {
		return nil, err
	}
	if launchType == LaunchFargate && !FargateSizeValid(taskCPU, taskMem) {
		return nil, invalidParam("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", taskCPU, taskMem)
	}
	if o == nil {
		return out, nil
	}
	if o.EphemeralStorage != nil && (o.EphemeralStorage.SizeInGiB < 21 || o.EphemeralStorage.SizeInGiB > 200) {
		return nil, invalidParam("The ephemeral storage size must be between 21 and 200 GiB.")
	}
	seen := map[string]bool{}
	for _, co := range o.ContainerOverrides {
		if co.Name == "" {
			return nil, invalidParam("Container overrides must name the container they override.")
		}
		i := slices.IndexFunc(out, func(c ContainerDefinition) bool { return c.Name == co.Name })
		if i < 0 {
			return nil, invalidParam("Override for container named %s is not a container in the TaskDefinition.", co.Name)
		}
		if seen[co.Name] {
			return nil, invalidParam("Container %s is overridden more than once.", co.Name)
		}
		seen[co.Name] = true
		c := &out[i]
		if co.Command != nil {
			c.Command = slices.Clone(co.Command)
		}
		for _, e := range co.Environment {
			if e.Name == "" {
				return nil, invalidParam("Environment variable name cannot be empty in the override of container %s.", co.Name)
			}
		}
		if len(co.Environment) > 0 {
			c.Environment = mergeEnv(c.Environment, co.Environment)
		}
		if len(co.EnvironmentFiles) > 0 {
			c.EnvironmentFiles = append(slices.Clone(c.EnvironmentFiles), co.EnvironmentFiles...)
		}
		if co.CPU != nil {
			if *co.CPU < 0 {
				return nil, invalidParam("Invalid 'cpu' override for container %s.", co.Name)
			}
			c.CPU = *co.CPU
		}
		if co.Memory != nil {
			if *co.Memory < 6 {
				return nil, invalidParam("Invalid 'memory' override for container %s. The memory hard limit must be at least 6 MiB.", co.Name)
			}
			v := *co.Memory
			c.Memory = &v
		}
		if co.MemoryReservation != nil {
			if *co.MemoryReservation < 6 {
				return nil, invalidParam("Invalid 'memoryReservation' override for container %s. The memory reservation must be at least 6 MiB.", co.Name)
			}
			v := *co.MemoryReservation
			c.MemoryReservation = &v
		}
		if c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
			return nil, invalidParam("Invalid setting for container %s. 'memoryReservation' must be less than or equal to 'memory'.", co.Name)
		}
		if taskMem > 0 && c.Memory != nil && *c.Memory > taskMem && (td.Memory != "" || o.Memory != "") {
			return nil, invalidParam("Invalid setting for container %s. The container memory (%d) exceeds the task memory (%d).", co.Name, *c.Memory, taskMem)
		}
		if len(co.ResourceRequirements) > 0 {
			c.ResourceRequirements = slices.Clone(co.ResourceRequirements)
		}
	}
	return out, nil
}

func mergeEnv(base, over []KeyValuePair) []KeyValuePair {
	out := slices.Clone(base)
	for _, e := range over {
		if i := slices.IndexFunc(out, func(b KeyValuePair) bool { return b.Name == e.Name }); i >= 0 {
			out[i].Value = e.Value
		} else {
			out = append(out, e)
		}
	}
	return out
}

// taskSize returns the task-level cpu units and memory MiB a task runs with:
// the override, else the definition's task-level size, else the sum over
// its containers (memoryReservation when set, else memory).
func taskSize(td *TaskDefinition, o *TaskOverride) (cpu, mem int, err error) {
	cpuStr, memStr := td.CPU, td.Memory
	if o != nil && o.CPU != "" {
		cpuStr = o.CPU
	}
	if o != nil && o.Memory != "" {
		memStr = o.Memory
	}
	if cpuStr != "" {
		if cpu, err = ParseCPU(cpuStr); err != nil {
			return 0, 0, invalidParam("Invalid 'cpu' override for task. Value: %s", cpuStr)
		}
	}
	if memStr != "" {
		if mem, err = ParseMemory(memStr); err != nil {
			return 0, 0, invalidParam("Invalid 'memory' override for task. Value: %s", memStr)
		}
	}
	if cpuStr != "" && memStr != "" {
		return cpu, mem, nil
	}
	byName := map[string]ContainerOverride{}
	if o != nil {
		for _, co := range o.ContainerOverrides {
			byName[co.Name] = co
		}
	}
	sumCPU, sumMem := 0, 0
	for _, c := range td.ContainerDefinitions {
		co := byName[c.Name]
		cc := c.CPU
		if co.CPU != nil {
			cc = *co.CPU
		}
		sumCPU += cc
		hard, soft := c.Memory, c.MemoryReservation
		if co.Memory != nil {
			hard = co.Memory
		}
		if co.MemoryReservation != nil {
			soft = co.MemoryReservation
		}
		switch {
		case soft != nil:
			sumMem += *soft
		case hard != nil:
			sumMem += *hard
		}
	}
	if cpuStr == "" {
		cpu = sumCPU
	}
	if memStr == "" {
		mem = sumMem
	}
	return cpu, mem, nil
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

// Advance moves the task's lastStatus forward to status to and records the
// matching timestamps (each set once, never overwritten):
//
//	PENDING or later     connectivity CONNECTED, connectivityAt
//	RUNNING              startedAt; pullStoppedAt if a pull started and did not stop
//	DEACTIVATING..       desiredStatus STOPPED
//	STOPPING or later    stoppingAt
//	DEPROVISIONING..     executionStoppedAt
//	STOPPED              stoppedAt; containers still not STOPPED become STOPPED
//
// A task that reaches STOPPED without ever having started gets the stop
// code TaskFailedToStart unless a stop code was already set. States may be
// skipped, as ECS does. Advancing to the current status is a
// no-op; moving backwards, or anywhere from STOPPED, is an error.
func (t *Task) Advance(to string, now time.Time) error {
	next := TaskStatusIndex(to)
	if next < 0 {
		return clientErr("Unknown task status %q.", to)
	}
	cur := TaskStatusIndex(t.LastStatus)
	if next == cur {
		return nil
	}
	if next < cur {
		return clientErr("Task %s cannot move from %s back to %s.", t.ID, t.LastStatus, to)
	}
	t.LastStatus = to
	set := func(ts *time.Time) {
		if ts.IsZero() {
			*ts = now
		}
	}
	if next >= taskOrder[TaskPending] && t.Connectivity == "" {
		t.Connectivity = ConnectivityConnected
		set(&t.ConnectivityAt)
	}
	if to == TaskRunning {
		set(&t.StartedAt)
		if !t.PullStartedAt.IsZero() {
			set(&t.PullStoppedAt)
		}
	}
	if next >= taskOrder[TaskDeactivating] {
		t.DesiredStatus = TaskStopped
	}
	if next >= taskOrder[TaskStopping] {
		set(&t.StoppingAt)
	}
	if next >= taskOrder[TaskDeprovisioning] {
		set(&t.ExecutionStoppedAt)
	}
	if to == TaskStopped {
		set(&t.StoppedAt)
		for i := range t.Containers {
			if t.Containers[i].LastStatus != ContainerStopped {
				t.Containers[i].LastStatus = ContainerStopped
			}
		}
		if t.StopCode == "" && t.StartedAt.IsZero() {
			t.StopCode = StopTaskFailedToStart
		}
		for i := range t.Attachments {
			t.Attachments[i].Status = AttachmentDeleted
		}
	}
	t.Version++
	return nil
}

// MarkPullStarted records the start of the task's image pulls (once).
func (t *Task) MarkPullStarted(now time.Time) {
	if t.PullStartedAt.IsZero() {
		t.PullStartedAt = now
		t.Version++
	}
}

// MarkPullStopped records the end of the task's image pulls (once).
func (t *Task) MarkPullStopped(now time.Time) {
	if t.PullStoppedAt.IsZero() {
		t.PullStoppedAt = now
		t.Version++
	}
}

// RequestStop asks for the task to stop: desiredStatus becomes STOPPED,
// stoppingAt is recorded, and the stop code and reason are kept unless an
// earlier request already set them. It is idempotent, and a no-op on a
// STOPPED task.
func (t *Task) RequestStop(code, reason string, now time.Time) {
	if t.LastStatus == TaskStopped {
		return
	}
	changed := false
	if t.DesiredStatus != TaskStopped {
		t.DesiredStatus = TaskStopped
		changed = true
	}
	if t.StoppingAt.IsZero() {
		t.StoppingAt = now
		changed = true
	}
	if t.StopCode == "" && code != "" {
		t.StopCode = code
		changed = true
	}
	if t.StoppedReason == "" && reason != "" {
		t.StoppedReason = reason
		changed = true
	}
	if changed {
		t.Version++
	}
}

// Container returns the task's container with the given name, or nil.
func (t *Task) Container(name string) *Container {
	for i := range t.Containers {
		if t.Containers[i].Name == name {
			return &t.Containers[i]
		}
	}
	return nil
}

// SetContainerStatus moves a container forward (PENDING → RUNNING →
// STOPPED). A STOPPED container keeps its exit code and reason. Moving a
// container back is an error; repeating its status is a no-op.
func (t *Task) SetContainerStatus(name, status string, exitCode *int, reason string) error {
	c := t.Container(name)
	if c == nil {
		return clientErr("Task %s has no container named %s.", t.ID, name)
	}
	order := map[string]int{ContainerPending: 0, ContainerRunning: 1, ContainerStopped: 2}
	next, ok := order[status]
	if !ok {
		return clientErr("Unknown container status %q.", status)
	}
	cur := order[c.LastStatus]
	if next < cur {
		return clientErr("Container %s cannot move from %s back to %s.", name, c.LastStatus, status)
	}
	if next == cur {
		return nil
	}
	c.LastStatus = status
	if status == ContainerStopped {
		c.ExitCode = cloneInt(exitCode)
		c.Reason = reason
	}
	t.Version++
	return nil
}

// SetContainerHealth records a container's health and re-derives the
// task's health.
func (t *Task) SetContainerHealth(name, health string) error {
	c := t.Container(name)
	if c == nil {
		return clientErr("Task %s has no container named %s.", t.ID, name)
	}
	if c.HealthStatus != health {
		c.HealthStatus = health
		t.Version++
	}
	t.DeriveHealth()
	return nil
}

// DeriveHealth sets the task's healthStatus from its essential containers
// that have a health check: UNHEALTHY if any of them is UNHEALTHY, HEALTHY
// if there is at least one and all are HEALTHY, UNKNOWN otherwise.
// Containers without a health check, and non-essential ones, do not count.
func (t *Task) DeriveHealth() {
	checked, healthy, unhealthy := 0, 0, 0
	for _, c := range t.Containers {
		if !c.Essential || !c.HealthCheck {
			continue
		}
		checked++
		switch c.HealthStatus {
		case HealthHealthy:
			healthy++
		case HealthUnhealthy:
			unhealthy++
		}
	}
	h := HealthUnknown
	switch {
	case unhealthy > 0:
		h = HealthUnhealthy
	case checked > 0 && healthy == checked:
		h = HealthHealthy
	}
	if t.HealthStatus != h {
		t.HealthStatus = h
		t.Version++
	}
}

// EssentialExited returns the first essential container that has stopped.
// When one has, ECS stops the whole task with stop code
// EssentialContainerExited and reason "Essential container in task exited".
func (t *Task) EssentialExited() (name string, ok bool) {
	for _, c := range t.Containers {
		if c.Essential && c.LastStatus == ContainerStopped {
			return c.Name, true
		}
	}
	return "", false
}

// ENI is the network interface the runtime created for an awsvpc task.
type ENI struct {
	NetworkInterfaceID string
	MACAddress         string
	PrivateDNSName     string
	PrivateIPv4Address string
	IPv6Address        string
}

// AttachENI records the task's ENI on its attachment (which becomes
// ATTACHED) and on every container's network interfaces.
func (t *Task) AttachENI(eni ENI) error {
	i := slices.IndexFunc(t.Attachments, func(a Attachment) bool { return a.Type == AttachmentENI })
	if i < 0 {
		return clientErr("Task %s has no network interface attachment.", t.ID)
	}
	a := &t.Attachments[i]
	a.setDetail("networkInterfaceId", eni.NetworkInterfaceID)
	a.setDetail("macAddress", eni.MACAddress)
	a.setDetail("privateDnsName", eni.PrivateDNSName)
	a.setDetail("privateIPv4Address", eni.PrivateIPv4Address)
	if eni.IPv6Address != "" {
		a.setDetail("privateIPv6Address", eni.IPv6Address)
	}
	a.Status = AttachmentAttached
	for j := range t.Containers {
		t.Containers[j].NetworkInterfaces = []NetworkInterface{{
			AttachmentID: a.ID, PrivateIPv4Address: eni.PrivateIPv4Address, IPv6Address: eni.IPv6Address,
		}}
	}
	t.Version++
	return nil
}

// AssignInstance records the container instance an EC2 task was placed on,
// and takes its availability zone and capacity provider.
func (t *Task) AssignInstance(ci *ContainerInstance) {
	t.ContainerInstanceARN = ci.ARN
	if az, ok := ci.Attribute(AttrAvailabilityZone); ok {
		t.AvailabilityZone = az
	}
	if ci.CapacityProviderName != "" {
		t.CapacityProviderName = ci.CapacityProviderName
	}
	t.Version++
}
