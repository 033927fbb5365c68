package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// The service operations map ECS's wire shapes to the control plane.

func (a *API) addServiceOps(ops map[string]awsproto.Op) {
	ops["CreateService"] = awsproto.Handle(a.createService)
	ops["DescribeServices"] = awsproto.Handle(a.describeServices)
	ops["ListServices"] = awsproto.Handle(a.listServices)
	ops["UpdateService"] = awsproto.Handle(a.updateService)
	ops["DeleteService"] = awsproto.Handle(a.deleteService)
	ops["ListServiceDeployments"] = awsproto.Handle(a.listServiceDeployments)
	ops["DescribeServiceDeployments"] = awsproto.Handle(a.describeServiceDeployments)
	ops["DescribeServiceRevisions"] = awsproto.Handle(a.describeServiceRevisions)
	ops["StopServiceDeployment"] = awsproto.Handle(a.stopServiceDeployment)
	ops["UpdateTaskProtection"] = awsproto.Handle(a.updateTaskProtection)
	ops["GetTaskProtection"] = awsproto.Handle(a.getTaskProtection)
	a.addTaskSetOps(ops) // tasksets.go
}

type createServiceIn struct {
	Cluster                       string                         `json:"cluster"`
	ServiceName                   string                         `json:"serviceName"`
	TaskDefinition                string                         `json:"taskDefinition"`
	LoadBalancers                 []ecs.LoadBalancer             `json:"loadBalancers"`
	ServiceRegistries             []ecs.ServiceRegistry          `json:"serviceRegistries"`
	DesiredCount                  *int                           `json:"desiredCount"`
	ClientToken                   string                         `json:"clientToken"`
	LaunchType                    string                         `json:"launchType"`
	CapacityProviderStrategy      []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy"`
	PlatformVersion               string                         `json:"platformVersion"`
	Role                          string                         `json:"role"`
	DeploymentConfiguration       *ecs.DeploymentConfiguration   `json:"deploymentConfiguration"`
	PlacementConstraints          []ecs.PlacementConstraint      `json:"placementConstraints"`
	PlacementStrategy             []ecs.PlacementStrategy        `json:"placementStrategy"`
	NetworkConfiguration          *ecs.NetworkConfiguration      `json:"networkConfiguration"`
	HealthCheckGracePeriodSeconds *int                           `json:"healthCheckGracePeriodSeconds"`
	SchedulingStrategy            string                         `json:"schedulingStrategy"`
	DeploymentController          *ecs.DeploymentController      `json:"deploymentController"`
	Tags                          []ecs.Tag                      `json:"tags"`
	EnableECSManagedTags          bool                           `json:"enableECSManagedTags"`
	PropagateTags                 string                         `json:"propagateTags"`
	EnableExecuteCommand          bool                           `json:"enableExecuteCommand"`
	ServiceConnectConfiguration   any                            `json:"serviceConnectConfiguration"`
	VolumeConfigurations          []any                          `json:"volumeConfigurations"`
	VpcLatticeConfigurations      []any                          `json:"vpcLatticeConfigurations"`
	AvailabilityZoneRebalancing   string                         `json:"availabilityZoneRebalancing"`
}

type serviceResult struct {
	Service *serviceOut `json:"service"`
}

func unsupportedServiceFields(sc any, vols, lattice []any) error {
	switch {
	case sc != nil:
		return fault.New(fault.Unsupported, "Service Connect is not supported by berth; remove serviceConnectConfiguration.")
	case len(vols) > 0:
		return fault.New(fault.Unsupported, "Service-managed EBS volumes are not supported by berth; remove volumeConfigurations.")
	case len(lattice) > 0:
		return fault.New(fault.Unsupported, "VPC Lattice is not supported by berth; remove vpcLatticeConfigurations.")
	}
	return nil
}

func (a *API) createService(ctx context.Context, c *awsproto.Call, in *createServiceIn) (any, error) {
	if err := unsupportedServiceFields(in.ServiceConnectConfiguration, in.VolumeConfigurations, in.VpcLatticeConfigurations); err != nil {
		return nil, err
	}
	st, err := a.plane.CreateService(ctx, a.scope(c), ecscp.CreateServiceInput{
		Cluster: in.Cluster, TaskDefinition: in.TaskDefinition,
		Spec: ecs.ServiceSpec{
			Name: in.ServiceName, DesiredCount: in.DesiredCount, LaunchType: in.LaunchType,
			CapacityProviderStrategy: in.CapacityProviderStrategy, PlatformVersion: in.PlatformVersion,
			DeploymentConfiguration: in.DeploymentConfiguration, DeploymentController: in.DeploymentController,
			LoadBalancers: in.LoadBalancers, ServiceRegistries: in.ServiceRegistries,
			NetworkConfiguration: in.NetworkConfiguration, PlacementConstraints: in.PlacementConstraints,
			PlacementStrategy: in.PlacementStrategy, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
			SchedulingStrategy: in.SchedulingStrategy, EnableECSManagedTags: in.EnableECSManagedTags,
			PropagateTags: in.PropagateTags, EnableExecuteCommand: in.EnableExecuteCommand,
			Role: in.Role, Tags: in.Tags, ClientToken: in.ClientToken,
		},
	})
	if err != nil {
		return nil, err
	}
	return &serviceResult{Service: toServiceOut(st.Service, st.Tags, true)}, nil
}

