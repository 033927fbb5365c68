package ecs

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// Task sets: a service with the EXTERNAL deployment controller has no
// deployments of its own; a third-party controller creates task sets
// (CreateTaskSet), sizes each as a percentage of the service's desired
// count (UpdateTaskSet), picks the one that serves production traffic
// (UpdateServicePrimaryTaskSet) and deletes the old ones (DeleteTaskSet).
// The service scheduler keeps each task set at its computed desired
// count, its tasks carrying startedBy = the task set's ID.
//
//	CreateTaskSet ─► ACTIVE ◄──UpdateServicePrimaryTaskSet (another)──┐
//	                   │ UpdateServicePrimaryTaskSet                   │
//	                   ▼                                               │
//	                PRIMARY ──────────────────────────────────────────┘
//	   DeleteTaskSet (ACTIVE or PRIMARY) ─► DRAINING ──no task left──► gone
const (
	TaskSetPrimary  = "PRIMARY"
	TaskSetActive   = "ACTIVE"
	TaskSetDraining = "DRAINING"

	StabilitySteady      = "STEADY_STATE"
	StabilityStabilizing = "STABILIZING"

	ScalePercent = "PERCENT"

	// MaxTaskSets is how many task sets a service may have (ECS's quota
	// of deployments per service).
	MaxTaskSets = 5
)

