package ecsapi

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// containerInstanceOut is ECS's ContainerInstance shape.
type containerInstanceOut struct {
	ContainerInstanceARN string              `json:"containerInstanceArn"`
	EC2InstanceID        string              `json:"ec2InstanceId,omitempty"`
	CapacityProviderName string              `json:"capacityProviderName,omitempty"`
	Version              int64               `json:"version"`
	VersionInfo          ecs.VersionInfo     `json:"versionInfo"`
	RemainingResources   []ecs.Resource      `json:"remainingResources"`
	RegisteredResources  []ecs.Resource      `json:"registeredResources"`
	Status               string              `json:"status"`
	StatusReason         string              `json:"statusReason,omitempty"`
	AgentConnected       bool                `json:"agentConnected"`
	RunningTasksCount    int                 `json:"runningTasksCount"`
	PendingTasksCount    int                 `json:"pendingTasksCount"`
	AgentUpdateStatus    string              `json:"agentUpdateStatus,omitempty"`
	Attributes           []ecs.Attribute     `json:"attributes"`
	RegisteredAt         *awsproto.EpochTime `json:"registeredAt,omitempty"`
	Attachments          []ecs.Attachment    `json:"attachments"`
	Tags                 []ecs.Tag           `json:"tags,omitempty"`
	HealthStatus         *instanceHealthOut  `json:"healthStatus,omitempty"`
}

type instanceHealthOut struct {
	OverallStatus string              `json:"overallStatus"`
	Details       []instanceHealthRow `json:"details"`
}

type instanceHealthRow struct {
	Type             string              `json:"type"`
	Status           string              `json:"status"`
	LastUpdated      *awsproto.EpochTime `json:"lastUpdated,omitempty"`
	LastStatusChange *awsproto.EpochTime `json:"lastStatusChange,omitempty"`
}

func toInstanceOut(ci *ecs.ContainerInstance) *containerInstanceOut {
	return &containerInstanceOut{
		ContainerInstanceARN: ci.ARN, EC2InstanceID: ci.EC2InstanceID, CapacityProviderName: ci.CapacityProviderName,
		Version: ci.Version, VersionInfo: ci.VersionInfo,
		RemainingResources: nonNil(ci.RemainingResources), RegisteredResources: nonNil(ci.RegisteredResources),
		Status: ci.Status, StatusReason: ci.StatusReason, AgentConnected: ci.AgentConnected,
		RunningTasksCount: ci.RunningTasksCount, PendingTasksCount: ci.PendingTasksCount,
		AgentUpdateStatus: ci.AgentUpdateStatus, Attributes: nonNil(ci.Attributes),
		RegisteredAt: awsproto.Epoch(ci.RegisteredAt), Attachments: []ecs.Attachment{},
	}
}

type describeInstancesIn struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Include            []string `json:"include"`
}

type instancesResult struct {
	ContainerInstances []*containerInstanceOut `json:"containerInstances"`
	Failures           []failure               `json:"failures"`
}

func (a *API) describeContainerInstances(ctx context.Context, c *awsproto.Call, in *describeInstancesIn) (any, error) {
	views, failures, err := a.plane.DescribeContainerInstances(ctx, a.scope(c), in.Cluster, in.ContainerInstances, in.Include)
	if err != nil {
		return nil, err
	}
	withHealth := slices.Contains(in.Include, ecscp.IncludeInstanceHealth)
	out := &instancesResult{ContainerInstances: make([]*containerInstanceOut, 0, len(views)), Failures: toFailures(failures)}
	for _, v := range views {
		o := toInstanceOut(v.Instance)
		o.Tags = v.Tags
		if withHealth {
			o.HealthStatus = instanceHealth(v.Instance, a)
		}
		out.ContainerInstances = append(out.ContainerInstances, o)
	}
	return out, nil
}

// instanceHealth reports the instance's health as ECS's container instance
// health: the runtime (Docker) is healthy while the agent is connected.
func instanceHealth(ci *ecs.ContainerInstance, a *API) *instanceHealthOut {
	status := "OK"
	if !ci.AgentConnected {
		status = "INSUFFICIENT_DATA"
	}
	now := awsproto.Epoch(a.now())
	return &instanceHealthOut{OverallStatus: status, Details: []instanceHealthRow{{
		Type: "CONTAINER_RUNTIME", Status: status, LastUpdated: now, LastStatusChange: awsproto.Epoch(ci.RegisteredAt),
	}}}
}

