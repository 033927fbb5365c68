package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a service and its nested documents.

// serviceRecord is a service as stored under services/<cluster>/<name>,
// with the scheduler's state (deployments, counts, events): one
// compare-and-swap changes a service as a whole.
type serviceRecord struct {
	ARN                           string                           `json:"serviceArn,omitempty"`
	Name                          string                           `json:"serviceName,omitempty"`
	ClusterARN                    string                           `json:"clusterArn,omitempty"`
	LoadBalancers                 []loadBalancerRecord             `json:"loadBalancers,omitempty"`
	ServiceRegistries             []serviceRegistryRecord          `json:"serviceRegistries,omitempty"`
	Status                        string                           `json:"status,omitempty"`
	DesiredCount                  int                              `json:"desiredCount,omitempty"`
	RunningCount                  int                              `json:"runningCount,omitempty"`
	PendingCount                  int                              `json:"pendingCount,omitempty"`
	LaunchType                    string                           `json:"launchType,omitempty"`
	CapacityProviderStrategy      []capacityProviderStrategyRecord `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion               string                           `json:"platformVersion,omitempty"`
	PlatformFamily                string                           `json:"platformFamily,omitempty"`
	TaskDefinition                string                           `json:"taskDefinition,omitempty"`
	DeploymentConfiguration       deploymentConfigurationRecord    `json:"deploymentConfiguration"`
	Deployments                   []deploymentRecord               `json:"deployments"`
	TaskSets                      []taskSetRecord                  `json:"taskSets,omitempty"`
	RoleARN                       string                           `json:"roleArn,omitempty"`
	Events                        []serviceEventRecord             `json:"events"`
	CreatedAt                     time.Time                        `json:"createdAt,omitzero"`
	PlacementConstraints          []placementConstraintRecord      `json:"placementConstraints,omitempty"`
	PlacementStrategy             []placementStrategyRecord        `json:"placementStrategy,omitempty"`
	NetworkConfiguration          *networkConfigurationRecord      `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int                             `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                           `json:"schedulingStrategy,omitempty"`
	DeploymentController          deploymentControllerRecord       `json:"deploymentController"`
	CreatedBy                     string                           `json:"createdBy,omitempty"`
	EnableECSManagedTags          bool                             `json:"enableECSManagedTags,omitempty"`
	PropagateTags                 string                           `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                             `json:"enableExecuteCommand,omitempty"`
	ClientToken                   string                           `json:"clientToken,omitempty"`
	ServiceDeployments            []serviceDeploymentRecord        `json:"serviceDeployments,omitempty"`
	Stable                        *deploymentRecord                `json:"stable,omitempty"`
	Noted                         []string                         `json:"noted,omitempty"`
	Steady                        bool                             `json:"steady,omitempty"`
	Traffic                       *trafficShiftRecord              `json:"traffic,omitempty"`
}

func serviceRecordOf(v *ecs.Service) serviceRecord {
	return serviceRecord{
		ARN:                           v.ARN,
		Name:                          v.Name,
		ClusterARN:                    v.ClusterARN,
		LoadBalancers:                 mapSlice(v.LoadBalancers, loadBalancerRecordOf),
		ServiceRegistries:             mapSlice(v.ServiceRegistries, serviceRegistryRecordOf),
		Status:                        v.Status,
		DesiredCount:                  v.DesiredCount,
		RunningCount:                  v.RunningCount,
		PendingCount:                  v.PendingCount,
		LaunchType:                    v.LaunchType,
		CapacityProviderStrategy:      mapSlice(v.CapacityProviderStrategy, capacityProviderStrategyRecordOf),
		PlatformVersion:               v.PlatformVersion,
		PlatformFamily:                v.PlatformFamily,
		TaskDefinition:                v.TaskDefinition,
		DeploymentConfiguration:       deploymentConfigurationRecordOf(&v.DeploymentConfiguration),
		Deployments:                   mapSlice(v.Deployments, deploymentRecordOf),
		TaskSets:                      mapSlice(v.TaskSets, taskSetRecordOf),
		RoleARN:                       v.RoleARN,
		Events:                        mapSlice(v.Events, serviceEventRecordOf),
		CreatedAt:                     v.CreatedAt,
		PlacementConstraints:          mapSlice(v.PlacementConstraints, placementConstraintRecordOf),
		PlacementStrategy:             mapSlice(v.PlacementStrategy, placementStrategyRecordOf),
		NetworkConfiguration:          mapPtr(v.NetworkConfiguration, networkConfigurationRecordOf),
		HealthCheckGracePeriodSeconds: v.HealthCheckGracePeriodSeconds,
		SchedulingStrategy:            v.SchedulingStrategy,
		DeploymentController:          deploymentControllerRecordOf(&v.DeploymentController),
		CreatedBy:                     v.CreatedBy,
		EnableECSManagedTags:          v.EnableECSManagedTags,
		PropagateTags:                 v.PropagateTags,
		EnableExecuteCommand:          v.EnableExecuteCommand,
		ClientToken:                   v.ClientToken,
		ServiceDeployments:            mapSlice(v.ServiceDeployments, serviceDeploymentRecordOf),
		Stable:                        mapPtr(v.Stable, deploymentRecordOf),
		Noted:                         v.Noted,
		Steady:                        v.Steady,
		Traffic:                       mapPtr(v.Traffic, trafficShiftRecordOf),
	}
}

