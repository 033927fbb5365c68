package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// The task set operations (EXTERNAL deployment controller) map ECS's
// wire shapes to the control plane.

func (a *API) addTaskSetOps(ops map[string]awsproto.Op) {
	ops["CreateTaskSet"] = awsproto.Handle(a.createTaskSet)
	ops["DescribeTaskSets"] = awsproto.Handle(a.describeTaskSets)
	ops["UpdateTaskSet"] = awsproto.Handle(a.updateTaskSet)
	ops["DeleteTaskSet"] = awsproto.Handle(a.deleteTaskSet)
	ops["UpdateServicePrimaryTaskSet"] = awsproto.Handle(a.updateServicePrimaryTaskSet)
	ops["ListServicesByNamespace"] = awsproto.Handle(a.listServicesByNamespace)
}

// taskSetOut is ECS's TaskSet shape.
type taskSetOut struct {
	ID                       string                         `json:"id"`
	TaskSetARN               string                         `json:"taskSetArn"`
	ServiceARN               string                         `json:"serviceArn"`
	ClusterARN               string                         `json:"clusterArn"`
	ExternalID               string                         `json:"externalId,omitempty"`
	Status                   string                         `json:"status"`
	TaskDefinition           string                         `json:"taskDefinition"`
	ComputedDesiredCount     int                            `json:"computedDesiredCount"`
	PendingCount             int                            `json:"pendingCount"`
	RunningCount             int                            `json:"runningCount"`
	CreatedAt                *awsproto.EpochTime            `json:"createdAt,omitempty"`
	UpdatedAt                *awsproto.EpochTime            `json:"updatedAt,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	PlatformFamily           string                         `json:"platformFamily,omitempty"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	LoadBalancers            []ecs.LoadBalancer             `json:"loadBalancers"`
	ServiceRegistries        []ecs.ServiceRegistry          `json:"serviceRegistries"`
	Scale                    ecs.Scale                      `json:"scale"`
	StabilityStatus          string                         `json:"stabilityStatus"`
	StabilityStatusAt        *awsproto.EpochTime            `json:"stabilityStatusAt,omitempty"`
	Tags                     []ecs.Tag                      `json:"tags,omitempty"`
}

func toTaskSetOut(svc *ecs.Service, ts ecs.TaskSet, withTags bool) taskSetOut {
	out := taskSetOut{
		ID: ts.ID, TaskSetARN: ts.ARN, ServiceARN: svc.ARN, ClusterARN: svc.ClusterARN, ExternalID: ts.ExternalID,
		Status: ts.Status, TaskDefinition: ts.TaskDefinition, ComputedDesiredCount: ts.ComputedDesiredCount,
		PendingCount: ts.PendingCount, RunningCount: ts.RunningCount,
		CreatedAt: awsproto.Epoch(ts.CreatedAt), UpdatedAt: awsproto.Epoch(ts.UpdatedAt),
		LaunchType: ts.LaunchType, CapacityProviderStrategy: ts.CapacityProviderStrategy,
		PlatformVersion: ts.PlatformVersion, PlatformFamily: ts.PlatformFamily, NetworkConfiguration: ts.NetworkConfiguration,
		LoadBalancers: nonNil(ts.LoadBalancers), ServiceRegistries: nonNil(ts.ServiceRegistries), Scale: ts.Scale,
		StabilityStatus: ts.StabilityStatus, StabilityStatusAt: awsproto.Epoch(ts.StabilityStatusAt),
	}
	if withTags {
		out.Tags = nonNil(ts.Tags)
	}
	return out
}

// taskSetsOut is a service's taskSets member (nil when it has none, as
// for a service of the ECS deployment controller).
func taskSetsOut(svc *ecs.Service) []taskSetOut {
	if !svc.IsExternal() {
		return nil
	}
	out := make([]taskSetOut, 0, len(svc.TaskSets))
	for _, ts := range svc.TaskSets {
		out = append(out, toTaskSetOut(svc, ts, false))
	}
	return out
}

type createTaskSetIn struct {
	Service                  string                         `json:"service"`
	Cluster                  string                         `json:"cluster"`
	ExternalID               string                         `json:"externalId"`
	TaskDefinition           string                         `json:"taskDefinition"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration"`
	LoadBalancers            []ecs.LoadBalancer             `json:"loadBalancers"`
	ServiceRegistries        []ecs.ServiceRegistry          `json:"serviceRegistries"`
	LaunchType               string                         `json:"launchType"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy"`
	PlatformVersion          string                         `json:"platformVersion"`
	Scale                    *ecs.Scale                     `json:"scale"`
	ClientToken              string                         `json:"clientToken"`
	Tags                     []ecs.Tag                      `json:"tags"`
}

type taskSetResult struct {
	TaskSet taskSetOut `json:"taskSet"`
}

