package ecsapi

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
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

type taskCounts struct{ running, pending int }

// instanceTaskCounts counts each instance's running and pending tasks.
func (a *API) instanceTaskCounts(ctx context.Context, sc ecs.Scope, cluster string) (map[string]taskCounts, error) {
	tasks, err := a.plane.ClusterTasks(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	out := map[string]taskCounts{}
	for _, t := range tasks {
		if t.ContainerInstanceARN == "" || t.LastStatus == ecs.TaskStopped {
			continue
		}
		c := out[t.ContainerInstanceARN]
		if placement.TaskRunning(t.LastStatus) { // as placement counts them
			c.running++
		} else {
			c.pending++
		}
		out[t.ContainerInstanceARN] = c
	}
	return out, nil
}

// withCounts returns a copy of ci with its task counts filled in.
func withCounts(ci *ecs.ContainerInstance, counts map[string]taskCounts) *ecs.ContainerInstance {
	c := *ci
	tc := counts[ci.ARN]
	c.RunningTasksCount, c.PendingTasksCount = tc.running, tc.pending
	return &c
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
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 100 {
		return nil, fault.New(fault.InvalidParameter, "containerInstances must list between 1 and 100 container instances.")
	}
	var withTags, withHealth bool
	for _, i := range in.Include {
		switch i {
		case "TAGS":
			withTags = true
		case "CONTAINER_INSTANCE_HEALTH":
			withHealth = true
		default:
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS, CONTAINER_INSTANCE_HEALTH.", i)
		}
	}
	if _, err := a.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	counts, err := a.instanceTaskCounts(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	out := &instancesResult{ContainerInstances: []*containerInstanceOut{}, Failures: []failure{}}
	for _, s := range in.ContainerInstances {
		ref, err := ecsstore.ParseInstanceRef(s, name)
		if err != nil {
			return nil, err
		}
		var ci *ecs.ContainerInstance
		if ref.Cluster == name {
			ci, err = a.repo.Instance(ctx, sc, ref)
		} else {
			err = fault.NotFoundf("containerInstance", "other cluster")
		}
		if fault.Is(err, fault.NotFound) {
			out.Failures = append(out.Failures, failure{ARN: sc.ContainerInstanceARN(ref.Cluster, ref.ID), Reason: ecs.ReasonMissing})
			continue
		}
		if err != nil {
			return nil, err
		}
		o := toInstanceOut(withCounts(ci, counts))
		if withTags {
			if o.Tags, err = a.repo.Tags(ctx, ci.ARN); err != nil {
				return nil, err
			}
		}
		if withHealth {
			o.HealthStatus = instanceHealth(ci, a)
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
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	switch in.Status {
	case "", ecs.InstanceActive, ecs.InstanceDraining, ecs.InstanceRegistering, ecs.InstanceDeregistering, ecs.InstanceRegistrationFailed:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid status %q. Valid values: ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED.", in.Status)
	}
	var q *ecs.Query
	if in.Filter != "" {
		if q, err = ecs.ParseQuery(in.Filter); err != nil {
			return nil, err
		}
	}
	if _, err := a.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	cis, err := a.repo.Instances(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	var counts map[string]taskCounts
	var groups map[string][]string
	if q != nil {
		if counts, err = a.instanceTaskCounts(ctx, sc, name); err != nil {
			return nil, err
		}
		if q.UsesTaskGroups() {
			if groups, err = a.repo.InstanceGroups(ctx, sc, name); err != nil {
				return nil, err
			}
		}
	}
	arns := []string{}
	for _, ci := range cis {
		if in.Status != "" && ci.Status != in.Status {
			continue
		}
		if q != nil && !q.Eval(withCounts(ci, counts), groups[ci.ID]) {
			continue
		}
		arns = append(arns, ci.ARN)
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
	sc := a.scope(c)
	cis, failures, err := a.plane.UpdateContainerInstancesState(ctx, sc, in.Cluster, in.ContainerInstances, in.Status)
	if err != nil {
		return nil, err
	}
	out := &instancesResult{ContainerInstances: make([]*containerInstanceOut, 0, len(cis)), Failures: toFailures(failures)}
	name, _ := ecs.ClusterName(in.Cluster) // the plane accepted it
	counts, err := a.instanceTaskCounts(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	for _, ci := range cis {
		out.ContainerInstances = append(out.ContainerInstances, toInstanceOut(withCounts(ci, counts)))
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
