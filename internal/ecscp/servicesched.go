package ecscp

import (
	"context"
	"strconv"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// The operations the service scheduler (internal/controller's Services
// reconciler) acts through: the same task paths as RunTask and StopTask.

// ServiceStart is what StartServiceTasks started (TaskIDs) and could not
// (Failures: placement failures, as "reason" or "reason: detail"). It is
// an unnamed struct type so that the scheduler's interface
// (controller.ServicePlane) can name the same type without importing
// this package.
type ServiceStart = struct {
	TaskIDs  []string
	Failures []string
}

// StartServiceTasks starts count tasks of a deployment of a service (at
// most ten a RunTask call). token makes the starts idempotent: the same
// token (and count) starts no task twice, so a scheduler that retries
// after a crash or a lost leadership does not duplicate tasks.
func (p *Plane) StartServiceTasks(ctx context.Context, sc ecs.Scope, svc *ecs.Service, deploymentID string, count int, token string) (ServiceStart, error) {
	var out ServiceStart
	dep := svc.Deployment(deploymentID)
	if dep == nil {
		dep = svc.TaskSetDeployment(deploymentID) // EXTERNAL: a task set
	}
	if dep == nil {
		return out, fault.New(fault.Invalid, "deployment %s of service %s not found", deploymentID, svc.Name)
	}
	tags, propagate, err := p.propagatedServiceTags(ctx, svc)
	if err != nil {
		return out, err
	}
	platform := dep.PlatformVersion
	if platform == "LATEST" {
		platform = ""
	}
	for batch := 0; count > 0; batch++ {
		n := min(count, ecs.MaxRunCount)
		count -= n
		res, err := p.RunTask(ctx, sc, RunInput{
			Cluster: svc.ClusterARN, TaskDefinition: dep.TaskDefinition, Count: n,
			LaunchType: dep.LaunchType, CapacityProviderStrategy: dep.CapacityProviderStrategy,
			NetworkConfiguration: dep.NetworkConfiguration,
			PlacementConstraints: svc.PlacementConstraints, PlacementStrategy: svc.PlacementStrategy,
			PlatformVersion: platform, StartedBy: dep.ID, Group: svc.Group(), Tags: tags,
			EnableExecuteCommand: svc.EnableExecuteCommand, EnableECSManagedTags: svc.EnableECSManagedTags,
			PropagateTags: propagate, ClientToken: clientToken(token, batch),
		})
		if err != nil {
			if len(out.TaskIDs) > 0 {
				out.Failures = append(out.Failures, err.Error())
				return out, nil
			}
			if fault.Is(err, fault.InvalidParameter) || fault.Is(err, fault.Invalid) {
				// Nothing can be placed (no instances, an inactive
				// definition): a placement failure of the service, not
				// an error of the scheduler.
				out.Failures = append(out.Failures, faultMessage(err))
				return out, nil
			}
			return out, err
		}
		addStarted(&out, res)
		if len(res.Failures) > 0 {
			return out, nil
		}
	}
	return out, nil
}

func faultMessage(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Msg
	}
	return err.Error()
}

// clientToken is a RunTask client token (at most 64 characters) for a
// batch of a scheduler start.
func clientToken(token string, batch int) string {
	t := "svc-" + token + "-" + strconv.Itoa(batch)
	if len(t) > 64 {
		t = t[:64]
	}
	return t
}

// StopServiceTask asks a service's task to stop, as the scheduler does
// (stop code ServiceSchedulerInitiated). A task already stopped or gone is
// not an error.
func (p *Plane) StopServiceTask(ctx context.Context, sc ecs.Scope, cluster, taskID, reason string) error {
	_, err := p.stopTask(ctx, sc, cluster, taskID, ecs.StopServiceSchedulerInitiated, reason)
	if err != nil && (fault.Is(err, fault.InvalidParameter) || fault.Is(err, fault.NotFound)) {
		return nil // gone meanwhile
	}
	return err
}