func (r *serviceRecord) domain() ecs.Service {
	return ecs.Service{
		ARN:                           r.ARN,
		Name:                          r.Name,
		ClusterARN:                    r.ClusterARN,
		LoadBalancers:                 mapSlice(r.LoadBalancers, (*loadBalancerRecord).domain),
		ServiceRegistries:             mapSlice(r.ServiceRegistries, (*serviceRegistryRecord).domain),
		Status:                        r.Status,
		DesiredCount:                  r.DesiredCount,
		RunningCount:                  r.RunningCount,
		PendingCount:                  r.PendingCount,
		LaunchType:                    r.LaunchType,
		CapacityProviderStrategy:      mapSlice(r.CapacityProviderStrategy, (*capacityProviderStrategyRecord).domain),
		PlatformVersion:               r.PlatformVersion,
		PlatformFamily:                r.PlatformFamily,
		TaskDefinition:                r.TaskDefinition,
		DeploymentConfiguration:       r.DeploymentConfiguration.domain(),
		Deployments:                   mapSlice(r.Deployments, (*deploymentRecord).domain),
		TaskSets:                      mapSlice(r.TaskSets, (*taskSetRecord).domain),
		RoleARN:                       r.RoleARN,
		Events:                        mapSlice(r.Events, (*serviceEventRecord).domain),
		CreatedAt:                     r.CreatedAt,
		PlacementConstraints:          mapSlice(r.PlacementConstraints, (*placementConstraintRecord).domain),
		PlacementStrategy:             mapSlice(r.PlacementStrategy, (*placementStrategyRecord).domain),
		NetworkConfiguration:          mapPtr(r.NetworkConfiguration, (*networkConfigurationRecord).domain),
		HealthCheckGracePeriodSeconds: r.HealthCheckGracePeriodSeconds,
		SchedulingStrategy:            r.SchedulingStrategy,
		DeploymentController:          r.DeploymentController.domain(),
		CreatedBy:                     r.CreatedBy,
		EnableECSManagedTags:          r.EnableECSManagedTags,
		PropagateTags:                 r.PropagateTags,
		EnableExecuteCommand:          r.EnableExecuteCommand,
		ClientToken:                   r.ClientToken,
		ServiceDeployments:            mapSlice(r.ServiceDeployments, (*serviceDeploymentRecord).domain),
		Stable:                        mapPtr(r.Stable, (*deploymentRecord).domain),
		Noted:                         r.Noted,
		Steady:                        r.Steady,
		Traffic:                       mapPtr(r.Traffic, (*trafficShiftRecord).domain),
	}
}

// loadBalancerRecord is the stored form of ecs.LoadBalancer.
type loadBalancerRecord struct {
	TargetGroupARN   string `json:"targetGroupArn,omitempty"`
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ContainerName    string `json:"containerName,omitempty"`
	ContainerPort    *int   `json:"containerPort,omitempty"`
	// AdvancedConfiguration: bluegreenrecord.go.
	AdvancedConfiguration *advancedConfigurationRecord `json:"advancedConfiguration,omitempty"`
}

