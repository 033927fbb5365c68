package ecscp

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Task sets: the EXTERNAL deployment controller's API (CreateTaskSet,
// DescribeTaskSets, UpdateTaskSet, DeleteTaskSet,
// UpdateServicePrimaryTaskSet) and the EXTERNAL rules of CreateService
// and UpdateService. Each call is one compare-and-swap of the service
// record; the scheduler starts and stops the task sets' tasks.

// notExternal is ECS's answer to a task set call on a service of another
// deployment controller.
func notExternal() error {
	return fault.New(fault.InvalidParameter, "Amazon ECS only supports task set management on services configured to use external deployment controllers.")
}

// isExternal reports whether a CreateService request asks for the
// EXTERNAL deployment controller.
func isExternal(spec ecs.ServiceSpec) bool {
	return spec.DeploymentController != nil && spec.DeploymentController.Type == ecs.DeploymentControllerExternal
}

// createExternalService stores a new EXTERNAL service: no task definition
// or launch settings of its own (its task sets have them).
func (p *Plane) createExternalService(ctx context.Context, sc ecs.Scope, cl *ecs.Cluster, in CreateServiceInput) (*ServiceTags, error) {
	spec := in.Spec
	if in.TaskDefinition != "" {
		var err error
		if spec.TaskDefinition, err = p.runnableDefinition(ctx, sc, in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	spec.CreatedBy = "arn:aws:iam::" + sc.Account + ":root"
	svc, err := ecs.NewService(sc, cl, spec, "", p.now())
	if err != nil {
		return nil, err
	}
	return p.storeNewService(ctx, sc, svc, spec.Tags, "deploymentController", ecs.DeploymentControllerExternal)
}

// updateExternalService is UpdateService for an EXTERNAL service: ECS
// lets it change only the desired count (the task sets follow), the
// placement constraints and strategy, the health check grace period,
// the managed tags and tag propagation; the rest belongs to task sets.
func (p *Plane) updateExternalService(ctx context.Context, sc ecs.Scope, cluster, name string, in UpdateServiceInput) (*ecs.Service, error) {
	for _, f := range []struct {
		set  bool
		name string
	}{
		{in.TaskDefinition != "", "taskDefinition"},
		{in.NetworkConfiguration != nil, "networkConfiguration"},
		{len(in.CapacityProviderStrategy) > 0, "capacityProviderStrategy"},
		{in.PlatformVersion != "", "platformVersion"},
		{in.LoadBalancers != nil, "loadBalancers"},
		{in.ServiceRegistries != nil, "serviceRegistries"},
		{in.ForceNewDeployment, "forceNewDeployment"},
		{in.DeploymentConfiguration != nil, "deploymentConfiguration"},
		{in.EnableExecuteCommand != nil, "enableExecuteCommand"},
	} {
		if f.set {
			return nil, fault.New(fault.InvalidParameter, "%s cannot be updated for a service with the EXTERNAL deployment controller: only the desired count, placement constraints and strategy, health check grace period, enableECSManagedTags and propagateTags can be; create a new task set (CreateTaskSet) to change the rest.", f.name)
		}
	}
	if in.PlacementStrategy != nil || in.PlacementConstraints != nil {
		req := ecs.RunRequest{LaunchType: ecs.LaunchEC2, PlacementConstraints: in.PlacementConstraints, PlacementStrategy: in.PlacementStrategy}
		if err := ecs.ValidateRunRequest(&ecs.TaskDefinition{Compatibilities: []string{ecs.LaunchEC2}}, req); err != nil {
			return nil, err
		}
	}
	now := p.now()
	s, _, err := p.repo.UpdateService(ctx, sc, cluster, name, func(s *ecs.Service) error {
		if s.Status != ecs.ServiceActive {
			return serviceNotActive()
		}
		if in.DesiredCount != nil {
			s.SetDesiredCount(*in.DesiredCount, now)
		}
		if in.PlacementConstraints != nil {
			s.PlacementConstraints = in.PlacementConstraints
		}
		if in.PlacementStrategy != nil {
			s.PlacementStrategy = in.PlacementStrategy
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		}
		if in.EnableECSManagedTags != nil {
			s.EnableECSManagedTags = *in.EnableECSManagedTags
		}
		if in.PropagateTags != "" {
			s.PropagateTags = in.PropagateTags
		}
		s.Steady = false
		return nil
	})
	return s, err
}

// TaskSetInput names a task set's service: cluster and service (names or
// ARNs).
type TaskSetInput struct {
	Cluster, Service string
}

// CreateTaskSetInput is a CreateTaskSet request in domain terms.
type CreateTaskSetInput struct {
	TaskSetInput
	TaskDefinition string
	Spec           ecs.TaskSetSpec // TaskDefinition is filled in here
}

// resolveService returns the cluster name and service name of in.
func resolveService(in TaskSetInput) (string, string, error) {
	if in.Cluster == "" {
		return "", "", fault.New(fault.InvalidParameter, "cluster is required.")
	}
	cluster, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return "", "", err
	}
	name, err := ecs.ServiceName(in.Service, cluster)
	if err != nil {
		return "", "", err
	}
	return cluster, name, nil
}

// externalService reads an ACTIVE EXTERNAL service for a task set call.
func externalService(s *ecs.Service) error {
	if s.Status != ecs.ServiceActive {
		return serviceNotActive()
	}
	if !s.IsExternal() {
		return notExternal()
	}
	return nil
}

// CreateTaskSet adds an ACTIVE task set to an EXTERNAL service; the
// scheduler starts its tasks (scale × the service's desired count). A
// clientToken already used on the service returns that task set.
func (p *Plane) CreateTaskSet(ctx context.Context, sc ecs.Scope, in CreateTaskSetInput) (*ecs.TaskSet, error) {
	cluster, name, err := resolveService(in.TaskSetInput)
	if err != nil {
		return nil, err
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	spec := in.Spec
	if spec.TaskDefinition, err = p.launchDefaults(ctx, sc, cl, in.TaskDefinition, &spec.LaunchType, &spec.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	id := newDeploymentID()
	now := p.now()
	var out ecs.TaskSet
	_, _, err = p.repo.UpdateService(ctx, sc, cluster, name, func(s *ecs.Service) error {
		if err := externalService(s); err != nil {
			return err
		}
		if spec.ClientToken != "" {
			if i := slices.IndexFunc(s.TaskSets, func(ts ecs.TaskSet) bool { return ts.ClientToken == spec.ClientToken }); i >= 0 {
				out = s.TaskSets[i]
				return ecsstore.ErrNoChange
			}
		}
		ts, err := s.AddTaskSet(sc, id, spec, now)
		if err != nil {
			return err
		}
		out = *ts
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.log.Info("task set created", "cluster", cluster, "service", name, "taskSet", out.ID, "computedDesiredCount", out.ComputedDesiredCount)
	return &out, nil
}

// DescribeTaskSets returns a service's task sets (refs: IDs or ARNs; none:
// all of them); missing ones are failures with reason MISSING.
func (p *Plane) DescribeTaskSets(ctx context.Context, sc ecs.Scope, in TaskSetInput, refs []string) ([]ecs.TaskSet, []Failure, error) {
	cluster, name, err := resolveService(in)
	if err != nil {
		return nil, nil, err
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, cluster); err != nil {
		return nil, nil, err
	}
	s, err := p.repo.Service(ctx, sc, cluster, name)
	if err != nil {
		return nil, nil, err
	}
	if err := externalService(s); err != nil {
		return nil, nil, err
	}
	if len(refs) == 0 {
		return s.TaskSets, nil, nil
	}
	var out []ecs.TaskSet
	var failures []Failure
	for _, ref := range refs {
		id, err := ecs.ParseTaskSetRef(ref, cluster, name)
		if err != nil {
			return nil, nil, err
		}
		ts := s.TaskSet(id)
		if ts == nil {
			failures = append(failures, Failure{ARN: sc.TaskSetARN(cluster, name, id), Reason: ecs.ReasonMissing})
			continue
		}
		out = append(out, *ts)
	}
	return out, failures, nil
}

// updateTaskSet changes one task set of an ACTIVE EXTERNAL service with fn
// in one compare-and-swap and returns it.
func (p *Plane) updateTaskSet(ctx context.Context, sc ecs.Scope, in TaskSetInput, ref string, fn func(*ecs.Service, string) (*ecs.TaskSet, error)) (*ecs.TaskSet, error) {
	cluster, name, err := resolveService(in)
	if err != nil {
		return nil, err
	}
	id, err := ecs.ParseTaskSetRef(ref, cluster, name)
	if err != nil {
		return nil, err
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, cluster); err != nil {
		return nil, err
	}
	var out ecs.TaskSet
	_, _, err = p.repo.UpdateService(ctx, sc, cluster, name, func(s *ecs.Service) error {
		if err := externalService(s); err != nil {
			return err
		}
		ts, err := fn(s, id)
		if err != nil {
			return err
		}
		out = *ts
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTaskSet sets a task set's scale; the scheduler starts or stops
// tasks to its new computed desired count.
func (p *Plane) UpdateTaskSet(ctx context.Context, sc ecs.Scope, in TaskSetInput, ref string, scale *ecs.Scale) (*ecs.TaskSet, error) {
	if scale == nil {
		return nil, fault.New(fault.InvalidParameter, "scale is required.")
	}
	now := p.now()
	return p.updateTaskSet(ctx, sc, in, ref, func(s *ecs.Service, id string) (*ecs.TaskSet, error) {
		return s.ScaleTaskSet(id, *scale, now)
	})
}

// DeleteTaskSet makes a task set DRAINING (force: even if not scaled down
// to zero); the scheduler deregisters and stops its tasks, then removes
// it.
func (p *Plane) DeleteTaskSet(ctx context.Context, sc ecs.Scope, in TaskSetInput, ref string, force bool) (*ecs.TaskSet, error) {
	now := p.now()
	return p.updateTaskSet(ctx, sc, in, ref, func(s *ecs.Service, id string) (*ecs.TaskSet, error) {
		return s.DeleteTaskSet(id, force, now)
	})
}

// UpdateServicePrimaryTaskSet makes a task set the service's PRIMARY one;
// the service describes its task definition, launch settings, network
// configuration and load balancers from then on.
func (p *Plane) UpdateServicePrimaryTaskSet(ctx context.Context, sc ecs.Scope, in TaskSetInput, ref string) (*ecs.TaskSet, error) {
	now := p.now()
	return p.updateTaskSet(ctx, sc, in, ref, func(s *ecs.Service, id string) (*ecs.TaskSet, error) {
		return s.SetPrimaryTaskSet(id, now)
	})
}

// taskSetTagRef returns the cluster, service and task set ID of a task set
// ARN (ok false: arn names no task set).
func taskSetTagRef(arn string) (cluster, service, id string, ok bool) {
	pa, parsed := ecs.ParseARN(arn)
	rest, isTS := strings.CutPrefix(pa.Resource, "task-set/")
	parts := strings.SplitN(rest, "/", 3)
	if !parsed || pa.Service != "ecs" || !isTS || len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// taskSetTags reads or changes (fn non-nil) the tags of the task set arn,
// kept in its service's record; a missing task set is a
// *MissingResourceError.
func (p *Plane) taskSetTags(ctx context.Context, sc ecs.Scope, arn string, fn func([]ecs.Tag) ([]ecs.Tag, error)) ([]ecs.Tag, error) {
	cluster, service, id, _ := taskSetTagRef(arn)
	if pa, _ := ecs.ParseARN(arn); pa.Account != sc.Account || pa.Region != sc.Region {
		return nil, fault.New(fault.InvalidParameter, "The resource %s is not in this account and region (%s, %s).", arn, sc.Account, sc.Region)
	}
	var out []ecs.Tag
	_, _, err := p.repo.UpdateService(ctx, sc, cluster, service, func(s *ecs.Service) error {
		ts := s.TaskSet(id)
		if ts == nil || s.Status == ecs.ServiceInactive {
			return ecs.TaskSetNotFound()
		}
		out = ts.Tags
		if fn == nil {
			return ecsstore.ErrNoChange
		}
		next, err := fn(ts.Tags)
		if err != nil {
			return err
		}
		ts.Tags, out = next, next
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil, &MissingResourceError{Kind: "task-set", ARN: arn, Err: err}
	}
	return out, err
}