// Scale is a task set's size: a percentage of the service's desired
// count.
type Scale struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// TaskSet is one set of a service's tasks under the EXTERNAL deployment
// controller. The counts and stability are the scheduler's.
type TaskSet struct {
	ID                       string                     `json:"id"`
	ARN                      string                     `json:"taskSetArn"`
	ExternalID               string                     `json:"externalId,omitempty"`
	Status                   string                     `json:"status"`
	TaskDefinition           string                     `json:"taskDefinition"`
	ComputedDesiredCount     int                        `json:"computedDesiredCount"`
	PendingCount             int                        `json:"pendingCount"`
	RunningCount             int                        `json:"runningCount"`
	CreatedAt                time.Time                  `json:"createdAt"`
	UpdatedAt                time.Time                  `json:"updatedAt"`
	LaunchType               string                     `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                     `json:"platformVersion,omitempty"`
	PlatformFamily           string                     `json:"platformFamily,omitempty"`
	NetworkConfiguration     *NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	LoadBalancers            []LoadBalancer             `json:"loadBalancers,omitempty"`
	ServiceRegistries        []ServiceRegistry          `json:"serviceRegistries,omitempty"`
	Scale                    Scale                      `json:"scale"`
	StabilityStatus          string                     `json:"stabilityStatus"`
	StabilityStatusAt        time.Time                  `json:"stabilityStatusAt"`
	// Tags are kept with the task set (created with it in one write).
	Tags []Tag `json:"tags,omitempty"`
	// ClientToken is CreateTaskSet's idempotency token.
	ClientToken string `json:"clientToken,omitempty"`
}

// TaskSetSpec is what CreateTaskSet asks for, once its references are
// resolved.
type TaskSetSpec struct {
	TaskDefinition           *TaskDefinition
	ExternalID               string
	LaunchType               string
	CapacityProviderStrategy []CapacityProviderStrategy
	PlatformVersion          string
	NetworkConfiguration     *NetworkConfiguration
	LoadBalancers            []LoadBalancer
	ServiceRegistries        []ServiceRegistry
	Scale                    *Scale
	ClientToken              string
	Tags                     []Tag
}

// TaskSetARN returns the ARN of a task set.
func (s Scope) TaskSetARN(cluster, service, id string) string {
	return s.ARN("task-set/" + cluster + "/" + service + "/" + id)
}

// ComputedDesiredCount is desired × scale%, rounded up as ECS rounds it
// (1.2 tasks is 2).
func ComputedDesiredCount(desired int, sc Scale) int {
	n := float64(desired) * sc.Value / 100
	return int(math.Ceil(n - 1e-9))
}

// ValidateScale checks a task set's scale.
func ValidateScale(sc Scale) error {
	if sc.Unit != ScalePercent {
		return invalidParam("Invalid scale unit %q. Valid values: PERCENT.", sc.Unit)
	}
	if math.IsNaN(sc.Value) || sc.Value < 0 || sc.Value > 100 {
		return invalidParam("The scale value must be a number between 0 and 100.")
	}
	return nil
}

// IsExternal reports whether the service's deployments are a third-party
// controller's task sets.
func (s *Service) IsExternal() bool {
	return s.DeploymentController.Type == DeploymentControllerExternal
}

// TaskSet returns the task set with the given ID (nil: none).
func (s *Service) TaskSet(id string) *TaskSet {
	for i := range s.TaskSets {
		if s.TaskSets[i].ID == id {
			return &s.TaskSets[i]
		}
	}
	return nil
}

// TaskSetDeployment returns a task set as the deployment its tasks are
// started from (nil: no such task set).
func (s *Service) TaskSetDeployment(id string) *Deployment {
	ts := s.TaskSet(id)
	if ts == nil {
		return nil
	}
	return &Deployment{
		ID: ts.ID, Status: ts.Status, TaskDefinition: ts.TaskDefinition, DesiredCount: ts.ComputedDesiredCount,
		LaunchType: ts.LaunchType, CapacityProviderStrategy: ts.CapacityProviderStrategy,
		PlatformVersion: ts.PlatformVersion, PlatformFamily: ts.PlatformFamily, NetworkConfiguration: ts.NetworkConfiguration,
	}
}

// TaskLoadBalancers returns the load balancers a task started by
// startedBy registers with: its task set's under the EXTERNAL controller,
// else the service's.
func (s *Service) TaskLoadBalancers(startedBy string) []LoadBalancer {
	if !s.IsExternal() {
		return s.LoadBalancers
	}
	if ts := s.TaskSet(startedBy); ts != nil {
		return ts.LoadBalancers
	}
	return nil
}

// TargetLoadBalancers returns every load balancer entry the service's
// tasks may be registered with (its task sets' under the EXTERNAL
// controller), one per target group.
func (s *Service) TargetLoadBalancers() []LoadBalancer {
	if !s.IsExternal() {
		return s.LoadBalancers
	}
	var out []LoadBalancer
	for _, ts := range s.TaskSets {
		for _, lb := range ts.LoadBalancers {
			if !slices.ContainsFunc(out, func(o LoadBalancer) bool { return o.TargetGroupARN == lb.TargetGroupARN }) {
				out = append(out, lb)
			}
		}
	}
	return out
}

// newExternalService returns an EXTERNAL service: only the parameters a
// task set does not control may be given (ECS: "you can specify only
// parameters that aren't controlled at the task set level"); it has no
// deployment until a task set is created.
func newExternalService(sc Scope, cl *Cluster, spec ServiceSpec, now time.Time) (*Service, error) {
	if spec.SchedulingStrategy == SchedulingDaemon {
		return nil, invalidParam("The DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller.")
	}
	switch {
	case spec.TaskDefinition != nil:
		return nil, invalidParam("%s", externalParam("taskDefinition"))
	case spec.LaunchType != "":
		return nil, invalidParam("%s", externalParam("launchType"))
	case len(spec.CapacityProviderStrategy) > 0:
		return nil, invalidParam("%s", externalParam("capacityProviderStrategy"))
	case spec.PlatformVersion != "":
		return nil, invalidParam("%s", externalParam("platformVersion"))
	case len(spec.LoadBalancers) > 0:
		return nil, invalidParam("%s", externalParam("loadBalancers"))
	case spec.NetworkConfiguration != nil:
		return nil, invalidParam("%s", externalParam("networkConfiguration"))
	case len(spec.ServiceRegistries) > 0:
		return nil, invalidParam("%s", externalParam("serviceRegistries"))
	}
	desired := 0
	if spec.DesiredCount != nil {
		desired = *spec.DesiredCount
	}
	if err := ValidateDesiredCount(desired); err != nil {
		return nil, err
	}
	dc, err := ServiceDeploymentConfiguration(SchedulingReplica, spec.DeploymentConfiguration)
	if err != nil {
		return nil, err
	}
	if dc.Strategy != DeploymentStrategyRolling {
		return nil, invalidParam("The %s deployment strategy needs the ECS deployment controller.", dc.Strategy)
	}
	if err := validateServiceSettings(spec); err != nil {
		return nil, err
	}
	if len(spec.PlacementStrategy) > 0 || len(spec.PlacementConstraints) > 0 {
		if err := ValidateRunRequest(&TaskDefinition{Compatibilities: []string{LaunchEC2}}, RunRequest{LaunchType: LaunchEC2,
			PlacementConstraints: spec.PlacementConstraints, PlacementStrategy: spec.PlacementStrategy}); err != nil {
			return nil, err
		}
	}
	s := &Service{
		ARN: sc.ServiceARN(cl.Name, spec.Name), Name: spec.Name, ClusterARN: cl.ARN,
		Status: ServiceActive, DesiredCount: desired, DeploymentConfiguration: dc,
		Deployments: []Deployment{}, RoleARN: spec.Role, Events: []ServiceEvent{}, CreatedAt: now,
		PlacementConstraints: spec.PlacementConstraints, PlacementStrategy: spec.PlacementStrategy,
		HealthCheckGracePeriodSeconds: spec.HealthCheckGracePeriodSeconds, SchedulingStrategy: SchedulingReplica,
		DeploymentController: DeploymentController{Type: DeploymentControllerExternal}, CreatedBy: spec.CreatedBy,
		EnableECSManagedTags: spec.EnableECSManagedTags, PropagateTags: spec.PropagateTags,
		EnableExecuteCommand: spec.EnableExecuteCommand, ClientToken: spec.ClientToken,
	}
	if s.PropagateTags == "" {
		s.PropagateTags = "NONE"
	}
	return s, nil
}

func externalParam(name string) string {
	return name + " cannot be specified for a service with the EXTERNAL deployment controller: it is a parameter of each task set (CreateTaskSet)."
}

// AddTaskSet validates spec and adds a new ACTIVE task set id to s.
func (s *Service) AddTaskSet(sc Scope, id string, spec TaskSetSpec, now time.Time) (*TaskSet, error) {
	if spec.TaskDefinition == nil {
		return nil, invalidParam("taskDefinition is required.")
	}
	scale := Scale{Value: 100, Unit: ScalePercent}
	if spec.Scale != nil {
		scale = *spec.Scale
		if scale.Unit == "" {
			scale.Unit = ScalePercent
		}
	}
	if err := ValidateScale(scale); err != nil {
		return nil, err
	}
	if len(spec.ClientToken) > 36 {
		return nil, invalidParam("clientToken can be up to 36 characters.")
	}
	if err := ValidateTags(spec.Tags); err != nil {
		return nil, err
	}
	if len(spec.ExternalID) > 255 {
		return nil, invalidParam("externalId can be up to 255 characters.")
	}
	if err := ValidateServiceTasks(spec.TaskDefinition, spec.LaunchType, spec.CapacityProviderStrategy, spec.PlatformVersion,
		spec.NetworkConfiguration, s.PlacementConstraints, s.PlacementStrategy); err != nil {
		return nil, err
	}
	if err := ValidateLoadBalancers(spec.TaskDefinition, spec.LoadBalancers); err != nil {
		return nil, err
	}
	if len(s.TaskSets) >= MaxTaskSets {
		return nil, fault.New(fault.InvalidParameter, "%d deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.", len(s.TaskSets))
	}
	ts := TaskSet{
		ID: id, ARN: sc.TaskSetARN(s.ClusterName(), s.Name, id), ExternalID: spec.ExternalID,
		Status: TaskSetActive, TaskDefinition: spec.TaskDefinition.ARN,
		ComputedDesiredCount: ComputedDesiredCount(s.DesiredCount, scale),
		CreatedAt:            now, UpdatedAt: now, LaunchType: spec.LaunchType, CapacityProviderStrategy: spec.CapacityProviderStrategy,
		NetworkConfiguration: spec.NetworkConfiguration, LoadBalancers: spec.LoadBalancers, ServiceRegistries: spec.ServiceRegistries,
		Scale: scale, StabilityStatus: StabilityStabilizing, StabilityStatusAt: now, Tags: spec.Tags, ClientToken: spec.ClientToken,
	}
	if ts.ComputedDesiredCount == 0 {
		ts.StabilityStatus = StabilitySteady
	}
	if ts.LaunchType == LaunchFargate || slices.ContainsFunc(ts.CapacityProviderStrategy, func(c CapacityProviderStrategy) bool {
		return c.CapacityProvider == CapacityFargate || c.CapacityProvider == CapacityFargateSpot
	}) {
		ts.PlatformVersion, ts.PlatformFamily = "LATEST", FargatePlatformFamily
		if spec.PlatformVersion != "" {
			ts.PlatformVersion = spec.PlatformVersion
		}
	}
	s.TaskSets = append(s.TaskSets, ts)
	s.Steady = false
	return &s.TaskSets[len(s.TaskSets)-1], nil
}

// ScaleTaskSet sets a task set's scale (UpdateTaskSet).
func (s *Service) ScaleTaskSet(id string, scale Scale, now time.Time) (*TaskSet, error) {
	if scale.Unit == "" {
		scale.Unit = ScalePercent
	}
	if err := ValidateScale(scale); err != nil {
		return nil, err
	}
	ts := s.TaskSet(id)
	if ts == nil {
		return nil, TaskSetNotFound()
	}
	if ts.Status == TaskSetDraining {
		return nil, invalidParam("The task set %s is DRAINING and cannot be updated.", id)
	}
	ts.Scale, ts.UpdatedAt = scale, now
	s.resizeTaskSets(now)
	return ts, nil
}

// resizeTaskSets recomputes each task set's desired count from the
// service's (a change makes it STABILIZING).
func (s *Service) resizeTaskSets(now time.Time) {
	for i := range s.TaskSets {
		ts := &s.TaskSets[i]
		if ts.Status == TaskSetDraining {
			continue
		}
		if n := ComputedDesiredCount(s.DesiredCount, ts.Scale); n != ts.ComputedDesiredCount {
			ts.ComputedDesiredCount, ts.UpdatedAt = n, now
			if ts.StabilityStatus != StabilityStabilizing {
				ts.StabilityStatus, ts.StabilityStatusAt = StabilityStabilizing, now
			}
		}
	}
	s.Steady = false
}

// SetDesiredCount sets an EXTERNAL service's desired count and its task
// sets' computed desired counts.
func (s *Service) SetDesiredCount(n int, now time.Time) {
	s.DesiredCount = n
	if s.IsExternal() {
		s.resizeTaskSets(now)
	}
}

// SetPrimaryTaskSet makes a task set PRIMARY (the others ACTIVE) and the
// service describe its parameters.
func (s *Service) SetPrimaryTaskSet(id string, now time.Time) (*TaskSet, error) {
	ts := s.TaskSet(id)
	if ts == nil {
		return nil, TaskSetNotFound()
	}
	if ts.Status == TaskSetDraining {
		return nil, invalidParam("The task set %s is DRAINING and cannot be made primary.", id)
	}
	for i := range s.TaskSets {
		o := &s.TaskSets[i]
		switch {
		case o.ID == id && o.Status != TaskSetPrimary:
			o.Status, o.UpdatedAt = TaskSetPrimary, now
		case o.ID != id && o.Status == TaskSetPrimary:
			o.Status, o.UpdatedAt = TaskSetActive, now
		}
	}
	s.TaskDefinition, s.LaunchType, s.CapacityProviderStrategy = ts.TaskDefinition, ts.LaunchType, ts.CapacityProviderStrategy
	s.PlatformVersion, s.PlatformFamily, s.NetworkConfiguration = ts.PlatformVersion, ts.PlatformFamily, ts.NetworkConfiguration
	s.LoadBalancers, s.ServiceRegistries = ts.LoadBalancers, ts.ServiceRegistries
	return ts, nil
}

// DeleteTaskSet makes a task set DRAINING: the scheduler deregisters and
// stops its tasks, then removes it. Unless force, it must have been
// scaled down to zero first.
func (s *Service) DeleteTaskSet(id string, force bool, now time.Time) (*TaskSet, error) {
	ts := s.TaskSet(id)
	if ts == nil {
		return nil, TaskSetNotFound()
	}
	if ts.Status == TaskSetDraining {
		return ts, nil
	}
	if !force && (ts.Scale.Value > 0 || ts.RunningCount+ts.PendingCount > 0) {
		return nil, invalidParam("The task set %s cannot be deleted while it is scaled above 0 or has tasks; scale it to 0 first or use force.", id)
	}
	if ts.Status == TaskSetPrimary {
		s.TaskDefinition, s.LaunchType, s.CapacityProviderStrategy = "", "", nil
		s.PlatformVersion, s.PlatformFamily, s.NetworkConfiguration = "", "", nil
		s.LoadBalancers, s.ServiceRegistries = nil, nil
	}
	ts.Status, ts.ComputedDesiredCount, ts.UpdatedAt = TaskSetDraining, 0, now
	ts.StabilityStatus, ts.StabilityStatusAt = StabilityStabilizing, now
	s.Steady = false
	return ts, nil
}

// DrainTaskSets makes every task set DRAINING (DeleteService of an
// EXTERNAL service): the scheduler stops their tasks.
func (s *Service) DrainTaskSets(now time.Time) {
	for i := range s.TaskSets {
		ts := &s.TaskSets[i]
		if ts.Status != TaskSetDraining {
			ts.Status, ts.ComputedDesiredCount, ts.UpdatedAt = TaskSetDraining, 0, now
			ts.StabilityStatus, ts.StabilityStatusAt = StabilityStabilizing, now
		}
	}
}

// TaskSetNotFound is the error for a task set a service does not have.
func TaskSetNotFound() error {
	return fault.New(fault.NotFound, "The specified task set does not exist.").WithCode("TaskSetNotFoundException")
}

// ParseTaskSetRef returns the ID a task set reference (ID or ARN) names;
// an ARN must be of the given cluster and service.
func ParseTaskSetRef(ref, cluster, service string) (string, error) {
	if ref == "" {
		return "", invalidParam("taskSet is required.")
	}
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		p, ok := ParseARN(ref)
		rest, isTS := strings.CutPrefix(p.Resource, "task-set/")
		parts := strings.SplitN(rest, "/", 3)
		if !ok || p.Service != "ecs" || !isTS || len(parts) != 3 {
			return "", invalidParam("Task Set Identifier is invalid")
		}
		if parts[0] != cluster || parts[1] != service {
			return "", invalidParam("Task set %s is not in service %s of cluster %s.", ref, service, cluster)
		}
		id = parts[2]
	}
	digits, ok := strings.CutPrefix(id, "ecs-svc/")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", invalidParam("Task Set Identifier is invalid")
	}
	return id, nil
}
