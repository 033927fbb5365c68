package ecsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
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

func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newOrderedTaskID returns a task ID in ECS's form (32 hex digits) whose
// first 12 digits are the time in milliseconds and the other 20 random,
// as UUIDv7 orders them. Task IDs key the tasks in the store, whose B-tree
// then takes the tasks of a RunTask, and of the calls committed with it,
// in the same few pages at its end rather than in one page each: a commit
// of forty tasks writes a handful of pages instead of forty (measured: a
// commit of 40 tasks and 4 instance states took 2.4 ms instead of 7.2 ms
// here).
func newOrderedTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return hex.EncodeToString(b[:])
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
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
func (a *API) newManagedInstance(sc ecs.Scope, cl *ecs.Cluster) (*ecs.ContainerInstance, error) {
	vcpu := a.capacity.VCPU
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
	ci, err := ecs.NewContainerInstance(sc, cl, reg, managedInstanceID(cl.ARN), a.now())
	if err != nil {
		return nil, err
	}
	ci.AgentConnected = false
	return ci, nil
}

type runTaskIn struct {
	Cluster                  string                         `json:"cluster"`
	TaskDefinition           string                         `json:"taskDefinition"`
	Count                    *int                           `json:"count"`
	LaunchType               string                         `json:"launchType"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration"`
	Overrides                *ecs.TaskOverride              `json:"overrides"`
	PlacementConstraints     []ecs.PlacementConstraint      `json:"placementConstraints"`
	PlacementStrategy        []ecs.PlacementStrategy        `json:"placementStrategy"`
	PlatformVersion          string                         `json:"platformVersion"`
	StartedBy                string                         `json:"startedBy"`
	Group                    string                         `json:"group"`
	Tags                     []ecs.Tag                      `json:"tags"`
	EnableExecuteCommand     bool                           `json:"enableExecuteCommand"`
	EnableECSManagedTags     bool                           `json:"enableECSManagedTags"`
	PropagateTags            string                         `json:"propagateTags"`
	ReferenceID              string                         `json:"referenceId"`
	ClientToken              string                         `json:"clientToken"`
}

type tasksResult struct {
	Tasks    []*taskOut `json:"tasks"`
	Failures []failure  `json:"failures"`
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
	instances []ecsstore.InstanceRef
}

