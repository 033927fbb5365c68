package ecscp

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/scheduler"
)

// ManagedCapacity sizes the hidden container instance that berth's managed
// agent serves in each cluster (the Fargate capacity). Zero values take the
// defaults: 4096 vCPU and 8 GiB of memory per vCPU, so that CPU is the
// binding limit.
type ManagedCapacity struct {
	VCPU int
}

// DefaultManagedVCPU is the default size of the managed capacity per cluster.
const DefaultManagedVCPU = 4096

// FargateCapacityUnavailable is the failure reason of a task the managed
// capacity has no room for (ECS's wording for exhausted Fargate capacity).
const FargateCapacityUnavailable = "Capacity is unavailable at this time. Please try again later or in a different availability zone"

// ManagedAttribute marks the managed capacity's hidden instance.
const ManagedAttribute = "berth.managed"

// RunInput is a RunTask or StartTask request, in domain terms.
type RunInput struct {
	Cluster        string // name or ARN; "" is "default"
	TaskDefinition string // family, family:revision or ARN
	// Count is the number of tasks (RunTask; 0 is 1).
	Count int
	// LaunchType or CapacityProviderStrategy (RunTask; neither: the
	// cluster's default strategy, or EC2).
	LaunchType               string
	CapacityProviderStrategy []ecs.CapacityProviderStrategy
	// ContainerInstances, for StartTask, are the instances (ARNs or IDs)
	// to start one task on each.
	ContainerInstances   []string
	NetworkConfiguration *ecs.NetworkConfiguration
	Overrides            *ecs.TaskOverride
	PlacementConstraints []ecs.PlacementConstraint
	PlacementStrategy    []ecs.PlacementStrategy
	PlatformVersion      string
	StartedBy            string
	Group                string
	Tags                 []ecs.Tag
	EnableExecuteCommand bool
	EnableECSManagedTags bool
	PropagateTags        string // "", NONE, SERVICE or TASK_DEFINITION
	// ClientToken makes RunTask idempotent (up to 64 characters); the
	// service scheduler gives StartTask one too (the API's StartTask has
	// none).
	ClientToken string
}

// RunResult is what RunTask and StartTask placed, and what they could not.
type RunResult struct {
	Tasks    []TaskTags
	Failures []Failure
}

// runRequest is what RunTask and StartTask share once their inputs are
// resolved.
type runRequest struct {
	cluster *ecs.Cluster
	td      *ecs.TaskDefinition
	req     ecs.RunRequest
	tags    []ecs.Tag
	token   string
	// instances, for StartTask, are the instances the caller chose.
	instances []ecs.InstanceRef
}

