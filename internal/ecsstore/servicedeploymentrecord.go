package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// serviceDeploymentRecord is the stored form of ecs.ServiceDeployment
// (a service's deployment history entry).
type serviceDeploymentRecord struct {
	DeploymentID            string                        `json:"deploymentId,omitempty"`
	SourceTaskDefinitions   []string                      `json:"sourceTaskDefinitions,omitempty"`
	TargetTaskDefinition    string                        `json:"targetTaskDefinition,omitempty"`
	Status                  string                        `json:"status,omitempty"`
	StatusReason            string                        `json:"statusReason,omitempty"`
	CreatedAt               time.Time                     `json:"createdAt,omitzero"`
	StartedAt               time.Time                     `json:"startedAt,omitzero"`
	FinishedAt              time.Time                     `json:"finishedAt,omitzero"`
	StoppedAt               time.Time                     `json:"stoppedAt,omitzero"`
	UpdatedAt               time.Time                     `json:"updatedAt,omitzero"`
	DeploymentConfiguration deploymentConfigurationRecord `json:"deploymentConfiguration"`
	RollbackReason          string                        `json:"rollbackReason,omitempty"`
	RollbackStartedAt       time.Time                     `json:"rollbackStartedAt,omitzero"`
	RollbackTo              string                        `json:"rollbackTo,omitempty"`
	FailureCount            int                           `json:"failureCount,omitempty"`
	TriggeredAlarms         []string                      `json:"triggeredAlarms,omitempty"`
	Revision                *serviceRevisionRecord        `json:"revision,omitempty"`
}

func serviceDeploymentRecordOf(v *ecs.ServiceDeployment) serviceDeploymentRecord {
	return serviceDeploymentRecord{
		DeploymentID: v.DeploymentID, SourceTaskDefinitions: v.SourceTaskDefinitions, TargetTaskDefinition: v.TargetTaskDefinition,
		Status: v.Status, StatusReason: v.StatusReason, CreatedAt: v.CreatedAt, StartedAt: v.StartedAt,
		FinishedAt: v.FinishedAt, StoppedAt: v.StoppedAt, UpdatedAt: v.UpdatedAt,
		DeploymentConfiguration: deploymentConfigurationRecordOf(&v.DeploymentConfiguration),
		RollbackReason:          v.RollbackReason, RollbackStartedAt: v.RollbackStartedAt, RollbackTo: v.RollbackTo,
		FailureCount: v.FailureCount, TriggeredAlarms: v.TriggeredAlarms, Revision: mapPtr(v.Revision, serviceRevisionRecordOf),
	}
}

func (r *serviceDeploymentRecord) domain() ecs.ServiceDeployment {
	return ecs.ServiceDeployment{
		DeploymentID: r.DeploymentID, SourceTaskDefinitions: r.SourceTaskDefinitions, TargetTaskDefinition: r.TargetTaskDefinition,
		Status: r.Status, StatusReason: r.StatusReason, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, StoppedAt: r.StoppedAt, UpdatedAt: r.UpdatedAt,
		DeploymentConfiguration: r.DeploymentConfiguration.domain(),
		RollbackReason:          r.RollbackReason, RollbackStartedAt: r.RollbackStartedAt, RollbackTo: r.RollbackTo,
		FailureCount: r.FailureCount, TriggeredAlarms: r.TriggeredAlarms, Revision: mapPtr(r.Revision, (*serviceRevisionRecord).domain),
	}
}
