package ecscp

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Registration is what an agent sends to register its instance.
type Registration struct {
	Cluster string // name or ARN
	// ContainerInstanceARN, if set, re-registers that instance (an agent
	// restarting): it keeps its tasks and reservations.
	ContainerInstanceARN string
	// IdentityDocument is the EC2 instance identity document (JSON), if
	// any.
	IdentityDocument string
	TotalResources   []ecs.Resource
	VersionInfo      *ecs.VersionInfo
	Attributes       []ecs.Attribute
	Tags             []ecs.Tag
}

// identityDocument is the part of an EC2 instance identity document berth
// reads.
type identityDocument struct {
	InstanceID       string `json:"instanceId"`
	InstanceType     string `json:"instanceType"`
	AvailabilityZone string `json:"availabilityZone"`
	Architecture     string `json:"architecture"`
}

// RegisterContainerInstance registers a container instance in an ACTIVE
// cluster (or re-registers one) and returns it with its tags. The
// instance is connected once its agent opens its ACS session.
func (p *Plane) RegisterContainerInstance(ctx context.Context, sc ecs.Scope, in Registration) (*ecs.ContainerInstance, []ecs.Tag, error) {
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, nil, err
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, nil, err
	}
	if err := ecs.ValidateAttributes(in.Attributes); err != nil {
		return nil, nil, err
	}
	if in.ContainerInstanceARN != "" {
		return p.reregister(ctx, sc, name, in)
	}
	var doc identityDocument
	if in.IdentityDocument != "" {
		if err := json.Unmarshal([]byte(in.IdentityDocument), &doc); err != nil {
			return nil, nil, fault.New(fault.InvalidParameter, "instanceIdentityDocument is not a valid JSON document.")
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
				port, err := strconv.Atoi(s)
				if err != nil {
					return nil, nil, fault.New(fault.InvalidParameter, "Invalid port %q in %s.", s, r.Name)
				}
				ports = append(ports, port)
			}
			if r.Name == ecs.ResourcePorts {
				reg.ReservedPorts = ports
			} else {
				reg.ReservedPortsUDP = ports
			}
		}
	}
	ci, err := ecs.NewContainerInstance(sc, cl, reg, newTaskID(), p.now())
	if err != nil {
		return nil, nil, err
	}
	// The instance is connected once its agent opens its ACS session.
	ci.AgentConnected = false
	if err := p.repo.RegisterInstance(ctx, sc, ci, in.Tags); err != nil {
		return nil, nil, err
	}
	p.log.Info("container instance registered", "cluster", name, "instance", ci.ARN, "cpu", reg.CPU, "memory", reg.Memory)
	return ci, in.Tags, nil
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
func (p *Plane) reregister(ctx context.Context, sc ecs.Scope, cluster string, in Registration) (*ecs.ContainerInstance, []ecs.Tag, error) {
	ref, err := ecs.ParseInstanceRef(in.ContainerInstanceARN, cluster)
	if err != nil {
		return nil, nil, err
	}
	if ref.Cluster != cluster {
		return nil, nil, fault.New(fault.InvalidParameter, "The container instance %s is not in cluster %s.", in.ContainerInstanceARN, cluster)
	}
	ci, err := p.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
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
		return nil, nil, fault.New(fault.InvalidParameter, "The referenced container instance %s was not found; register without containerInstanceArn.", in.ContainerInstanceARN)
	}
	if err != nil {
		return nil, nil, err
	}
	tags, err := p.repo.Tags(ctx, ci.ARN)
	if err != nil {
		return nil, nil, err
	}
	return ci, tags, nil
}

// StopReasonDeregistered is the stoppedReason of the tasks of a container
// instance deregistered with force.
const StopReasonDeregistered = "Container instance deregistered"

// DeregisterContainerInstance removes a registered instance (cluster a
// name or ARN, instance an ARN or ID); with force it stops the tasks still
// on it, else it refuses while there are any. The instance returned is
// INACTIVE.
func (p *Plane) DeregisterContainerInstance(ctx context.Context, sc ecs.Scope, cluster, instance string, force bool) (*ecs.ContainerInstance, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, err
	}
	if instance == "" {
		return nil, fault.New(fault.InvalidParameter, "containerInstance is required.")
	}
	ref, err := ecs.ParseInstanceRef(instance, name)
	if err != nil {
		return nil, err
	}
	if ref.Cluster != name {
		return nil, fault.New(fault.InvalidParameter, "The referenced container instance is not in cluster %s.", name)
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	// The tasks on the instance, from the cache once it has every write
	// acknowledged so far; a task placed after this read fails the
	// deregistration's compare (it charges the instance), which then
	// checks again.
	arn := sc.ContainerInstanceARN(ref.Cluster, ref.ID)
	var active []*ecs.Task
	ci, err := p.repo.DeregisterInstance(ctx, sc, ref, func(*ecs.ContainerInstance) error {
		if err := p.sync(ctx); err != nil {
			return err
		}
		active = active[:0]
		for _, t := range p.cache.InstanceTasks(arn) {
			if t.LastStatus != ecs.TaskStopped {
				active = append(active, t)
			}
		}
		if len(active) > 0 && !force {
			return fault.New(fault.InvalidParameter, "Found running tasks on the instance. Stop them first or deregister with force.")
		}
		return nil
	})
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.New(fault.InvalidParameter, "The referenced container instance %s was not found.", ref.ID)
		}
		return nil, err
	}
	now := p.now()
	for _, t := range active {
		_, err := p.repo.UpdateTask(ctx, sc, name, t.ID, func(t *ecs.Task) error {
			if t.LastStatus == ecs.TaskStopped {
				return ecsstore.ErrNoChange
			}
			t.RequestStop("", StopReasonDeregistered, now)
			return t.Advance(ecs.TaskStopped, now)
		}, p.TaskResources)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
	}
	p.log.Info("container instance deregistered", "cluster", name, "instance", ci.ARN, "stoppedTasks", len(active))
	return ci, nil
}
