package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
)

type taskCounts struct{ running, pending int }

// instanceTaskCounts counts the running and pending tasks of each instance
// of a cluster, by instance ARN, as placement counts them.
func (p *Plane) instanceTaskCounts(ctx context.Context, sc ecs.Scope, cluster string) (map[string]taskCounts, error) {
	tasks, err := p.ClusterTasks(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	out := map[string]taskCounts{}
	for _, t := range tasks {
		if t.ContainerInstanceARN == "" || t.LastStatus == ecs.TaskStopped {
			continue
		}
		c := out[t.ContainerInstanceARN]
		if placement.TaskRunning(t.LastStatus) {
			c.running++
		} else {
			c.pending++
		}
		out[t.ContainerInstanceARN] = c
	}
	return out, nil
}

// withCounts returns a copy of ci with its task counts filled in.
func withCounts(ci *ecs.ContainerInstance, counts map[string]taskCounts) *ecs.ContainerInstance {
	c := *ci
	tc := counts[ci.ARN]
	c.RunningTasksCount, c.PendingTasksCount = tc.running, tc.pending
	return &c
}

// Instance include values of DescribeContainerInstances.
const (
	IncludeInstanceTags   = "TAGS"
	IncludeInstanceHealth = "CONTAINER_INSTANCE_HEALTH"
)

// InstanceView is a described container instance (task counts filled in)
// and, when asked for, its tags.
type InstanceView struct {
	Instance *ecs.ContainerInstance
	Tags     []ecs.Tag
}

// DescribeContainerInstances returns up to 100 instances of cluster (a
// name or ARN; instances ARNs or IDs), with their task counts; include may
// ask for TAGS and CONTAINER_INSTANCE_HEALTH (the caller derives the
// health from the instance). An instance missing or of another cluster is
// a failure.
func (p *Plane) DescribeContainerInstances(ctx context.Context, sc ecs.Scope, cluster string, instances, include []string) ([]InstanceView, []Failure, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(instances) == 0 || len(instances) > 100 {
		return nil, nil, fault.New(fault.InvalidParameter, "containerInstances must list between 1 and 100 container instances.")
	}
	var withTags bool
	for _, i := range include {
		switch i {
		case IncludeInstanceTags:
			withTags = true
		case IncludeInstanceHealth:
		default:
			return nil, nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS, CONTAINER_INSTANCE_HEALTH.", i)
		}
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, nil, err
	}
	counts, err := p.instanceTaskCounts(ctx, sc, name)
	if err != nil {
		return nil, nil, err
	}
	var out []InstanceView
	var failures []Failure
	for _, s := range instances {
		ref, err := ecs.ParseInstanceRef(s, name)
		if err != nil {
			return nil, nil, err
		}
		var ci *ecs.ContainerInstance
		if ref.Cluster == name {
			ci, err = p.repo.Instance(ctx, sc, ref)
		} else {
			err = fault.NotFoundf("containerInstance", "other cluster")
		}
		if fault.Is(err, fault.NotFound) {
			failures = append(failures, Failure{ARN: sc.ContainerInstanceARN(ref.Cluster, ref.ID), Reason: ecs.ReasonMissing})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		v := InstanceView{Instance: withCounts(ci, counts)}
		if withTags {
			if v.Tags, err = p.repo.Tags(ctx, ci.ARN); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, v)
	}
	return out, failures, nil
}

// ListContainerInstances returns the ARNs of the instances of cluster (a
// name or ARN) of status (any when empty) that match filter (ECS's
// cluster query language; all when empty), in ID order.
func (p *Plane) ListContainerInstances(ctx context.Context, sc ecs.Scope, cluster, status, filter string) ([]string, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, err
	}
	switch status {
	case "", ecs.InstanceActive, ecs.InstanceDraining, ecs.InstanceRegistering, ecs.InstanceDeregistering, ecs.InstanceRegistrationFailed:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid status %q. Valid values: ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED.", status)
	}
	var q *ecs.Query
	if filter != "" {
		if q, err = ecs.ParseQuery(filter); err != nil {
			return nil, err
		}
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	cis, err := p.repo.Instances(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	var counts map[string]taskCounts
	var groups map[string][]string
	if q != nil {
		if counts, err = p.instanceTaskCounts(ctx, sc, name); err != nil {
			return nil, err
		}
		if q.UsesTaskGroups() {
			if groups, err = p.repo.InstanceGroups(ctx, sc, name); err != nil {
				return nil, err
			}
		}
	}
	arns := []string{}
	for _, ci := range cis {
		if status != "" && ci.Status != status {
			continue
		}
		if q != nil && !q.Eval(withCounts(ci, counts), groups[ci.ID]) {
			continue
		}
		arns = append(arns, ci.ARN)
	}
	return arns, nil
}
