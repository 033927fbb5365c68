package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// The task operations map ECS's wire shapes to the control plane
// (internal/ecscp) and back; the plane holds the logic.

type runTaskIn struct {
	Cluster                  string                         `json:"cluster"`
	TaskDefinition           string                         `json:"taskDefinition"`
	Count                    *int                           `json:"count"`
	LaunchType               string                         `json:"launchType"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration"`
	Overrides                *ecs.TaskOverride              `json:"overrides"`
	PlacementConstraints     []ecs.PlacementConstraint      `json:"placementConstraints"`
	PlacementStrategy        []ecs.PlacementStrategy        `json:"placementStrategy"`
	PlatformVersion          string                         `json:"platformVersion"`
	StartedBy                string                         `json:"startedBy"`
	Group                    string                         `json:"group"`
	Tags                     []ecs.Tag                      `json:"tags"`
	EnableExecuteCommand     bool                           `json:"enableExecuteCommand"`
	EnableECSManagedTags     bool                           `json:"enableECSManagedTags"`
	PropagateTags            string                         `json:"propagateTags"`
	ReferenceID              string                         `json:"referenceId"`
	ClientToken              string                         `json:"clientToken"`
}

type tasksResult struct {
	Tasks    []*taskOut `json:"tasks"`
	Failures []failure  `json:"failures"`
}

func (a *API) runTask(ctx context.Context, c *awsproto.Call, in *runTaskIn) (any, error) {
	count := 0
	if in.Count != nil {
		count = *in.Count
		if count == 0 {
			count = -1 // an explicit 0 is out of range, not the default
		}
	}
	res, err := a.plane.RunTask(ctx, a.scope(c), ecscp.RunInput{
		Cluster: in.Cluster, TaskDefinition: in.TaskDefinition, Count: count,
		LaunchType: in.LaunchType, CapacityProviderStrategy: in.CapacityProviderStrategy,
		NetworkConfiguration: in.NetworkConfiguration, Overrides: in.Overrides,
		PlacementConstraints: in.PlacementConstraints, PlacementStrategy: in.PlacementStrategy,
		PlatformVersion: in.PlatformVersion, StartedBy: in.StartedBy, Group: in.Group, Tags: in.Tags,
		EnableExecuteCommand: in.EnableExecuteCommand, EnableECSManagedTags: in.EnableECSManagedTags,
		PropagateTags: in.PropagateTags, ClientToken: in.ClientToken,
	})
	if err != nil {
		return nil, err
	}
	return toTasksResult(res.Tasks, res.Failures, true), nil
}

// toTasksResult converts tasks and failures to the wire.
func toTasksResult(tasks []ecscp.TaskTags, failures []ecscp.Failure, withTags bool) *tasksResult {
	out := &tasksResult{Tasks: make([]*taskOut, 0, len(tasks)), Failures: toFailures(failures)}
	for _, t := range tasks {
		out.Tasks = append(out.Tasks, toTaskOut(t.Task, t.Tags, withTags))
	}
	return out
}

func toFailures(fs []ecscp.Failure) []failure {
	out := make([]failure, len(fs))
	for i, f := range fs {
		out[i] = failure{ARN: f.ARN, Reason: f.Reason, Detail: f.Detail}
	}
	return out
}

type startTaskIn struct {
	Cluster              string                    `json:"cluster"`
	TaskDefinition       string                    `json:"taskDefinition"`
	ContainerInstances   []string                  `json:"containerInstances"`
	NetworkConfiguration *ecs.NetworkConfiguration `json:"networkConfiguration"`
	Overrides            *ecs.TaskOverride         `json:"overrides"`
	StartedBy            string                    `json:"startedBy"`
	Group                string                    `json:"group"`
	Tags                 []ecs.Tag                 `json:"tags"`
	EnableExecuteCommand bool                      `json:"enableExecuteCommand"`
	EnableECSManagedTags bool                      `json:"enableECSManagedTags"`
	PropagateTags        string                    `json:"propagateTags"`
	ReferenceID          string                    `json:"referenceId"`
}

func (a *API) startTask(ctx context.Context, c *awsproto.Call, in *startTaskIn) (any, error) {
	res, err := a.plane.StartTask(ctx, a.scope(c), ecscp.RunInput{
		Cluster: in.Cluster, TaskDefinition: in.TaskDefinition, ContainerInstances: in.ContainerInstances,
		NetworkConfiguration: in.NetworkConfiguration, Overrides: in.Overrides,
		StartedBy: in.StartedBy, Group: in.Group, Tags: in.Tags,
		EnableExecuteCommand: in.EnableExecuteCommand, EnableECSManagedTags: in.EnableECSManagedTags,
		PropagateTags: in.PropagateTags,
	})
	if err != nil {
		return nil, err
	}
	return toTasksResult(res.Tasks, res.Failures, true), nil
}

