package ecsapi

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// addTaskOps registers the task, container instance and agent-facing
// operations.
func (a *API) addTaskOps(ops map[string]awsproto.Op) {
	ops["RunTask"] = awsproto.Handle(a.runTask)
	ops["StartTask"] = awsproto.Handle(a.startTask)
	ops["DescribeTasks"] = awsproto.Handle(a.describeTasks)
	ops["ListTasks"] = awsproto.Handle(a.listTasks)
	ops["StopTask"] = awsproto.Handle(a.stopTask)
	ops["ExecuteCommand"] = awsproto.Handle(a.executeCommand)
	ops["RegisterContainerInstance"] = awsproto.Handle(a.registerContainerInstance)
	ops["DeregisterContainerInstance"] = awsproto.Handle(a.deregisterContainerInstance)
	ops["DescribeContainerInstances"] = awsproto.Handle(a.describeContainerInstances)
	ops["ListContainerInstances"] = awsproto.Handle(a.listContainerInstances)
	ops["UpdateContainerInstancesState"] = awsproto.Handle(a.updateContainerInstancesState)
	ops["PutAttributes"] = awsproto.Handle(a.putAttributes)
	ops["DeleteAttributes"] = awsproto.Handle(a.deleteAttributes)
	ops["ListAttributes"] = awsproto.Handle(a.listAttributes)
	ops["DiscoverPollEndpoint"] = awsproto.Handle(a.discoverPollEndpoint)
	ops["SubmitTaskStateChange"] = awsproto.Handle(a.submitTaskStateChange)
	ops["SubmitContainerStateChange"] = awsproto.Handle(a.submitContainerStateChange)
	ops["SubmitAttachmentStateChanges"] = awsproto.Handle(a.submitAttachmentStateChanges)
}

// The registration and discovery shapes are defined once, in acs.
type (
	registerInstanceIn      = acs.RegisterContainerInstanceInput
	discoverPollEndpointIn  = acs.DiscoverPollEndpointInput
	discoverPollEndpointOut = acs.DiscoverPollEndpointOutput
)

func (a *API) registerContainerInstance(ctx context.Context, c *awsproto.Call, in *registerInstanceIn) (any, error) {
	ci, tags, err := a.plane.RegisterContainerInstance(ctx, a.scope(c), ecscp.Registration{
		Cluster: in.Cluster, ContainerInstanceARN: in.ContainerInstanceARN, IdentityDocument: in.InstanceIdentityDocument,
		TotalResources: in.TotalResources, VersionInfo: in.VersionInfo, Attributes: in.Attributes, Tags: in.Tags,
	})
	if err != nil {
		return nil, err
	}
	out := toInstanceOut(ci)
	out.Tags = nonNil(tags)
	return &instanceResult{ContainerInstance: out}, nil
}

// Paths of the agent-facing websocket endpoints, relative to berth's
// base URL. ECS agents append "ws" to the endpoints DiscoverPollEndpoint
// returns.
const (
	TelemetryPath      = "tcs/"
	ServiceConnectPath = "sc/"
)

// discoverPollEndpoint tells an agent where its ACS session goes: berth's
// own URL, as the caller reached it.
func (a *API) discoverPollEndpoint(ctx context.Context, c *awsproto.Call, in *discoverPollEndpointIn) (any, error) {
	base := "http://localhost:4566/"
	if r := c.HTTP; r != nil && r.Host != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host + "/"
	}
	return &discoverPollEndpointOut{Endpoint: base, TelemetryEndpoint: base + TelemetryPath, ServiceConnectEndpoint: base + ServiceConnectPath}, nil
}

// The agent-facing state change shapes are defined once, in acs.
type (
	taskStateChangeIn        = acs.SubmitTaskStateChangeInput
	containerStateChange     = acs.ContainerStateChange
	containerStateChangeIn   = acs.SubmitContainerStateChangeInput
	attachmentStateChangesIn = acs.SubmitAttachmentStateChangesInput
)

type ackOut struct {
	Acknowledgment string `json:"acknowledgment"`
}

var ack = &ackOut{Acknowledgment: "ACK"}

func (a *API) submitTaskStateChange(ctx context.Context, c *awsproto.Call, in *taskStateChangeIn) (any, error) {
	ch := ecscp.TaskChange{
		Status: in.Status, Reason: in.Reason, StopCode: in.StopCode,
		PullStartedAt: epochTime(in.PullStartedAt), PullStoppedAt: epochTime(in.PullStoppedAt),
		ExecutionStoppedAt: epochTime(in.ExecutionStoppedAt), StartedAt: epochTime(in.StartedAt),
	}
	for i := range in.Containers {
		ch.Containers = append(ch.Containers, containerChange(&in.Containers[i]))
	}
	for _, at := range in.Attachments {
		ch.Attachments = append(ch.Attachments, ecscp.AttachmentChange{
			AttachmentARN: at.AttachmentARN, Status: at.Status,
			ENI: ecs.ENI{
				NetworkInterfaceID: at.NetworkInterfaceID, MACAddress: at.MACAddress, PrivateDNSName: at.PrivateDNSName,
				PrivateIPv4Address: at.PrivateIPv4Address, IPv6Address: at.IPv6Address,
			},
		})
	}
	if err := a.plane.SubmitTaskStateChange(ctx, a.scope(c), in.Cluster, in.Task, ch); err != nil {
		return nil, err
	}
	return ack, nil
}

func epochTime(t *awsproto.EpochTime) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func containerChange(ch *containerStateChange) ecscp.ContainerChange {
	return ecscp.ContainerChange{
		Name: ch.ContainerName, RuntimeID: ch.RuntimeID, ImageDigest: ch.ImageDigest, Status: ch.Status,
		ExitCode: ch.ExitCode, Reason: ch.Reason, HealthStatus: ch.HealthStatus, NetworkBindings: networkBindings(ch.NetworkBindings),
	}
}

// networkBindings converts reported bindings; nil (none reported) stays
// nil.
func networkBindings(in []acs.NetworkBinding) []ecs.NetworkBinding {
	if in == nil {
		return nil
	}
	out := make([]ecs.NetworkBinding, len(in))
	for i, b := range in {
		out[i] = ecs.NetworkBinding(b)
	}
	return out
}

func (a *API) submitContainerStateChange(ctx context.Context, c *awsproto.Call, in *containerStateChangeIn) (any, error) {
	ch := containerChange(&containerStateChange{
		ContainerName: in.ContainerName, RuntimeID: in.RuntimeID, Status: in.Status, ExitCode: in.ExitCode,
		Reason: in.Reason, NetworkBindings: in.NetworkBindings,
	})
	if err := a.plane.SubmitContainerStateChange(ctx, a.scope(c), in.Cluster, in.Task, ch); err != nil {
		return nil, err
	}
	return ack, nil
}

// submitAttachmentStateChanges acknowledges attachment reports; berth's
// agent reports a task's network interface with the task's state change.
func (a *API) submitAttachmentStateChanges(ctx context.Context, c *awsproto.Call, in *attachmentStateChangesIn) (any, error) {
	if len(in.Attachments) == 0 {
		return nil, fault.New(fault.InvalidParameter, "attachments cannot be empty.")
	}
	return ack, nil
}