func (a *API) runTask(ctx context.Context, c *awsproto.Call, in *runTaskIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cl, err := a.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	td, err := a.runnableDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	count := 1
	if in.Count != nil {
		count = *in.Count
		if count < 1 || count > ecs.MaxRunCount {
			return nil, fault.New(fault.InvalidParameter, "count must be between 1 and %d.", ecs.MaxRunCount)
		}
	}
	if len(in.ClientToken) > 64 {
		return nil, fault.New(fault.InvalidParameter, "clientToken can be up to 64 characters.")
	}
	launchType, provider, err := resolveLaunch(cl, in.LaunchType, in.CapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	tags, err := a.taskTags(ctx, cl, td, in.Tags, in.PropagateTags, in.EnableECSManagedTags)
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
	return a.run(ctx, sc, rr)
}

// runnableDefinition resolves a task definition that may run new tasks.
func (a *API) runnableDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error) {
	td, err := a.lookupTaskDefinition(ctx, sc, ref)
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
func (a *API) taskTags(ctx context.Context, cl *ecs.Cluster, td *ecs.TaskDefinition, tags []ecs.Tag, propagate string, managed bool) ([]ecs.Tag, error) {
	if err := ecs.ValidateTags(tags); err != nil {
		return nil, err
	}
	out := slices.Clone(tags)
	switch propagate {
	case "", "NONE", "SERVICE":
	case "TASK_DEFINITION":
		tdTags, err := a.repo.Tags(ctx, td.ARN)
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
func (a *API) run(ctx context.Context, sc ecs.Scope, rr runRequest) (any, error) {
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
	now := a.now()
	var failures []failure
	newTask := func(ci *ecs.ContainerInstance) (placement.Placed, error) {
		t, err := ecs.NewTask(sc, rr.cluster, rr.td, rr.req, newOrderedTaskID(), now)
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
			return a.placeManaged(in, rr, res, newTask, &failures)
		case rr.instances != nil:
			return a.placeChosen(in, rr, res, newTask, &failures)
		default:
			return a.placeScheduled(in, rr, newTask, &failures)
		}
	}
	opts := placement.Options{Managed: managed, ClientToken: rr.token, Now: now}
	if managed {
		opts.NewManaged = func(cl *ecs.Cluster) (*ecs.ContainerInstance, error) { return a.newManagedInstance(sc, cl) }
	}
	tasks, replayed, err := a.placer.Place(ctx, sc, rr.cluster.Name, opts, decide)
	if err != nil {
		return nil, err
	}
	if replayed {
		failures = nil
	}
	out := &tasksResult{Tasks: make([]*taskOut, 0, len(tasks)), Failures: nonNil(failures)}
	for _, t := range tasks {
		tags := rr.tags
		if replayed {
			if tags, err = a.repo.Tags(ctx, t.ARN); err != nil {
				return nil, err
			}
		}
		out.Tasks = append(out.Tasks, toTaskOut(t, tags, true))
	}
	if len(tasks) > 0 {
		a.log.Info("tasks placed", "cluster", rr.cluster.Name, "count", len(tasks), "launchType", lt, "definition", rr.td.ARN)
	}
	return out, nil
}

// placeManaged places every task on the cluster's managed instance.
func (a *API) placeManaged(in *placement.Input, rr runRequest, res ecs.TaskResources, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]failure) ([]placement.Placed, error) {
	ci := in.Instances[0]
	cpu, mem := ci.Remaining()
	var out []placement.Placed
	for range max(rr.req.Count, 1) {
		if res.CPU > cpu || res.Memory > mem {
			*failures = append(*failures, failure{Reason: FargateCapacityUnavailable})
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
func (a *API) placeScheduled(in *placement.Input, rr runRequest, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]failure) ([]placement.Placed, error) {
	sreq, err := scheduler.RequestFor(rr.td, rr.req.Overrides, groupOf(rr), max(rr.req.Count, 1), rr.req.PlacementConstraints, rr.req.PlacementStrategy)
	if err != nil {
		return nil, err
	}
	sreq.LaunchType = rr.req.EffectiveLaunchType()
	// The store keeps the instances ready for the scheduler (remaining
	// resources, task groups, attribute index), aligned with Instances.
	snap := scheduler.Snapshot{Instances: in.States}
	plan := scheduler.Place(snap, sreq, mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64())))
	if plan.Err != nil {
		return nil, plan.Err
	}
	if plan.NoInstances {
		return nil, fault.New(fault.InvalidParameter, "No Container Instances were found in your cluster.")
	}
	out := make([]placement.Placed, 0, len(plan.Placements))
	for _, p := range plan.Placements {
		pt, err := newTask(in.Instances[p.Instance])
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	for _, f := range plan.Failures {
		*failures = append(*failures, failure{ARN: f.Arn, Reason: f.Reason, Detail: f.Detail})
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
func (a *API) placeChosen(in *placement.Input, rr runRequest, res ecs.TaskResources, newTask func(*ecs.ContainerInstance) (placement.Placed, error), failures *[]failure) ([]placement.Placed, error) {
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
			*failures = append(*failures, failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		case ci.Status != ecs.InstanceActive:
			*failures = append(*failures, failure{ARN: arn, Reason: ecs.ReasonInactive})
			continue
		case !ci.AgentConnected:
			*failures = append(*failures, failure{ARN: arn, Reason: ecs.ReasonAgent})
			continue
		case !ci.SatisfiesAttributes(rr.td.RequiresAttributes):
			*failures = append(*failures, failure{ARN: arn, Reason: ecs.ReasonAttribute})
			continue
		case seen[ci.ID]:
			*failures = append(*failures, failure{ARN: arn, Reason: "DUPLICATE", Detail: "The container instance is listed more than once."})
			continue
		}
		if reason := ci.Fits(res); reason != "" {
			*failures = append(*failures, failure{ARN: arn, Reason: reason})
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

// scopeOf derives a scope from a cluster's ARN.
func scopeOf(cl *ecs.Cluster) ecs.Scope {
	p, _ := ecs.ParseARN(cl.ARN)
	return ecs.Scope{Account: p.Account, Region: p.Region}
}

type startTaskIn struct {
	Cluster              string                    `json:"cluster"`
	TaskDefinition       string                    `json:"taskDefinition"`
	ContainerInstances   []string                  `json:"containerInstances"`
	NetworkConfiguration *ecs.NetworkConfiguration `json:"networkConfiguration"`
	Overrides            *ecs.TaskOverride         `json:"overrides"`
	StartedBy            string                    `json:"startedBy"`
	Group                string                    `json:"group"`
	Tags                 []ecs.Tag                 `json:"tags"`
	EnableExecuteCommand bool                      `json:"enableExecuteCommand"`
	EnableECSManagedTags bool                      `json:"enableECSManagedTags"`
	PropagateTags        string                    `json:"propagateTags"`
	ReferenceID          string                    `json:"referenceId"`
}

func (a *API) startTask(ctx context.Context, c *awsproto.Call, in *startTaskIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > ecs.MaxRunCount {
		return nil, fault.New(fault.InvalidParameter, "containerInstances must list between 1 and %d container instances.", ecs.MaxRunCount)
	}
	cl, err := a.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	td, err := a.runnableDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	refs := make([]ecsstore.InstanceRef, len(in.ContainerInstances))
	for i, s := range in.ContainerInstances {
		if refs[i], err = ecsstore.ParseInstanceRef(s, name); err != nil {
			return nil, err
		}
	}
	tags, err := a.taskTags(ctx, cl, td, in.Tags, in.PropagateTags, in.EnableECSManagedTags)
	if err != nil {
		return nil, err
	}
	rr := runRequest{
		cluster: cl, td: td, tags: tags, instances: refs,
		req: ecs.RunRequest{
			LaunchType: ecs.LaunchEC2, Group: in.Group, StartedBy: in.StartedBy, Count: len(refs),
			Overrides: in.Overrides, NetworkConfiguration: in.NetworkConfiguration,
			EnableExecuteCommand: in.EnableExecuteCommand, Tags: in.Tags, NewID: newUUID,
		},
	}
	if !slices.Contains(td.Compatibilities, ecs.LaunchEC2) && slices.Contains(td.Compatibilities, ecs.LaunchExternal) {
		rr.req.LaunchType = ecs.LaunchExternal
	}
	return a.run(ctx, sc, rr)
}

type describeTasksIn struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

// taskRef resolves a task ARN or ID to its cluster and ID.
func taskRef(ref, cluster string) (string, string, error) {
	if !strings.HasPrefix(ref, "arn:") {
		if ref == "" || strings.Contains(ref, "/") {
			return "", "", fault.New(fault.InvalidParameter, "Invalid task identifier %q.", ref)
		}
		return cluster, ref, nil
	}
	if c, id, ok := ecsstore.SplitTaskARN(ref); ok {
		return c, id, nil
	}
	p, ok := ecs.ParseARN(ref)
	if id, short := strings.CutPrefix(p.Resource, "task/"); ok && short && id != "" {
		return cluster, id, nil
	}
	return "", "", fault.New(fault.InvalidParameter, "Invalid task identifier %q.", ref)
}

func (a *API) describeTasks(ctx context.Context, c *awsproto.Call, in *describeTasksIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, fault.New(fault.InvalidParameter, "Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, fault.New(fault.InvalidParameter, "At most 100 tasks can be described at once.")
	}
	withTags := false
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		withTags = true
	}
	if _, err := a.repo.Cluster(ctx, sc, name); err != nil {
		return nil, err
	}
	out := &tasksResult{Tasks: []*taskOut{}, Failures: []failure{}}
	for _, ref := range in.Tasks {
		cluster, id, err := taskRef(ref, name)
		if err != nil {
			return nil, err
		}
		var t *ecs.Task
		if cluster == name {
			t, err = a.repo.SharedTask(ctx, sc, cluster, id) // only read
		} else {
			err = fault.NotFoundf("task", "not in this cluster")
		}
		if fault.Is(err, fault.NotFound) {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = sc.TaskARN(name, id)
			}
			out.Failures = append(out.Failures, failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		}
		if err != nil {
			return nil, err
		}
		var tags []ecs.Tag
		if withTags {
			if tags, err = a.repo.Tags(ctx, t.ARN); err != nil {
				return nil, err
			}
		}
		out.Tasks = append(out.Tasks, toTaskOut(t, tags, withTags))
	}
	return out, nil
}

type listTasksIn struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Family            string `json:"family"`
	StartedBy         string `json:"startedBy"`
	ServiceName       string `json:"serviceName"`
	DesiredStatus     string `json:"desiredStatus"`
	LaunchType        string `json:"launchType"`
	NextToken         string `json:"nextToken"`
	MaxResults        *int   `json:"maxResults"`
}

type listTasksOut struct {
	TaskARNs  []string `json:"taskArns"`
	NextToken string   `json:"nextToken,omitempty"`
}

func (a *API) listTasks(ctx context.Context, c *awsproto.Call, in *listTasksIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	desired := in.DesiredStatus
	switch desired {
	case "":
		desired = ecs.TaskRunning
	case ecs.TaskRunning, ecs.TaskPending, ecs.TaskStopped:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid desiredStatus %q. Valid values: RUNNING, PENDING, STOPPED.", in.DesiredStatus)
	}
	switch in.LaunchType {
	case "", ecs.LaunchEC2, ecs.LaunchFargate, ecs.LaunchExternal:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid launchType %q. Valid values: EC2, FARGATE, EXTERNAL.", in.LaunchType)
	}
	if in.ServiceName != "" && in.StartedBy != "" {
		return nil, fault.New(fault.InvalidParameter, "startedBy and serviceName cannot both be specified.")
	}
	if _, err := a.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	instanceARN := ""
	if in.ContainerInstance != "" {
		ref, err := ecsstore.ParseInstanceRef(in.ContainerInstance, name)
		if err != nil {
			return nil, err
		}
		instanceARN = sc.ContainerInstanceARN(ref.Cluster, ref.ID)
	}
	tasks, err := a.repo.Tasks(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, t := range tasks {
		switch {
		case t.DesiredStatus != desired:
		case instanceARN != "" && t.ContainerInstanceARN != instanceARN:
		case in.Family != "" && familyOf(t.TaskDefinitionARN) != in.Family:
		case in.StartedBy != "" && t.StartedBy != in.StartedBy:
		case in.ServiceName != "" && t.Group != "service:"+in.ServiceName:
		case in.LaunchType != "" && t.LaunchType != in.LaunchType:
		default:
			arns = append(arns, t.ARN)
		}
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listTasksOut{TaskARNs: page, NextToken: next}, nil
}

func familyOf(tdARN string) string {
	ref, err := ecs.ParseTaskDefinitionRef(tdARN)
	if err != nil {
		return ""
	}
	return ref.Family
}

type stopTaskIn struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}

type taskResult struct {
	Task *taskOut `json:"task"`
}

// StopReasonUser is the stoppedReason of a task stopped without a reason.
const StopReasonUser = "Task stopped by user"

func (a *API) stopTask(ctx context.Context, c *awsproto.Call, in *stopTaskIn) (any, error) {
	sc := a.scope(c)
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.Task == "" {
		return nil, fault.New(fault.InvalidParameter, "task is required.")
	}
	if len(in.Reason) > 255 {
		return nil, fault.New(fault.InvalidParameter, "reason can be up to 255 characters.")
	}
	if _, err := a.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	cluster, id, err := taskRef(in.Task, name)
	if err != nil {
		return nil, err
	}
	if cluster != name {
		return nil, fault.New(fault.InvalidParameter, "The referenced task was not found.")
	}
	reason := in.Reason
	if reason == "" {
		reason = StopReasonUser
	}
	now := a.now()
	t, err := a.repo.UpdateTask(ctx, sc, cluster, id, func(t *ecs.Task) error {
		if t.LastStatus == ecs.TaskStopped {
			return ecsstore.ErrNoChange
		}
		t.RequestStop(ecs.StopUserInitiated, reason, now)
		// A task whose instance is gone has nobody to stop it.
		if t.ContainerInstanceARN == "" || !a.instanceExists(ctx, sc, t.ContainerInstanceARN) {
			return t.Advance(ecs.TaskStopped, now)
		}
		return nil
	}, a.TaskResources)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.InvalidParameter, "The referenced task was not found.")
	}
	if err != nil {
		return nil, err
	}
	tags, err := a.repo.Tags(ctx, t.ARN)
	if err != nil {
		return nil, err
	}
	return &taskResult{Task: toTaskOut(t, tags, true)}, nil
}

func (a *API) instanceExists(ctx context.Context, sc ecs.Scope, arn string) bool {
	ref, err := ecsstore.ParseInstanceRef(arn, "")
	if err != nil {
		return false
	}
	_, err = a.repo.Instance(ctx, sc, ref)
	return err == nil || !fault.Is(err, fault.NotFound)
}

// TaskResources returns what a task reserved on its instance, from its
// task definition and overrides.
func (a *API) TaskResources(ctx context.Context, t *ecs.Task) (ecs.TaskResources, error) {
	p, ok := ecs.ParseARN(t.TaskDefinitionARN)
	if !ok {
		return ecs.TaskResources{}, fault.New(fault.Internal, "task %s has a malformed task definition ARN", t.ARN)
	}
	ref, err := ecs.ParseTaskDefinitionRef(t.TaskDefinitionARN)
	if err != nil {
		return ecs.TaskResources{}, err
	}
	td, err := a.repo.TaskDefinition(ctx, ecs.Scope{Account: p.Account, Region: p.Region}, ref)
	if err != nil {
		return ecs.TaskResources{}, err
	}
	return ecs.ResourcesFor(td, &t.Overrides)
}

// taskOut is ECS's Task shape.
type taskOut struct {
	Attachments           []ecs.Attachment           `json:"attachments"`
	Attributes            []ecs.Attribute            `json:"attributes"`
	AvailabilityZone      string                     `json:"availabilityZone,omitempty"`
	CapacityProviderName  string                     `json:"capacityProviderName,omitempty"`
	ClusterARN            string                     `json:"clusterArn"`
	Connectivity          string                     `json:"connectivity,omitempty"`
	ConnectivityAt        *awsproto.EpochTime        `json:"connectivityAt,omitempty"`
	ContainerInstanceARN  string                     `json:"containerInstanceArn,omitempty"`
	Containers            []containerOut             `json:"containers"`
	CPU                   string                     `json:"cpu,omitempty"`
	CreatedAt             *awsproto.EpochTime        `json:"createdAt,omitempty"`
	DesiredStatus         string                     `json:"desiredStatus"`
	EnableExecuteCommand  bool                       `json:"enableExecuteCommand"`
	EphemeralStorage      *ecs.EphemeralStorage      `json:"ephemeralStorage,omitempty"`
	ExecutionStoppedAt    *awsproto.EpochTime        `json:"executionStoppedAt,omitempty"`
	Group                 string                     `json:"group,omitempty"`
	HealthStatus          string                     `json:"healthStatus,omitempty"`
	InferenceAccelerators []ecs.InferenceAccelerator `json:"inferenceAccelerators"`
	LastStatus            string                     `json:"lastStatus"`
	LaunchType            string                     `json:"launchType,omitempty"`
	Memory                string                     `json:"memory,omitempty"`
	Overrides             ecs.TaskOverride           `json:"overrides"`
	PlatformVersion       string                     `json:"platformVersion,omitempty"`
	PlatformFamily        string                     `json:"platformFamily,omitempty"`
	PullStartedAt         *awsproto.EpochTime        `json:"pullStartedAt,omitempty"`
	PullStoppedAt         *awsproto.EpochTime        `json:"pullStoppedAt,omitempty"`
	StartedAt             *awsproto.EpochTime        `json:"startedAt,omitempty"`
	StartedBy             string                     `json:"startedBy,omitempty"`
	StopCode              string                     `json:"stopCode,omitempty"`
	StoppedAt             *awsproto.EpochTime        `json:"stoppedAt,omitempty"`
	StoppedReason         string                     `json:"stoppedReason,omitempty"`
	StoppingAt            *awsproto.EpochTime        `json:"stoppingAt,omitempty"`
	Tags                  []ecs.Tag                  `json:"tags,omitempty"`
	TaskARN               string                     `json:"taskArn"`
	TaskDefinitionARN     string                     `json:"taskDefinitionArn"`
	Version               int64                      `json:"version"`
}

// containerOut is ECS's Container shape (without berth's bookkeeping).
type containerOut struct {
	ContainerARN      string                 `json:"containerArn"`
	TaskARN           string                 `json:"taskArn"`
	Name              string                 `json:"name"`
	Image             string                 `json:"image,omitempty"`
	ImageDigest       string                 `json:"imageDigest,omitempty"`
	RuntimeID         string                 `json:"runtimeId,omitempty"`
	LastStatus        string                 `json:"lastStatus"`
	ExitCode          *int                   `json:"exitCode,omitempty"`
	Reason            string                 `json:"reason,omitempty"`
	NetworkBindings   []ecs.NetworkBinding   `json:"networkBindings"`
	NetworkInterfaces []ecs.NetworkInterface `json:"networkInterfaces"`
	HealthStatus      string                 `json:"healthStatus,omitempty"`
	CPU               string                 `json:"cpu,omitempty"`
	Memory            string                 `json:"memory,omitempty"`
	MemoryReservation string                 `json:"memoryReservation,omitempty"`
}

// toTaskOut converts a stored task to the wire. Tasks on managed
// (Fargate) capacity show no container instance, as on AWS.
func toTaskOut(t *ecs.Task, tags []ecs.Tag, withTags bool) *taskOut {
	out := &taskOut{
		Attachments: nonNil(t.Attachments), Attributes: []ecs.Attribute{{Name: ecs.AttrCPUArchitecture, Value: "x86_64"}},
		AvailabilityZone: t.AvailabilityZone, CapacityProviderName: t.CapacityProviderName,
		ClusterARN: t.ClusterARN, Connectivity: t.Connectivity, ConnectivityAt: awsproto.Epoch(t.ConnectivityAt),
		ContainerInstanceARN: t.ContainerInstanceARN, Containers: make([]containerOut, len(t.Containers)),
		CPU: t.CPU, CreatedAt: awsproto.Epoch(t.CreatedAt), DesiredStatus: t.DesiredStatus,
		EnableExecuteCommand: t.EnableExecuteCommand, EphemeralStorage: t.EphemeralStorage,
		ExecutionStoppedAt: awsproto.Epoch(t.ExecutionStoppedAt), Group: t.Group, HealthStatus: t.HealthStatus,
		InferenceAccelerators: []ecs.InferenceAccelerator{}, LastStatus: t.LastStatus, LaunchType: t.LaunchType,
		Memory: t.Memory, Overrides: t.Overrides, PlatformVersion: t.PlatformVersion, PlatformFamily: t.PlatformFamily,
		PullStartedAt: awsproto.Epoch(t.PullStartedAt), PullStoppedAt: awsproto.Epoch(t.PullStoppedAt),
		StartedAt: awsproto.Epoch(t.StartedAt), StartedBy: t.StartedBy, StopCode: t.StopCode,
		StoppedAt: awsproto.Epoch(t.StoppedAt), StoppedReason: t.StoppedReason, StoppingAt: awsproto.Epoch(t.StoppingAt),
		TaskARN: t.ARN, TaskDefinitionARN: t.TaskDefinitionARN, Version: t.Version,
	}
	if t.LaunchType == ecs.LaunchFargate {
		out.ContainerInstanceARN = ""
	}
	if withTags {
		out.Tags = nonNil(tags)
	}
	for i, c := range t.Containers {
		out.Containers[i] = containerOut{
			ContainerARN: c.ContainerARN, TaskARN: c.TaskARN, Name: c.Name, Image: c.Image, ImageDigest: c.ImageDigest,
			RuntimeID: c.RuntimeID, LastStatus: c.LastStatus, ExitCode: c.ExitCode, Reason: c.Reason,
			NetworkBindings: nonNil(c.NetworkBindings), NetworkInterfaces: nonNil(c.NetworkInterfaces),
			HealthStatus: c.HealthStatus, CPU: c.CPU, Memory: c.Memory, MemoryReservation: c.MemoryReservation,
		}
	}
	return out
}
