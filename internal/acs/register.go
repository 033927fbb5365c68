package acs

import (
	"encoding/json"

	"github.com/berth-dev/berth/internal/ecs"
)

// The agent-facing ECS API operations an agent starts with
// (RegisterContainerInstance, DiscoverPollEndpoint), defined once for
// berth's handlers and its agent. Attributes, tags, resources and version
// info use the ecs value types, whose JSON is ECS's wire form, as the rest
// of the ECS API does.

// RegisterContainerInstanceInput registers (or, with ContainerInstanceARN,
// re-registers) a container instance.
type RegisterContainerInstanceInput struct {
	Cluster                           string            `json:"cluster"`
	InstanceIdentityDocument          string            `json:"instanceIdentityDocument,omitempty"`
	InstanceIdentityDocumentSignature string            `json:"instanceIdentityDocumentSignature,omitempty"`
	TotalResources                    []ecs.Resource    `json:"totalResources"`
	VersionInfo                       *ecs.VersionInfo  `json:"versionInfo,omitempty"`
	ContainerInstanceARN              string            `json:"containerInstanceArn,omitempty"`
	Attributes                        []ecs.Attribute   `json:"attributes,omitempty"`
	PlatformDevices                   []json.RawMessage `json:"platformDevices,omitempty"`
	Tags                              []ecs.Tag         `json:"tags,omitempty"`
}

// DiscoverPollEndpointInput asks where an instance's sessions go.
type DiscoverPollEndpointInput struct {
	ContainerInstance string `json:"containerInstance"`
	Cluster           string `json:"cluster"`
	ZoneID            string `json:"zoneId,omitempty"`
}

// DiscoverPollEndpointOutput is where they go: ACS at Endpoint+"ws", TCS
// at TelemetryEndpoint+"ws", Service Connect at
// ServiceConnectEndpoint+"ws".
type DiscoverPollEndpointOutput struct {
	Endpoint               string `json:"endpoint"`
	TelemetryEndpoint      string `json:"telemetryEndpoint"`
	ServiceConnectEndpoint string `json:"serviceConnectEndpoint"`
}