// RunTask places new tasks with the scheduler (or on the managed capacity
// for FARGATE) and returns them with their tags.
func (p *Plane) RunTask(ctx context.Context, sc ecs.Scope, in RunInput) (*RunResult, error) {
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	td, err := p.runnableDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	count := in.Count
	if count == 0 {
		count = 1
	}
	if count < 1 || count > ecs.MaxRunCount {
		return nil, fault.New(fault.InvalidParameter, "count must be between 1 and %d.", ecs.MaxRunCount)
	}
	if len(in.ClientToken) > 64 {
		return nil, fault.New(fault.InvalidParameter, "clientToken can be up to 64 characters.")
	}
	launchType, provider, err := resolveLaunch(cl, in.LaunchType, in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	tags, err := p.taskTags(ctx, cl, td, in.Tags, in.PropagateTags, in.EnableECSManagedTags)
	if err != nil {
		return nil, err
	}
	rr := runRequest{
		cluster: cl, td: td, tags: tags, token: in.ClientToken,
		req: ecs.RunRequest{
			LaunchType: launchType, CapacityProviderName: provider,
			Group: in.Group, StartedBy: in.StartedBy, Count: count,
			Overrides: in.Overrides, NetworkConfiguration: in.NetworkConfiguration,
			PlatformVersion: in.PlatformVersion, EnableExecuteCommand: in.EnableExecuteCommand,
			Tags: in.Tags, PlacementConstraints: in.PlacementConstraints, PlacementStrategy: in.PlacementStrategy,
			NewID: newUUID,
		},
	}
	return p.run(ctx, sc, rr)
}

// StartTask starts one task on each of the instances in.ContainerInstances
// names (no scheduler).
func (p *Plane) StartTask(ctx context.Context, sc ecs.Scope, in RunInput) (*RunResult, error) {
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > ecs.MaxRunCount {
		return nil, fault.New(fault.InvalidParameter, "containerInstances must list between 1 and %d container instances.", ecs.MaxRunCount)
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	td, err := p.runnableDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	refs := make([]ecs.InstanceRef, len(in.ContainerInstances))
	for i, s := range in.ContainerInstances {
		if refs[i], err = ecs.ParseInstanceRef(s, name); err != nil {
			return nil, err
		}
	}
	tags, err := p.taskTags(ctx, cl, td, in.Tags, in.PropagateTags, in.EnableECSManagedTags)
	if err != nil {
		return nil, err
	}
	if len(in.ClientToken) > 64 {
		return nil, fault.New(fault.InvalidParameter, "clientToken can be up to 64 characters.")
	}
	rr := runRequest{
		cluster: cl, td: td, tags: tags, instances: refs, token: in.ClientToken,
		req: ecs.RunRequest{
			LaunchType: ecs.LaunchEC2, Group: in.Group, StartedBy: in.StartedBy, Count: len(refs),
			Overrides: in.Overrides, NetworkConfiguration: in.NetworkConfiguration,
			EnableExecuteCommand: in.EnableExecuteCommand, Tags: in.Tags, NewID: newUUID,
		},
	}
	if rr.req.LaunchType, err = p.startLaunchType(ctx, sc, td, refs); err != nil {
		return nil, err
	}
	return p.run(ctx, sc, rr)
}

// startLaunchType is the launch type of StartTask's tasks, from the named
// instances: EXTERNAL on external (ECS Anywhere, mi-) instances, EC2 on
// the others; the task definition must be compatible with it, and one
// call cannot mix the two kinds (InvalidParameterException, as ECS
// answers). An instance that cannot be read is left to placement, which
// reports it as a failure.
func (p *Plane) startLaunchType(ctx context.Context, sc ecs.Scope, td *ecs.TaskDefinition, refs []ecs.InstanceRef) (string, error) {
	var external, ec2 []string
	for _, ref := range refs {
		ci, err := p.repo.Instance(ctx, sc, ref)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if ci.IsExternal() {
			external = append(external, ci.ARN)
		} else {
			ec2 = append(ec2, ci.ARN)
		}
	}
	switch {
	case len(external) > 0 && len(ec2) > 0:
		return "", fault.New(fault.InvalidParameter, "containerInstances mixes external instances (%s) with EC2 instances (%s): external instances run only tasks of launch type EXTERNAL.", external[0], ec2[0])
	case len(external) > 0:
		if !slices.Contains(td.Compatibilities, ecs.LaunchExternal) {
			return "", fault.New(fault.InvalidParameter, "Task definition %s is not compatible with launch type EXTERNAL, the only launch type of external container instance %s.", td.ARN, external[0])
		}
		return ecs.LaunchExternal, nil
	case len(ec2) > 0:
		if !slices.Contains(td.Compatibilities, ecs.LaunchEC2) {
			return "", fault.New(fault.InvalidParameter, "Task definition %s is not compatible with launch type EC2, the launch type of container instance %s.", td.ARN, ec2[0])
		}
	}
	if !slices.Contains(td.Compatibilities, ecs.LaunchEC2) && slices.Contains(td.Compatibilities, ecs.LaunchExternal) {
		return ecs.LaunchExternal, nil
	}
	return ecs.LaunchEC2, nil
}

// LookupTaskDefinition resolves a task definition reference (family,
// family:revision or ARN). The definition is shared: do not modify it.
func (p *Plane) LookupTaskDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error) {
	if ref == "" {
		return nil, fault.New(fault.InvalidParameter, "taskDefinition is required.")
	}
	r, err := ecs.ParseTaskDefinitionRef(ref)
	if err != nil {
		return nil, err
	}
	return p.repo.TaskDefinition(ctx, sc, r)
}

// runnableDefinition resolves a task definition that may run new tasks.
func (p *Plane) runnableDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error) {
	td, err := p.LookupTaskDefinition(ctx, sc, ref)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.New(fault.Invalid, "TaskDefinition not found.")
		}
		return nil, err
	}
	if td.Status != ecs.TaskDefActive {
		return nil, fault.New(fault.Invalid, "TaskDefinition is inactive")
	}
	return td, nil
}

