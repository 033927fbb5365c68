package ecs

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// Service statuses. A service is ACTIVE from CreateService until
// DeleteService makes it DRAINING; once its tasks have stopped it is
// INACTIVE (still described for a while, as in ECS):
//
//	ACTIVE ──DeleteService──► DRAINING ──no task left──► INACTIVE
const (
	ServiceActive   = "ACTIVE"
	ServiceDraining = "DRAINING"
	ServiceInactive = "INACTIVE"
)

// Scheduling strategies.
const (
	SchedulingReplica = "REPLICA"
	SchedulingDaemon  = "DAEMON"
)

// Deployment controllers and strategies.
const (
	DeploymentControllerECS        = "ECS"
	DeploymentControllerCodeDeploy = "CODE_DEPLOY"
	DeploymentControllerExternal   = "EXTERNAL"
	DeploymentStrategyRolling      = "ROLLING"
)

// Deployment statuses and rollout states.
const (
	DeploymentPrimary  = "PRIMARY"
	DeploymentActive   = "ACTIVE"
	DeploymentInactive = "INACTIVE"

	RolloutInProgress = "IN_PROGRESS"
	RolloutCompleted  = "COMPLETED"
	RolloutFailed     = "FAILED"
)

// MaxServiceEvents is how many events a service keeps (ECS shows the
// latest 100).
const MaxServiceEvents = 100

// MaxServiceLoadBalancers is the most load balancers (target groups) a
// service may name.
const MaxServiceLoadBalancers = 5

// Service is an ECS service: the scheduler keeps DesiredCount copies of
// TaskDefinition running (REPLICA) and rolls deployments. Its JSON form uses
// ECS's names; Noted and Steady are the scheduler's bookkeeping.
type Service struct {
	ARN                      string                     `json:"serviceArn"`
	Name                     string                     `json:"serviceName"`
	ClusterARN               string                     `json:"clusterArn"`
	LoadBalancers            []LoadBalancer             `json:"loadBalancers,omitempty"`
	ServiceRegistries        []ServiceRegistry          `json:"serviceRegistries,omitempty"`
	Status                   string                     `json:"status"`
	DesiredCount             int                        `json:"desiredCount"`
	RunningCount             int                        `json:"runningCount"`
	PendingCount             int                        `json:"pendingCount"`
	LaunchType               string                     `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                     `json:"platformVersion,omitempty"`
	PlatformFamily           string                     `json:"platformFamily,omitempty"`
	TaskDefinition           string                     `json:"taskDefinition"`
	DeploymentConfiguration  DeploymentConfiguration    `json:"deploymentConfiguration"`
	Deployments              []Deployment               `json:"deployments"`
	// TaskSets are the EXTERNAL deployment controller's task sets
	// (taskset.go).
	TaskSets                      []TaskSet             `json:"taskSets,omitempty"`
	RoleARN                       string                `json:"roleArn,omitempty"`
	Events                        []ServiceEvent        `json:"events"`
	CreatedAt                     time.Time             `json:"createdAt"`
	PlacementConstraints          []PlacementConstraint `json:"placementConstraints,omitempty"`
	PlacementStrategy             []PlacementStrategy   `json:"placementStrategy,omitempty"`
	NetworkConfiguration          *NetworkConfiguration `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int                  `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                `json:"schedulingStrategy"`
	DeploymentController          DeploymentController  `json:"deploymentController"`
	CreatedBy                     string                `json:"createdBy,omitempty"`
	EnableECSManagedTags          bool                  `json:"enableECSManagedTags"`
	PropagateTags                 string                `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                  `json:"enableExecuteCommand"`
	// ClientToken is CreateService's idempotency token.
	ClientToken string `json:"clientToken,omitempty"`

	// ServiceDeployments is the deployment history, newest first
	// (ListServiceDeployments).
	ServiceDeployments []ServiceDeployment `json:"serviceDeployments,omitempty"`
	// Stable is the last deployment that completed: what a circuit
	// breaker rolls back to.
	Stable *Deployment `json:"stable,omitempty"`
	// Noted are the IDs of the service's tasks that stopped on their own
	// and whose stop the events already tell (so a restart does not tell
	// it again); Steady is whether the last event said steady state.
	Noted  []string `json:"noted,omitempty"`
	Steady bool     `json:"steady,omitempty"`
	// Traffic is the BLUE_GREEN, LINEAR or CANARY deployment in flight
	// (nil: none; bluegreen.go).
	Traffic *TrafficShift `json:"traffic,omitempty"`
}

// ClusterName returns the name of the service's cluster.
func (s *Service) ClusterName() string {
	return s.ClusterARN[strings.LastIndexByte(s.ClusterARN, '/')+1:]
}

// Group is the task group of the service's tasks ("service:<name>").
func (s *Service) Group() string { return "service:" + s.Name }

// Primary returns the PRIMARY deployment (nil: none).
func (s *Service) Primary() *Deployment {
	for i := range s.Deployments {
		if s.Deployments[i].Status == DeploymentPrimary {
			return &s.Deployments[i]
		}
	}
	return nil
}

// Deployment returns the deployment with the given ID (nil: none).
func (s *Service) Deployment(id string) *Deployment {
	for i := range s.Deployments {
		if s.Deployments[i].ID == id {
			return &s.Deployments[i]
		}
	}
	return nil
}

