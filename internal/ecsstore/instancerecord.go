package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a container instance (instances/ and
// managed-instances/ records; what changes with every placement is in the
// instance-state record, statecodec.go).

// containerInstanceRecord is a container instance as stored under
// instances/<cluster>/<id> and managed-instances/<cluster>. The ID is not
// stored (it is the ARN's last segment). A registered instance's
// remainingResources and version here are those of its registration: its
// instance-state record holds the current ones and wins when both are read
// (Compose); the managed instance has no state record and keeps them
// here.
type containerInstanceRecord struct {
	ARN                  string            `json:"containerInstanceArn,omitempty"`
	EC2InstanceID        string            `json:"ec2InstanceId,omitempty"`
	ClusterARN           string            `json:"clusterArn,omitempty"`
	Status               string            `json:"status,omitempty"`
	StatusReason         string            `json:"statusReason,omitempty"`
	AgentConnected       bool              `json:"agentConnected,omitempty"`
	AgentDisconnectedAt  time.Time         `json:"agentDisconnectedAt,omitzero"`
	HostAddress          string            `json:"hostAddress,omitempty"`
	AgentUpdateStatus    string            `json:"agentUpdateStatus,omitempty"`
	RegisteredResources  []resourceRecord  `json:"registeredResources"`
	RemainingResources   []resourceRecord  `json:"remainingResources"`
	Attributes           []attributeRecord `json:"attributes"`
	VersionInfo          versionInfoRecord `json:"versionInfo"`
	RunningTasksCount    int               `json:"runningTasksCount,omitempty"`
	PendingTasksCount    int               `json:"pendingTasksCount,omitempty"`
	RegisteredAt         time.Time         `json:"registeredAt,omitzero"`
	Version              int64             `json:"version,omitempty"`
	Tags                 []tagRecord       `json:"tags,omitempty"`
	CapacityProviderName string            `json:"capacityProviderName,omitempty"`
}

func containerInstanceRecordOf(v *ecs.ContainerInstance) containerInstanceRecord {
	return containerInstanceRecord{
		ARN:                  v.ARN,
		EC2InstanceID:        v.EC2InstanceID,
		ClusterARN:           v.ClusterARN,
		Status:               v.Status,
		StatusReason:         v.StatusReason,
		AgentConnected:       v.AgentConnected,
		AgentDisconnectedAt:  v.AgentDisconnectedAt,
		HostAddress:          v.HostAddress,
		AgentUpdateStatus:    v.AgentUpdateStatus,
		RegisteredResources:  mapSlice(v.RegisteredResources, resourceRecordOf),
		RemainingResources:   mapSlice(v.RemainingResources, resourceRecordOf),
		Attributes:           mapSlice(v.Attributes, attributeRecordOf),
		VersionInfo:          versionInfoRecordOf(&v.VersionInfo),
		RunningTasksCount:    v.RunningTasksCount,
		PendingTasksCount:    v.PendingTasksCount,
		RegisteredAt:         v.RegisteredAt,
		Version:              v.Version,
		Tags:                 mapSlice(v.Tags, tagRecordOf),
		CapacityProviderName: v.CapacityProviderName,
	}
}

func (r *containerInstanceRecord) domain() ecs.ContainerInstance {
	return ecs.ContainerInstance{
		ARN:                  r.ARN,
		EC2InstanceID:        r.EC2InstanceID,
		ClusterARN:           r.ClusterARN,
		Status:               r.Status,
		StatusReason:         r.StatusReason,
		AgentConnected:       r.AgentConnected,
		AgentDisconnectedAt:  r.AgentDisconnectedAt,
		HostAddress:          r.HostAddress,
		AgentUpdateStatus:    r.AgentUpdateStatus,
		RegisteredResources:  mapSlice(r.RegisteredResources, (*resourceRecord).domain),
		RemainingResources:   mapSlice(r.RemainingResources, (*resourceRecord).domain),
		Attributes:           mapSlice(r.Attributes, (*attributeRecord).domain),
		VersionInfo:          r.VersionInfo.domain(),
		RunningTasksCount:    r.RunningTasksCount,
		PendingTasksCount:    r.PendingTasksCount,
		RegisteredAt:         r.RegisteredAt,
		Version:              r.Version,
		Tags:                 mapSlice(r.Tags, (*tagRecord).domain),
		CapacityProviderName: r.CapacityProviderName,
	}
}

// resourceRecord is the stored form of ecs.Resource.
type resourceRecord struct {
	Name           string   `json:"name,omitempty"`
	Type           string   `json:"type,omitempty"`
	IntegerValue   int      `json:"integerValue,omitempty"`
	LongValue      int64    `json:"longValue,omitempty"`
	DoubleValue    float64  `json:"doubleValue,omitempty"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

func resourceRecordOf(v *ecs.Resource) resourceRecord {
	return resourceRecord{
		Name:           v.Name,
		Type:           v.Type,
		IntegerValue:   v.IntegerValue,
		LongValue:      v.LongValue,
		DoubleValue:    v.DoubleValue,
		StringSetValue: v.StringSetValue,
	}
}

func (r *resourceRecord) domain() ecs.Resource {
	return ecs.Resource{
		Name:           r.Name,
		Type:           r.Type,
		IntegerValue:   r.IntegerValue,
		LongValue:      r.LongValue,
		DoubleValue:    r.DoubleValue,
		StringSetValue: r.StringSetValue,
	}
}

// versionInfoRecord is the stored form of ecs.VersionInfo.
type versionInfoRecord struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

func versionInfoRecordOf(v *ecs.VersionInfo) versionInfoRecord {
	return versionInfoRecord{
		AgentVersion:  v.AgentVersion,
		AgentHash:     v.AgentHash,
		DockerVersion: v.DockerVersion,
	}
}

func (r *versionInfoRecord) domain() ecs.VersionInfo {
	return ecs.VersionInfo{
		AgentVersion:  r.AgentVersion,
		AgentHash:     r.AgentHash,
		DockerVersion: r.DockerVersion,
	}
}