// taskSetResult describes a task set with its service's ARNs.
func (a *API) taskSetResult(ctx context.Context, c *awsproto.Call, in ecscp.TaskSetInput, ts *ecs.TaskSet, withTags bool) (any, error) {
	cluster, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	sc := a.scope(c)
	name, err := ecs.ServiceName(in.Service, cluster)
	if err != nil {
		return nil, err
	}
	svc := &ecs.Service{ARN: sc.ServiceARN(cluster, name), ClusterARN: sc.ClusterARN(cluster)}
	return &taskSetResult{TaskSet: toTaskSetOut(svc, *ts, withTags)}, nil
}

func (a *API) createTaskSet(ctx context.Context, c *awsproto.Call, in *createTaskSetIn) (any, error) {
	ref := ecscp.TaskSetInput{Cluster: in.Cluster, Service: in.Service}
	ts, err := a.plane.CreateTaskSet(ctx, a.scope(c), ecscp.CreateTaskSetInput{
		TaskSetInput: ref, TaskDefinition: in.TaskDefinition,
		Spec: ecs.TaskSetSpec{
			ExternalID: in.ExternalID, LaunchType: in.LaunchType, CapacityProviderStrategy: in.CapacityProviderStrategy,
			PlatformVersion: in.PlatformVersion, NetworkConfiguration: in.NetworkConfiguration,
			LoadBalancers: in.LoadBalancers, ServiceRegistries: in.ServiceRegistries, Scale: in.Scale,
			ClientToken: in.ClientToken, Tags: in.Tags,
		},
	})
	if err != nil {
		return nil, err
	}
	return a.taskSetResult(ctx, c, ref, ts, true)
}

type describeTaskSetsIn struct {
	Cluster  string   `json:"cluster"`
	Service  string   `json:"service"`
	TaskSets []string `json:"taskSets"`
	Include  []string `json:"include"`
}

type describeTaskSetsOut struct {
	TaskSets []taskSetOut `json:"taskSets"`
	Failures []failure    `json:"failures"`
}

func (a *API) describeTaskSets(ctx context.Context, c *awsproto.Call, in *describeTaskSetsIn) (any, error) {
	withTags := false
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		withTags = true
	}
	ref := ecscp.TaskSetInput{Cluster: in.Cluster, Service: in.Service}
	sets, failures, err := a.plane.DescribeTaskSets(ctx, a.scope(c), ref, in.TaskSets)
	if err != nil {
		return nil, err
	}
	out := &describeTaskSetsOut{TaskSets: make([]taskSetOut, 0, len(sets)), Failures: toFailures(failures)}
	for i := range sets {
		r, err := a.taskSetResult(ctx, c, ref, &sets[i], withTags)
		if err != nil {
			return nil, err
		}
		out.TaskSets = append(out.TaskSets, r.(*taskSetResult).TaskSet)
	}
	return out, nil
}

type updateTaskSetIn struct {
	Cluster string     `json:"cluster"`
	Service string     `json:"service"`
	TaskSet string     `json:"taskSet"`
	Scale   *ecs.Scale `json:"scale"`
}

func (a *API) updateTaskSet(ctx context.Context, c *awsproto.Call, in *updateTaskSetIn) (any, error) {
	ref := ecscp.TaskSetInput{Cluster: in.Cluster, Service: in.Service}
	ts, err := a.plane.UpdateTaskSet(ctx, a.scope(c), ref, in.TaskSet, in.Scale)
	if err != nil {
		return nil, err
	}
	return a.taskSetResult(ctx, c, ref, ts, false)
}

type deleteTaskSetIn struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	TaskSet string `json:"taskSet"`
	Force   bool   `json:"force"`
}

func (a *API) deleteTaskSet(ctx context.Context, c *awsproto.Call, in *deleteTaskSetIn) (any, error) {
	ref := ecscp.TaskSetInput{Cluster: in.Cluster, Service: in.Service}
	ts, err := a.plane.DeleteTaskSet(ctx, a.scope(c), ref, in.TaskSet, in.Force)
	if err != nil {
		return nil, err
	}
	return a.taskSetResult(ctx, c, ref, ts, false)
}

type updateServicePrimaryTaskSetIn struct {
	Cluster        string `json:"cluster"`
	Service        string `json:"service"`
	PrimaryTaskSet string `json:"primaryTaskSet"`
}

func (a *API) updateServicePrimaryTaskSet(ctx context.Context, c *awsproto.Call, in *updateServicePrimaryTaskSetIn) (any, error) {
	ref := ecscp.TaskSetInput{Cluster: in.Cluster, Service: in.Service}
	ts, err := a.plane.UpdateServicePrimaryTaskSet(ctx, a.scope(c), ref, in.PrimaryTaskSet)
	if err != nil {
		return nil, err
	}
	return a.taskSetResult(ctx, c, ref, ts, false)
}
