package ecsapi

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

type listServiceDeploymentsIn struct {
	Service   string   `json:"service"`
	Cluster   string   `json:"cluster"`
	Status    []string `json:"status"`
	CreatedAt *struct {
		Before *awsproto.EpochTime `json:"before"`
		After  *awsproto.EpochTime `json:"after"`
	} `json:"createdAt"`
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

type serviceDeploymentBriefOut struct {
	ServiceDeploymentARN     string              `json:"serviceDeploymentArn"`
	ServiceARN               string              `json:"serviceArn"`
	ClusterARN               string              `json:"clusterArn"`
	StartedAt                *awsproto.EpochTime `json:"startedAt,omitempty"`
	CreatedAt                *awsproto.EpochTime `json:"createdAt,omitempty"`
	FinishedAt               *awsproto.EpochTime `json:"finishedAt,omitempty"`
	TargetServiceRevisionARN string              `json:"targetServiceRevisionArn"`
	Status                   string              `json:"status"`
	StatusReason             string              `json:"statusReason,omitempty"`
}

type listServiceDeploymentsOut struct {
	ServiceDeployments []serviceDeploymentBriefOut `json:"serviceDeployments"`
	NextToken          string                      `json:"nextToken,omitempty"`
}

// sdNames returns a view's deployment and revision ARNs.
func sdNames(v ecscp.ServiceDeploymentView) (scope ecs.Scope, cluster, arn, revision string) {
	p, _ := ecs.ParseARN(v.Service.ARN)
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	cl := v.Service.ClusterName()
	return sc, cl, sc.ServiceDeploymentARN(cl, v.Service.Name, v.Deployment.ID()), sc.ServiceRevisionARN(cl, v.Service.Name, v.Deployment.ID())
}

func (a *API) listServiceDeployments(ctx context.Context, c *awsproto.Call, in *listServiceDeploymentsIn) (any, error) {
	f := ecscp.ServiceDeploymentFilter{Cluster: in.Cluster, Service: in.Service, Statuses: in.Status}
	if in.CreatedAt != nil {
		if in.CreatedAt.Before != nil {
			f.Before = in.CreatedAt.Before.Time
		}
		if in.CreatedAt.After != nil {
			f.After = in.CreatedAt.After.Time
		}
	}
	views, err := a.plane.ListServiceDeployments(ctx, a.scope(c), f)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(views))
	for i, v := range views {
		_, _, keys[i], _ = sdNames(v)
	}
	// paginate walks items in order; the history is newest first, so the
	// tokens name positions in that order.
	page, next, err := paginateOrdered(keys, in.NextToken, in.MaxResults, 20, 100)
	if err != nil {
		return nil, err
	}
	out := &listServiceDeploymentsOut{ServiceDeployments: []serviceDeploymentBriefOut{}, NextToken: next}
	for _, v := range views {
		_, _, arn, rev := sdNames(v)
		if !slices.Contains(page, arn) {
			continue
		}
		d := v.Deployment
		out.ServiceDeployments = append(out.ServiceDeployments, serviceDeploymentBriefOut{
			ServiceDeploymentARN: arn, ServiceARN: v.Service.ARN, ClusterARN: v.Service.ClusterARN,
			StartedAt: awsproto.Epoch(d.StartedAt), CreatedAt: awsproto.Epoch(d.CreatedAt), FinishedAt: awsproto.Epoch(d.FinishedAt),
			TargetServiceRevisionARN: rev, Status: d.Status, StatusReason: d.StatusReason,
		})
	}
	return out, nil
}

type describeServiceDeploymentsIn struct {
	ServiceDeploymentARNs []string `json:"serviceDeploymentArns"`
}

type serviceRevisionSummaryOut struct {
	ARN                              string   `json:"arn"`
	RequestedTaskCount               int      `json:"requestedTaskCount"`
	RunningTaskCount                 int      `json:"runningTaskCount"`
	PendingTaskCount                 int      `json:"pendingTaskCount"`
	RequestedTestTrafficWeight       *float64 `json:"requestedTestTrafficWeight,omitempty"`
	RequestedProductionTrafficWeight *float64 `json:"requestedProductionTrafficWeight,omitempty"`
}

type rollbackOut struct {
	Reason             string              `json:"reason,omitempty"`
	StartedAt          *awsproto.EpochTime `json:"startedAt,omitempty"`
	ServiceRevisionARN string              `json:"serviceRevisionArn,omitempty"`
}

type sdCircuitBreakerOut struct {
	Status       string `json:"status"`
	FailureCount int    `json:"failureCount"`
	Threshold    int    `json:"threshold"`
}

