package ecs

import (
	"slices"
	"strings"
	"time"
)

// Service deployment statuses (ListServiceDeployments): the history of a
// service's deployments, kept after the deployments leave deployments[].
//
//	IN_PROGRESS ──completed──► SUCCESSFUL
//	     │ ├──a newer deployment starts──► STOPPED
//	     │ └──circuit breaker, no rollback──► STOPPED
//	     └──circuit breaker with rollback──► ROLLBACK_IN_PROGRESS ──► ROLLBACK_SUCCESSFUL
const (
	SDPending            = "PENDING"
	SDInProgress         = "IN_PROGRESS"
	SDSuccessful         = "SUCCESSFUL"
	SDStopped            = "STOPPED"
	SDRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	SDRollbackSuccessful = "ROLLBACK_SUCCESSFUL"
	SDRollbackFailed     = "ROLLBACK_FAILED"
)

// MaxServiceDeploymentHistory is how many service deployments a service
// keeps.
const MaxServiceDeploymentHistory = 20

// ServiceDeployment is one entry of a service's deployment history.
type ServiceDeployment struct {
	// DeploymentID is the deployment's ID (ecs-svc/...) while it is in
	// deployments[].
	DeploymentID            string                  `json:"deploymentId"`
	SourceTaskDefinitions   []string                `json:"sourceTaskDefinitions,omitempty"`
	TargetTaskDefinition    string                  `json:"targetTaskDefinition"`
	Status                  string                  `json:"status"`
	StatusReason            string                  `json:"statusReason,omitempty"`
	CreatedAt               time.Time               `json:"createdAt"`
	StartedAt               time.Time               `json:"startedAt,omitzero"`
	FinishedAt              time.Time               `json:"finishedAt,omitzero"`
	StoppedAt               time.Time               `json:"stoppedAt,omitzero"`
	UpdatedAt               time.Time               `json:"updatedAt,omitzero"`
	DeploymentConfiguration DeploymentConfiguration `json:"deploymentConfiguration"`
	RollbackReason          string                  `json:"rollbackReason,omitempty"`
	RollbackStartedAt       time.Time               `json:"rollbackStartedAt,omitzero"`
	RollbackTo              string                  `json:"rollbackTo,omitempty"` // the deployment ID rolled back to
	FailureCount            int                     `json:"failureCount,omitempty"`
	// TriggeredAlarms are the deployment alarms found in ALARM that
	// failed it (DescribeServiceDeployments alarms.triggeredAlarmNames).
	TriggeredAlarms []string `json:"triggeredAlarms,omitempty"`
	// Revision is what the deployment deployed (bluegreen.go).
	Revision *ServiceRevision `json:"revision,omitempty"`
}

// ID is the service deployment's ID: the digits of its deployment ID.
func (d *ServiceDeployment) ID() string {
	return strings.TrimPrefix(d.DeploymentID, "ecs-svc/")
}

// ServiceDeploymentARN returns the ARN of a service deployment.
func (s Scope) ServiceDeploymentARN(cluster, service, id string) string {
	return s.ARN("service-deployment/" + cluster + "/" + service + "/" + id)
}

// ServiceRevisionARN returns the ARN of a service revision (berth names a
// revision by the deployment that introduced it).
func (s Scope) ServiceRevisionARN(cluster, service, id string) string {
	return s.ARN("service-revision/" + cluster + "/" + service + "/" + id)
}

// History returns the service deployment of a deployment ID (nil: none).
func (s *Service) History(deploymentID string) *ServiceDeployment {
	for i := range s.ServiceDeployments {
		if s.ServiceDeployments[i].DeploymentID == deploymentID {
			return &s.ServiceDeployments[i]
		}
	}
	return nil
}

