package appscaling

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy types.
const (
	TargetTracking = "TargetTrackingScaling"
	StepScaling    = "StepScaling"
)

// Predefined metric types for ECS services.
const (
	MetricECSCPU          = "ECSServiceAverageCPUUtilization"
	MetricECSMemory       = "ECSServiceAverageMemoryUtilization"
	MetricALBRequestCount = "ALBRequestCountPerTarget"
)

// DefaultCooldown is the cooldown AWS uses for ECS when none is given.
const DefaultCooldown = 300 * time.Second

// Dimension is a metric dimension.
type Dimension struct{ Name, Value string }

// MetricQuery is one query of a customized metric (TargetTrackingMetricDataQuery).
type MetricQuery struct {
	ID         string
	Expression string
	Label      string
	Namespace  string
	MetricName string
	Dimensions []Dimension
	Stat       string
	Unit       string
	ReturnData *bool
}

// CustomMetric is a CustomizedMetricSpecification: one metric with a
// statistic, or metric queries (metric math).
type CustomMetric struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
	Statistic  string
	Unit       string
	Metrics    []MetricQuery
}

// TargetTrackingConfig is a target tracking configuration.
type TargetTrackingConfig struct {
	TargetValue      float64
	PredefinedMetric string
	ResourceLabel    string
	Custom           *CustomMetric
	ScaleOutCooldown *int
	ScaleInCooldown  *int
	DisableScaleIn   bool
}

// StepAdjustment is one step: the metric interval relative to the alarm
// threshold (nil bound: unbounded) and the adjustment.
type StepAdjustment struct {
	Lower      *float64
	Upper      *float64
	Adjustment int
}

// Adjustment types of step scaling.
const (
	ChangeInCapacity        = "ChangeInCapacity"
	ExactCapacity           = "ExactCapacity"
	PercentChangeInCapacity = "PercentChangeInCapacity"
)

// StepConfig is a step scaling configuration.
type StepConfig struct {
	AdjustmentType         string
	Steps                  []StepAdjustment
	MinAdjustmentMagnitude *int
	Cooldown               *int
	MetricAggregationType  string
}

// AlarmRef names an alarm a policy owns or is attached to.
type AlarmRef struct{ Name, ARN string }

// Policy is a scaling policy.
type Policy struct {
	Key
	Name           string
	ID             string // the UUID in its ARN
	Type           string
	TargetTracking *TargetTrackingConfig
	Step           *StepConfig
	Alarms         []AlarmRef // the alarms target tracking created (owned)
	Created        time.Time
}

// ARN is the policy's ARN.
func (p *Policy) ARN(sc Scope) string {
	return fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/%s/%s:policyName/%s",
		sc.Region, sc.Account, p.ID, p.Namespace, p.ResourceID, p.Name)
}

// AlarmNames returns the names target tracking gives its high and low
// alarms (TargetTracking-<resource>-AlarmHigh-<uuid>).
func AlarmNames(resourceID, highID, lowID string) (high, low string) {
	return "TargetTracking-" + resourceID + "-AlarmHigh-" + highID, "TargetTracking-" + resourceID + "-AlarmLow-" + lowID
}

// Validate checks a policy as PutScalingPolicy does.
func (p *Policy) Validate() error {
	if err := ValidateKey(p.Key); err != nil {
		return err
	}
	if p.Name == "" || len(p.Name) > 256 {
		return Validationf("PolicyName must be 1 to 256 characters long")
	}
	switch p.Type {
	case "", StepScaling:
		p.Type = StepScaling
		if p.TargetTracking != nil {
			return Validationf("TargetTrackingScalingPolicyConfiguration is not allowed for a policy of type StepScaling")
		}
		if p.Step == nil {
			return Validationf("StepScalingPolicyConfiguration is required for a policy of type StepScaling")
		}
		return p.Step.validate()
	case TargetTracking:
		if p.Step != nil {
			return Validationf("StepScalingPolicyConfiguration is not allowed for a policy of type TargetTrackingScaling")
		}
		if p.TargetTracking == nil {
			return Validationf("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")
		}
		return p.TargetTracking.validate()
	case "PredictiveScaling":
		return Validationf("Predictive scaling is not supported for service namespace ecs in berth")
	}
	return Validationf("Unsupported policy type %s; use TargetTrackingScaling or StepScaling", p.Type)
}

func (c *TargetTrackingConfig) validate() error {
	if c.TargetValue < 8.515920e-109 || c.TargetValue > 1.174271e+108 {
		return Validationf("TargetValue must be between 8.515920e-109 and 1.174271e+108")
	}
	for _, cd := range []*int{c.ScaleInCooldown, c.ScaleOutCooldown} {
		if cd != nil && (*cd < 0 || *cd > 31536000) {
			return Validationf("Cooldown must be between 0 and 31536000 seconds")
		}
	}
	switch {
	case c.PredefinedMetric != "" && c.Custom != nil:
		return Validationf("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be given")
	case c.PredefinedMetric == "" && c.Custom == nil:
		return Validationf("Either PredefinedMetricSpecification or CustomizedMetricSpecification must be given")
	case c.Custom != nil:
		return c.Custom.validate()
	}
	switch c.PredefinedMetric {
	case MetricECSCPU, MetricECSMemory:
		if c.ResourceLabel != "" {
			return Validationf("ResourceLabel is only valid for the predefined metric type %s", MetricALBRequestCount)
		}
	case MetricALBRequestCount:
		if c.ResourceLabel == "" {
			return Validationf("ResourceLabel is required for the predefined metric type %s", MetricALBRequestCount)
		}
		if _, _, err := ParseResourceLabel(c.ResourceLabel); err != nil {
			return err
		}
	default:
		return Validationf("Unsupported predefined metric type %s for scalable dimension ecs:service:DesiredCount", c.PredefinedMetric)
	}
	return nil
}

