package runner

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// updateStatus derives the task's lastStatus from its containers.
func (t *taskRun) updateStatus() {
	switch {
	case t.status == ecs.TaskStopped:
	case t.stopping:
		t.advance(ecs.TaskStopping)
	default:
		if t.plan != nil && t.plan.network != nil && t.net == nil {
			t.advance(ecs.TaskProvisioning)
		} else {
			t.advance(ecs.TaskPending)
		}
		essential, started := 0, 0
		for _, c := range t.ctrs {
			if c.essential {
				essential++
				if c.started {
					started++
				}
			}
		}
		if essential > 0 && started == essential {
			t.advance(ecs.TaskRunning)
			if t.startedAt.IsZero() {
				t.startedAt = t.now()
			}
		}
	}
}

// buildReport renders the task's observed state.
func (t *taskRun) buildReport() TaskChange {
	rep := TaskChange{
		TaskARN:            t.arn,
		LastStatus:         t.status,
		Reason:             t.reason,
		StopCode:           t.stopCode,
		PullStartedAt:      t.pullStartedAt,
		PullStoppedAt:      t.pullStoppedAt,
		StartedAt:          t.startedAt,
		StoppingAt:         t.stoppingAt,
		ExecutionStoppedAt: t.execStoppedAt,
		StoppedAt:          t.stoppedAt,
	}
	if rep.LastStatus == "" {
		rep.LastStatus = ecs.TaskPending
	}
	if t.net != nil {
		rep.PrivateIPv4 = t.net.IPv4Address
		rep.MACAddress = t.net.MACAddress
	}
	health := &ecs.Task{}
	for _, c := range t.ctrs {
		cc := ContainerChange{
			Name:         c.name,
			RuntimeID:    c.id,
			Image:        c.image,
			LastStatus:   ecs.ContainerPending,
			Reason:       c.reason,
			HealthStatus: ecs.HealthUnknown,
			Essential:    c.essential,
			RestartCount: c.restarts,
		}
		switch c.phase {
		case phRunning:
			cc.LastStatus = ecs.ContainerRunning
		case phStopped:
			cc.LastStatus = ecs.ContainerStopped
		}
		if c.exitCode != nil {
			v := *c.exitCode
			cc.ExitCode = &v
		}
		if c.healthCheck {
			switch c.health {
			case driver.HealthHealthy:
				cc.HealthStatus = ecs.HealthHealthy
			case driver.HealthUnhealthy:
				cc.HealthStatus = ecs.HealthUnhealthy
			}
		}
		bindings := c.bindings
		if len(bindings) == 0 && c.started {
			bindings = c.hostPorts
		}
		for _, b := range bindings {
			cc.NetworkBindings = append(cc.NetworkBindings, ecs.NetworkBinding{
				BindIP: b.BindIP, ContainerPort: b.ContainerPort, HostPort: b.HostPort, Protocol: string(b.Protocol),
			})
		}
		rep.Containers = append(rep.Containers, cc)
		health.Containers = append(health.Containers, ecs.Container{
			Name: c.name, Essential: c.essential, HealthCheck: c.healthCheck, HealthStatus: cc.HealthStatus,
		})
	}
	health.DeriveHealth()
	rep.HealthStatus = health.HealthStatus
	return rep
}

// observe records the container's state after an operation: its snapshot,
// or that it is gone.
func (res *opResult) observe(ctx context.Context, d driver.Driver, id string) {
	st, err := d.InspectContainer(ctx, id)
	switch {
	case err == nil:
		res.state = &st
	case errors.Is(err, driver.ErrNotFound):
		res.notFound = true
	}
}