type describeTasksIn struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

func (a *API) describeTasks(ctx context.Context, c *awsproto.Call, in *describeTasksIn) (any, error) {
	withTags := false
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		withTags = true
	}
	tasks, failures, err := a.plane.DescribeTasks(ctx, a.scope(c), in.Cluster, in.Tasks, withTags)
	if err != nil {
		return nil, err
	}
	return toTasksResult(tasks, failures, withTags), nil
}

type listTasksIn struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Family            string `json:"family"`
	StartedBy         string `json:"startedBy"`
	ServiceName       string `json:"serviceName"`
	DesiredStatus     string `json:"desiredStatus"`
	LaunchType        string `json:"launchType"`
	NextToken         string `json:"nextToken"`
	MaxResults        *int   `json:"maxResults"`
}

type listTasksOut struct {
	TaskARNs  []string `json:"taskArns"`
	NextToken string   `json:"nextToken,omitempty"`
}

func (a *API) listTasks(ctx context.Context, c *awsproto.Call, in *listTasksIn) (any, error) {
	arns, err := a.plane.ListTasks(ctx, a.scope(c), ecscp.TaskFilter{
		Cluster: in.Cluster, ContainerInstance: in.ContainerInstance, Family: in.Family, StartedBy: in.StartedBy,
		ServiceName: in.ServiceName, DesiredStatus: in.DesiredStatus, LaunchType: in.LaunchType,
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listTasksOut{TaskARNs: page, NextToken: next}, nil
}

type stopTaskIn struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}

type taskResult struct {
	Task *taskOut `json:"task"`
}

func (a *API) stopTask(ctx context.Context, c *awsproto.Call, in *stopTaskIn) (any, error) {
	t, err := a.plane.StopTask(ctx, a.scope(c), in.Cluster, in.Task, in.Reason)
	if err != nil {
		return nil, err
	}
	return &taskResult{Task: toTaskOut(t.Task, t.Tags, true)}, nil
}

// taskOut is ECS's Task shape.
type taskOut struct {
	Attachments           []ecs.Attachment           `json:"attachments"`
	Attributes            []ecs.Attribute            `json:"attributes"`
	AvailabilityZone      string                     `json:"availabilityZone,omitempty"`
	CapacityProviderName  string                     `json:"capacityProviderName,omitempty"`
	ClusterARN            string                     `json:"clusterArn"`
	Connectivity          string                     `json:"connectivity,omitempty"`
	ConnectivityAt        *awsproto.EpochTime        `json:"connectivityAt,omitempty"`
	ContainerInstanceARN  string                     `json:"containerInstanceArn,omitempty"`
	Containers            []containerOut             `json:"containers"`
	CPU                   string                     `json:"cpu,omitempty"`
	CreatedAt             *awsproto.EpochTime        `json:"createdAt,omitempty"`
	DesiredStatus         string                     `json:"desiredStatus"`
	EnableExecuteCommand  bool                       `json:"enableExecuteCommand"`
	EphemeralStorage      *ecs.EphemeralStorage      `json:"ephemeralStorage,omitempty"`
	ExecutionStoppedAt    *awsproto.EpochTime        `json:"executionStoppedAt,omitempty"`
	Group                 string                     `json:"group,omitempty"`
	HealthStatus          string                     `json:"healthStatus,omitempty"`
	InferenceAccelerators []ecs.InferenceAccelerator `json:"inferenceAccelerators"`
	LastStatus            string                     `json:"lastStatus"`
	LaunchType            string                     `json:"launchType,omitempty"`
	Memory                string                     `json:"memory,omitempty"`
	Overrides             ecs.TaskOverride           `json:"overrides"`
	PlatformVersion       string                     `json:"platformVersion,omitempty"`
	PlatformFamily        string                     `json:"platformFamily,omitempty"`
	PullStartedAt         *awsproto.EpochTime        `json:"pullStartedAt,omitempty"`
	PullStoppedAt         *awsproto.EpochTime        `json:"pullStoppedAt,omitempty"`
	StartedAt             *awsproto.EpochTime        `json:"startedAt,omitempty"`
	StartedBy             string                     `json:"startedBy,omitempty"`
	StopCode              string                     `json:"stopCode,omitempty"`
	StoppedAt             *awsproto.EpochTime        `json:"stoppedAt,omitempty"`
	StoppedReason         string                     `json:"stoppedReason,omitempty"`
	StoppingAt            *awsproto.EpochTime        `json:"stoppingAt,omitempty"`
	Tags                  []ecs.Tag                  `json:"tags,omitempty"`
	TaskARN               string                     `json:"taskArn"`
	TaskDefinitionARN     string                     `json:"taskDefinitionArn"`
	Version               int64                      `json:"version"`
}

// containerOut is ECS's Container shape (without berth's bookkeeping).
type containerOut struct {
	ContainerARN      string                 `json:"containerArn"`
	TaskARN           string                 `json:"taskArn"`
	Name              string                 `json:"name"`
	Image             string                 `json:"image,omitempty"`
	ImageDigest       string                 `json:"imageDigest,omitempty"`
	RuntimeID         string                 `json:"runtimeId,omitempty"`
	LastStatus        string                 `json:"lastStatus"`
	ExitCode          *int                   `json:"exitCode,omitempty"`
	Reason            string                 `json:"reason,omitempty"`
	NetworkBindings   []ecs.NetworkBinding   `json:"networkBindings"`
	NetworkInterfaces []ecs.NetworkInterface `json:"networkInterfaces"`
	HealthStatus      string                 `json:"healthStatus,omitempty"`
	CPU               string                 `json:"cpu,omitempty"`
	Memory            string                 `json:"memory,omitempty"`
	MemoryReservation string                 `json:"memoryReservation,omitempty"`
	ManagedAgents     []managedAgentOut      `json:"managedAgents,omitempty"`
}

// managedAgentOut is ECS's ManagedAgent: the containers of a task run with
// enableExecuteCommand show the ExecuteCommandAgent, RUNNING while the
// container runs (berth's agent serves exec for every running container).
type managedAgentOut struct {
	LastStartedAt *awsproto.EpochTime `json:"lastStartedAt,omitempty"`
	Name          string              `json:"name"`
	LastStatus    string              `json:"lastStatus"`
}

// toTaskOut converts a stored task to the wire. Tasks on managed
// (Fargate) capacity show no container instance, as on AWS.
func toTaskOut(t *ecs.Task, tags []ecs.Tag, withTags bool) *taskOut {
	out := &taskOut{
		Attachments: nonNil(t.Attachments), Attributes: []ecs.Attribute{{Name: ecs.AttrCPUArchitecture, Value: "x86_64"}},
		AvailabilityZone: t.AvailabilityZone, CapacityProviderName: t.CapacityProviderName,
		ClusterARN: t.ClusterARN, Connectivity: t.Connectivity, ConnectivityAt: awsproto.Epoch(t.ConnectivityAt),
		ContainerInstanceARN: t.ContainerInstanceARN, Containers: make([]containerOut, len(t.Containers)),
		CPU: t.CPU, CreatedAt: awsproto.Epoch(t.CreatedAt), DesiredStatus: t.DesiredStatus,
		EnableExecuteCommand: t.EnableExecuteCommand, EphemeralStorage: t.EphemeralStorage,
		ExecutionStoppedAt: awsproto.Epoch(t.ExecutionStoppedAt), Group: t.Group, HealthStatus: t.HealthStatus,
		InferenceAccelerators: []ecs.InferenceAccelerator{}, LastStatus: t.LastStatus, LaunchType: t.LaunchType,
		Memory: t.Memory, Overrides: t.Overrides, PlatformVersion: t.PlatformVersion, PlatformFamily: t.PlatformFamily,
		PullStartedAt: awsproto.Epoch(t.PullStartedAt), PullStoppedAt: awsproto.Epoch(t.PullStoppedAt),
		StartedAt: awsproto.Epoch(t.StartedAt), StartedBy: t.StartedBy, StopCode: t.StopCode,
		StoppedAt: awsproto.Epoch(t.StoppedAt), StoppedReason: t.StoppedReason, StoppingAt: awsproto.Epoch(t.StoppingAt),
		TaskARN: t.ARN, TaskDefinitionARN: t.TaskDefinitionARN, Version: t.Version,
	}
	if t.LaunchType == ecs.LaunchFargate {
		out.ContainerInstanceARN = ""
	}
	if withTags {
		out.Tags = nonNil(tags)
	}
	for i, c := range t.Containers {
		out.Containers[i] = containerOut{
			ContainerARN: c.ContainerARN, TaskARN: c.TaskARN, Name: c.Name, Image: c.Image, ImageDigest: c.ImageDigest,
			RuntimeID: c.RuntimeID, LastStatus: c.LastStatus, ExitCode: c.ExitCode, Reason: c.Reason,
			NetworkBindings: nonNil(c.NetworkBindings), NetworkInterfaces: nonNil(c.NetworkInterfaces),
			HealthStatus: c.HealthStatus, CPU: c.CPU, Memory: c.Memory, MemoryReservation: c.MemoryReservation,
		}
		if t.EnableExecuteCommand {
			out.Containers[i].ManagedAgents = []managedAgentOut{{
				Name: ecs.ExecuteCommandAgent, LastStatus: c.LastStatus, LastStartedAt: awsproto.Epoch(t.StartedAt),
			}}
		}
	}
	return out
}
