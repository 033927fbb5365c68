package acs

import (
	"encoding/json"

	"github.com/berth-dev/berth/internal/awsproto"
)

// The agent-facing operations of the ECS API that report state back
// (SubmitTaskStateChange, SubmitContainerStateChange,
// SubmitAttachmentStateChanges), in ECS's shapes. They are defined once,
// here: berth's API handlers decode them and berth's agent sends them.

// SubmitTaskStateChangeInput reports a task's state.
type SubmitTaskStateChangeInput struct {
	Cluster            string                  `json:"cluster"`
	Task               string                  `json:"task"`
	Status             string                  `json:"status,omitempty"`
	Reason             string                  `json:"reason,omitempty"`
	Containers         []ContainerStateChange  `json:"containers,omitempty"`
	Attachments        []AttachmentStateChange `json:"attachments,omitempty"`
	ManagedAgents      []json.RawMessage       `json:"managedAgents,omitempty"`
	PullStartedAt      *awsproto.EpochTime     `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *awsproto.EpochTime     `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *awsproto.EpochTime     `json:"executionStoppedAt,omitempty"`
	// StopCode is berth's extension: the agent's reason code for a task
	// it stopped by itself (EssentialContainerExited, TaskFailedToStart).
	StopCode string `json:"stopCode,omitempty"`
	// StartedAt is berth's extension: when the task became RUNNING, for a
	// task whose RUNNING report was superseded by a later one.
	StartedAt *awsproto.EpochTime `json:"startedAt,omitempty"`
}

// ContainerStateChange is a container's part of a task state change.
type ContainerStateChange struct {
	ContainerName   string           `json:"containerName"`
	ImageDigest     string           `json:"imageDigest,omitempty"`
	RuntimeID       string           `json:"runtimeId,omitempty"`
	ExitCode        *int             `json:"exitCode,omitempty"`
	NetworkBindings []NetworkBinding `json:"networkBindings,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	Status          string           `json:"status,omitempty"`
	// HealthStatus is berth's extension: ECS agents report container
	// health on their telemetry session instead (PublishHealthRequest).
	HealthStatus string `json:"healthStatus,omitempty"`
}

// NetworkBinding is a published container port.
type NetworkBinding struct {
	BindIP             string `json:"bindIP,omitempty"`
	ContainerPort      int    `json:"containerPort,omitempty"`
	HostPort           int    `json:"hostPort,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	HostPortRange      string `json:"hostPortRange,omitempty"`
}

// AttachmentStateChange reports a task attachment (its network interface).
type AttachmentStateChange struct {
	AttachmentARN string `json:"attachmentArn"`
	Status        string `json:"status"`
	// berth's extension: the network interface the agent created for an
	// awsvpc task (on AWS the control plane creates it).
	NetworkInterfaceID string `json:"networkInterfaceId,omitempty"`
	MACAddress         string `json:"macAddress,omitempty"`
	PrivateIPv4Address string `json:"privateIPv4Address,omitempty"`
	IPv6Address        string `json:"ipv6Address,omitempty"`
	PrivateDNSName     string `json:"privateDnsName,omitempty"`
}

// SubmitContainerStateChangeInput reports one container's state.
type SubmitContainerStateChangeInput struct {
	Cluster         string           `json:"cluster"`
	Task            string           `json:"task"`
	ContainerName   string           `json:"containerName"`
	RuntimeID       string           `json:"runtimeId,omitempty"`
	Status          string           `json:"status,omitempty"`
	ExitCode        *int             `json:"exitCode,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	NetworkBindings []NetworkBinding `json:"networkBindings,omitempty"`
}

// SubmitAttachmentStateChangesInput reports attachments.
type SubmitAttachmentStateChangesInput struct {
	Cluster     string                  `json:"cluster"`
	Attachments []AttachmentStateChange `json:"attachments"`
}
