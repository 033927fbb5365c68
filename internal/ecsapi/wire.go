package ecsapi

import (
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// clusterOut is ECS's Cluster shape.
type clusterOut struct {
	ClusterARN                        string                         `json:"clusterArn"`
	ClusterName                       string                         `json:"clusterName"`
	Configuration                     *ecs.ClusterConfiguration      `json:"configuration,omitempty"`
	Status                            string                         `json:"status"`
	RegisteredContainerInstancesCount int                            `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int                            `json:"runningTasksCount"`
	PendingTasksCount                 int                            `json:"pendingTasksCount"`
	ActiveServicesCount               int                            `json:"activeServicesCount"`
	Statistics                        []keyValue                     `json:"statistics"`
	Tags                              []ecs.Tag                      `json:"tags"`
	Settings                          []ecs.ClusterSetting           `json:"settings,omitempty"`
	CapacityProviders                 []string                       `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   []ecs.CapacityProviderStrategy `json:"defaultCapacityProviderStrategy"`
	ServiceConnectDefaults            *ecs.ServiceConnectDefaults    `json:"serviceConnectDefaults,omitempty"`
}

type keyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type clusterIncludes struct {
	configurations, settings, statistics, tags bool
}

func toClusterOut(c *ecs.Cluster, cc ecscp.ClusterCounts, tags []ecs.Tag, inc clusterIncludes) *clusterOut {
	out := &clusterOut{
		ClusterARN: c.ARN, ClusterName: c.Name, Status: c.Status,
		RegisteredContainerInstancesCount: cc.RegisteredContainerInstances,
		RunningTasksCount:                 cc.RunningTasks,
		PendingTasksCount:                 cc.PendingTasks,
		ActiveServicesCount:               cc.ActiveServices,
		Statistics:                        []keyValue{},
		Tags:                              []ecs.Tag{},
		CapacityProviders:                 nonNil(c.CapacityProviders),
		DefaultCapacityProviderStrategy:   nonNil(c.DefaultCapacityProviderStrategy),
		ServiceConnectDefaults:            c.ServiceConnectDefaults,
	}
	if inc.configurations {
		out.Configuration = c.Configuration
	}
	if inc.settings {
		out.Settings = c.Settings
	}
	if inc.tags && tags != nil {
		out.Tags = tags
	}
	if inc.statistics {
		out.Statistics = []keyValue{
			{"runningEC2TasksCount", "0"}, {"runningFargateTasksCount", "0"},
			{"pendingEC2TasksCount", "0"}, {"pendingFargateTasksCount", "0"},
			{"activeEC2ServiceCount", "0"}, {"activeFargateServiceCount", "0"},
			{"drainingEC2ServiceCount", "0"}, {"drainingFargateServiceCount", "0"},
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// taskDefinitionOut is ECS's TaskDefinition shape: the domain document with
// its timestamps as epoch seconds.
type taskDefinitionOut struct {
	*ecs.TaskDefinition
	RegisteredAt   *awsproto.EpochTime `json:"registeredAt,omitempty"`
	DeregisteredAt *awsproto.EpochTime `json:"deregisteredAt,omitempty"`
}

func toTaskDefinitionOut(td *ecs.TaskDefinition) *taskDefinitionOut {
	return &taskDefinitionOut{TaskDefinition: td, RegisteredAt: awsproto.Epoch(td.RegisteredAt), DeregisteredAt: awsproto.Epoch(td.DeregisteredAt)}
}

type failure struct {
	ARN    string `json:"arn,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}
