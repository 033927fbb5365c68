package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// What agents report outside the API calls, on their ACS and telemetry
// sessions, recorded as the API records the rest.

// RecordAgentVersion stores the agent and Docker versions an agent sent
// when it opened its ACS session (ECS agents send them there, not with
// RegisterContainerInstance).
func (a *API) RecordAgentVersion(ctx context.Context, instanceARN string, v ecs.VersionInfo) error {
	p, ok := ecs.ParseARN(instanceARN)
	ref, err := ecsstore.ParseInstanceRef(instanceARN, "")
	if !ok || err != nil {
		return fault.New(fault.InvalidParameter, "Invalid container instance ARN %s.", instanceARN)
	}
	_, err = a.repo.UpdateInstance(ctx, ecs.Scope{Account: p.Account, Region: p.Region}, ref, func(ci *ecs.ContainerInstance) error {
		if !ci.SetVersionInfo(v) {
			return ecsstore.ErrNoChange
		}
		return nil
	})
	return err
}

// SubmitTaskHealth records the container health an agent published on its
// telemetry session, through SubmitTaskStateChange's path. account is the
// signer's; a task of another account, or not on instanceARN, is refused.
func (a *API) SubmitTaskHealth(ctx context.Context, account, instanceARN string, h acs.TaskHealth) error {
	p, ok := ecs.ParseARN(h.TaskARN)
	if !ok || (account != "" && p.Account != account) {
		return fault.New(fault.AccessDenied, "The task %s is not one of this account's.", h.TaskARN)
	}
	defCluster := ""
	if h.ClusterARN != "" {
		defCluster, _ = ecs.ClusterName(h.ClusterARN)
	}
	cluster, id, err := taskRef(h.TaskARN, defCluster)
	if err != nil {
		return err
	}
	in := &taskStateChangeIn{}
	for _, c := range h.Containers {
		switch c.HealthStatus {
		case ecs.HealthHealthy, ecs.HealthUnhealthy, ecs.HealthUnknown:
		default:
			continue
		}
		in.Containers = append(in.Containers, acs.ContainerStateChange{ContainerName: c.ContainerName, HealthStatus: c.HealthStatus})
	}
	if len(in.Containers) == 0 {
		return nil
	}
	now := a.now()
	_, err = a.repo.UpdateTask(ctx, ecs.Scope{Account: p.Account, Region: p.Region}, cluster, id, func(t *ecs.Task) error {
		if instanceARN != "" && t.ContainerInstanceARN != instanceARN {
			return fault.New(fault.AccessDenied, "The task %s does not run on %s.", h.TaskARN, instanceARN)
		}
		return applyTaskChange(t, in, now)
	}, a.TaskResources)
	if fault.Is(err, fault.NotFound) {
		// A task gone since (retention) has no health to record.
		return nil
	}
	return err
}