type listInstancesIn struct {
	Cluster    string `json:"cluster"`
	Filter     string `json:"filter"`
	Status     string `json:"status"`
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

type listInstancesOut struct {
	ContainerInstanceARNs []string `json:"containerInstanceArns"`
	NextToken             string   `json:"nextToken,omitempty"`
}

func (a *API) listContainerInstances(ctx context.Context, c *awsproto.Call, in *listInstancesIn) (any, error) {
	arns, err := a.plane.ListContainerInstances(ctx, a.scope(c), in.Cluster, in.Status, in.Filter)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listInstancesOut{ContainerInstanceARNs: page, NextToken: next}, nil
}

type updateInstancesStateIn struct {
	Cluster            string   `json:"cluster"`
	ContainerInstances []string `json:"containerInstances"`
	Status             string   `json:"status"`
}

func (a *API) updateContainerInstancesState(ctx context.Context, c *awsproto.Call, in *updateInstancesStateIn) (any, error) {
	cis, failures, err := a.plane.UpdateContainerInstancesState(ctx, a.scope(c), in.Cluster, in.ContainerInstances, in.Status)
	if err != nil {
		return nil, err
	}
	out := &instancesResult{ContainerInstances: make([]*containerInstanceOut, 0, len(cis)), Failures: toFailures(failures)}
	for _, ci := range cis {
		out.ContainerInstances = append(out.ContainerInstances, toInstanceOut(ci))
	}
	return out, nil
}

type deregisterInstanceIn struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Force             *bool  `json:"force"`
}

type instanceResult struct {
	ContainerInstance *containerInstanceOut `json:"containerInstance"`
}

func (a *API) deregisterContainerInstance(ctx context.Context, c *awsproto.Call, in *deregisterInstanceIn) (any, error) {
	ci, err := a.plane.DeregisterContainerInstance(ctx, a.scope(c), in.Cluster, in.ContainerInstance, in.Force != nil && *in.Force)
	if err != nil {
		return nil, err
	}
	return &instanceResult{ContainerInstance: toInstanceOut(ci)}, nil
}

// ---- attributes ----

type attributesIn struct {
	Cluster    string          `json:"cluster"`
	Attributes []ecs.Attribute `json:"attributes"`
}

type attributesOut struct {
	Attributes []ecs.Attribute `json:"attributes"`
	NextToken  string          `json:"nextToken,omitempty"`
}

func (a *API) putAttributes(ctx context.Context, c *awsproto.Call, in *attributesIn) (any, error) {
	attrs, err := a.plane.PutAttributes(ctx, a.scope(c), in.Cluster, in.Attributes)
	if err != nil {
		return nil, err
	}
	return &attributesOut{Attributes: attrs}, nil
}

func (a *API) deleteAttributes(ctx context.Context, c *awsproto.Call, in *attributesIn) (any, error) {
	attrs, err := a.plane.DeleteAttributes(ctx, a.scope(c), in.Cluster, in.Attributes)
	if err != nil {
		return nil, err
	}
	return &attributesOut{Attributes: attrs}, nil
}

type listAttributesIn struct {
	Cluster        string `json:"cluster"`
	TargetType     string `json:"targetType"`
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
	NextToken      string `json:"nextToken"`
	MaxResults     *int   `json:"maxResults"`
}

func (a *API) listAttributes(ctx context.Context, c *awsproto.Call, in *listAttributesIn) (any, error) {
	all, err := a.plane.ListAttributes(ctx, a.scope(c), in.Cluster, ecscp.AttributeFilter{TargetType: in.TargetType, Name: in.AttributeName, Value: in.AttributeValue})
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(all))
	for i, attr := range all {
		keys[i] = ecscp.AttributeKey(attr)
	}
	page, next, err := paginate(keys, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	out := &attributesOut{Attributes: []ecs.Attribute{}, NextToken: next}
	if len(page) > 0 {
		start := slices.Index(keys, page[0])
		out.Attributes = append(out.Attributes, all[start:start+len(page)]...)
	}
	return out, nil
}