// ParseResourceLabel splits an ALBRequestCountPerTarget resource label
// (app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>) into the load
// balancer and target group dimension values.
func ParseResourceLabel(label string) (lb, tg string, err error) {
	p := strings.Split(label, "/")
	if len(p) != 6 || p[0] != "app" || p[3] != "targetgroup" || slices.Contains(p, "") {
		return "", "", Validationf("Invalid ResourceLabel %s; it must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>", label)
	}
	return strings.Join(p[:3], "/"), strings.Join(p[3:], "/"), nil
}

func (c *CustomMetric) validate() error {
	if len(c.Metrics) == 0 {
		if c.MetricName == "" || c.Namespace == "" || c.Statistic == "" {
			return Validationf("CustomizedMetricSpecification needs MetricName, Namespace and Statistic, or Metrics")
		}
		switch c.Statistic {
		case "Average", "Minimum", "Maximum", "SampleCount", "Sum":
		default:
			return Validationf("Unsupported statistic %s; use Average, Minimum, Maximum, SampleCount or Sum", c.Statistic)
		}
		return nil
	}
	if c.MetricName != "" || c.Namespace != "" || c.Statistic != "" {
		return Validationf("CustomizedMetricSpecification takes either Metrics or MetricName, Namespace and Statistic, not both")
	}
	returned := 0
	ids := map[string]bool{}
	for _, q := range c.Metrics {
		if q.ID == "" {
			return Validationf("Every metric query needs an Id")
		}
		if ids[q.ID] {
			return Validationf("Duplicate metric query Id %s", q.ID)
		}
		ids[q.ID] = true
		if (q.Expression == "") == (q.MetricName == "") {
			return Validationf("Metric query %s must have exactly one of Expression and MetricStat", q.ID)
		}
		if q.Expression == "" && q.Stat == "" {
			return Validationf("Metric query %s needs a Stat", q.ID)
		}
		if q.ReturnData == nil || *q.ReturnData {
			returned++
		}
	}
	if returned != 1 {
		return Validationf("Exactly one metric query must return data (ReturnData true); %d do", returned)
	}
	return nil
}

func (c *StepConfig) validate() error {
	switch c.AdjustmentType {
	case ChangeInCapacity, ExactCapacity, PercentChangeInCapacity:
	case "":
		return Validationf("AdjustmentType is required for a StepScaling policy")
	default:
		return Validationf("Unsupported adjustment type %s; use ChangeInCapacity, ExactCapacity or PercentChangeInCapacity", c.AdjustmentType)
	}
	if len(c.Steps) == 0 {
		return Validationf("StepAdjustments must have at least one step")
	}
	if c.MinAdjustmentMagnitude != nil {
		if c.AdjustmentType != PercentChangeInCapacity {
			return Validationf("MinAdjustmentMagnitude may only be used with the PercentChangeInCapacity adjustment type")
		}
		if *c.MinAdjustmentMagnitude < 1 {
			return Validationf("MinAdjustmentMagnitude must be at least 1")
		}
	}
	if c.Cooldown != nil && (*c.Cooldown < 0 || *c.Cooldown > 31536000) {
		return Validationf("Cooldown must be between 0 and 31536000 seconds")
	}
	switch c.MetricAggregationType {
	case "", "Average", "Minimum", "Maximum":
	default:
		return Validationf("Unsupported MetricAggregationType %s; use Average, Minimum or Maximum", c.MetricAggregationType)
	}
	return validateSteps(c.Steps)
}

// validateSteps checks AWS's rules: at most one step has a null lower
// bound and one a null upper bound, and the intervals do not overlap and
// leave no gap.
func validateSteps(steps []StepAdjustment) error {
	nullLow, nullHigh := 0, 0
	for _, s := range steps {
		if s.Lower == nil {
			nullLow++
		}
		if s.Upper == nil {
			nullHigh++
		}
		if s.Lower != nil && s.Upper != nil && *s.Upper <= *s.Lower {
			return Validationf("Step adjustment upper bound %g must be greater than its lower bound %g", *s.Upper, *s.Lower)
		}
	}
	if nullLow > 1 || nullHigh > 1 {
		return Validationf("At most one step adjustment may have a null lower bound and one a null upper bound")
	}
	sorted := sortedSteps(steps)
	for i := 1; i < len(sorted); i++ {
		prev, cur := sorted[i-1], sorted[i]
		if prev.Upper == nil || cur.Lower == nil || *prev.Upper != *cur.Lower {
			return Validationf("Step adjustments must not overlap or leave a gap between them")
		}
	}
	return nil
}
