package ecscp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// CreateServiceInput is a CreateService request in domain terms.
type CreateServiceInput struct {
	Cluster                       string
	TaskDefinition                string
	Spec                          ecs.ServiceSpec // TaskDefinition and CreatedBy are filled in here
	CapacityProviderStrategyGiven bool
}

// ServiceTags is a service and its tags.
type ServiceTags struct {
	Service *ecs.Service
	Tags    []ecs.Tag
}

// newDeploymentID returns a deployment ID in ECS's form: ecs-svc/ and 19
// digits.
func newDeploymentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:]) % 9_000_000_000_000_000_000
	return "ecs-svc/" + strconv.FormatUint(n+1_000_000_000_000_000_000, 10)
}

// CreateService validates and stores a new ACTIVE service; the scheduler
// starts its tasks.
func (p *Plane) CreateService(ctx context.Context, sc ecs.Scope, in CreateServiceInput) (*ServiceTags, error) {
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	spec := in.Spec
	if isExternal(spec) {
		return p.createExternalService(ctx, sc, cl, in) // tasksets.go
	}
	if spec.TaskDefinition, err = p.launchDefaults(ctx, sc, cl, in.TaskDefinition, &spec.LaunchType, &spec.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	spec.CreatedBy = "arn:aws:iam::" + sc.Account + ":root"
	svc, err := ecs.NewService(sc, cl, spec, newDeploymentID(), p.now())
	if err != nil {
		return nil, err
	}
	if err := p.checkShiftResources(ctx, sc, svc.LoadBalancers); err != nil {
		return nil, err
	}
	images, err := p.resolveImages(ctx, sc, spec.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if pd := svc.Primary(); pd != nil {
		pinImages(svc, pd.ID, images)
	}
	return p.storeNewService(ctx, sc, svc, spec.Tags, "desiredCount", svc.DesiredCount)
}

// launchDefaults resolves the task definition ref of a new service or
// task set (required; runnable) and checks its launch type or capacity
// provider strategy against cluster cl; with neither, it sets the
// cluster's default strategy, or else the EC2 launch type, as ECS does.
func (p *Plane) launchDefaults(ctx context.Context, sc ecs.Scope, cl *ecs.Cluster, ref string, launchType *string, strategy *[]ecs.CapacityProviderStrategy) (*ecs.TaskDefinition, error) {
	if ref == "" {
		return nil, fault.New(fault.InvalidParameter, "taskDefinition is required.")
	}
	td, err := p.runnableDefinition(ctx, sc, ref)
	if err != nil {
		return nil, err
	}
	if _, _, err := resolveLaunch(cl, *launchType, *strategy); err != nil {
		return nil, err
	}
	if *launchType == "" && len(*strategy) == 0 {
		if len(cl.DefaultCapacityProviderStrategy) > 0 {
			*strategy = cl.DefaultCapacityProviderStrategy
		} else {
			*launchType = ecs.LaunchEC2
		}
	}
	return td, nil
}

// storeNewService stores svc with tags and returns it with its tags. A
// repeated CreateService that ECS treats as idempotent (the same service
// already there) returns the stored one and its stored tags; a new one is
// logged with logArgs after the cluster and service names.
func (p *Plane) storeNewService(ctx context.Context, sc ecs.Scope, svc *ecs.Service, tags []ecs.Tag, logArgs ...any) (*ServiceTags, error) {
	out, created, err := p.repo.CreateService(ctx, sc, svc, tags)
	if err != nil {
		return nil, err
	}
	if !created {
		if tags, err = p.repo.Tags(ctx, out.ARN); err != nil {
			return nil, err
		}
	} else {
		p.log.Info("service created", append([]any{"cluster", svc.ClusterName(), "service", svc.Name}, logArgs...)...)
	}
	return &ServiceTags{Service: out, Tags: tags}, nil
}

// DescribeServices returns the services refs name (names or ARNs, at most
// 10); missing ones are failures with reason MISSING.
func (p *Plane) DescribeServices(ctx context.Context, sc ecs.Scope, cluster string, refs []string, withTags bool) ([]ServiceTags, []Failure, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) == 0 {
		return nil, nil, fault.New(fault.InvalidParameter, "services can not be empty.")
	}
	if len(refs) > 10 {
		return nil, nil, fault.New(fault.InvalidParameter, "services can have at most 10 items.")
	}
	if _, err := p.repo.Cluster(ctx, sc, name); err != nil {
		return nil, nil, err
	}
	var out []ServiceTags
	var failures []Failure
	for _, ref := range refs {
		sn, err := ecs.ServiceName(ref, name)
		if err != nil {
			return nil, nil, err
		}
		s, err := p.repo.Service(ctx, sc, name, sn)
		if fault.Is(err, fault.NotFound) {
			failures = append(failures, Failure{ARN: sc.ServiceARN(name, sn), Reason: "MISSING"})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		st := ServiceTags{Service: s}
		if withTags {
			if st.Tags, err = p.repo.Tags(ctx, s.ARN); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, st)
	}
	return out, failures, nil
}

// ServiceFilter selects ListServices's services.
type ServiceFilter struct {
	Cluster            string
	LaunchType         string
	SchedulingStrategy string
}

// ListServices returns the ARNs of a cluster's ACTIVE and DRAINING
// services, by ARN.
func (p *Plane) ListServices(ctx context.Context, sc ecs.Scope, f ServiceFilter) ([]string, error) {
	name, err := ecs.ClusterName(f.Cluster)
	if err != nil {
		return nil, err
	}
	switch f.LaunchType {
	case "", ecs.LaunchEC2, ecs.LaunchFargate, ecs.LaunchExternal:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid launchType %q. Valid values: EC2, FARGATE, EXTERNAL.", f.LaunchType)
	}
	switch f.SchedulingStrategy {
	case "", ecs.SchedulingReplica, ecs.SchedulingDaemon:
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid schedulingStrategy %q. Valid values: REPLICA, DAEMON.", f.SchedulingStrategy)
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	svcs, err := p.repo.Services(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range svcs {
		switch {
		case s.Status == ecs.ServiceInactive:
		case f.LaunchType != "" && s.LaunchType != f.LaunchType:
		case f.SchedulingStrategy != "" && s.SchedulingStrategy != f.SchedulingStrategy:
		default:
			out = append(out, s.ARN)
		}
	}
	slices.Sort(out)
	return out, nil
}

// UpdateServiceInput is an UpdateService request in domain terms; nil
// fields are left as they are.
type UpdateServiceInput struct {
	Cluster                       string
	Service                       string
	DesiredCount                  *int
	TaskDefinition                string
	CapacityProviderStrategy      []ecs.CapacityProviderStrategy
	DeploymentConfiguration       *ecs.DeploymentConfiguration
	NetworkConfiguration          *ecs.NetworkConfiguration
	PlacementConstraints          []ecs.PlacementConstraint
	PlacementStrategy             []ecs.PlacementStrategy
	PlatformVersion               string
	ForceNewDeployment            bool
	HealthCheckGracePeriodSeconds *int
	DeploymentController          *ecs.DeploymentController
	EnableExecuteCommand          *bool
	EnableECSManagedTags          *bool
	LoadBalancers                 []ecs.LoadBalancer
	PropagateTags                 string
	ServiceRegistries             []ecs.ServiceRegistry
}

func serviceNotActive() error {
	return fault.New(fault.Invalid, "Service was not ACTIVE.").WithCode("ServiceNotActiveException")
}

// UpdateService changes an ACTIVE service. A new task definition, network
// configuration, capacity provider strategy, placement, platform version
// or load balancers, or ForceNewDeployment, starts a new deployment.
func (p *Plane) UpdateService(ctx context.Context, sc ecs.Scope, in UpdateServiceInput) (*ecs.Service, error) {
	cluster, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := ecs.ServiceName(in.Service, cluster)
	if err != nil {
		return nil, err
	}
	cl, err := p.repo.ActiveCluster(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	if in.DesiredCount != nil {
		if err := ecs.ValidateDesiredCount(*in.DesiredCount); err != nil {
			return nil, err
		}
	}
	if err := ecs.ValidateGracePeriod(in.HealthCheckGracePeriodSeconds); err != nil {
		return nil, err
	}
	if in.DeploymentController != nil && in.DeploymentController.Type != ecs.DeploymentControllerECS {
		return nil, fault.New(fault.Unsupported, "Changing the deployment controller to %s is not supported by berth.", in.DeploymentController.Type)
	}
	switch in.PropagateTags {
	case "", "NONE", "SERVICE", "TASK_DEFINITION":
	default:
		return nil, fault.New(fault.InvalidParameter, "Invalid propagateTags value %q. Valid values: TASK_DEFINITION, SERVICE, NONE.", in.PropagateTags)
	}
	var td *ecs.TaskDefinition
	if in.TaskDefinition != "" {
		if td, err = p.runnableDefinition(ctx, sc, in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	if len(in.CapacityProviderStrategy) > 0 {
		if _, _, err := resolveLaunch(cl, "", in.CapacityProviderStrategy); err != nil {
			return nil, err
		}
	}
	cur, err := p.repo.Service(ctx, sc, cluster, name)
	if err != nil {
		return nil, err
	}
	if cur.IsExternal() {
		return p.updateExternalService(ctx, sc, cluster, name, in) // tasksets.go
	}
	if in.LoadBalancers != nil {
		if err := p.checkShiftResources(ctx, sc, in.LoadBalancers); err != nil {
			return nil, err
		}
	}
	if td == nil {
		// The current definition, to validate the new settings against.
		if td, err = p.LookupTaskDefinition(ctx, sc, cur.TaskDefinition); err != nil {
			return nil, err
		}
	}
	images, err := p.resolveImages(ctx, sc, td)
	if err != nil {
		return nil, err
	}
	now := p.now()
	depID := newDeploymentID()
	s, _, err := p.repo.UpdateService(ctx, sc, cluster, name, func(s *ecs.Service) error {
		if s.Status != ecs.ServiceActive {
			return serviceNotActive()
		}
		if err := applyServiceUpdate(s, td, in, depID, now); err != nil {
			return err
		}
		pinImages(s, depID, images) // a deployment started: its images
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// applyServiceUpdate changes s as in asks, validating the result against
// td (the new or current task definition).
func applyServiceUpdate(s *ecs.Service, td *ecs.TaskDefinition, in UpdateServiceInput, depID string, now time.Time) error {
	redeploy := in.ForceNewDeployment
	set := func(changed bool) {
		if changed {
			redeploy = true
		}
	}
	if in.DesiredCount != nil {
		if s.SchedulingStrategy == ecs.SchedulingDaemon {
			return fault.New(fault.InvalidParameter, "The desired count of a service with the DAEMON scheduling strategy is the number of its container instances; it cannot be set.")
		}
		s.DesiredCount = *in.DesiredCount
	}
	if td.ARN != s.TaskDefinition {
		s.TaskDefinition = td.ARN
		redeploy = true
	}
	if in.NetworkConfiguration != nil {
		set(!reflect.DeepEqual(in.NetworkConfiguration, s.NetworkConfiguration))
		s.NetworkConfiguration = in.NetworkConfiguration
	}
	if len(in.CapacityProviderStrategy) > 0 {
		set(!reflect.DeepEqual(in.CapacityProviderStrategy, s.CapacityProviderStrategy))
		s.CapacityProviderStrategy, s.LaunchType = in.CapacityProviderStrategy, ""
	}
	if in.PlacementConstraints != nil {
		set(!reflect.DeepEqual(in.PlacementConstraints, s.PlacementConstraints))
		s.PlacementConstraints = in.PlacementConstraints
	}
	if in.PlacementStrategy != nil {
		set(!reflect.DeepEqual(in.PlacementStrategy, s.PlacementStrategy))
		s.PlacementStrategy = in.PlacementStrategy
	}
	if in.PlatformVersion != "" {
		set(in.PlatformVersion != s.PlatformVersion)
		s.PlatformVersion = in.PlatformVersion
	}
	if in.LoadBalancers != nil {
		set(!reflect.DeepEqual(in.LoadBalancers, s.LoadBalancers))
		s.LoadBalancers = in.LoadBalancers
	}
	if in.ServiceRegistries != nil {
		s.ServiceRegistries = in.ServiceRegistries
	}
	if in.DeploymentConfiguration != nil {
		dc := mergeDeploymentConfiguration(s.DeploymentConfiguration, *in.DeploymentConfiguration)
		out, err := ecs.ServiceDeploymentConfiguration(s.SchedulingStrategy, &dc)
		if err != nil {
			return err
		}
		s.DeploymentConfiguration = out
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		s.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableExecuteCommand != nil {
		set(*in.EnableExecuteCommand != s.EnableExecuteCommand)
		s.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.EnableECSManagedTags != nil {
		s.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.PropagateTags != "" {
		s.PropagateTags = in.PropagateTags
	}
	if err := ecs.ValidateServiceTasks(td, s.LaunchType, s.CapacityProviderStrategy, platformOf(s), s.NetworkConfiguration, s.PlacementConstraints, s.PlacementStrategy); err != nil {
		return err
	}
	if err := ecs.ValidateLoadBalancers(td, s.LoadBalancers); err != nil {
		return err
	}
	if err := ecs.ValidateShiftLoadBalancers(s.DeploymentConfiguration.Strategy, s.LoadBalancers); err != nil {
		return err
	}
	if redeploy {
		s.StartDeployment(depID, now)
	}
	if pd := s.Primary(); pd != nil {
		pd.DesiredCount = s.DesiredCount
	}
	s.Steady = false
	return nil
}

// platformOf is the platform version to validate: "LATEST" is any.
func platformOf(s *ecs.Service) string {
	if s.PlatformVersion == "LATEST" {
		return ""
	}
	return s.PlatformVersion
}

// mergeDeploymentConfiguration applies the fields UpdateService gave.
func mergeDeploymentConfiguration(cur, in ecs.DeploymentConfiguration) ecs.DeploymentConfiguration {
	out := cur
	if in.DeploymentCircuitBreaker != nil {
		out.DeploymentCircuitBreaker = in.DeploymentCircuitBreaker
	}
	if in.MaximumPercent != nil {
		out.MaximumPercent = in.MaximumPercent
	}
	if in.MinimumHealthyPercent != nil {
		out.MinimumHealthyPercent = in.MinimumHealthyPercent
	}
	if in.Alarms != nil {
		out.Alarms = in.Alarms
	}
	if in.Strategy != "" && in.Strategy != out.Strategy {
		out.Strategy = in.Strategy
		// The other strategy's settings do not carry over.
		out.LinearConfiguration, out.CanaryConfiguration = nil, nil
	}
	if in.LinearConfiguration != nil {
		out.LinearConfiguration = in.LinearConfiguration
	}
	if in.CanaryConfiguration != nil {
		out.CanaryConfiguration = in.CanaryConfiguration
	}
	if in.BakeTimeInMinutes != nil {
		out.BakeTimeInMinutes = in.BakeTimeInMinutes
	}
	out.LifecycleHooks = in.LifecycleHooks
	return out
}

// DeleteService makes an ACTIVE service DRAINING (the scheduler stops its
// tasks, then makes it INACTIVE). It refuses while the desired count is
// above 0 unless force. A DRAINING service is returned as it is (its
// model declares no ServiceNotActiveException); an INACTIVE one is not
// found.
func (p *Plane) DeleteService(ctx context.Context, sc ecs.Scope, cluster, ref string, force bool) (*ecs.Service, error) {
	cname, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, err
	}
	name, err := ecs.ServiceName(ref, cname)
	if err != nil {
		return nil, err
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, cname); err != nil {
		return nil, err
	}
	s, _, err := p.repo.UpdateService(ctx, sc, cname, name, func(s *ecs.Service) error {
		switch s.Status {
		case ecs.ServiceDraining:
			return ecsstore.ErrNoChange // already being deleted: described as it is
		case ecs.ServiceInactive:
			return ecsstore.ServiceNotFound()
		}
		if s.DesiredCount > 0 && !force {
			return fault.New(fault.InvalidParameter, "The service cannot be stopped while it is scaled above 0.")
		}
		s.Status = ecs.ServiceDraining
		s.DesiredCount = 0
		if pd := s.Primary(); pd != nil {
			pd.DesiredCount = 0
		}
		s.DrainTaskSets(p.now()) // EXTERNAL: its task sets go with it
		s.Steady = false
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.log.Info("service draining", "cluster", cname, "service", name)
	return s, nil
}

// checkService verifies that a service exists and is not INACTIVE; rest
// is "<cluster>/<name>".
func (p *Plane) checkService(ctx context.Context, sc ecs.Scope, rest string) error {
	cluster, name, ok := strings.Cut(rest, "/")
	if !ok || cluster == "" || name == "" {
		return fault.New(fault.InvalidParameter, "The service ARN must be in the long format (service/<cluster>/<name>).")
	}
	s, err := p.repo.Service(ctx, sc, cluster, name)
	if err == nil && s.Status == ecs.ServiceInactive {
		return fault.NotFoundf("resource", "not found")
	}
	return err
}

// ServiceDeploymentView is a service deployment with its service.
type ServiceDeploymentView struct {
	Service    *ecs.Service
	Deployment ecs.ServiceDeployment
}

// ServiceDeploymentFilter selects ListServiceDeployments's entries.
type ServiceDeploymentFilter struct {
	Cluster, Service string
	Statuses         []string
	Before, After    time.Time // zero: no bound
}

var serviceDeploymentStatuses = []string{ecs.SDPending, ecs.SDSuccessful, ecs.SDStopped, "STOP_REQUESTED", ecs.SDInProgress,
	"ROLLBACK_REQUESTED", ecs.SDRollbackInProgress, ecs.SDRollbackSuccessful, ecs.SDRollbackFailed}

// ListServiceDeployments returns a service's deployment history, newest
// first.
func (p *Plane) ListServiceDeployments(ctx context.Context, sc ecs.Scope, f ServiceDeploymentFilter) ([]ServiceDeploymentView, error) {
	cname, err := ecs.ClusterName(f.Cluster)
	if err != nil {
		return nil, err
	}
	name, err := ecs.ServiceName(f.Service, cname)
	if err != nil {
		return nil, err
	}
	for _, st := range f.Statuses {
		if !slices.Contains(serviceDeploymentStatuses, st) {
			return nil, fault.New(fault.InvalidParameter, "Invalid status %q. Valid values: %s.", st, strings.Join(serviceDeploymentStatuses, ", "))
		}
	}
	if _, err := p.repo.Cluster(ctx, sc, cname); err != nil {
		return nil, err
	}
	s, err := p.repo.Service(ctx, sc, cname, name)
	if err != nil {
		return nil, err
	}
	var out []ServiceDeploymentView
	for _, d := range s.ServiceDeployments {
		switch {
		case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, d.Status):
		case !f.Before.IsZero() && !d.CreatedAt.Before(f.Before):
		case !f.After.IsZero() && !d.CreatedAt.After(f.After):
		default:
			out = append(out, ServiceDeploymentView{Service: s, Deployment: d})
		}
	}
	return out, nil
}

// DescribeServiceDeployments returns the service deployments arns name
// (at most 20); missing ones are failures with reason MISSING.
func (p *Plane) DescribeServiceDeployments(ctx context.Context, sc ecs.Scope, arns []string) ([]ServiceDeploymentView, []Failure, error) {
	if len(arns) == 0 || len(arns) > 20 {
		return nil, nil, fault.New(fault.InvalidParameter, "serviceDeploymentArns must have between 1 and 20 items.")
	}
	var out []ServiceDeploymentView
	failures, err := p.describeHistory(ctx, sc, arns, "service-deployment", "service deployment", func(s *ecs.Service, d ecs.ServiceDeployment) {
		out = append(out, ServiceDeploymentView{Service: s, Deployment: d})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, failures, nil
}

// historyRef is a parsed service deployment or service revision ARN:
// both name an entry of a service's deployment history.
type historyRef struct {
	cluster, service, id string
	inScope              bool // the ARN's account and region are the caller's
}

// parseHistoryARN parses arn as an ECS ARN whose resource is
// kind/cluster/service/id; what names the kind in the error.
func parseHistoryARN(sc ecs.Scope, arn, kind, what string) (historyRef, error) {
	pa, ok := ecs.ParseARN(arn)
	rest, isKind := strings.CutPrefix(pa.Resource, kind+"/")
	parts := strings.Split(rest, "/")
	if !ok || pa.Service != "ecs" || !isKind || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return historyRef{}, fault.New(fault.InvalidParameter, "Invalid %s ARN %q.", what, arn)
	}
	return historyRef{cluster: parts[0], service: parts[1], id: parts[2], inScope: pa.Account == sc.Account && pa.Region == sc.Region}, nil
}

// historyIndex is the index in s's deployment history of the entry id
// names, or -1.
func historyIndex(s *ecs.Service, id string) int {
	return slices.IndexFunc(s.ServiceDeployments, func(d ecs.ServiceDeployment) bool { return d.ID() == id })
}

// describeHistory resolves arns (ARNs of kind, see parseHistoryARN) to
// deployment history entries, calling found for each in order; missing
// ones are failures with reason MISSING. A malformed ARN fails the call.
func (p *Plane) describeHistory(ctx context.Context, sc ecs.Scope, arns []string, kind, what string, found func(*ecs.Service, ecs.ServiceDeployment)) ([]Failure, error) {
	var failures []Failure
	for _, arn := range arns {
		ref, err := parseHistoryARN(sc, arn, kind, what)
		if err != nil {
			return nil, err
		}
		if !ref.inScope {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		s, err := p.repo.Service(ctx, sc, ref.cluster, ref.service)
		if fault.Is(err, fault.NotFound) {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		if err != nil {
			return nil, err
		}
		i := historyIndex(s, ref.id)
		if i < 0 {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		found(s, s.ServiceDeployments[i])
	}
	return failures, nil
}

// StopServiceDeployment stops an in-progress service deployment by
// rolling back to the last completed one (stopType ROLLBACK, the only one
// ECS accepts).
func (p *Plane) StopServiceDeployment(ctx context.Context, sc ecs.Scope, arn, stopType string) (string, error) {
	switch stopType {
	case "", "ROLLBACK":
	case "ABORT":
		return "", fault.New(fault.Unsupported, "The ABORT stop type is not supported; use ROLLBACK.")
	default:
		return "", fault.New(fault.InvalidParameter, "Invalid stopType %q. Valid values: ROLLBACK.", stopType)
	}
	ref, err := parseHistoryARN(sc, arn, "service-deployment", "service deployment")
	if err != nil {
		return "", err
	}
	notFound := fault.NotFoundf("service-deployment", "The service deployment %s was not found.", arn).WithResource("service-deployment")
	if !ref.inScope {
		return "", notFound
	}
	now := p.now()
	newID := newDeploymentID()
	_, _, err = p.repo.UpdateService(ctx, sc, ref.cluster, ref.service, func(s *ecs.Service) error {
		i := historyIndex(s, ref.id)
		if i < 0 {
			return notFound
		}
		h := s.ServiceDeployments[i]
		pd := s.Primary()
		if s.Status != ecs.ServiceActive || h.Status != ecs.SDInProgress || pd == nil || pd.ID != h.DeploymentID {
			return fault.New(fault.Invalid, "The service deployment is %s: only the service's deployment in progress can be stopped.", h.Status).WithCode("ConflictException")
		}
		pd.RolloutState, pd.RolloutStateReason, pd.UpdatedAt = ecs.RolloutFailed, "Service deployment stopped by user request.", now
		to := s.RollBack("Service deployment stopped by user request.", newID, now)
		if to == "" {
			return fault.New(fault.Invalid, "The service has no completed deployment to roll back to.").WithCode("ConflictException")
		}
		s.AddEvent(newUUID(), "(service "+s.Name+") rolling back to deployment "+to+".", now)
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return "", notFound
	}
	if err != nil {
		return "", err
	}
	return arn, nil
}