// AddEvent puts an event first and keeps the latest MaxServiceEvents.
func (s *Service) AddEvent(id, message string, at time.Time) {
	s.Events = slices.Insert(s.Events, 0, ServiceEvent{ID: id, CreatedAt: at, Message: message})
	if len(s.Events) > MaxServiceEvents {
		s.Events = s.Events[:MaxServiceEvents]
	}
}

// Copy returns a deep enough copy of s to modify its counts, deployments,
// events and bookkeeping.
func (s *Service) Copy() *Service {
	c := *s
	c.Deployments = slices.Clone(s.Deployments)
	c.TaskSets = slices.Clone(s.TaskSets)
	c.Events = slices.Clone(s.Events)
	c.Noted = slices.Clone(s.Noted)
	c.ServiceDeployments = slices.Clone(s.ServiceDeployments)
	if s.Traffic != nil {
		t := *s.Traffic
		c.Traffic = &t
	}
	return &c
}

// LoadBalancer is a target group (or classic load balancer) a service's
// tasks are registered with.
type LoadBalancer struct {
	TargetGroupARN   string `json:"targetGroupArn,omitempty"`
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ContainerName    string `json:"containerName,omitempty"`
	ContainerPort    *int   `json:"containerPort,omitempty"`
	// AdvancedConfiguration is the blue/green pair and listener rules.
	AdvancedConfiguration *AdvancedConfiguration `json:"advancedConfiguration,omitempty"`
}

// ServiceRegistry is a Cloud Map registry (stored and described; berth has
// no Cloud Map).
type ServiceRegistry struct {
	RegistryARN   string `json:"registryArn,omitempty"`
	Port          *int   `json:"port,omitempty"`
	ContainerName string `json:"containerName,omitempty"`
	ContainerPort *int   `json:"containerPort,omitempty"`
}

// DeploymentConfiguration bounds a rolling deployment.
type DeploymentConfiguration struct {
	DeploymentCircuitBreaker *DeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int                      `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int                      `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *DeploymentAlarms         `json:"alarms,omitempty"`
	Strategy                 string                    `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int                      `json:"bakeTimeInMinutes,omitempty"`
	// LifecycleHooks is kept only to refuse it (berth has no Lambda).
	LifecycleHooks      []map[string]any     `json:"lifecycleHooks,omitempty"`
	LinearConfiguration *LinearConfiguration `json:"linearConfiguration,omitempty"`
	CanaryConfiguration *CanaryConfiguration `json:"canaryConfiguration,omitempty"`
}

// DeploymentCircuitBreaker stops (and may roll back) a failing deployment.
type DeploymentCircuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

// DeploymentAlarms are CloudWatch alarms: one in ALARM fails a deployment
// in progress (and rolls it back if Rollback).
type DeploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// DeploymentController names who deploys the service.
type DeploymentController struct {
	Type string `json:"type"`
}

// Deployment is one revision of a service being (or having been) rolled
// out. Its ID is what its tasks carry as startedBy.
type Deployment struct {
	ID                       string                     `json:"id"`
	Status                   string                     `json:"status"`
	TaskDefinition           string                     `json:"taskDefinition"`
	DesiredCount             int                        `json:"desiredCount"`
	PendingCount             int                        `json:"pendingCount"`
	RunningCount             int                        `json:"runningCount"`
	FailedTasks              int                        `json:"failedTasks"`
	CreatedAt                time.Time                  `json:"createdAt"`
	UpdatedAt                time.Time                  `json:"updatedAt"`
	CapacityProviderStrategy []CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                     `json:"launchType,omitempty"`
	PlatformVersion          string                     `json:"platformVersion,omitempty"`
	PlatformFamily           string                     `json:"platformFamily,omitempty"`
	NetworkConfiguration     *NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	RolloutState             string                     `json:"rolloutState,omitempty"`
	RolloutStateReason       string                     `json:"rolloutStateReason,omitempty"`
	// TargetGroups are, for each of the service's load balancers, the
	// target group this deployment's tasks register with (a blue/green
	// pair's groups take turns); empty: the load balancers' own.
	TargetGroups []string `json:"targetGroups,omitempty"`
}

// ServiceEvent is one line of a service's event log.
type ServiceEvent struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	Message   string    `json:"message"`
}

var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// ServiceARN returns the ARN of a service (the long format: with the
// cluster's name).
func (s Scope) ServiceARN(cluster, name string) string {
	return s.ARN("service/" + cluster + "/" + name)
}

// ServiceName returns the name a service reference (name or ARN) names;
// an ARN's cluster, when it has one, must be cluster.
func ServiceName(ref, cluster string) (string, error) {
	if ref == "" {
		return "", invalidParam("service is required.")
	}
	if !strings.HasPrefix(ref, "arn:") {
		return ref, nil
	}
	p, ok := ParseARN(ref)
	rest, isService := strings.CutPrefix(p.Resource, "service/")
	if !ok || p.Service != "ecs" || !isService || rest == "" {
		return "", invalidParam("Service identifier %q is not a valid service name or ARN.", ref)
	}
	c, name, long := strings.Cut(rest, "/")
	if !long {
		return c, nil
	}
	if c != cluster {
		return "", invalidParam("Service %s is not in cluster %s.", ref, cluster)
	}
	return name, nil
}
