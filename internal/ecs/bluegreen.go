package ecs

import (
	"math"
	"strings"
	"time"
)

// Blue/green, linear and canary deployments (deploymentConfiguration
// strategy BLUE_GREEN, LINEAR, CANARY), as ECS defines them: the new
// revision (green) starts at full size next to the one serving production
// (blue), registered with the target group that has no production
// traffic (each load balancer's targetGroupArn and
// advancedConfiguration.alternateTargetGroupArn take turns); traffic then
// moves through the production listener rule's weighted forward, at once
// (BLUE_GREEN), in steps (LINEAR) or a canary share first (CANARY); both
// revisions run through the bake time, so a rollback only moves the
// weights back; then blue is scaled in. The stages are ECS's lifecycle
// stages; PlanShift (bluegreenplan.go) decides each step.

// Deployment strategies besides ROLLING.
const (
	DeploymentStrategyBlueGreen = "BLUE_GREEN"
	DeploymentStrategyLinear    = "LINEAR"
	DeploymentStrategyCanary    = "CANARY"
)

// Deployment lifecycle stages (DescribeServiceDeployments lifecycleStage).
const (
	StageReconcileService            = "RECONCILE_SERVICE"
	StagePreScaleUp                  = "PRE_SCALE_UP"
	StageScaleUp                     = "SCALE_UP"
	StagePostScaleUp                 = "POST_SCALE_UP"
	StageTestTrafficShift            = "TEST_TRAFFIC_SHIFT"
	StagePostTestTrafficShift        = "POST_TEST_TRAFFIC_SHIFT"
	StageProductionTrafficShift      = "PRODUCTION_TRAFFIC_SHIFT"
	StagePostProductionTrafficShift  = "POST_PRODUCTION_TRAFFIC_SHIFT"
	StageBakeTime                    = "BAKE_TIME"
	StageCleanUp                     = "CLEAN_UP"
	maxBakeMinutes                   = 1440
	defaultLinearStepPercent         = 10.0
	defaultLinearStepBakeMinutes     = 6
	defaultCanaryPercent             = 5.0
	defaultCanaryBakeMinutes         = 10
	minLinearStepPercent, maxPercent = 3.0, 100.0
)

// IsShiftStrategy reports whether strategy moves traffic between two
// target groups (BLUE_GREEN, LINEAR, CANARY).
func IsShiftStrategy(strategy string) bool {
	switch strategy {
	case DeploymentStrategyBlueGreen, DeploymentStrategyLinear, DeploymentStrategyCanary:
		return true
	}
	return false
}

// AdvancedConfiguration is a load balancer's blue/green settings.
type AdvancedConfiguration struct {
	AlternateTargetGroupARN string `json:"alternateTargetGroupArn,omitempty"`
	ProductionListenerRule  string `json:"productionListenerRule,omitempty"`
	TestListenerRule        string `json:"testListenerRule,omitempty"`
	RoleARN                 string `json:"roleArn,omitempty"`
}

// LinearConfiguration is a LINEAR deployment's steps.
type LinearConfiguration struct {
	StepPercent           *float64 `json:"stepPercent,omitempty"`
	StepBakeTimeInMinutes *int     `json:"stepBakeTimeInMinutes,omitempty"`
}

// CanaryConfiguration is a CANARY deployment's canary.
type CanaryConfiguration struct {
	CanaryPercent           *float64 `json:"canaryPercent,omitempty"`
	CanaryBakeTimeInMinutes *int     `json:"canaryBakeTimeInMinutes,omitempty"`
}

// TrafficShift is the state of a service's BLUE_GREEN, LINEAR or CANARY
// deployment in flight (Service.Traffic): Green is the primary deployment
// traffic moves to, Blue the one that served production when it began
// (equal to Green after a rollback: every other revision is then cleaned
// up). Production and Test are green's percent of each listener's
// traffic; StageAt is when the stage, or the current linear or canary
// step, began; MovedAt when the scheduler last changed a listener rule's
// weights (no target leaves a group until they had time to apply).
type TrafficShift struct {
	Green      string    `json:"green"`
	Blue       string    `json:"blue,omitempty"`
	Stage      string    `json:"stage"`
	StageAt    time.Time `json:"stageAt"`
	Production float64   `json:"production"`
	Test       float64   `json:"test"`
	MovedAt    time.Time `json:"movedAt,omitzero"`
}