// sdAlarmsOut is ECS's ServiceDeploymentAlarms.
type sdAlarmsOut struct {
	Status              string   `json:"status"`
	AlarmNames          []string `json:"alarmNames,omitempty"`
	TriggeredAlarmNames []string `json:"triggeredAlarmNames,omitempty"`
}

type serviceDeploymentOut struct {
	ServiceDeploymentARN     string                      `json:"serviceDeploymentArn"`
	ServiceARN               string                      `json:"serviceArn"`
	ClusterARN               string                      `json:"clusterArn"`
	CreatedAt                *awsproto.EpochTime         `json:"createdAt,omitempty"`
	StartedAt                *awsproto.EpochTime         `json:"startedAt,omitempty"`
	FinishedAt               *awsproto.EpochTime         `json:"finishedAt,omitempty"`
	StoppedAt                *awsproto.EpochTime         `json:"stoppedAt,omitempty"`
	UpdatedAt                *awsproto.EpochTime         `json:"updatedAt,omitempty"`
	SourceServiceRevisions   []serviceRevisionSummaryOut `json:"sourceServiceRevisions"`
	TargetServiceRevision    serviceRevisionSummaryOut   `json:"targetServiceRevision"`
	Status                   string                      `json:"status"`
	StatusReason             string                      `json:"statusReason,omitempty"`
	LifecycleStage           string                      `json:"lifecycleStage,omitempty"`
	DeploymentConfiguration  deploymentConfigurationOut  `json:"deploymentConfiguration"`
	Rollback                 *rollbackOut                `json:"rollback,omitempty"`
	DeploymentCircuitBreaker *sdCircuitBreakerOut        `json:"deploymentCircuitBreaker,omitempty"`
	Alarms                   *sdAlarmsOut                `json:"alarms,omitempty"`
}

type describeServiceDeploymentsOut struct {
	ServiceDeployments []serviceDeploymentOut `json:"serviceDeployments"`
	Failures           []failure              `json:"failures"`
}

func (a *API) describeServiceDeployments(ctx context.Context, c *awsproto.Call, in *describeServiceDeploymentsIn) (any, error) {
	views, failures, err := a.plane.DescribeServiceDeployments(ctx, a.scope(c), in.ServiceDeploymentARNs)
	if err != nil {
		return nil, err
	}
	out := &describeServiceDeploymentsOut{ServiceDeployments: make([]serviceDeploymentOut, 0, len(views)), Failures: toFailures(failures)}
	for _, v := range views {
		out.ServiceDeployments = append(out.ServiceDeployments, toServiceDeploymentOut(v))
	}
	return out, nil
}

func toServiceDeploymentOut(v ecscp.ServiceDeploymentView) serviceDeploymentOut {
	sc, cl, arn, rev := sdNames(v)
	d, s := v.Deployment, v.Service
	dc := d.DeploymentConfiguration
	out := serviceDeploymentOut{
		ServiceDeploymentARN: arn, ServiceARN: s.ARN, ClusterARN: s.ClusterARN,
		CreatedAt: awsproto.Epoch(d.CreatedAt), StartedAt: awsproto.Epoch(d.StartedAt), FinishedAt: awsproto.Epoch(d.FinishedAt),
		StoppedAt: awsproto.Epoch(d.StoppedAt), UpdatedAt: awsproto.Epoch(d.UpdatedAt),
		SourceServiceRevisions: []serviceRevisionSummaryOut{},
		TargetServiceRevision:  serviceRevisionSummaryOut{ARN: rev},
		Status:                 d.Status, StatusReason: d.StatusReason,
		DeploymentConfiguration: toDeploymentConfigurationOut(dc),
	}
	// Counts of the revisions still in deployments[].
	for _, dep := range s.Deployments {
		sum := serviceRevisionSummaryOut{ARN: sc.ServiceRevisionARN(cl, s.Name, (&ecs.ServiceDeployment{DeploymentID: dep.ID}).ID()),
			RequestedTaskCount: dep.DesiredCount, RunningTaskCount: dep.RunningCount, PendingTaskCount: dep.PendingCount}
		sum.RequestedProductionTrafficWeight, sum.RequestedTestTrafficWeight = trafficWeights(s, dep.ID)
		switch {
		case dep.ID == d.DeploymentID:
			out.TargetServiceRevision = sum
		case d.Status == ecs.SDInProgress && dep.Status != ecs.DeploymentPrimary:
			out.SourceServiceRevisions = append(out.SourceServiceRevisions, sum)
		}
	}
	out.LifecycleStage = shiftStage(s, d)
	if d.RollbackTo != "" {
		out.Rollback = &rollbackOut{Reason: d.RollbackReason, StartedAt: awsproto.Epoch(d.RollbackStartedAt),
			ServiceRevisionARN: sc.ServiceRevisionARN(cl, s.Name, (&ecs.ServiceDeployment{DeploymentID: d.RollbackTo}).ID())}
	}
	if cb := dc.DeploymentCircuitBreaker; cb != nil {
		st := "DISABLED"
		switch {
		case cb.Enable && d.FailureCount > 0 && d.Status != ecs.SDInProgress:
			st = "TRIGGERED"
		case cb.Enable && d.Status == ecs.SDInProgress:
			st = "MONITORING"
		case cb.Enable:
			st = "MONITORING_COMPLETE"
		}
		out.DeploymentCircuitBreaker = &sdCircuitBreakerOut{Status: st, FailureCount: d.FailureCount, Threshold: ecs.DeploymentFailureThreshold(s.DesiredCount)}
	}
	out.Alarms = sdAlarms(dc.Alarms, &d)
	return out
}

