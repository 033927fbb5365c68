package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// taskSetRecord is the stored form of ecs.TaskSet (in its service's
// record).
type taskSetRecord struct {
	ID                       string                           `json:"id,omitempty"`
	ARN                      string                           `json:"taskSetArn,omitempty"`
	ExternalID               string                           `json:"externalId,omitempty"`
	Status                   string                           `json:"status,omitempty"`
	TaskDefinition           string                           `json:"taskDefinition,omitempty"`
	ComputedDesiredCount     int                              `json:"computedDesiredCount,omitempty"`
	PendingCount             int                              `json:"pendingCount,omitempty"`
	RunningCount             int                              `json:"runningCount,omitempty"`
	CreatedAt                time.Time                        `json:"createdAt,omitzero"`
	UpdatedAt                time.Time                        `json:"updatedAt,omitzero"`
	LaunchType               string                           `json:"launchType,omitempty"`
	CapacityProviderStrategy []capacityProviderStrategyRecord `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                           `json:"platformVersion,omitempty"`
	PlatformFamily           string                           `json:"platformFamily,omitempty"`
	NetworkConfiguration     *networkConfigurationRecord      `json:"networkConfiguration,omitempty"`
	LoadBalancers            []loadBalancerRecord             `json:"loadBalancers,omitempty"`
	ServiceRegistries        []serviceRegistryRecord          `json:"serviceRegistries,omitempty"`
	ScaleValue               float64                          `json:"scaleValue"`
	ScaleUnit                string                           `json:"scaleUnit,omitempty"`
	StabilityStatus          string                           `json:"stabilityStatus,omitempty"`
	StabilityStatusAt        time.Time                        `json:"stabilityStatusAt,omitzero"`
	Tags                     []tagRecord                      `json:"tags,omitempty"`
	ClientToken              string                           `json:"clientToken,omitempty"`
}

func taskSetRecordOf(v *ecs.TaskSet) taskSetRecord {
	return taskSetRecord{
		ID: v.ID, ARN: v.ARN, ExternalID: v.ExternalID, Status: v.Status, TaskDefinition: v.TaskDefinition,
		ComputedDesiredCount: v.ComputedDesiredCount, PendingCount: v.PendingCount, RunningCount: v.RunningCount,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, LaunchType: v.LaunchType,
		CapacityProviderStrategy: mapSlice(v.CapacityProviderStrategy, capacityProviderStrategyRecordOf),
		PlatformVersion:          v.PlatformVersion, PlatformFamily: v.PlatformFamily,
		NetworkConfiguration: mapPtr(v.NetworkConfiguration, networkConfigurationRecordOf),
		LoadBalancers:        mapSlice(v.LoadBalancers, loadBalancerRecordOf),
		ServiceRegistries:    mapSlice(v.ServiceRegistries, serviceRegistryRecordOf),
		ScaleValue:           v.Scale.Value, ScaleUnit: v.Scale.Unit,
		StabilityStatus: v.StabilityStatus, StabilityStatusAt: v.StabilityStatusAt,
		Tags: mapSlice(v.Tags, tagRecordOf), ClientToken: v.ClientToken,
	}
}

func (r *taskSetRecord) domain() ecs.TaskSet {
	return ecs.TaskSet{
		ID: r.ID, ARN: r.ARN, ExternalID: r.ExternalID, Status: r.Status, TaskDefinition: r.TaskDefinition,
		ComputedDesiredCount: r.ComputedDesiredCount, PendingCount: r.PendingCount, RunningCount: r.RunningCount,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LaunchType: r.LaunchType,
		CapacityProviderStrategy: mapSlice(r.CapacityProviderStrategy, (*capacityProviderStrategyRecord).domain),
		PlatformVersion:          r.PlatformVersion, PlatformFamily: r.PlatformFamily,
		NetworkConfiguration: mapPtr(r.NetworkConfiguration, (*networkConfigurationRecord).domain),
		LoadBalancers:        mapSlice(r.LoadBalancers, (*loadBalancerRecord).domain),
		ServiceRegistries:    mapSlice(r.ServiceRegistries, (*serviceRegistryRecord).domain),
		Scale:                ecs.Scale{Value: r.ScaleValue, Unit: r.ScaleUnit},
		StabilityStatus:      r.StabilityStatus, StabilityStatusAt: r.StabilityStatusAt,
		Tags: mapSlice(r.Tags, (*tagRecord).domain), ClientToken: r.ClientToken,
	}
}