// recordDeployment starts the history entry of a new deployment; the ones
// still in progress are stopped.
func (s *Service) recordDeployment(d Deployment, now time.Time) {
	var sources []string
	for i := range s.ServiceDeployments {
		h := &s.ServiceDeployments[i]
		if h.Status == SDInProgress {
			h.Status, h.StoppedAt, h.UpdatedAt = SDStopped, now, now
			h.StatusReason = "Stopped by a newer deployment."
		}
	}
	for _, old := range s.Deployments {
		if old.ID != d.ID && !slices.Contains(sources, old.TaskDefinition) {
			sources = append(sources, old.TaskDefinition)
		}
	}
	s.ServiceDeployments = slices.Insert(s.ServiceDeployments, 0, ServiceDeployment{
		DeploymentID: d.ID, SourceTaskDefinitions: sources, TargetTaskDefinition: d.TaskDefinition,
		Status: SDInProgress, CreatedAt: now, StartedAt: now, UpdatedAt: now, DeploymentConfiguration: s.DeploymentConfiguration,
		Revision: s.revisionOf(d),
	})
	if len(s.ServiceDeployments) > MaxServiceDeploymentHistory {
		s.ServiceDeployments = s.ServiceDeployments[:MaxServiceDeploymentHistory]
	}
}

// DeploymentCompleted records that deployment id completed: it is
// SUCCESSFUL, and a deployment that was rolled back to it is
// ROLLBACK_SUCCESSFUL.
func (s *Service) DeploymentCompleted(id string, now time.Time) {
	for i := range s.ServiceDeployments {
		h := &s.ServiceDeployments[i]
		switch {
		case h.DeploymentID == id && h.Status == SDInProgress:
			h.Status, h.FinishedAt, h.UpdatedAt, h.StatusReason = SDSuccessful, now, now, ""
		case h.Status == SDRollbackInProgress && h.RollbackTo == id:
			h.Status, h.FinishedAt, h.UpdatedAt = SDRollbackSuccessful, now, now
		}
	}
}

// DeploymentFailed records that the circuit breaker failed deployment id
// (rolling back to rollbackTo, if not "").
func (s *Service) DeploymentFailed(id, reason, rollbackTo string, failures int, now time.Time) {
	h := s.History(id)
	if h == nil {
		return
	}
	h.FailureCount, h.UpdatedAt, h.StatusReason = failures, now, reason
	if rollbackTo == "" {
		h.Status, h.StoppedAt = SDStopped, now
		return
	}
	h.Status, h.RollbackTo, h.RollbackReason, h.RollbackStartedAt = SDRollbackInProgress, rollbackTo, reason, now
}

// RollBack replaces the primary deployment (failed, with reason) by the
// last completed one (Stable): that deployment becomes the primary again
// if its tasks still run (it keeps them), else a new deployment newID of
// its settings starts. It returns the ID rolled back to, or "" when
// there is nothing to roll back to (no completed deployment, or the
// primary is it).
func (s *Service) RollBack(reason, newID string, now time.Time) string {
	p := s.Primary()
	to := s.Stable
	if p == nil || to == nil || p.ID == to.ID {
		return ""
	}
	failed := p.ID
	s.TaskDefinition, s.NetworkConfiguration = to.TaskDefinition, to.NetworkConfiguration
	rb := "ECS deployment circuit breaker: rolling back to deploymentId " + to.ID + "."
	if reason != "" && !strings.HasPrefix(reason, "ECS deployment circuit breaker") {
		rb = "Rolling back to deploymentId " + to.ID + ": " + reason
	}
	target := to.ID
	if back := s.Deployment(to.ID); back != nil {
		p.Status, p.UpdatedAt = DeploymentActive, now
		back.Status, back.RolloutState, back.RolloutStateReason = DeploymentPrimary, RolloutInProgress, rb
		back.DesiredCount, back.UpdatedAt = s.DesiredCount, now
		i := slices.IndexFunc(s.Deployments, func(d Deployment) bool { return d.ID == to.ID })
		d := s.Deployments[i]
		s.Deployments = slices.Insert(slices.Delete(s.Deployments, i, i+1), 0, d)
		s.Steady = false
		s.rollBackShift(to.ID, now)
	} else {
		s.StartDeployment(newID, now)
		s.Primary().RolloutStateReason = rb
		target = newID
	}
	h := s.History(failed)
	failures := 0
	if h != nil {
		failures = h.FailureCount
	}
	s.DeploymentFailed(failed, reason, target, failures, now)
	return to.ID
}