// UpdateServiceState changes a service's scheduler state (counts,
// deployments, events) with fn in one compare-and-swap; fn returns
// ecsstore.ErrNoChange to write nothing. A missing service is ignored.
func (p *Plane) UpdateServiceState(ctx context.Context, sc ecs.Scope, cluster, name string, fn func(*ecs.Service) error) error {
	_, _, err := p.repo.UpdateService(ctx, sc, cluster, name, fn)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}

// ErrNoChange, from an UpdateServiceState function, writes nothing.
var ErrNoChange = ecsstore.ErrNoChange

// NewServiceEventID returns the ID of a service event (a UUID, as ECS's).
func NewServiceEventID() string { return newUUID() }

// NewDeploymentID returns a new deployment ID (ecs-svc/ and 19 digits).
func NewDeploymentID() string { return newDeploymentID() }

// SyncCache waits until the state cache holds every acknowledged write.
func (p *Plane) SyncCache(ctx context.Context) error { return p.sync(ctx) }

// propagatedServiceTags is what a service's new tasks get of its tags:
// with propagateTags SERVICE, the service's tags, put on the tasks as
// their own (the RunTask propagation then NONE); else none, and the
// service's propagation for RunTask to apply.
func (p *Plane) propagatedServiceTags(ctx context.Context, svc *ecs.Service) ([]ecs.Tag, string, error) {
	if svc.PropagateTags != "SERVICE" {
		return nil, svc.PropagateTags, nil
	}
	tags, err := p.repo.Tags(ctx, svc.ARN)
	if err != nil {
		return nil, "", err
	}
	return tags, "NONE", nil
}

// addStarted adds a RunTask or StartTask result to out: the tasks
// started and the placement failures ("reason" or "reason: detail").
func addStarted(out *ServiceStart, res *RunResult) {
	for _, t := range res.Tasks {
		out.TaskIDs = append(out.TaskIDs, t.Task.ID)
	}
	for _, f := range res.Failures {
		msg := f.Reason
		if f.Detail != "" {
			msg += ": " + f.Detail
		}
		out.Failures = append(out.Failures, msg)
	}
}

// StartServiceTasksOn starts one task of a deployment of a DAEMON service
// on each of the given container instances (ARNs), through StartTask's
// path (no scheduler: the instance is chosen). token makes the starts
// idempotent as for StartServiceTasks: a successor leader deciding on the
// same state gets the first one's tasks back instead of starting more.
func (p *Plane) StartServiceTasksOn(ctx context.Context, sc ecs.Scope, svc *ecs.Service, deploymentID string, instances []string, token string) (ServiceStart, error) {
	var out ServiceStart
	dep := svc.Deployment(deploymentID)
	if dep == nil {
		return out, fault.New(fault.Invalid, "deployment %s of service %s not found", deploymentID, svc.Name)
	}
	tags, propagate, err := p.propagatedServiceTags(ctx, svc)
	if err != nil {
		return out, err
	}
	for i := 0; len(instances) > 0; i++ {
		n := min(len(instances), ecs.MaxRunCount)
		batch := instances[:n]
		instances = instances[n:]
		res, err := p.StartTask(ctx, sc, RunInput{
			Cluster: svc.ClusterARN, TaskDefinition: dep.TaskDefinition, ContainerInstances: batch,
			NetworkConfiguration: dep.NetworkConfiguration, StartedBy: dep.ID, Group: svc.Group(), Tags: tags,
			EnableExecuteCommand: svc.EnableExecuteCommand, EnableECSManagedTags: svc.EnableECSManagedTags, PropagateTags: propagate,
			ClientToken: clientToken(token, i),
		})
		if err != nil {
			if fault.Is(err, fault.InvalidParameter) || fault.Is(err, fault.Invalid) {
				out.Failures = append(out.Failures, faultMessage(err))
				return out, nil
			}
			return out, err
		}
		addStarted(&out, res)
	}
	return out, nil
}
