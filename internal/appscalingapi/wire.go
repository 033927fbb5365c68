package appscalingapi

import (
	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/awsproto"
)

// The wire shapes, as botocore's application-autoscaling model names them.

type wKey struct {
	ServiceNamespace  string
	ResourceId        string
	ScalableDimension string
}

func (k wKey) dom() appscaling.Key {
	return appscaling.Key{Namespace: k.ServiceNamespace, ResourceID: k.ResourceId, Dimension: k.ScalableDimension}
}

func keyOut(k appscaling.Key) wKey {
	return wKey{ServiceNamespace: k.Namespace, ResourceId: k.ResourceID, ScalableDimension: k.Dimension}
}

type wSuspended struct {
	DynamicScalingInSuspended  *bool `json:",omitempty"`
	DynamicScalingOutSuspended *bool `json:",omitempty"`
	ScheduledScalingSuspended  *bool `json:",omitempty"`
}

type wTarget struct {
	wKey
	MinCapacity       int
	MaxCapacity       int
	RoleARN           string
	CreationTime      *awsproto.EpochTime
	SuspendedState    wSuspended
	ScalableTargetARN string
}

func bp(b bool) *bool { return &b }

func targetOut(t *appscaling.Target, sc appscaling.Scope) wTarget {
	return wTarget{wKey: keyOut(t.Key), MinCapacity: t.MinCapacity, MaxCapacity: t.MaxCapacity, RoleARN: t.RoleARN,
		CreationTime: awsproto.Epoch(t.Created), ScalableTargetARN: t.ARN(sc),
		SuspendedState: wSuspended{DynamicScalingInSuspended: bp(t.Suspended.DynamicScalingInSuspended),
			DynamicScalingOutSuspended: bp(t.Suspended.DynamicScalingOutSuspended), ScheduledScalingSuspended: bp(t.Suspended.ScheduledScalingSuspended)}}
}

type wDimension struct{ Name, Value string }

type wMetric struct {
	Dimensions []wDimension `json:",omitempty"`
	MetricName string       `json:",omitempty"`
	Namespace  string       `json:",omitempty"`
}

type wMetricStat struct {
	Metric wMetric
	Stat   string
	Unit   string `json:",omitempty"`
}

type wQuery struct {
	Expression string `json:",omitempty"`
	Id         string
	Label      string       `json:",omitempty"`
	MetricStat *wMetricStat `json:",omitempty"`
	ReturnData *bool        `json:",omitempty"`
}

type wCustom struct {
	MetricName string       `json:",omitempty"`
	Namespace  string       `json:",omitempty"`
	Dimensions []wDimension `json:",omitempty"`
	Statistic  string       `json:",omitempty"`
	Unit       string       `json:",omitempty"`
	Metrics    []wQuery     `json:",omitempty"`
}

type wPredefined struct {
	PredefinedMetricType string
	ResourceLabel        string `json:",omitempty"`
}

type wTracking struct {
	TargetValue                   float64
	PredefinedMetricSpecification *wPredefined `json:",omitempty"`
	CustomizedMetricSpecification *wCustom     `json:",omitempty"`
	ScaleOutCooldown              *int         `json:",omitempty"`
	ScaleInCooldown               *int         `json:",omitempty"`
	DisableScaleIn                *bool        `json:",omitempty"`
}

type wStep struct {
	MetricIntervalLowerBound *float64 `json:",omitempty"`
	MetricIntervalUpperBound *float64 `json:",omitempty"`
	ScalingAdjustment        int
}

type wStepConfig struct {
	AdjustmentType         string  `json:",omitempty"`
	StepAdjustments        []wStep `json:",omitempty"`
	MinAdjustmentMagnitude *int    `json:",omitempty"`
	Cooldown               *int    `json:",omitempty"`
	MetricAggregationType  string  `json:",omitempty"`
}

type wAlarm struct{ AlarmName, AlarmARN string }