func loadBalancerRecordOf(v *ecs.LoadBalancer) loadBalancerRecord {
	return loadBalancerRecord{
		TargetGroupARN:        v.TargetGroupARN,
		LoadBalancerName:      v.LoadBalancerName,
		ContainerName:         v.ContainerName,
		ContainerPort:         v.ContainerPort,
		AdvancedConfiguration: mapPtr(v.AdvancedConfiguration, advancedConfigurationRecordOf),
	}
}

func (r *loadBalancerRecord) domain() ecs.LoadBalancer {
	return ecs.LoadBalancer{
		TargetGroupARN:        r.TargetGroupARN,
		LoadBalancerName:      r.LoadBalancerName,
		ContainerName:         r.ContainerName,
		ContainerPort:         r.ContainerPort,
		AdvancedConfiguration: mapPtr(r.AdvancedConfiguration, (*advancedConfigurationRecord).domain),
	}
}

// serviceRegistryRecord is the stored form of ecs.ServiceRegistry.
type serviceRegistryRecord struct {
	RegistryARN   string `json:"registryArn,omitempty"`
	Port          *int   `json:"port,omitempty"`
	ContainerName string `json:"containerName,omitempty"`
	ContainerPort *int   `json:"containerPort,omitempty"`
}

func serviceRegistryRecordOf(v *ecs.ServiceRegistry) serviceRegistryRecord {
	return serviceRegistryRecord{
		RegistryARN:   v.RegistryARN,
		Port:          v.Port,
		ContainerName: v.ContainerName,
		ContainerPort: v.ContainerPort,
	}
}

func (r *serviceRegistryRecord) domain() ecs.ServiceRegistry {
	return ecs.ServiceRegistry{
		RegistryARN:   r.RegistryARN,
		Port:          r.Port,
		ContainerName: r.ContainerName,
		ContainerPort: r.ContainerPort,
	}
}

// deploymentConfigurationRecord is the stored form of ecs.DeploymentConfiguration.
type deploymentConfigurationRecord struct {
	DeploymentCircuitBreaker *deploymentCircuitBreakerRecord `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int                            `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int                            `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *deploymentAlarmsRecord         `json:"alarms,omitempty"`
	Strategy                 string                          `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int                            `json:"bakeTimeInMinutes,omitempty"`
	LifecycleHooks           []map[string]any                `json:"lifecycleHooks,omitempty"`
	LinearConfiguration      *linearConfigurationRecord      `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      *canaryConfigurationRecord      `json:"canaryConfiguration,omitempty"`
}

func deploymentConfigurationRecordOf(v *ecs.DeploymentConfiguration) deploymentConfigurationRecord {
	return deploymentConfigurationRecord{
		DeploymentCircuitBreaker: mapPtr(v.DeploymentCircuitBreaker, deploymentCircuitBreakerRecordOf),
		MaximumPercent:           v.MaximumPercent,
		MinimumHealthyPercent:    v.MinimumHealthyPercent,
		Alarms:                   mapPtr(v.Alarms, deploymentAlarmsRecordOf),
		Strategy:                 v.Strategy,
		BakeTimeInMinutes:        v.BakeTimeInMinutes,
		LifecycleHooks:           v.LifecycleHooks,
		LinearConfiguration:      mapPtr(v.LinearConfiguration, linearConfigurationRecordOf),
		CanaryConfiguration:      mapPtr(v.CanaryConfiguration, canaryConfigurationRecordOf),
	}
}

func (r *deploymentConfigurationRecord) domain() ecs.DeploymentConfiguration {
	return ecs.DeploymentConfiguration{
		DeploymentCircuitBreaker: mapPtr(r.DeploymentCircuitBreaker, (*deploymentCircuitBreakerRecord).domain),
		MaximumPercent:           r.MaximumPercent,
		MinimumHealthyPercent:    r.MinimumHealthyPercent,
		Alarms:                   mapPtr(r.Alarms, (*deploymentAlarmsRecord).domain),
		Strategy:                 r.Strategy,
		BakeTimeInMinutes:        r.BakeTimeInMinutes,
		LifecycleHooks:           r.LifecycleHooks,
		LinearConfiguration:      mapPtr(r.LinearConfiguration, (*linearConfigurationRecord).domain),
		CanaryConfiguration:      mapPtr(r.CanaryConfiguration, (*canaryConfigurationRecord).domain),
	}
}

// deploymentCircuitBreakerRecord is the stored form of ecs.DeploymentCircuitBreaker.
type deploymentCircuitBreakerRecord struct {
	Enable   bool `json:"enable,omitempty"`
	Rollback bool `json:"rollback,omitempty"`
}

func deploymentCircuitBreakerRecordOf(v *ecs.DeploymentCircuitBreaker) deploymentCircuitBreakerRecord {
	return deploymentCircuitBreakerRecord{
		Enable:   v.Enable,
		Rollback: v.Rollback,
	}
}

func (r *deploymentCircuitBreakerRecord) domain() ecs.DeploymentCircuitBreaker {
	return ecs.DeploymentCircuitBreaker{
		Enable:   r.Enable,
		Rollback: r.Rollback,
	}
}

// deploymentAlarmsRecord is the stored form of ecs.DeploymentAlarms.
type deploymentAlarmsRecord struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable,omitempty"`
	Rollback   bool     `json:"rollback,omitempty"`
}

