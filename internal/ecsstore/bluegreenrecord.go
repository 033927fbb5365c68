package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored forms of the blue/green parts of a service.

// advancedConfigurationRecord is the stored form of ecs.AdvancedConfiguration.
type advancedConfigurationRecord struct {
	AlternateTargetGroupARN string `json:"alternateTargetGroupArn,omitempty"`
	ProductionListenerRule  string `json:"productionListenerRule,omitempty"`
	TestListenerRule        string `json:"testListenerRule,omitempty"`
	RoleARN                 string `json:"roleArn,omitempty"`
}

func advancedConfigurationRecordOf(v *ecs.AdvancedConfiguration) advancedConfigurationRecord {
	return advancedConfigurationRecord(*v)
}

func (r *advancedConfigurationRecord) domain() ecs.AdvancedConfiguration {
	return ecs.AdvancedConfiguration(*r)
}

// linearConfigurationRecord is the stored form of ecs.LinearConfiguration.
type linearConfigurationRecord struct {
	StepPercent           *float64 `json:"stepPercent,omitempty"`
	StepBakeTimeInMinutes *int     `json:"stepBakeTimeInMinutes,omitempty"`
}

func linearConfigurationRecordOf(v *ecs.LinearConfiguration) linearConfigurationRecord {
	return linearConfigurationRecord(*v)
}

func (r *linearConfigurationRecord) domain() ecs.LinearConfiguration {
	return ecs.LinearConfiguration(*r)
}

// canaryConfigurationRecord is the stored form of ecs.CanaryConfiguration.
type canaryConfigurationRecord struct {
	CanaryPercent           *float64 `json:"canaryPercent,omitempty"`
	CanaryBakeTimeInMinutes *int     `json:"canaryBakeTimeInMinutes,omitempty"`
}

func canaryConfigurationRecordOf(v *ecs.CanaryConfiguration) canaryConfigurationRecord {
	return canaryConfigurationRecord(*v)
}

func (r *canaryConfigurationRecord) domain() ecs.CanaryConfiguration {
	return ecs.CanaryConfiguration(*r)
}

// trafficShiftRecord is the stored form of ecs.TrafficShift.
type trafficShiftRecord struct {
	Green      string    `json:"green,omitempty"`
	Blue       string    `json:"blue,omitempty"`
	Stage      string    `json:"stage,omitempty"`
	StageAt    time.Time `json:"stageAt,omitzero"`
	Production float64   `json:"production,omitempty"`
	Test       float64   `json:"test,omitempty"`
	MovedAt    time.Time `json:"movedAt,omitzero"`
}

func trafficShiftRecordOf(v *ecs.TrafficShift) trafficShiftRecord { return trafficShiftRecord(*v) }

func (r *trafficShiftRecord) domain() ecs.TrafficShift { return ecs.TrafficShift(*r) }

// serviceRevisionRecord is the stored form of ecs.ServiceRevision.
type serviceRevisionRecord struct {
	LaunchType               string                           `json:"launchType,omitempty"`
	CapacityProviderStrategy []capacityProviderStrategyRecord `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                           `json:"platformVersion,omitempty"`
	PlatformFamily           string                           `json:"platformFamily,omitempty"`
	LoadBalancers            []loadBalancerRecord             `json:"loadBalancers,omitempty"`
	ServiceRegistries        []serviceRegistryRecord          `json:"serviceRegistries,omitempty"`
	NetworkConfiguration     *networkConfigurationRecord      `json:"networkConfiguration,omitempty"`
	TargetGroups             []string                         `json:"targetGroups,omitempty"`
	ContainerImages          []containerImageRecord           `json:"containerImages,omitempty"`
}

// containerImageRecord is the stored form of ecs.ContainerImage.
type containerImageRecord struct {
	ContainerName string `json:"containerName"`
	Image         string `json:"image"`
	ImageDigest   string `json:"imageDigest,omitempty"`
}

func containerImageRecordOf(v *ecs.ContainerImage) containerImageRecord {
	return containerImageRecord(*v)
}

func (r *containerImageRecord) domain() ecs.ContainerImage { return ecs.ContainerImage(*r) }

func serviceRevisionRecordOf(v *ecs.ServiceRevision) serviceRevisionRecord {
	return serviceRevisionRecord{
		LaunchType: v.LaunchType, CapacityProviderStrategy: mapSlice(v.CapacityProviderStrategy, capacityProviderStrategyRecordOf),
		PlatformVersion: v.PlatformVersion, PlatformFamily: v.PlatformFamily,
		LoadBalancers:        mapSlice(v.LoadBalancers, loadBalancerRecordOf),
		ServiceRegistries:    mapSlice(v.ServiceRegistries, serviceRegistryRecordOf),
		NetworkConfiguration: mapPtr(v.NetworkConfiguration, networkConfigurationRecordOf),
		TargetGroups:         v.TargetGroups,
		ContainerImages:      mapSlice(v.ContainerImages, containerImageRecordOf),
	}
}

func (r *serviceRevisionRecord) domain() ecs.ServiceRevision {
	return ecs.ServiceRevision{
		LaunchType: r.LaunchType, CapacityProviderStrategy: mapSlice(r.CapacityProviderStrategy, (*capacityProviderStrategyRecord).domain),
		PlatformVersion: r.PlatformVersion, PlatformFamily: r.PlatformFamily,
		LoadBalancers:        mapSlice(r.LoadBalancers, (*loadBalancerRecord).domain),
		ServiceRegistries:    mapSlice(r.ServiceRegistries, (*serviceRegistryRecord).domain),
		NetworkConfiguration: mapPtr(r.NetworkConfiguration, (*networkConfigurationRecord).domain),
		TargetGroups:         r.TargetGroups,
		ContainerImages:      mapSlice(r.ContainerImages, (*containerImageRecord).domain),
	}
}
