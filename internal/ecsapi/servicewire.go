package ecsapi

import (
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
)

// serviceOut is ECS's Service shape.
type serviceOut struct {
	ServiceARN                    string                         `json:"serviceArn"`
	ServiceName                   string                         `json:"serviceName"`
	ClusterARN                    string                         `json:"clusterArn"`
	LoadBalancers                 []ecs.LoadBalancer             `json:"loadBalancers"`
	ServiceRegistries             []ecs.ServiceRegistry          `json:"serviceRegistries"`
	Status                        string                         `json:"status"`
	DesiredCount                  int                            `json:"desiredCount"`
	RunningCount                  int                            `json:"runningCount"`
	PendingCount                  int                            `json:"pendingCount"`
	LaunchType                    string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy      []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion               string                         `json:"platformVersion,omitempty"`
	PlatformFamily                string                         `json:"platformFamily,omitempty"`
	TaskDefinition                string                         `json:"taskDefinition,omitempty"`
	DeploymentConfiguration       deploymentConfigurationOut     `json:"deploymentConfiguration"`
	TaskSets                      []taskSetOut                   `json:"taskSets,omitempty"`
	Deployments                   []deploymentOut                `json:"deployments"`
	RoleARN                       string                         `json:"roleArn,omitempty"`
	Events                        []serviceEventOut              `json:"events"`
	CreatedAt                     *awsproto.EpochTime            `json:"createdAt,omitempty"`
	PlacementConstraints          []ecs.PlacementConstraint      `json:"placementConstraints"`
	PlacementStrategy             []ecs.PlacementStrategy        `json:"placementStrategy"`
	NetworkConfiguration          *ecs.NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int                           `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                         `json:"schedulingStrategy"`
	DeploymentController          ecs.DeploymentController       `json:"deploymentController"`
	Tags                          []ecs.Tag                      `json:"tags,omitempty"`
	CreatedBy                     string                         `json:"createdBy,omitempty"`
	EnableECSManagedTags          bool                           `json:"enableECSManagedTags"`
	PropagateTags                 string                         `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                           `json:"enableExecuteCommand"`
	AvailabilityZoneRebalancing   string                         `json:"availabilityZoneRebalancing,omitempty"`
	CurrentServiceDeployment      string                         `json:"currentServiceDeployment,omitempty"`
	CurrentServiceRevisions       []currentRevisionOut           `json:"currentServiceRevisions,omitempty"`
}

// deploymentConfigurationOut is ECS's DeploymentConfiguration shape
// (lifecycle hooks are refused, so never described).
type deploymentConfigurationOut struct {
	DeploymentCircuitBreaker *ecs.DeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int                          `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int                          `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *ecs.DeploymentAlarms         `json:"alarms,omitempty"`
	Strategy                 string                        `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int                          `json:"bakeTimeInMinutes,omitempty"`
	LinearConfiguration      *ecs.LinearConfiguration      `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      *ecs.CanaryConfiguration      `json:"canaryConfiguration,omitempty"`
}

type deploymentOut struct {
	ID                       string                         `json:"id"`
	Status                   string                         `json:"status"`
	TaskDefinition           string                         `json:"taskDefinition"`
	DesiredCount             int                            `json:"desiredCount"`
	PendingCount             int                            `json:"pendingCount"`
	RunningCount             int                            `json:"runningCount"`
	FailedTasks              int                            `json:"failedTasks"`
	CreatedAt                *awsproto.EpochTime            `json:"createdAt,omitempty"`
	UpdatedAt                *awsproto.EpochTime            `json:"updatedAt,omitempty"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	PlatformFamily           string                         `json:"platformFamily,omitempty"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	RolloutState             string                         `json:"rolloutState,omitempty"`
	RolloutStateReason       string                         `json:"rolloutStateReason,omitempty"`
}

type serviceEventOut struct {
	ID        string              `json:"id"`
	CreatedAt *awsproto.EpochTime `json:"createdAt,omitempty"`
	Message   string              `json:"message"`
}

func toServiceOut(s *ecs.Service, tags []ecs.Tag, withTags bool) *serviceOut {
	dc := s.DeploymentConfiguration
	out := &serviceOut{
		ServiceARN: s.ARN, ServiceName: s.Name, ClusterARN: s.ClusterARN,
		LoadBalancers: nonNil(s.LoadBalancers), ServiceRegistries: nonNil(s.ServiceRegistries),
		Status: s.Status, DesiredCount: s.DesiredCount, RunningCount: s.RunningCount, PendingCount: s.PendingCount,
		LaunchType: s.LaunchType, CapacityProviderStrategy: s.CapacityProviderStrategy,
		PlatformVersion: s.PlatformVersion, PlatformFamily: s.PlatformFamily, TaskDefinition: s.TaskDefinition,
		DeploymentConfiguration: toDeploymentConfigurationOut(dc),
		Deployments:             make([]deploymentOut, 0, len(s.Deployments)), RoleARN: s.RoleARN,
		Events: make([]serviceEventOut, 0, len(s.Events)), CreatedAt: awsproto.Epoch(s.CreatedAt),
		PlacementConstraints: nonNil(s.PlacementConstraints), PlacementStrategy: nonNil(s.PlacementStrategy),
		NetworkConfiguration: s.NetworkConfiguration, HealthCheckGracePeriodSeconds: s.HealthCheckGracePeriodSeconds,
		SchedulingStrategy: s.SchedulingStrategy, DeploymentController: s.DeploymentController,
		CreatedBy: s.CreatedBy, EnableECSManagedTags: s.EnableECSManagedTags, PropagateTags: s.PropagateTags,
		EnableExecuteCommand: s.EnableExecuteCommand, AvailabilityZoneRebalancing: "DISABLED",
		TaskSets: taskSetsOut(s),
	}
	for _, d := range s.Deployments {
		out.Deployments = append(out.Deployments, deploymentOut{
			ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, DesiredCount: d.DesiredCount,
			PendingCount: d.PendingCount, RunningCount: d.RunningCount, FailedTasks: d.FailedTasks,
			CreatedAt: awsproto.Epoch(d.CreatedAt), UpdatedAt: awsproto.Epoch(d.UpdatedAt),
			CapacityProviderStrategy: d.CapacityProviderStrategy, LaunchType: d.LaunchType,
			PlatformVersion: d.PlatformVersion, PlatformFamily: d.PlatformFamily,
			NetworkConfiguration: d.NetworkConfiguration, RolloutState: d.RolloutState, RolloutStateReason: d.RolloutStateReason,
		})
	}
	for _, e := range s.Events {
		out.Events = append(out.Events, serviceEventOut{ID: e.ID, CreatedAt: awsproto.Epoch(e.CreatedAt), Message: e.Message})
	}
	if withTags {
		out.Tags = nonNil(tags)
	}
	out.CurrentServiceDeployment, out.CurrentServiceRevisions = currentRevisions(s)
	return out
}