// sdAlarms is a service deployment's alarms check: DISABLED unless its
// configuration enables alarms; TRIGGERED once alarms failed it; else
// MONITORING while it is in progress, MONITORING_COMPLETE after.
func sdAlarms(a *ecs.DeploymentAlarms, d *ecs.ServiceDeployment) *sdAlarmsOut {
	out := &sdAlarmsOut{Status: "DISABLED"}
	if a == nil {
		return out
	}
	out.AlarmNames = a.AlarmNames
	switch {
	case !a.Enable || len(a.AlarmNames) == 0:
	case len(d.TriggeredAlarms) > 0:
		out.Status, out.TriggeredAlarmNames = "TRIGGERED", d.TriggeredAlarms
	case d.Status == ecs.SDInProgress:
		out.Status = "MONITORING"
	default:
		out.Status = "MONITORING_COMPLETE"
	}
	return out
}

type stopServiceDeploymentIn struct {
	ServiceDeploymentARN string `json:"serviceDeploymentArn"`
	StopType             string `json:"stopType"`
}

type stopServiceDeploymentOut struct {
	ServiceDeploymentARN string `json:"serviceDeploymentArn"`
}

func (a *API) stopServiceDeployment(ctx context.Context, c *awsproto.Call, in *stopServiceDeploymentIn) (any, error) {
	arn, err := a.plane.StopServiceDeployment(ctx, a.scope(c), in.ServiceDeploymentARN, in.StopType)
	if err != nil {
		return nil, err
	}
	return &stopServiceDeploymentOut{ServiceDeploymentARN: arn}, nil
}

type updateTaskProtectionIn struct {
	Cluster           string   `json:"cluster"`
	Tasks             []string `json:"tasks"`
	ProtectionEnabled bool     `json:"protectionEnabled"`
	ExpiresInMinutes  *int     `json:"expiresInMinutes"`
}

type getTaskProtectionIn struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
}

type protectedTaskOut struct {
	TaskARN           string              `json:"taskArn"`
	ProtectionEnabled bool                `json:"protectionEnabled"`
	ExpirationDate    *awsproto.EpochTime `json:"expirationDate,omitempty"`
}

type taskProtectionOut struct {
	ProtectedTasks []protectedTaskOut `json:"protectedTasks"`
	Failures       []failure          `json:"failures"`
}

func toTaskProtectionOut(pts []ecscp.ProtectedTask, fs []ecscp.Failure) *taskProtectionOut {
	out := &taskProtectionOut{ProtectedTasks: make([]protectedTaskOut, 0, len(pts)), Failures: toFailures(fs)}
	for _, p := range pts {
		out.ProtectedTasks = append(out.ProtectedTasks, protectedTaskOut{TaskARN: p.TaskARN, ProtectionEnabled: p.Enabled, ExpirationDate: awsproto.Epoch(p.ExpirationDate)})
	}
	return out
}

func (a *API) updateTaskProtection(ctx context.Context, c *awsproto.Call, in *updateTaskProtectionIn) (any, error) {
	pts, fs, err := a.plane.UpdateTaskProtection(ctx, a.scope(c), in.Cluster, in.Tasks, in.ProtectionEnabled, in.ExpiresInMinutes)
	if err != nil {
		return nil, err
	}
	return toTaskProtectionOut(pts, fs), nil
}

func (a *API) getTaskProtection(ctx context.Context, c *awsproto.Call, in *getTaskProtectionIn) (any, error) {
	pts, fs, err := a.plane.GetTaskProtection(ctx, a.scope(c), in.Cluster, in.Tasks)
	if err != nil {
		return nil, err
	}
	return toTaskProtectionOut(pts, fs), nil
}