// Weights returns the production (or test) traffic percent a deployment's
// target groups get while this shift is in flight.
func (t *TrafficShift) Weights(test bool) (green, blue float64) {
	g := t.Production
	if test {
		g = t.Test
	}
	if t.Blue == "" || t.Blue == t.Green {
		return 100, 0
	}
	return g, 100 - g
}

// TargetGroupOf returns the target group the tasks of deployment d (nil:
// the service's first choice) register with for the service's load
// balancer i.
func (s *Service) TargetGroupOf(d *Deployment, i int) string {
	if d != nil && i < len(d.TargetGroups) && d.TargetGroups[i] != "" {
		return d.TargetGroups[i]
	}
	return s.LoadBalancers[i].TargetGroupARN
}

// OtherTargetGroup returns the other target group of load balancer i's
// pair (targetGroupArn and its alternate), or "" if it has none.
func (s *Service) OtherTargetGroup(i int, tg string) string {
	lb := s.LoadBalancers[i]
	if lb.AdvancedConfiguration == nil || lb.AdvancedConfiguration.AlternateTargetGroupARN == "" {
		return ""
	}
	if tg == lb.AdvancedConfiguration.AlternateTargetGroupARN {
		return lb.TargetGroupARN
	}
	return lb.AdvancedConfiguration.AlternateTargetGroupARN
}

// productionDeployment is the deployment that serves production traffic
// now: the green of a shift that reached all of it, else its blue, else
// the primary.
func (s *Service) productionDeployment() *Deployment {
	if t := s.Traffic; t != nil {
		id := t.Blue
		if id == "" || t.Production >= 100 {
			id = t.Green
		}
		if d := s.Deployment(id); d != nil {
			return d
		}
	}
	return s.Primary()
}

// beginShift is StartDeployment's part for the shift strategies: the new
// primary d takes, for each load balancer with an alternate target group,
// the group production traffic is not on, and a shift from the deployment
// serving production starts. For ROLLING the new deployment keeps the
// production groups.
func (s *Service) beginShift(d *Deployment, prod *Deployment, now time.Time) {
	if len(s.LoadBalancers) > 0 {
		d.TargetGroups = make([]string, len(s.LoadBalancers))
		for i := range s.LoadBalancers {
			tg := s.TargetGroupOf(prod, i)
			if lb := s.LoadBalancers[i]; tg != lb.TargetGroupARN && (lb.AdvancedConfiguration == nil || tg != lb.AdvancedConfiguration.AlternateTargetGroupARN) {
				tg = lb.TargetGroupARN // the load balancers changed: production's group is not theirs
			}
			if prod != nil && IsShiftStrategy(s.DeploymentConfiguration.Strategy) && s.SchedulingStrategy != SchedulingDaemon {
				if other := s.OtherTargetGroup(i, tg); other != "" {
					tg = other
				}
			}
			d.TargetGroups[i] = tg
		}
	}
	if !IsShiftStrategy(s.DeploymentConfiguration.Strategy) || s.SchedulingStrategy == SchedulingDaemon {
		if s.Traffic != nil && prod != nil {
			// A shift in flight ends: production stays where it is
			// now and the rolling deployment replaces the rest.
			s.Traffic = &TrafficShift{Green: d.ID, Blue: d.ID, Stage: StageCleanUp, StageAt: now, Production: 100, Test: 100}
		}
		return
	}
	if prod == nil {
		return // the service's first deployment: nothing to shift from
	}
	s.Traffic = &TrafficShift{Green: d.ID, Blue: prod.ID, Stage: StageReconcileService, StageAt: now}
}

// rollBackShift is RollBack's part: the deployment rolled back to (still
// running) takes all traffic at once and the others are cleaned up.
func (s *Service) rollBackShift(to string, now time.Time) {
	if s.Traffic == nil {
		return
	}
	s.Traffic = &TrafficShift{Green: to, Blue: to, Stage: StageCleanUp, StageAt: now, Production: 100, Test: 100}
}

// ShiftTimes are a shift strategy's durations, in minutes.
type ShiftTimes struct {
	Bake        int
	StepPercent float64 // LINEAR: the step; CANARY: the canary share
	StepBake    int
	Canary      bool // after the canary's bake, the rest at once
}

