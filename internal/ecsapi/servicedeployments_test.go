package ecsapi

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestServiceDeploymentAlarms: DescribeServiceDeployments' alarms check
// as ECS reports it (ServiceDeploymentAlarms: status, alarmNames,
// triggeredAlarmNames).
func TestServiceDeploymentAlarms(t *testing.T) {
	on := &ecs.DeploymentAlarms{AlarmNames: []string{"p99", "errors"}, Enable: true, Rollback: true}
	for _, c := range []struct {
		name      string
		alarms    *ecs.DeploymentAlarms
		d         ecs.ServiceDeployment
		status    string
		triggered []string
	}{
		{"none", nil, ecs.ServiceDeployment{Status: ecs.SDInProgress}, "DISABLED", nil},
		{"disabled", &ecs.DeploymentAlarms{AlarmNames: []string{"p99"}}, ecs.ServiceDeployment{Status: ecs.SDInProgress}, "DISABLED", nil},
		{"watching", on, ecs.ServiceDeployment{Status: ecs.SDInProgress}, "MONITORING", nil},
		{"done", on, ecs.ServiceDeployment{Status: ecs.SDSuccessful}, "MONITORING_COMPLETE", nil},
		{"fired", on, ecs.ServiceDeployment{Status: ecs.SDRollbackSuccessful, TriggeredAlarms: []string{"errors"}}, "TRIGGERED", []string{"errors"}},
	} {
		got := sdAlarms(c.alarms, &c.d)
		if got.Status != c.status || !slices.Equal(got.TriggeredAlarmNames, c.triggered) {
			t.Errorf("%s: %+v, want %s %v", c.name, got, c.status, c.triggered)
		}
		if c.alarms != nil && !slices.Equal(got.AlarmNames, c.alarms.AlarmNames) {
			t.Errorf("%s: alarm names %v", c.name, got.AlarmNames)
		}
	}
}
