package ecscp

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// StopReasonUser is the stoppedReason of a task stopped without a reason.
const StopReasonUser = "Task stopped by user"

// StopTask asks a task to stop (its agent stops it); a task whose
// instance is gone is stopped at once. cluster is a name or ARN, task an
// ARN or ID.
func (p *Plane) StopTask(ctx context.Context, sc ecs.Scope, cluster, task, reason string) (TaskTags, error) {
	return p.stopTask(ctx, sc, cluster, task, ecs.StopUserInitiated, reason)
}

// stopTask asks a task to stop with a stop code and reason.
func (p *Plane) stopTask(ctx context.Context, sc ecs.Scope, cluster, task, code, reason string) (TaskTags, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return TaskTags{}, err
	}
	if task == "" {
		return TaskTags{}, fault.New(fault.InvalidParameter, "task is required.")
	}
	if len(reason) > 255 {
		return TaskTags{}, fault.New(fault.InvalidParameter, "reason can be up to 255 characters.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return TaskTags{}, err
	}
	tc, id, err := ParseTaskRef(task, name)
	if err != nil {
		return TaskTags{}, err
	}
	if tc != name {
		return TaskTags{}, fault.New(fault.InvalidParameter, "The referenced task was not found.")
	}
	if reason == "" {
		reason = StopReasonUser
	}
	now := p.now()
	t, err := p.repo.UpdateTask(ctx, sc, tc, id, func(t *ecs.Task) error {
		if t.LastStatus == ecs.TaskStopped {
			return ecsstore.ErrNoChange
		}
		t.RequestStop(code, reason, now)
		// A task whose instance is gone has nobody to stop it.
		if t.ContainerInstanceARN == "" || !p.instanceExists(ctx, sc, t.ContainerInstanceARN) {
			return t.Advance(ecs.TaskStopped, now)
		}
		return nil
	}, p.TaskResources)
	if fault.Is(err, fault.NotFound) {
		return TaskTags{}, fault.New(fault.InvalidParameter, "The referenced task was not found.")
	}
	if err != nil {
		return TaskTags{}, err
	}
	tags, err := p.repo.Tags(ctx, t.ARN)
	if err != nil {
		return TaskTags{}, err
	}
	return TaskTags{Task: t, Tags: tags}, nil
}

func (p *Plane) instanceExists(ctx context.Context, sc ecs.Scope, arn string) bool {
	ref, err := ecs.ParseInstanceRef(arn, "")
	if err != nil {
		return false
	}
	_, err = p.repo.Instance(ctx, sc, ref)
	return err == nil || !fault.Is(err, fault.NotFound)
}

// TaskResources returns what a task reserved on its instance, from its
// task definition and overrides.
func (p *Plane) TaskResources(ctx context.Context, t *ecs.Task) (ecs.TaskResources, error) {
	pa, ok := ecs.ParseARN(t.TaskDefinitionARN)
	if !ok {
		return ecs.TaskResources{}, fault.New(fault.Internal, "task %s has a malformed task definition ARN", t.ARN)
	}
	ref, err := ecs.ParseTaskDefinitionRef(t.TaskDefinitionARN)
	if err != nil {
		return ecs.TaskResources{}, err
	}
	td, err := p.repo.TaskDefinition(ctx, ecs.Scope{Account: pa.Account, Region: pa.Region}, ref)
	if err != nil {
		return ecs.TaskResources{}, err
	}
	return ecs.ResourcesFor(td, &t.Overrides)
}

