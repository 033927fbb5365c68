package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// AlarmStates tells which CloudWatch alarms are in ALARM (the CloudWatch
// control plane, in the server). A deployment whose
// deploymentConfiguration.alarms names one of them fails, and rolls back
// when asked to, as ECS documents.
type AlarmStates interface {
	InAlarm(ctx context.Context, sc ecs.Scope, names []string) ([]string, error)
}

// alarmPoll is how often the alarms of a deployment in progress are
// read (an alarm's state change tells the scheduler nothing).
const alarmPoll = time.Second

// ReasonAlarms is the rollout state reason of a deployment failed by its
// alarms.
func ReasonAlarms(names []string) string {
	return "ECS deployment failed: alarm(s) detected: " + strings.Join(names, ", ") + "."
}

func msgAlarmFailed(svc, dep string, names []string) string {
	return fmt.Sprintf("(service %s) (deployment %s) deployment failed: alarm(s) detected: %s.", svc, dep, strings.Join(names, ", "))
}

// watchesAlarms reports whether the primary deployment is watched by
// alarms: a deployment in progress that is not a rollback (a rollback to
// the last completed deployment is not failed again by the alarm that
// caused it).
func (s *Services) watchesAlarms(svc *ecs.Service, primary *ecs.Deployment) bool {
	a := svc.DeploymentConfiguration.Alarms
	rollback := svc.Stable != nil && svc.Stable.ID == primary.ID || strings.Contains(primary.RolloutStateReason, "olling back to deploymentId")
	return s.cfg.Alarms != nil && a != nil && a.Enable && len(a.AlarmNames) > 0 && primary.RolloutState == ecs.RolloutInProgress && !rollback
}

// deploymentAlarms fails the primary deployment when one of its alarms is
// in ALARM, and rolls back to the last completed deployment when asked
// to. It reports whether it changed the service.
func (s *Services) deploymentAlarms(ctx context.Context, ref ServiceRef, svc *ecs.Service, primary *ecs.Deployment, now time.Time) (bool, error) {
	if !s.watchesAlarms(svc, primary) {
		return false, nil
	}
	cfg := svc.DeploymentConfiguration.Alarms
	firing, err := s.cfg.Alarms.InAlarm(ctx, ref.Scope, cfg.AlarmNames)
	if err != nil || len(firing) == 0 {
		return false, err
	}
	depID := primary.ID
	reason := ReasonAlarms(firing)
	err = s.cfg.Plane.UpdateServiceState(ctx, ref.Scope, ref.Cluster, ref.Name, func(cur *ecs.Service) error {
		p := cur.Primary()
		if cur.Status != ecs.ServiceActive || p == nil || p.ID != depID || p.RolloutState != ecs.RolloutInProgress {
			return s.cfg.NoChange
		}
		p.RolloutState, p.RolloutStateReason, p.UpdatedAt = ecs.RolloutFailed, reason, now
		if h := cur.History(depID); h != nil {
			h.TriggeredAlarms = slices.Clone(firing)
		}
		cur.AddEvent(s.cfg.NewID(), msgAlarmFailed(cur.Name, depID, firing), now)
		if !cfg.Rollback || cur.Stable == nil || cur.Stable.TaskDefinition == p.TaskDefinition && deepEqualNet(cur.Stable.NetworkConfiguration, p.NetworkConfiguration) {
			cur.DeploymentFailed(depID, reason, "", p.FailedTasks, now)
			return nil
		}
		if to := cur.RollBack(reason, s.cfg.NewDeploymentID(), now); to != "" {
			cur.AddEvent(s.cfg.NewID(), msgRollback(cur.Name, to), now)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	s.cfg.Logger.Info("service deployment failed by alarms", "cluster", ref.Cluster, "service", ref.Name, "deployment", depID,
		"alarms", firing, "rollback", cfg.Rollback)
	return true, nil
}