// resolveLaunch turns a launch type or capacity provider strategy (or the
// cluster's default strategy) into a launch type and capacity provider.
func resolveLaunch(cl *ecs.Cluster, launchType string, strategy []ecs.CapacityProviderStrategy) (string, string, error) {
	if launchType != "" && len(strategy) > 0 {
		return "", "", fault.New(fault.InvalidParameter, "Specifying both a launchType and capacityProviderStrategy is not supported.")
	}
	if launchType != "" {
		switch launchType {
		case ecs.LaunchEC2, ecs.LaunchFargate, ecs.LaunchExternal:
			return launchType, "", nil
		}
		return "", "", fault.New(fault.InvalidParameter, "Invalid launch type %q. Valid values: EC2, FARGATE, EXTERNAL.", launchType)
	}
	if len(strategy) == 0 {
		strategy = cl.DefaultCapacityProviderStrategy
		if len(strategy) == 0 {
			return ecs.LaunchEC2, "", nil
		}
	}
	if len(strategy) > 20 {
		return "", "", fault.New(fault.InvalidParameter, "At most 20 capacity providers can be specified.")
	}
	// The provider with a base takes the first tasks; otherwise the
	// heaviest weight wins.
	pick := strategy[0]
	for _, s := range strategy {
		if !slices.Contains(cl.CapacityProviders, s.CapacityProvider) {
			return "", "", fault.New(fault.InvalidParameter, "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if s.Base > pick.Base || (s.Base == pick.Base && s.Weight > pick.Weight) {
			pick = s
		}
	}
	switch pick.CapacityProvider {
	case ecs.CapacityFargate, ecs.CapacityFargateSpot:
		return "", pick.CapacityProvider, nil
	}
	return "", "", fault.New(fault.Unsupported, "Capacity provider %s is not supported by berth yet; use FARGATE, FARGATE_SPOT or the EC2 launch type.", pick.CapacityProvider)
}

// taskTags returns the tags of a new task: the request's, those propagated
// from the task definition, and ECS's managed tags.
func (p *Plane) taskTags(ctx context.Context, cl *ecs.Cluster, td *ecs.TaskDefinition, tags []ecs.Tag, propagate string, managed bool) ([]ecs.Tag, error) {
	if err := ecs.ValidateTags(tags); err != nil {
		return nil, err
	}
	out := slices.Clone(tags)
	switch propagate {
	case "", "NONE", "SERVICE":
	case "TASK_DEFINITION":
		tdTags, err := p.repo.Tags(ctx, td.ARN)
		if err != nil {
			return nil, err
		}
		out = ecs.MergeTags(tdTags, out)
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid propagateTags value %q. Valid values: TASK_DEFINITION, SERVICE, NONE.", propagate)
	}
	if len(out) > ecs.MaxTags {
		return nil, fault.New(fault.InvalidParameter, "Too many tags: a task can have at most %d tags.", ecs.MaxTags)
	}
	if managed {
		out = append(out, ecs.Tag{Key: "aws:ecs:clusterName", Value: cl.Name})
	}
	return out, nil
}

// run validates a run request and places its tasks.
func (p *Plane) run(ctx context.Context, sc ecs.Scope, rr runRequest) (*RunResult, error) {
	lt := rr.req.EffectiveLaunchType()
	if !slices.Contains(rr.td.Compatibilities, lt) {
		return nil, fault.New(fault.Invalid, "Task definition does not support launch_type %s.", lt)
	}
	if err := ecs.ValidateRunRequest(rr.td, rr.req); err != nil {
		return nil, err
	}
	res, err := ecs.ResourcesFor(rr.td, rr.req.Overrides)
	if err != nil {
		return nil, err
	}
	managed := lt == ecs.LaunchFargate
	now := p.now()
	var failures []Failure
	newTask := func(ci *ecs.ContainerInstance) (placement.Placed, error) {
		t, err := ecs.NewTask(sc, rr.cluster, rr.td, rr.req, newOrderedTaskID(now), now)
		if err != nil {
			return placement.Placed{}, err
		}
		t.AssignInstance(ci)
		return placement.Placed{Task: t, Resources: res, Tags: rr.tags}, nil
	}
	decide := func(in *placement.Input) ([]placement.Placed, error) {
		failures = failures[:0]
		switch {
		case managed:
			return placeManaged(in, rr, res, newTask, &failures)
		case rr.instances != nil:
			return placeChosen(in, rr, res, newTask, &failures)
		default:
			return placeScheduled(in, rr, newTask, &failures)
		}
	}
	opts := placement.Options{Managed: managed, ClientToken: rr.token, Now: now}
	if managed {
		opts.NewManaged = func(cl *ecs.Cluster) (*ecs.ContainerInstance, error) { return p.newManagedInstance(sc, cl, now) }
	}
	tasks, replayed, err := p.placer.Place(ctx, sc, rr.cluster.Name, opts, decide)
	if err != nil {
		return nil, err
	}
	if replayed {
		failures = nil
	}
	out := &RunResult{Tasks: make([]TaskTags, 0, len(tasks)), Failures: failures}
	for _, t := range tasks {
		tags := rr.tags
		if replayed {
			if tags, err = p.repo.Tags(ctx, t.ARN); err != nil {
				return nil, err
			}
		}
		out.Tasks = append(out.Tasks, TaskTags{Task: t, Tags: tags})
	}
	if len(tasks) > 0 {
		p.log.Info("tasks placed", "cluster", rr.cluster.Name, "count", len(tasks), "launchType", lt, "definition", rr.td.ARN)
	}
	return out, nil
}

// managedInstanceID is the stable ID of a cluster's managed instance.
func managedInstanceID(clusterARN string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(clusterARN); i++ {
		h ^= uint64(clusterARN[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("f%015x%016x", h>>4, h*0x9e3779b97f4a7c15)
}

// newManagedInstance builds the managed capacity's instance for a cluster.
func (p *Plane) newManagedInstance(sc ecs.Scope, cl *ecs.Cluster, now time.Time) (*ecs.ContainerInstance, error) {
	vcpu := p.capacity.VCPU
	if vcpu <= 0 {
		vcpu = DefaultManagedVCPU
	}
	reg := ecs.InstanceRegistration{
		EC2InstanceID:    "",
		AvailabilityZone: sc.Region + "a",
		CPU:              vcpu * 1024,
		Memory:           vcpu * 8192,
		ReservedPorts:    []int{},
		VersionInfo:      ecs.VersionInfo{AgentVersion: "berth-managed"},
		// The in-process agent is berth's own: it runs what berth's
		// runner runs.
		Attributes: append(ecs.BerthAgentCapabilities("", true), ecs.Attribute{Name: ManagedAttribute, Value: "true"}),
	}
	ci, err := ecs.NewContainerInstance(sc, cl, reg, managedInstanceID(cl.ARN), now)
	if err != nil {
		return nil, err
	}
	ci.AgentConnected = false
	return ci, nil
}

// placeManaged places every task on the cluster's managed instance.
func placeManaged(in *placement.Input, rr runRequest, res ecs.TaskResources, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]Failure) ([]placement.Placed, error) {
	ci := in.Instances[0]
	cpu, mem := ci.Remaining()
	var out []placement.Placed
	for range max(rr.req.Count, 1) {
		if res.CPU > cpu || res.Memory > mem {
			*failures = append(*failures, Failure{Reason: FargateCapacityUnavailable})
			continue
		}
		cpu, mem = cpu-res.CPU, mem-res.Memory
		p, err := newTask(ci)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// placeScheduled places tasks with the scheduler over the cluster's
// registered instances.
func placeScheduled(in *placement.Input, rr runRequest, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]Failure) ([]placement.Placed, error) {
	sreq, err := scheduler.RequestFor(rr.td, rr.req.Overrides, groupOf(rr), max(rr.req.Count, 1), rr.req.PlacementConstraints, rr.req.PlacementStrategy)
	if err != nil {
		return nil, err
	}
	sreq.LaunchType = rr.req.EffectiveLaunchType()
	// The placement view keeps the instances ready for the scheduler
	// (remaining resources, task groups, attribute index), aligned with
	// Instances.
	snap := scheduler.Snapshot{Instances: in.States}
	plan := scheduler.Place(snap, sreq, mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64())))
	if plan.Err != nil {
		return nil, plan.Err
	}
	if plan.NoInstances {
		return nil, fault.New(fault.InvalidParameter, "No Container Instances were found in your cluster.")
	}
	out := make([]placement.Placed, 0, len(plan.Placements))
	for _, pl := range plan.Placements {
		pt, err := newTask(in.Instances[pl.Instance])
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	for _, f := range plan.Failures {
		*failures = append(*failures, Failure{ARN: f.Arn, Reason: f.Reason, Detail: f.Detail})
	}
	return out, nil
}

func groupOf(rr runRequest) string {
	if rr.req.Group != "" {
		return rr.req.Group
	}
	return "family:" + rr.td.Family
}

// placeChosen places one task on each instance StartTask names.
func placeChosen(in *placement.Input, rr runRequest, res ecs.TaskResources, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]Failure) ([]placement.Placed, error) {
	byID := make(map[string]*ecs.ContainerInstance, len(in.Instances))
	for _, ci := range in.Instances {
		byID[ci.ID] = ci
	}
	var out []placement.Placed
	seen := map[string]bool{}
	for _, ref := range rr.instances {
		ci := byID[ref.ID]
		arn := scopeOf(in.Cluster).ContainerInstanceARN(ref.Cluster, ref.ID)
		switch {
		case ci == nil || ref.Cluster != in.Cluster.Name:
			*failures = append(*failures, Failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		case ci.Status != ecs.InstanceActive:
			*failures = append(*failures, Failure{ARN: arn, Reason: ecs.ReasonInactive})
			continue
		case !ci.AgentConnected:
			*failures = append(*failures, Failure{ARN: arn, Reason: ecs.ReasonAgent})
			continue
		case !ci.SatisfiesAttributes(rr.td.RequiresAttributes):
			*failures = append(*failures, Failure{ARN: arn, Reason: ecs.ReasonAttribute})
			continue
		case seen[ci.ID]:
			*failures = append(*failures, Failure{ARN: arn, Reason: "DUPLICATE", Detail: "The container instance is listed more than once."})
			continue
		case !ecs.LaunchTypeFits(rr.req.LaunchType, ci):
			// StartTask chose the launch type from the instances; one
			// re-registered meanwhile is refused as ECS refuses it.
			return nil, fault.New(fault.InvalidParameter, "Container instance %s does not run tasks of launch type %s.", ci.ARN, rr.req.LaunchType)
		}
		if reason := ci.Fits(res); reason != "" {
			*failures = append(*failures, Failure{ARN: arn, Reason: reason})
			continue
		}
		seen[ci.ID] = true
		p, err := newTask(ci)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