type wPolicy struct {
	PolicyARN  string
	PolicyName string
	wKey
	PolicyType                               string
	StepScalingPolicyConfiguration           *wStepConfig `json:",omitempty"`
	TargetTrackingScalingPolicyConfiguration *wTracking   `json:",omitempty"`
	Alarms                                   []wAlarm     `json:",omitempty"`
	CreationTime                             *awsproto.EpochTime
}

func dimsIn(ds []wDimension) []appscaling.Dimension {
	var out []appscaling.Dimension
	for _, d := range ds {
		out = append(out, appscaling.Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func dimsOut(ds []appscaling.Dimension) []wDimension {
	var out []wDimension
	for _, d := range ds {
		out = append(out, wDimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func trackingIn(w *wTracking) *appscaling.TargetTrackingConfig {
	if w == nil {
		return nil
	}
	c := &appscaling.TargetTrackingConfig{TargetValue: w.TargetValue, ScaleOutCooldown: w.ScaleOutCooldown, ScaleInCooldown: w.ScaleInCooldown,
		DisableScaleIn: w.DisableScaleIn != nil && *w.DisableScaleIn}
	if p := w.PredefinedMetricSpecification; p != nil {
		c.PredefinedMetric, c.ResourceLabel = p.PredefinedMetricType, p.ResourceLabel
	}
	if m := w.CustomizedMetricSpecification; m != nil {
		cm := &appscaling.CustomMetric{MetricName: m.MetricName, Namespace: m.Namespace, Dimensions: dimsIn(m.Dimensions), Statistic: m.Statistic, Unit: m.Unit}
		for _, q := range m.Metrics {
			dq := appscaling.MetricQuery{ID: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData}
			if s := q.MetricStat; s != nil {
				dq.Namespace, dq.MetricName, dq.Dimensions, dq.Stat, dq.Unit = s.Metric.Namespace, s.Metric.MetricName, dimsIn(s.Metric.Dimensions), s.Stat, s.Unit
			}
			cm.Metrics = append(cm.Metrics, dq)
		}
		c.Custom = cm
	}
	return c
}

func trackingOut(c *appscaling.TargetTrackingConfig) *wTracking {
	if c == nil {
		return nil
	}
	w := &wTracking{TargetValue: c.TargetValue, ScaleOutCooldown: c.ScaleOutCooldown, ScaleInCooldown: c.ScaleInCooldown}
	if c.DisableScaleIn {
		w.DisableScaleIn = bp(true)
	}
	if c.PredefinedMetric != "" {
		w.PredefinedMetricSpecification = &wPredefined{PredefinedMetricType: c.PredefinedMetric, ResourceLabel: c.ResourceLabel}
	}
	if m := c.Custom; m != nil {
		wc := &wCustom{MetricName: m.MetricName, Namespace: m.Namespace, Dimensions: dimsOut(m.Dimensions), Statistic: m.Statistic, Unit: m.Unit}
		for _, q := range m.Metrics {
			wq := wQuery{Id: q.ID, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData}
			if q.MetricName != "" {
				wq.MetricStat = &wMetricStat{Metric: wMetric{Dimensions: dimsOut(q.Dimensions), MetricName: q.MetricName, Namespace: q.Namespace}, Stat: q.Stat, Unit: q.Unit}
			}
			wc.Metrics = append(wc.Metrics, wq)
		}
		w.CustomizedMetricSpecification = wc
	}
	return w
}

func stepIn(w *wStepConfig) *appscaling.StepConfig {
	if w == nil {
		return nil
	}
	c := &appscaling.StepConfig{AdjustmentType: w.AdjustmentType, MinAdjustmentMagnitude: w.MinAdjustmentMagnitude, Cooldown: w.Cooldown,
		MetricAggregationType: w.MetricAggregationType}
	for _, s := range w.StepAdjustments {
		c.Steps = append(c.Steps, appscaling.StepAdjustment{Lower: s.MetricIntervalLowerBound, Upper: s.MetricIntervalUpperBound, Adjustment: s.ScalingAdjustment})
	}
	return c
}

func stepOut(c *appscaling.StepConfig) *wStepConfig {
	if c == nil {
		return nil
	}
	w := &wStepConfig{AdjustmentType: c.AdjustmentType, MinAdjustmentMagnitude: c.MinAdjustmentMagnitude, Cooldown: c.Cooldown,
		MetricAggregationType: c.MetricAggregationType}
	for _, s := range c.Steps {
		w.StepAdjustments = append(w.StepAdjustments, wStep{MetricIntervalLowerBound: s.Lower, MetricIntervalUpperBound: s.Upper, ScalingAdjustment: s.Adjustment})
	}
	return w
}

func alarmsOut(as []appscaling.AlarmRef) []wAlarm {
	out := []wAlarm{}
	for _, a := range as {
		out = append(out, wAlarm{AlarmName: a.Name, AlarmARN: a.ARN})
	}
	return out
}

func policyOut(p *appscaling.Policy, sc appscaling.Scope) wPolicy {
	w := wPolicy{PolicyARN: p.ARN(sc), PolicyName: p.Name, wKey: keyOut(p.Key), PolicyType: p.Type,
		StepScalingPolicyConfiguration: stepOut(p.Step), TargetTrackingScalingPolicyConfiguration: trackingOut(p.TargetTracking),
		CreationTime: awsproto.Epoch(p.Created)}
	if len(p.Alarms) > 0 {
		w.Alarms = alarmsOut(p.Alarms)
	}
	return w
}

type wRange struct {
	MinCapacity *int `json:",omitempty"`
	MaxCapacity *int `json:",omitempty"`
}

type wScheduled struct {
	ScheduledActionName string
	ScheduledActionARN  string
	wKey
	Schedule             string
	Timezone             string              `json:",omitempty"`
	StartTime            *awsproto.EpochTime `json:",omitempty"`
	EndTime              *awsproto.EpochTime `json:",omitempty"`
	ScalableTargetAction wRange
	CreationTime         *awsproto.EpochTime
}

func scheduledOut(a *appscaling.ScheduledAction, sc appscaling.Scope) wScheduled {
	return wScheduled{ScheduledActionName: a.Name, ScheduledActionARN: a.ARN(sc), wKey: keyOut(a.Key), Schedule: a.Schedule, Timezone: a.Timezone,
		StartTime: awsproto.Epoch(a.Start), EndTime: awsproto.Epoch(a.End), ScalableTargetAction: wRange{a.MinCapacity, a.MaxCapacity},
		CreationTime: awsproto.Epoch(a.Created)}
}

type wNotScaled struct {
	Code            string
	MaxCapacity     *int `json:",omitempty"`
	MinCapacity     *int `json:",omitempty"`
	CurrentCapacity *int `json:",omitempty"`
}

type wActivity struct {
	ActivityId string
	wKey
	Description      string
	Cause            string
	StartTime        *awsproto.EpochTime
	EndTime          *awsproto.EpochTime `json:",omitempty"`
	StatusCode       string
	StatusMessage    string       `json:",omitempty"`
	NotScaledReasons []wNotScaled `json:",omitempty"`
}

func activityOut(a *appscaling.Activity) wActivity {
	w := wActivity{ActivityId: a.ID, wKey: keyOut(a.Key), Description: a.Description, Cause: a.Cause, StartTime: awsproto.Epoch(a.Start),
		EndTime: awsproto.Epoch(a.End), StatusCode: a.Status, StatusMessage: a.StatusMessage}
	for _, n := range a.NotScaled {
		w.NotScaledReasons = append(w.NotScaledReasons, wNotScaled{Code: n.Code, MaxCapacity: n.Max, MinCapacity: n.Min, CurrentCapacity: n.Current})
	}
	return w
}