// ShiftTimesOf returns the durations and steps of a deployment
// configuration (its defaults filled in).
func ShiftTimesOf(dc DeploymentConfiguration) ShiftTimes {
	t := ShiftTimes{Bake: deref0(dc.BakeTimeInMinutes), StepPercent: 100}
	switch dc.Strategy {
	case DeploymentStrategyLinear:
		t.StepPercent, t.StepBake = defaultLinearStepPercent, defaultLinearStepBakeMinutes
		if c := dc.LinearConfiguration; c != nil {
			if c.StepPercent != nil {
				t.StepPercent = *c.StepPercent
			}
			if c.StepBakeTimeInMinutes != nil {
				t.StepBake = *c.StepBakeTimeInMinutes
			}
		}
	case DeploymentStrategyCanary:
		t.StepPercent, t.StepBake, t.Canary = defaultCanaryPercent, defaultCanaryBakeMinutes, true
		if c := dc.CanaryConfiguration; c != nil {
			if c.CanaryPercent != nil {
				t.StepPercent = *c.CanaryPercent
			}
			if c.CanaryBakeTimeInMinutes != nil {
				t.StepBake = *c.CanaryBakeTimeInMinutes
			}
		}
	}
	return t
}

func deref0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// validateShiftConfiguration checks the blue/green parts of a deployment
// configuration (dc has its strategy set) and fills the linear or canary
// defaults, as ECS describes them.
func validateShiftConfiguration(sched string, dc *DeploymentConfiguration) error {
	if len(dc.LifecycleHooks) > 0 {
		return invalidParam("Deployment lifecycle hooks are not supported: berth has no AWS Lambda to invoke them. Remove lifecycleHooks from the deploymentConfiguration.")
	}
	if dc.Strategy == DeploymentStrategyBlueGreen && dc.BakeTimeInMinutes == nil {
		// The API reference: "You must provide this parameter when you
		// use the BLUE_GREEN deployment strategy" (no default).
		return invalidParam("bakeTimeInMinutes must be provided when the deployment strategy is BLUE_GREEN.")
	}
	if b := dc.BakeTimeInMinutes; b != nil && (*b < 0 || *b > maxBakeMinutes) {
		return invalidParam("bakeTimeInMinutes must be between 0 and %d.", maxBakeMinutes)
	}
	if dc.LinearConfiguration != nil && dc.Strategy != DeploymentStrategyLinear {
		return invalidParam("linearConfiguration is only valid when the deployment strategy is LINEAR.")
	}
	if dc.CanaryConfiguration != nil && dc.Strategy != DeploymentStrategyCanary {
		return invalidParam("canaryConfiguration is only valid when the deployment strategy is CANARY.")
	}
	if IsShiftStrategy(dc.Strategy) && sched == SchedulingDaemon {
		return invalidParam("The %s deployment strategy is not supported for services with the DAEMON scheduling strategy.", dc.Strategy)
	}
	switch dc.Strategy {
	case DeploymentStrategyLinear:
		c := LinearConfiguration{}
		if dc.LinearConfiguration != nil {
			c = *dc.LinearConfiguration
		}
		if c.StepPercent == nil {
			v := defaultLinearStepPercent
			c.StepPercent = &v
		}
		if c.StepBakeTimeInMinutes == nil {
			v := defaultLinearStepBakeMinutes
			c.StepBakeTimeInMinutes = &v
		}
		if !tenths(*c.StepPercent, minLinearStepPercent, maxPercent) {
			return invalidParam("linearConfiguration.stepPercent must be a multiple of 0.1 from 3.0 to 100.0.")
		}
		if b := *c.StepBakeTimeInMinutes; b < 0 || b > maxBakeMinutes {
			return invalidParam("linearConfiguration.stepBakeTimeInMinutes must be between 0 and %d.", maxBakeMinutes)
		}
		dc.LinearConfiguration = &c
	case DeploymentStrategyCanary:
		c := CanaryConfiguration{}
		if dc.CanaryConfiguration != nil {
			c = *dc.CanaryConfiguration
		}
		if c.CanaryPercent == nil {
			v := defaultCanaryPercent
			c.CanaryPercent = &v
		}
		if c.CanaryBakeTimeInMinutes == nil {
			v := defaultCanaryBakeMinutes
			c.CanaryBakeTimeInMinutes = &v
		}
		if !tenths(*c.CanaryPercent, 0.1, maxPercent) {
			return invalidParam("canaryConfiguration.canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.")
		}
		if b := *c.CanaryBakeTimeInMinutes; b < 0 || b > maxBakeMinutes {
			return invalidParam("canaryConfiguration.canaryBakeTimeInMinutes must be between 0 and %d.", maxBakeMinutes)
		}
		dc.CanaryConfiguration = &c
	}
	return nil
}

// tenths reports whether v is a multiple of 0.1 within [lo, hi].
func tenths(v, lo, hi float64) bool {
	t := v * 10
	return v >= lo-1e-9 && v <= hi+1e-9 && math.Abs(t-math.Round(t)) < 1e-6
}

