package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// StopLostTask records task id of cluster, which ran on the container
// instance instanceARN whose agent is lost, as STOPPED now with stop code
// code (may be empty) and reason, releasing what it reserved on the
// instance: no agent will report its stop. A task STOPPED already, moved
// off that instance, or gone is left as it is (no error). It reports
// whether it stopped the task.
func (p *Plane) StopLostTask(ctx context.Context, sc ecs.Scope, cluster, id, instanceARN, code, reason string) (bool, error) {
	now := p.now()
	var stopped bool
	_, err := p.repo.UpdateTask(ctx, sc, cluster, id, func(t *ecs.Task) error {
		stopped = false // the update may be tried again on a newer record
		if t.LastStatus == ecs.TaskStopped || t.ContainerInstanceARN != instanceARN {
			return ecsstore.ErrNoChange
		}
		t.RequestStop(code, reason, now)
		if err := t.Advance(ecs.TaskStopped, now); err != nil {
			return err
		}
		stopped = true
		return nil
	}, p.TaskResources)
	switch {
	case fault.Is(err, fault.NotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	if stopped {
		p.log.Info("lost task stopped", "cluster", cluster, "task", id, "instance", instanceARN, "reason", reason)
	}
	return stopped, nil
}
