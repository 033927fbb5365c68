package ecs

import (
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// ServiceSpec is what CreateService asks for, once its references are
// resolved (the task definition read, the launch type chosen).
type ServiceSpec struct {
	Name                          string
	TaskDefinition                *TaskDefinition
	DesiredCount                  *int
	LaunchType                    string
	CapacityProviderStrategy      []CapacityProviderStrategy
	PlatformVersion               string
	DeploymentConfiguration       *DeploymentConfiguration
	DeploymentController          *DeploymentController
	LoadBalancers                 []LoadBalancer
	ServiceRegistries             []ServiceRegistry
	NetworkConfiguration          *NetworkConfiguration
	PlacementConstraints          []PlacementConstraint
	PlacementStrategy             []PlacementStrategy
	HealthCheckGracePeriodSeconds *int
	SchedulingStrategy            string
	EnableECSManagedTags          bool
	PropagateTags                 string
	EnableExecuteCommand          bool
	Role                          string
	Tags                          []Tag
	ClientToken                   string
	CreatedBy                     string
}

// NewService validates spec and returns the ACTIVE service it describes,
// with its first deployment (PRIMARY, IN_PROGRESS). deploymentID is the ID
// the first deployment gets (ecs-svc/ and 19 digits in ECS).
func NewService(sc Scope, cl *Cluster, spec ServiceSpec, deploymentID string, now time.Time) (*Service, error) {
	if spec.Name == "" {
		return nil, invalidParam("serviceName is required.")
	}
	if !serviceNameRE.MatchString(spec.Name) {
		return nil, invalidParam("Service name can only contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	sched := spec.SchedulingStrategy
	switch sched {
	case "":
		sched = SchedulingReplica
	case SchedulingReplica, SchedulingDaemon:
	default:
		return nil, invalidParam("Invalid schedulingStrategy %q. Valid values: REPLICA, DAEMON.", sched)
	}
	if sched == SchedulingDaemon {
		if spec.LaunchType == LaunchFargate || slices.ContainsFunc(spec.CapacityProviderStrategy, func(c CapacityProviderStrategy) bool {
			return c.CapacityProvider == CapacityFargate || c.CapacityProvider == CapacityFargateSpot
		}) {
			return nil, invalidParam("The DAEMON scheduling strategy is not supported with the FARGATE launch type.")
		}
		if len(spec.PlacementStrategy) > 0 {
			return nil, invalidParam("Placement strategies are not supported with the DAEMON scheduling strategy.")
		}
		zero := 0
		spec.DesiredCount = &zero // the scheduler counts the instances
	}
	ctl := DeploymentController{Type: DeploymentControllerECS}
	if spec.DeploymentController != nil {
		ctl = *spec.DeploymentController
	}
	switch ctl.Type {
	case DeploymentControllerECS:
	case DeploymentControllerCodeDeploy:
		return nil, fault.New(fault.Unsupported, "The CODE_DEPLOY deployment controller is not supported: berth has no CodeDeploy. Use the ECS deployment controller.")
	case DeploymentControllerExternal:
		return newExternalService(sc, cl, spec, now) // taskset.go
	default:
		return nil, invalidParam("Invalid deploymentController type %q. Valid values: ECS, CODE_DEPLOY, EXTERNAL.", ctl.Type)
	}
	if spec.TaskDefinition == nil {
		return nil, invalidParam("taskDefinition is required.")
	}
	if spec.DesiredCount == nil {
		return nil, invalidParam("desiredCount is required when schedulingStrategy is REPLICA.")
	}
	if err := ValidateDesiredCount(*spec.DesiredCount); err != nil {
		return nil, err
	}
	dc, err := ServiceDeploymentConfiguration(sched, spec.DeploymentConfiguration)
	if err != nil {
		return nil, err
	}
	if err := validateServiceSettings(spec); err != nil {
		return nil, err
	}
	if err := ValidateServiceTasks(spec.TaskDefinition, spec.LaunchType, spec.CapacityProviderStrategy, spec.PlatformVersion,
		spec.NetworkConfiguration, spec.PlacementConstraints, spec.PlacementStrategy); err != nil {
		return nil, err
	}
	if err := ValidateLoadBalancers(spec.TaskDefinition, spec.LoadBalancers); err != nil {
		return nil, err
	}
	if err := ValidateShiftLoadBalancers(dc.Strategy, spec.LoadBalancers); err != nil {
		return nil, err
	}
	s := &Service{
		ARN: sc.ServiceARN(cl.Name, spec.Name), Name: spec.Name, ClusterARN: cl.ARN,
		LoadBalancers: spec.LoadBalancers, ServiceRegistries: spec.ServiceRegistries,
		Status: ServiceActive, DesiredCount: *spec.DesiredCount,
		LaunchType: spec.LaunchType, CapacityProviderStrategy: spec.CapacityProviderStrategy,
		TaskDefinition: spec.TaskDefinition.ARN, DeploymentConfiguration: dc,
		RoleARN: spec.Role, Events: []ServiceEvent{}, CreatedAt: now,
		PlacementConstraints: spec.PlacementConstraints, PlacementStrategy: spec.PlacementStrategy,
		NetworkConfiguration: spec.NetworkConfiguration, HealthCheckGracePeriodSeconds: spec.HealthCheckGracePeriodSeconds,
		SchedulingStrategy: sched, DeploymentController: ctl, CreatedBy: spec.CreatedBy,
		EnableECSManagedTags: spec.EnableECSManagedTags, PropagateTags: spec.PropagateTags,
		EnableExecuteCommand: spec.EnableExecuteCommand, ClientToken: spec.ClientToken,
	}
	if s.LaunchType == LaunchFargate {
		s.PlatformVersion, s.PlatformFamily = "LATEST", FargatePlatformFamily
		if spec.PlatformVersion != "" {
			s.PlatformVersion = spec.PlatformVersion
		}
	}
	if s.PropagateTags == "" {
		s.PropagateTags = "NONE"
	}
	s.Deployments = []Deployment{s.newDeployment(deploymentID, now)}
	s.beginShift(&s.Deployments[0], nil, now)
	s.recordDeployment(s.Deployments[0], now)
	return s, nil
}

// newDeployment returns a PRIMARY, IN_PROGRESS deployment of s's current
// task definition and network configuration.
func (s *Service) newDeployment(id string, now time.Time) Deployment {
	return Deployment{
		ID: id, Status: DeploymentPrimary, TaskDefinition: s.TaskDefinition, DesiredCount: s.DesiredCount,
		CreatedAt: now, UpdatedAt: now, CapacityProviderStrategy: s.CapacityProviderStrategy,
		LaunchType: s.LaunchType, PlatformVersion: s.PlatformVersion, PlatformFamily: s.PlatformFamily,
		NetworkConfiguration: s.NetworkConfiguration, RolloutState: RolloutInProgress,
		RolloutStateReason: "ECS deployment " + id + " in progress.",
	}
}

// StartDeployment makes a new PRIMARY deployment of s's current settings;
// the former primary becomes ACTIVE (its tasks are replaced).
func (s *Service) StartDeployment(id string, now time.Time) {
	var prod *Deployment
	if p := s.productionDeployment(); p != nil {
		c := *p
		prod = &c
	}
	for i := range s.Deployments {
		if s.Deployments[i].Status == DeploymentPrimary {
			s.Deployments[i].Status = DeploymentActive
			s.Deployments[i].UpdatedAt = now
		}
	}
	s.Deployments = slices.Insert(s.Deployments, 0, s.newDeployment(id, now))
	s.beginShift(&s.Deployments[0], prod, now)
	s.recordDeployment(s.Deployments[0], now)
	s.Steady = false
}

// ValidateDesiredCount checks a desired count.
func ValidateDesiredCount(n int) error {
	if n < 0 {
		return invalidParam("desiredCount can't be less than 0.")
	}
	return nil
}

// ValidateGracePeriod checks healthCheckGracePeriodSeconds.
func ValidateGracePeriod(p *int) error {
	if p != nil && (*p < 0 || *p > 2147483647) {
		return invalidParam("healthCheckGracePeriodSeconds must be between 0 and 2147483647.")
	}
	return nil
}

// ServiceDeploymentConfiguration returns dc with ECS's defaults for the
// scheduling strategy (REPLICA: 200 and 100; DAEMON: 100 and 0), or an
// error for what berth cannot do or ECS refuses.
func ServiceDeploymentConfiguration(sched string, dc *DeploymentConfiguration) (DeploymentConfiguration, error) {
	var out DeploymentConfiguration
	if dc != nil {
		out = *dc
	}
	maxDef, minDef := 200, 100
	if sched == SchedulingDaemon {
		maxDef, minDef = 100, 0
	}
	if out.MaximumPercent == nil {
		out.MaximumPercent = &maxDef
	}
	if out.MinimumHealthyPercent == nil {
		out.MinimumHealthyPercent = &minDef
	}
	if out.DeploymentCircuitBreaker == nil {
		out.DeploymentCircuitBreaker = &DeploymentCircuitBreaker{}
	}
	switch out.Strategy {
	case "":
		out.Strategy = DeploymentStrategyRolling
	case DeploymentStrategyRolling, DeploymentStrategyBlueGreen, DeploymentStrategyLinear, DeploymentStrategyCanary:
	default:
		return out, invalidParam("Invalid deployment strategy %q. Valid values: ROLLING, BLUE_GREEN, LINEAR, CANARY.", out.Strategy)
	}
	if err := validateShiftConfiguration(sched, &out); err != nil {
		return out, err
	}
	if m := *out.MinimumHealthyPercent; m < 0 || m > 100 {
		return out, invalidParam("minimumHealthyPercent must be between 0 and 100.")
	}
	if m := *out.MaximumPercent; m < 100 && sched == SchedulingReplica {
		return out, invalidParam("maximumPercent must be at least 100 for a service with the REPLICA scheduling strategy.")
	}
	if *out.MaximumPercent <= *out.MinimumHealthyPercent && sched == SchedulingReplica {
		return out, invalidParam("maximumPercent (%d) must be greater than minimumHealthyPercent (%d), or a deployment could never replace a task.", *out.MaximumPercent, *out.MinimumHealthyPercent)
	}
	return out, nil
}

// ValidateServiceTasks checks that the service's tasks could run as
// RunTask would start them: launch type, network and placement.
func ValidateServiceTasks(td *TaskDefinition, launchType string, strategy []CapacityProviderStrategy, platformVersion string, nc *NetworkConfiguration, pc []PlacementConstraint, ps []PlacementStrategy) error {
	if launchType != "" && len(strategy) > 0 {
		return invalidParam("Specifying both a launchType and capacityProviderStrategy is not supported.")
	}
	req := RunRequest{LaunchType: launchType, PlatformVersion: platformVersion, NetworkConfiguration: nc, PlacementConstraints: pc, PlacementStrategy: ps}
	if launchType == "" {
		req.LaunchType = LaunchEC2
		if len(strategy) > 0 {
			req.LaunchType = ""
			req.CapacityProviderName = strategy[0].CapacityProvider
		}
	}
	if req.LaunchType == "" && req.CapacityProviderName != CapacityFargate && req.CapacityProviderName != CapacityFargateSpot {
		req.LaunchType = LaunchEC2
		req.CapacityProviderName = ""
	}
	return ValidateRunRequest(td, req)
}

// ValidateLoadBalancers checks a service's loadBalancers against its task
// definition, as ECS does.
func ValidateLoadBalancers(td *TaskDefinition, lbs []LoadBalancer) error {
	if len(lbs) > MaxServiceLoadBalancers {
		return invalidParam("A service can have at most %d load balancers (target groups).", MaxServiceLoadBalancers)
	}
	for _, lb := range lbs {
		switch {
		case lb.TargetGroupARN == "" && lb.LoadBalancerName == "":
			return invalidParam("Either targetGroupArn or loadBalancerName must be specified for a load balancer.")
		case lb.TargetGroupARN != "" && lb.LoadBalancerName != "":
			return invalidParam("loadBalancerName and targetGroupArn cannot both be specified. You must specify either a loadBalancerName or a targetGroupArn.")
		case lb.LoadBalancerName != "":
			return fault.New(fault.Unsupported, "Classic Load Balancers are not supported by berth; use a target group (targetGroupArn).")
		}
		if p, ok := ParseARN(lb.TargetGroupARN); !ok || p.Service != "elasticloadbalancing" || len(p.Resource) < len("targetgroup/") || p.Resource[:len("targetgroup/")] != "targetgroup/" {
			return invalidParam("Invalid targetGroupArn %q: it must be the ARN of an Elastic Load Balancing target group.", lb.TargetGroupARN)
		}
		if lb.ContainerName == "" {
			return invalidParam("containerName must be specified for a load balancer.")
		}
		if lb.ContainerPort == nil {
			return invalidParam("containerPort must be specified for a load balancer.")
		}
		cd := findContainer(td, lb.ContainerName)
		if cd == nil {
			return invalidParam("The container %s does not exist in the task definition.", lb.ContainerName)
		}
		if !slices.ContainsFunc(cd.PortMappings, func(pm PortMapping) bool {
			return pm.ContainerPort != nil && *pm.ContainerPort == *lb.ContainerPort
		}) {
			return invalidParam("The container %s did not have a container port %s defined.", lb.ContainerName, strconv.Itoa(*lb.ContainerPort))
		}
	}
	return nil
}

func findContainer(td *TaskDefinition, name string) *ContainerDefinition {
	for i := range td.ContainerDefinitions {
		if td.ContainerDefinitions[i].Name == name {
			return &td.ContainerDefinitions[i]
		}
	}
	return nil
}

// validateServiceSettings checks what every new service's spec has,
// whatever its deployment controller: the health check grace period,
// propagateTags, the tags and the client token.
func validateServiceSettings(spec ServiceSpec) error {
	if err := ValidateGracePeriod(spec.HealthCheckGracePeriodSeconds); err != nil {
		return err
	}
	switch spec.PropagateTags {
	case "", "NONE", "SERVICE", "TASK_DEFINITION":
	default:
		return invalidParam("Invalid propagateTags value %q. Valid values: TASK_DEFINITION, SERVICE, NONE.", spec.PropagateTags)
	}
	if err := ValidateTags(spec.Tags); err != nil {
		return err
	}
	if len(spec.ClientToken) > 36 {
		return invalidParam("clientToken can be up to 36 characters.")
	}
	return nil
}
