package ecsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
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

// identityDocument is the part of an EC2 instance identity document berth
// reads.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType"`
	AvailabilityZone string `json:"availabilityZone"`
	Architecture     string `json:"architecture"`
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func (a *API) registerContainerInstance(ctx context.Context, c *awsproto.Call, in *registerInstanceIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cl, err := a.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	if err := ecs.ValidateAttributes(in.Attributes); err != nil {
		return nil, err
	}
	if in.ContainerInstanceARN != "" {
		return a.reregister(ctx, sc, name, in)
	}
	var doc identityDocument
	if in.InstanceIdentityDocument != "" {
		if err := json.Unmarshal([]byte(in.InstanceIdentityDocument), &doc); err != nil {
			return nil, fault.New(fault.InvalidParameter, "instanceIdentityDocument is not a valid JSON document.")
		}
	}
	reg := ecs.InstanceRegistration{
		EC2InstanceID: doc.InstanceID, InstanceType: doc.InstanceType, AvailabilityZone: doc.AvailabilityZone,
		CPUArchitecture: doc.Architecture, Attributes: in.Attributes, Tags: in.Tags,
	}
	reg = ecs.CompleteRegistration(reg, sc.Region, randomHex(17))
	if in.VersionInfo != nil {
		reg.VersionInfo = *in.VersionInfo
	}
	for _, r := range in.TotalResources {
		switch r.Name {
		case ecs.ResourceCPU:
			reg.CPU = intValue(r)
		case ecs.ResourceMemory:
			reg.Memory = intValue(r)
		case ecs.ResourcePorts, ecs.ResourcePortsUDP:
			ports := []int{}
			for _, s := range r.StringSetValue {
				p, err := strconv.Atoi(s)
				if err != nil {
					return nil, fault.New(fault.InvalidParameter, "Invalid port %q in %s.", s, r.Name)
				}
				ports = append(ports, p)
			}
			if r.Name == ecs.ResourcePorts {
				reg.ReservedPorts = ports
			} else {
				reg.ReservedPortsUDP = ports
			}
		}
	}
	ci, err := ecs.NewContainerInstance(sc, cl, reg, newTaskID(), a.now())
	if err != nil {
		return nil, err
	}
	// The instance is connected once its agent opens its ACS session.
	ci.AgentConnected = false
	if err := a.repo.RegisterInstance(ctx, sc, ci, in.Tags); err != nil {
		return nil, err
	}
	a.log.Info("container instance registered", "cluster", name, "instance", ci.ARN, "cpu", reg.CPU, "memory", reg.Memory)
	out := toInstanceOut(ci)
	out.Tags = nonNil(in.Tags)
	return &instanceResult{ContainerInstance: out}, nil
}

func intValue(r ecs.Resource) int {
	switch {
	case r.IntegerValue != 0:
		return r.IntegerValue
	case r.LongValue != 0:
		return int(r.LongValue)
	}
	return int(r.DoubleValue)
}

// reregister is RegisterContainerInstance for an instance that registered
// before (an agent restarting): it keeps the instance, its tasks and its
// reservations and refreshes what the agent reports about itself.
func (a *API) reregister(ctx context.Context, sc ecs.Scope, cluster string, in *registerInstanceIn) (any, error) {
	ref, err := ecsstore.ParseInstanceRef(in.ContainerInstanceARN, cluster)
	if err != nil {
		return nil, err
	}
	if ref.Cluster != cluster {
		return nil, fault.New(fault.InvalidParameter, "The container instance %s is not in cluster %s.", in.ContainerInstanceARN, cluster)
	}
	ci, err := a.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
		if in.VersionInfo != nil {
			ci.VersionInfo = *in.VersionInfo
		}
		if len(in.Attributes) > 0 {
			if err := ci.Reregister(in.Attributes); err != nil {
				return err
			}
		}
		ci.Version++
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.InvalidParameter, "The referenced container instance %s was not found; register without containerInstanceArn.", in.ContainerInstanceARN)
	}
	if err != nil {
		return nil, err
	}
	out := toInstanceOut(ci)
	if out.Tags, err = a.repo.Tags(ctx, ci.ARN); err != nil {
		return nil, err
	}
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
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster, id, err := taskRef(in.Task, name)
	if err != nil {
		return nil, err
	}
	if in.Status != "" && ecs.TaskStatusIndex(in.Status) < 0 {
		return nil, fault.New(fault.InvalidParameter, "Invalid task status %q.", in.Status)
	}
	now := a.now()
	var before, after, arn, def string
	_, err = a.repo.UpdateTask(ctx, sc, cluster, id, func(t *ecs.Task) error {
		before = t.LastStatus
		err := applyTaskChange(t, in, now)
		after, arn, def = t.LastStatus, t.ARN, t.TaskDefinitionARN
		return err
	}, a.TaskResources)
	if err != nil {
		return nil, err
	}
	if after == ecs.TaskRunning && before != after {
		a.log.Info("task running", "cluster", cluster, "task", arn, "taskDefinition", def)
	}
	return ack, nil
}

