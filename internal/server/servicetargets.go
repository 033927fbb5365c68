package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
)

// newServiceScheduler returns the ECS service scheduler (leader-only),
// acting through the ECS control plane and registering tasks with the
// ELBv2 control plane's target groups.
func newServiceScheduler(cache *ecscache.Cache, plane *ecscp.Plane, elbPlane *elbcp.Plane, alarms controller.AlarmStates, shiftMinute time.Duration, applied func() int64, log *slog.Logger) *controller.Services {
	return controller.NewServices(controller.ServicesConfig{
		Source: controller.NewCacheServiceSource(cache), Plane: plane, NoChange: ecscp.ErrNoChange,
		Targets: serviceTargets{elbPlane}, NewID: ecscp.NewServiceEventID, NewDeploymentID: ecscp.NewDeploymentID,
		Logger: log, Alarms: alarms, Traffic: &serviceTraffic{p: elbPlane, applied: applied}, ShiftMinute: shiftMinute,
	})
}

// serviceTargets is the service scheduler's TargetRegistry over the ELBv2
// control plane.
type serviceTargets struct{ p *elbcp.Plane }

var _ controller.TargetRegistry = serviceTargets{}

func refs(ts []controller.Target) []elb.TargetRef {
	out := make([]elb.TargetRef, len(ts))
	for i, t := range ts {
		out[i] = elb.TargetRef{ID: t.ID, Port: t.Port}
	}
	return out
}

func elbScope(sc ecs.Scope) elb.Scope { return elb.Scope{Account: sc.Account, Region: sc.Region} }

func (s serviceTargets) RegisterTargets(ctx context.Context, sc ecs.Scope, tg string, ts []controller.Target) error {
	return s.p.RegisterTargets(ctx, elbScope(sc), tg, refs(ts))
}

func (s serviceTargets) DeregisterTargets(ctx context.Context, sc ecs.Scope, tg string, ts []controller.Target) error {
	return s.p.DeregisterTargets(ctx, elbScope(sc), tg, refs(ts))
}

func (s serviceTargets) TargetHealth(ctx context.Context, sc ecs.Scope, tg string, ts []controller.Target) (map[controller.Target]string, error) {
	rows, err := s.p.TargetHealth(ctx, elbScope(sc), tg, refs(ts))
	if err != nil {
		return nil, err
	}
	out := make(map[controller.Target]string, len(rows))
	for _, r := range rows {
		st := r.Health.State
		if r.Health.Reason == elb.ReasonNotRegistered {
			st = controller.TargetNotRegistered
		}
		out[controller.Target{ID: r.Target.ID, Port: r.Target.Port}] = st
	}
	return out, nil
}