// DescribeTasks returns the tasks refs name (ARNs or IDs, at most 100) of
// a cluster, with their tags if withTags, and a MISSING failure for each
// one it does not know. It reads the state cache once it holds every
// write acknowledged before the call. The tasks are shared: do not modify
// them.
func (p *Plane) DescribeTasks(ctx context.Context, sc ecs.Scope, cluster string, refs []string, withTags bool) ([]TaskTags, []Failure, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) == 0 {
		return nil, nil, fault.New(fault.InvalidParameter, "Tasks cannot be empty.")
	}
	if len(refs) > 100 {
		return nil, nil, fault.New(fault.InvalidParameter, "At most 100 tasks can be described at once.")
	}
	if err := p.sync(ctx); err != nil {
		return nil, nil, err
	}
	if _, _, ok := p.cache.Cluster(sc, name); !ok {
		return nil, nil, fault.NotFoundf("cluster", "Cluster not found.").WithResource("cluster")
	}
	out := make([]TaskTags, 0, len(refs))
	var failures []Failure
	for _, ref := range refs {
		tc, id, err := ParseTaskRef(ref, name)
		if err != nil {
			return nil, nil, err
		}
		var t *ecs.Task
		found := false
		if tc == name {
			t, found = p.cache.Task(sc, tc, id)
		}
		if !found {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = sc.TaskARN(name, id)
			}
			failures = append(failures, Failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		}
		var tags []ecs.Tag
		if withTags {
			if tags, err = p.repo.Tags(ctx, t.ARN); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, TaskTags{Task: t, Tags: tags})
	}
	return out, failures, nil
}

// TaskFilter selects the tasks ListTasks returns.
type TaskFilter struct {
	Cluster           string // name or ARN
	ContainerInstance string // ARN or ID
	Family            string
	StartedBy         string
	ServiceName       string
	DesiredStatus     string // RUNNING (""), PENDING or STOPPED
	LaunchType        string
}

// ListTasks returns the ARNs of a cluster's tasks that pass the filter, in
// task ID order, from the state cache once it holds every write
// acknowledged before the call.
func (p *Plane) ListTasks(ctx context.Context, sc ecs.Scope, f TaskFilter) ([]string, error) {
	name, err := ecs.ClusterName(f.Cluster)
	if err != nil {
		return nil, err
	}
	desired := f.DesiredStatus
	switch desired {
	case "":
		desired = ecs.TaskRunning
	case ecs.TaskRunning, ecs.TaskPending, ecs.TaskStopped:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid desiredStatus %q. Valid values: RUNNING, PENDING, STOPPED.", f.DesiredStatus)
	}
	switch f.LaunchType {
	case "", ecs.LaunchEC2, ecs.LaunchFargate, ecs.LaunchExternal:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid launchType %q. Valid values: EC2, FARGATE, EXTERNAL.", f.LaunchType)
	}
	if f.ServiceName != "" && f.StartedBy != "" {
		return nil, fault.New(fault.InvalidParameter, "startedBy and serviceName cannot both be specified.")
	}
	if err := p.sync(ctx); err != nil {
		return nil, err
	}
	if cl, _, ok := p.cache.Cluster(sc, name); !ok || cl.Status != ecs.ClusterActive {
		return nil, fault.NotFoundf("cluster", "Cluster not found.").WithResource("cluster")
	}
	instanceARN := ""
	if f.ContainerInstance != "" {
		ref, err := ecs.ParseInstanceRef(f.ContainerInstance, name)
		if err != nil {
			return nil, err
		}
		instanceARN = sc.ContainerInstanceARN(ref.Cluster, ref.ID)
	}
	arns := []string{}
	for _, t := range p.cache.Tasks(sc, name) {
		switch {
		case t.DesiredStatus != desired:
		case instanceARN != "" && t.ContainerInstanceARN != instanceARN:
		case f.Family != "" && familyOf(t.TaskDefinitionARN) != f.Family:
		case f.StartedBy != "" && t.StartedBy != f.StartedBy:
		case f.ServiceName != "" && t.Group != "service:"+f.ServiceName:
		case f.LaunchType != "" && t.LaunchType != f.LaunchType:
		default:
			arns = append(arns, t.ARN)
		}
	}
	return arns, nil
}

// ClusterTasks returns every task of a cluster from the state cache, once
// it holds every write acknowledged before the call. The tasks are
// shared: do not modify them.
func (p *Plane) ClusterTasks(ctx context.Context, sc ecs.Scope, cluster string) ([]*ecs.Task, error) {
	if err := p.sync(ctx); err != nil {
		return nil, err
	}
	return p.cache.Tasks(sc, cluster), nil
}

func familyOf(tdARN string) string {
	ref, err := ecs.ParseTaskDefinitionRef(tdARN)
	if err != nil {
		return ""
	}
	return ref.Family
}