func deploymentAlarmsRecordOf(v *ecs.DeploymentAlarms) deploymentAlarmsRecord {
	return deploymentAlarmsRecord{
		AlarmNames: v.AlarmNames,
		Enable:     v.Enable,
		Rollback:   v.Rollback,
	}
}

func (r *deploymentAlarmsRecord) domain() ecs.DeploymentAlarms {
	return ecs.DeploymentAlarms{
		AlarmNames: r.AlarmNames,
		Enable:     r.Enable,
		Rollback:   r.Rollback,
	}
}

// deploymentRecord is the stored form of ecs.Deployment.
type deploymentRecord struct {
	ID                       string                           `json:"id,omitempty"`
	Status                   string                           `json:"status,omitempty"`
	TaskDefinition           string                           `json:"taskDefinition,omitempty"`
	DesiredCount             int                              `json:"desiredCount,omitempty"`
	PendingCount             int                              `json:"pendingCount,omitempty"`
	RunningCount             int                              `json:"runningCount,omitempty"`
	FailedTasks              int                              `json:"failedTasks,omitempty"`
	CreatedAt                time.Time                        `json:"createdAt,omitzero"`
	UpdatedAt                time.Time                        `json:"updatedAt,omitzero"`
	CapacityProviderStrategy []capacityProviderStrategyRecord `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                           `json:"launchType,omitempty"`
	PlatformVersion          string                           `json:"platformVersion,omitempty"`
	PlatformFamily           string                           `json:"platformFamily,omitempty"`
	NetworkConfiguration     *networkConfigurationRecord      `json:"networkConfiguration,omitempty"`
	RolloutState             string                           `json:"rolloutState,omitempty"`
	RolloutStateReason       string                           `json:"rolloutStateReason,omitempty"`
	TargetGroups             []string                         `json:"targetGroups,omitempty"`
}

func deploymentRecordOf(v *ecs.Deployment) deploymentRecord {
	return deploymentRecord{
		ID:                       v.ID,
		Status:                   v.Status,
		TaskDefinition:           v.TaskDefinition,
		DesiredCount:             v.DesiredCount,
		PendingCount:             v.PendingCount,
		RunningCount:             v.RunningCount,
		FailedTasks:              v.FailedTasks,
		CreatedAt:                v.CreatedAt,
		UpdatedAt:                v.UpdatedAt,
		CapacityProviderStrategy: mapSlice(v.CapacityProviderStrategy, capacityProviderStrategyRecordOf),
		LaunchType:               v.LaunchType,
		PlatformVersion:          v.PlatformVersion,
		PlatformFamily:           v.PlatformFamily,
		NetworkConfiguration:     mapPtr(v.NetworkConfiguration, networkConfigurationRecordOf),
		RolloutState:             v.RolloutState,
		RolloutStateReason:       v.RolloutStateReason,
		TargetGroups:             v.TargetGroups,
	}
}

func (r *deploymentRecord) domain() ecs.Deployment {
	return ecs.Deployment{
		ID:                       r.ID,
		Status:                   r.Status,
		TaskDefinition:           r.TaskDefinition,
		DesiredCount:             r.DesiredCount,
		PendingCount:             r.PendingCount,
		RunningCount:             r.RunningCount,
		FailedTasks:              r.FailedTasks,
		CreatedAt:                r.CreatedAt,
		UpdatedAt:                r.UpdatedAt,
		CapacityProviderStrategy: mapSlice(r.CapacityProviderStrategy, (*capacityProviderStrategyRecord).domain),
		LaunchType:               r.LaunchType,
		PlatformVersion:          r.PlatformVersion,
		PlatformFamily:           r.PlatformFamily,
		NetworkConfiguration:     mapPtr(r.NetworkConfiguration, (*networkConfigurationRecord).domain),
		RolloutState:             r.RolloutState,
		RolloutStateReason:       r.RolloutStateReason,
		TargetGroups:             r.TargetGroups,
	}
}

// networkConfigurationRecord is the stored form of ecs.NetworkConfiguration.
type networkConfigurationRecord struct {
	AwsvpcConfiguration *awsVpcConfigurationRecord `json:"awsvpcConfiguration,omitempty"`
}

func networkConfigurationRecordOf(v *ecs.NetworkConfiguration) networkConfigurationRecord {
	return networkConfigurationRecord{
		AwsvpcConfiguration: mapPtr(v.AwsvpcConfiguration, awsVpcConfigurationRecordOf),
	}
}

func (r *networkConfigurationRecord) domain() ecs.NetworkConfiguration {
	return ecs.NetworkConfiguration{
		AwsvpcConfiguration: mapPtr(r.AwsvpcConfiguration, (*awsVpcConfigurationRecord).domain),
	}
}

// awsVpcConfigurationRecord is the stored form of ecs.AwsVpcConfiguration.
type awsVpcConfigurationRecord struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

func awsVpcConfigurationRecordOf(v *ecs.AwsVpcConfiguration) awsVpcConfigurationRecord {
	return awsVpcConfigurationRecord{
		Subnets:        v.Subnets,
		SecurityGroups: v.SecurityGroups,
		AssignPublicIP: v.AssignPublicIP,
	}
}

func (r *awsVpcConfigurationRecord) domain() ecs.AwsVpcConfiguration {
	return ecs.AwsVpcConfiguration{
		Subnets:        r.Subnets,
		SecurityGroups: r.SecurityGroups,
		AssignPublicIP: r.AssignPublicIP,
	}
}

// serviceEventRecord is the stored form of ecs.ServiceEvent.
type serviceEventRecord struct {
	ID        string    `json:"id,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	Message   string    `json:"message,omitempty"`
}