type describeServicesIn struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
}

type describeServicesOut struct {
	Services []*serviceOut `json:"services"`
	Failures []failure     `json:"failures"`
}

func (a *API) describeServices(ctx context.Context, c *awsproto.Call, in *describeServicesIn) (any, error) {
	withTags := false
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		withTags = true
	}
	svcs, failures, err := a.plane.DescribeServices(ctx, a.scope(c), in.Cluster, in.Services, withTags)
	if err != nil {
		return nil, err
	}
	out := &describeServicesOut{Services: make([]*serviceOut, 0, len(svcs)), Failures: toFailures(failures)}
	for _, s := range svcs {
		out.Services = append(out.Services, toServiceOut(s.Service, s.Tags, withTags))
	}
	return out, nil
}

type listServicesIn struct {
	Cluster                string `json:"cluster"`
	NextToken              string `json:"nextToken"`
	MaxResults             *int   `json:"maxResults"`
	LaunchType             string `json:"launchType"`
	SchedulingStrategy     string `json:"schedulingStrategy"`
	ResourceManagementType string `json:"resourceManagementType"`
}

type listServicesOut struct {
	ServiceARNs []string `json:"serviceArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

func (a *API) listServices(ctx context.Context, c *awsproto.Call, in *listServicesIn) (any, error) {
	arns, err := a.plane.ListServices(ctx, a.scope(c), ecscp.ServiceFilter{
		Cluster: in.Cluster, LaunchType: in.LaunchType, SchedulingStrategy: in.SchedulingStrategy,
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	return &listServicesOut{ServiceARNs: nonNil(page), NextToken: next}, nil
}

type updateServiceIn struct {
	Cluster                       string                         `json:"cluster"`
	Service                       string                         `json:"service"`
	DesiredCount                  *int                           `json:"desiredCount"`
	TaskDefinition                string                         `json:"taskDefinition"`
	CapacityProviderStrategy      []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy"`
	DeploymentConfiguration       *ecs.DeploymentConfiguration   `json:"deploymentConfiguration"`
	AvailabilityZoneRebalancing   string                         `json:"availabilityZoneRebalancing"`
	NetworkConfiguration          *ecs.NetworkConfiguration      `json:"networkConfiguration"`
	PlacementConstraints          []ecs.PlacementConstraint      `json:"placementConstraints"`
	PlacementStrategy             []ecs.PlacementStrategy        `json:"placementStrategy"`
	PlatformVersion               string                         `json:"platformVersion"`
	ForceNewDeployment            bool                           `json:"forceNewDeployment"`
	HealthCheckGracePeriodSeconds *int                           `json:"healthCheckGracePeriodSeconds"`
	DeploymentController          *ecs.DeploymentController      `json:"deploymentController"`
	EnableExecuteCommand          *bool                          `json:"enableExecuteCommand"`
	EnableECSManagedTags          *bool                          `json:"enableECSManagedTags"`
	LoadBalancers                 []ecs.LoadBalancer             `json:"loadBalancers"`
	PropagateTags                 string                         `json:"propagateTags"`
	ServiceRegistries             []ecs.ServiceRegistry          `json:"serviceRegistries"`
	ServiceConnectConfiguration   any                            `json:"serviceConnectConfiguration"`
	VolumeConfigurations          []any                          `json:"volumeConfigurations"`
	VpcLatticeConfigurations      []any                          `json:"vpcLatticeConfigurations"`
}

func (a *API) updateService(ctx context.Context, c *awsproto.Call, in *updateServiceIn) (any, error) {
	if err := unsupportedServiceFields(in.ServiceConnectConfiguration, in.VolumeConfigurations, in.VpcLatticeConfigurations); err != nil {
		return nil, err
	}
	s, err := a.plane.UpdateService(ctx, a.scope(c), ecscp.UpdateServiceInput{
		Cluster: in.Cluster, Service: in.Service, DesiredCount: in.DesiredCount, TaskDefinition: in.TaskDefinition,
		CapacityProviderStrategy: in.CapacityProviderStrategy, DeploymentConfiguration: in.DeploymentConfiguration,
		NetworkConfiguration: in.NetworkConfiguration, PlacementConstraints: in.PlacementConstraints,
		PlacementStrategy: in.PlacementStrategy, PlatformVersion: in.PlatformVersion,
		ForceNewDeployment: in.ForceNewDeployment, HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		DeploymentController: in.DeploymentController, EnableExecuteCommand: in.EnableExecuteCommand,
		EnableECSManagedTags: in.EnableECSManagedTags, LoadBalancers: in.LoadBalancers,
		PropagateTags: in.PropagateTags, ServiceRegistries: in.ServiceRegistries,
	})
	if err != nil {
		return nil, err
	}
	return &serviceResult{Service: toServiceOut(s, nil, false)}, nil
}

type deleteServiceIn struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Force   *bool  `json:"force"`
}

func (a *API) deleteService(ctx context.Context, c *awsproto.Call, in *deleteServiceIn) (any, error) {
	s, err := a.plane.DeleteService(ctx, a.scope(c), in.Cluster, in.Service, in.Force != nil && *in.Force)
	if err != nil {
		return nil, err
	}
	return &serviceResult{Service: toServiceOut(s, nil, false)}, nil
}
