package ecscp

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// ProtectedTask is a task's scale-in protection.
type ProtectedTask struct {
	TaskARN        string
	Enabled        bool
	ExpirationDate time.Time
}

// Task protection failure reason (ECS's).
const reasonTaskNotValid = "TASK_NOT_VALID"

// UpdateTaskProtection turns the scale-in protection of service tasks on
// (for expiresInMinutes, 120 if nil, 1 to 2880) or off.
func (p *Plane) UpdateTaskProtection(ctx context.Context, sc ecs.Scope, cluster string, tasks []string, enabled bool, expiresInMinutes *int) ([]ProtectedTask, []Failure, error) {
	name, err := requireCluster(cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(tasks) == 0 || len(tasks) > 10 {
		return nil, nil, fault.New(fault.InvalidParameter, "tasks must list between 1 and 10 tasks.")
	}
	minutes := 120
	if expiresInMinutes != nil {
		minutes = *expiresInMinutes
	}
	if enabled && (minutes < 1 || minutes > 2880) {
		return nil, nil, fault.New(fault.InvalidParameter, "expiresInMinutes must be between 1 and 2880.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, nil, err
	}
	now := p.now()
	until := time.Time{}
	if enabled {
		until = now.Add(time.Duration(minutes) * time.Minute)
	}
	var out []ProtectedTask
	var failures []Failure
	for _, ref := range tasks {
		tc, id, err := ParseTaskRef(ref, name)
		if err != nil {
			return nil, nil, err
		}
		arn := sc.ARN("task/" + tc + "/" + id)
		var notValid string
		t, err := p.repo.UpdateTask(ctx, sc, tc, id, func(t *ecs.Task) error {
			switch {
			case !strings.HasPrefix(t.Group, "service:"):
				notValid = "The task is not part of a service: only service tasks can be protected."
				return ecsstore.ErrNoChange
			case t.DesiredStatus == ecs.TaskStopped || t.LastStatus == ecs.TaskStopped:
				notValid = "The task is stopping or stopped."
				return ecsstore.ErrNoChange
			}
			t.ProtectedUntil = until
			return nil
		}, p.TaskResources)
		switch {
		case fault.Is(err, fault.NotFound) || tc != name:
			failures = append(failures, Failure{ARN: arn, Reason: reasonTaskNotValid, Detail: "The task was not found."})
			continue
		case err != nil:
			return nil, nil, err
		case notValid != "":
			failures = append(failures, Failure{ARN: arn, Reason: reasonTaskNotValid, Detail: notValid})
			continue
		}
		out = append(out, protectionOf(t, now))
	}
	return out, failures, nil
}

func protectionOf(t *ecs.Task, now time.Time) ProtectedTask {
	pt := ProtectedTask{TaskARN: t.ARN}
	if t.ProtectedUntil.After(now) {
		pt.Enabled, pt.ExpirationDate = true, t.ProtectedUntil
	}
	return pt
}

// GetTaskProtection returns the protection of the given tasks (all the
// cluster's protected tasks when none is given).
func (p *Plane) GetTaskProtection(ctx context.Context, sc ecs.Scope, cluster string, tasks []string) ([]ProtectedTask, []Failure, error) {
	name, err := requireCluster(cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(tasks) > 100 {
		return nil, nil, fault.New(fault.InvalidParameter, "tasks can list at most 100 tasks.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, nil, err
	}
	now := p.now()
	out := []ProtectedTask{}
	var failures []Failure
	if len(tasks) == 0 {
		all, err := p.ClusterTasks(ctx, sc, name)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range all {
			if t.ProtectedUntil.After(now) {
				out = append(out, protectionOf(t, now))
			}
		}
		return out, nil, nil
	}
	for _, ref := range tasks {
		tc, id, err := ParseTaskRef(ref, name)
		if err != nil {
			return nil, nil, err
		}
		t, err := p.repo.Task(ctx, sc, tc, id)
		if fault.Is(err, fault.NotFound) || (err == nil && tc != name) {
			failures = append(failures, Failure{ARN: sc.ARN("task/" + tc + "/" + id), Reason: reasonTaskNotValid, Detail: "The task was not found."})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, protectionOf(t, now))
	}
	return out, failures, nil
}