func serviceEventRecordOf(v *ecs.ServiceEvent) serviceEventRecord {
	return serviceEventRecord{
		ID:        v.ID,
		CreatedAt: v.CreatedAt,
		Message:   v.Message,
	}
}

func (r *serviceEventRecord) domain() ecs.ServiceEvent {
	return ecs.ServiceEvent{
		ID:        r.ID,
		CreatedAt: r.CreatedAt,
		Message:   r.Message,
	}
}

// placementStrategyRecord is the stored form of ecs.PlacementStrategy.
type placementStrategyRecord struct {
	Type  string `json:"type,omitempty"`
	Field string `json:"field,omitempty"`
}

func placementStrategyRecordOf(v *ecs.PlacementStrategy) placementStrategyRecord {
	return placementStrategyRecord{
		Type:  v.Type,
		Field: v.Field,
	}
}

func (r *placementStrategyRecord) domain() ecs.PlacementStrategy {
	return ecs.PlacementStrategy{
		Type:  r.Type,
		Field: r.Field,
	}
}

// deploymentControllerRecord is the stored form of ecs.DeploymentController.
type deploymentControllerRecord struct {
	Type string `json:"type,omitempty"`
}

func deploymentControllerRecordOf(v *ecs.DeploymentController) deploymentControllerRecord {
	return deploymentControllerRecord{
		Type: v.Type,
	}
}

func (r *deploymentControllerRecord) domain() ecs.DeploymentController {
	return ecs.DeploymentController{
		Type: r.Type,
	}
}