// ValidateShiftLoadBalancers checks the load balancers of a service whose
// deployment strategy is strategy: LINEAR and CANARY move traffic, so
// they need a load balancer with an advancedConfiguration; every
// advancedConfiguration needs its alternate target group, production
// listener rule and role.
func ValidateShiftLoadBalancers(strategy string, lbs []LoadBalancer) error {
	advanced := 0
	for _, lb := range lbs {
		ac := lb.AdvancedConfiguration
		if ac == nil {
			if IsShiftStrategy(strategy) && lb.TargetGroupARN != "" {
				return invalidParam("advancedConfiguration is required for each load balancer of a service with the %s deployment strategy (alternateTargetGroupArn, productionListenerRule, roleArn).", strategy)
			}
			continue
		}
		advanced++
		if !isARNOf(ac.AlternateTargetGroupARN, "elasticloadbalancing", "targetgroup/") {
			return invalidParam("advancedConfiguration.alternateTargetGroupArn %q must be the ARN of an Elastic Load Balancing target group.", ac.AlternateTargetGroupARN)
		}
		if ac.AlternateTargetGroupARN == lb.TargetGroupARN {
			return invalidParam("advancedConfiguration.alternateTargetGroupArn must differ from the load balancer's targetGroupArn.")
		}
		if !isListenerOrRule(ac.ProductionListenerRule) {
			return invalidParam("advancedConfiguration.productionListenerRule %q must be the ARN of a listener rule (Application Load Balancer) or a listener (Network Load Balancer).", ac.ProductionListenerRule)
		}
		if ac.TestListenerRule != "" && !isListenerOrRule(ac.TestListenerRule) {
			return invalidParam("advancedConfiguration.testListenerRule %q must be the ARN of a listener rule (Application Load Balancer) or a listener (Network Load Balancer).", ac.TestListenerRule)
		}
		if !isARNOf(ac.RoleARN, "iam", "role/") {
			return invalidParam("advancedConfiguration.roleArn %q must be the ARN of an IAM role that lets Amazon ECS call Elastic Load Balancing.", ac.RoleARN)
		}
	}
	if (strategy == DeploymentStrategyLinear || strategy == DeploymentStrategyCanary) && advanced == 0 {
		return invalidParam("The %s deployment strategy shifts traffic through a load balancer: the service needs a load balancer with an advancedConfiguration.", strategy)
	}
	return nil
}

func isARNOf(s, service, prefix string) bool {
	p, ok := ParseARN(s)
	return ok && p.Service == service && strings.HasPrefix(p.Resource, prefix) && len(p.Resource) > len(prefix)
}

func isListenerOrRule(s string) bool {
	return isARNOf(s, "elasticloadbalancing", "listener-rule/") || isARNOf(s, "elasticloadbalancing", "listener/")
}

// ServiceRevision is what a service deployment deployed besides its task
// definition (DescribeServiceRevisions), kept in the deployment history.
type ServiceRevision struct {
	LaunchType               string                     `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                     `json:"platformVersion,omitempty"`
	PlatformFamily           string                     `json:"platformFamily,omitempty"`
	LoadBalancers            []LoadBalancer             `json:"loadBalancers,omitempty"`
	ServiceRegistries        []ServiceRegistry          `json:"serviceRegistries,omitempty"`
	NetworkConfiguration     *NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	// TargetGroups: the deployment's target group for each load balancer.
	TargetGroups []string `json:"targetGroups,omitempty"`
	// ContainerImages are the task definition's images as the deployment
	// resolved them (a digest when the image is one of berth's ECR).
	ContainerImages []ContainerImage `json:"containerImages,omitempty"`
}

// ContainerImage is a container's image and the digest it resolved to
// ("" when it could not be resolved).
type ContainerImage struct {
	ContainerName string `json:"containerName"`
	Image         string `json:"image"`
	ImageDigest   string `json:"imageDigest,omitempty"`
}

// revisionOf returns the revision deployment d deploys.
func (s *Service) revisionOf(d Deployment) *ServiceRevision {
	return &ServiceRevision{
		LaunchType: d.LaunchType, CapacityProviderStrategy: d.CapacityProviderStrategy, PlatformVersion: d.PlatformVersion,
		PlatformFamily: d.PlatformFamily, LoadBalancers: s.LoadBalancers, ServiceRegistries: s.ServiceRegistries,
		NetworkConfiguration: d.NetworkConfiguration, TargetGroups: d.TargetGroups,
	}
}