// applyTaskChange applies an agent's report to a task. Reports never move a
// task back; a report about a STOPPED task changes nothing.
func applyTaskChange(t *ecs.Task, in *taskStateChangeIn, now time.Time) error {
	if t.LastStatus == ecs.TaskStopped {
		return ecsstore.ErrNoChange
	}
	v := t.Version
	if in.PullStartedAt != nil {
		t.MarkPullStarted(in.PullStartedAt.Time)
	}
	if in.PullStoppedAt != nil {
		t.MarkPullStopped(in.PullStoppedAt.Time)
	}
	for i := range in.Containers {
		applyContainerChange(t, &in.Containers[i])
	}
	for _, at := range in.Attachments {
		if at.PrivateIPv4Address == "" {
			continue
		}
		for _, existing := range t.Attachments {
			if existing.Type == ecs.AttachmentENI && existing.Status != ecs.AttachmentAttached && (at.AttachmentARN == "" || strings.HasSuffix(at.AttachmentARN, existing.ID)) {
				eni := ecs.ENI{
					NetworkInterfaceID: at.NetworkInterfaceID, MACAddress: at.MACAddress, PrivateDNSName: at.PrivateDNSName,
					PrivateIPv4Address: at.PrivateIPv4Address, IPv6Address: at.IPv6Address,
				}
				if eni.NetworkInterfaceID == "" {
					eni.NetworkInterfaceID = "eni-" + strings.ReplaceAll(existing.ID, "-", "")[:17]
				}
				if eni.PrivateDNSName == "" {
					eni.PrivateDNSName = "ip-" + strings.ReplaceAll(eni.PrivateIPv4Address, ".", "-") + "." + regionOf(t.ARN) + ".compute.internal"
				}
				if err := t.AttachENI(eni); err != nil {
					return err
				}
			}
		}
	}
	if in.Status != "" && ecs.TaskStatusIndex(in.Status) > ecs.TaskStatusIndex(t.LastStatus) {
		if in.StartedAt != nil && t.StartedAt.IsZero() && ecs.TaskStatusIndex(in.Status) >= ecs.TaskStatusIndex(ecs.TaskRunning) {
			t.StartedAt = in.StartedAt.Time
		}
		if in.Status == ecs.TaskStopped {
			if t.StopCode == "" {
				t.StopCode = in.StopCode
				if t.StopCode == "" {
					if _, exited := t.EssentialExited(); exited && !t.StartedAt.IsZero() {
						t.StopCode = ecs.StopEssentialContainerExited
					}
				}
			}
			if t.StoppedReason == "" {
				t.StoppedReason = in.Reason
				if t.StoppedReason == "" && t.StopCode == ecs.StopEssentialContainerExited {
					t.StoppedReason = ecs.EssentialContainerExitedReason
				}
			}
		}
		if err := t.Advance(in.Status, now); err != nil {
			return err
		}
		if in.Status == ecs.TaskStopped && in.ExecutionStoppedAt != nil {
			t.ExecutionStoppedAt = in.ExecutionStoppedAt.Time
		}
	}
	t.DeriveHealth()
	if t.Version == v {
		return ecsstore.ErrNoChange
	}
	return nil
}

func applyContainerChange(t *ecs.Task, ch *containerStateChange) {
	c := t.Container(ch.ContainerName)
	if c == nil {
		return
	}
	changed := false
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&c.RuntimeID, ch.RuntimeID)
	set(&c.ImageDigest, ch.ImageDigest)
	if ch.NetworkBindings != nil {
		if nb := networkBindings(ch.NetworkBindings); !equalBindings(c.NetworkBindings, nb) {
			c.NetworkBindings, changed = nb, true
		}
	}
	if changed {
		t.Version++
	}
	if ch.Status != "" {
		// A report that would move the container back is stale; skip it.
		_ = t.SetContainerStatus(ch.ContainerName, ch.Status, ch.ExitCode, ch.Reason)
	}
	if ch.HealthStatus != "" {
		_ = t.SetContainerHealth(ch.ContainerName, ch.HealthStatus)
	}
}

func networkBindings(in []acs.NetworkBinding) []ecs.NetworkBinding {
	out := make([]ecs.NetworkBinding, len(in))
	for i, b := range in {
		out[i] = ecs.NetworkBinding(b)
	}
	return out
}

func equalBindings(a, b []ecs.NetworkBinding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (a *API) submitContainerStateChange(ctx context.Context, c *awsproto.Call, in *containerStateChangeIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cluster, id, err := taskRef(in.Task, name)
	if err != nil {
		return nil, err
	}
	ch := &taskStateChangeIn{Containers: []containerStateChange{{
		ContainerName: in.ContainerName, RuntimeID: in.RuntimeID, Status: in.Status, ExitCode: in.ExitCode,
		Reason: in.Reason, NetworkBindings: in.NetworkBindings,
	}}}
	now := a.now()
	if _, err := a.repo.UpdateTask(ctx, sc, cluster, id, func(t *ecs.Task) error { return applyTaskChange(t, ch, now) }, a.TaskResources); err != nil {
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

// checkTaskOrInstance verifies that a task or container instance exists
// (for tagging); rest is "<cluster>/<id>".
func (a *API) checkTaskOrInstance(ctx context.Context, sc ecs.Scope, kind, rest string) error {
	cluster, id, ok := strings.Cut(rest, "/")
	if !ok || cluster == "" || id == "" {
		return fault.New(fault.InvalidParameter, "The %s ARN must be in the long format (%s/<cluster>/<id>).", kind, kind)
	}
	if kind == "task" {
		_, err := a.repo.Task(ctx, sc, cluster, id)
		return err
	}
	managed, err := a.repo.IsManaged(ctx, sc, ecsstore.InstanceRef{Cluster: cluster, ID: id})
	if err == nil && managed {
		return fault.NotFoundf("resource", "not found")
	}
	return err
}

func regionOf(arn string) string {
	p, _ := ecs.ParseARN(arn)
	return p.Region
}
