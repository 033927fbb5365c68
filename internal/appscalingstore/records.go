package appscalingstore

import (
	"time"

	"github.com/berth-dev/berth/internal/appscaling"
)

// The stored shapes, appscalingstore's own.

type keyRec struct {
	Namespace  string `json:"ns"`
	ResourceID string `json:"resource"`
	Dimension  string `json:"dim"`
}

func toKey(k appscaling.Key) keyRec { return keyRec{k.Namespace, k.ResourceID, k.Dimension} }
func (k keyRec) dom() appscaling.Key {
	return appscaling.Key{Namespace: k.Namespace, ResourceID: k.ResourceID, Dimension: k.Dimension}
}

type targetRec struct {
	keyRec
	ID             string            `json:"id"`
	Min            int               `json:"min"`
	Max            int               `json:"max"`
	RoleARN        string            `json:"role"`
	Created        time.Time         `json:"created"`
	SuspendIn      bool              `json:"suspendIn,omitempty"`
	SuspendOut     bool              `json:"suspendOut,omitempty"`
	SuspendSched   bool              `json:"suspendScheduled,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	LastScaleOut   time.Time         `json:"lastOut,omitzero"`
	LastScaleIn    time.Time         `json:"lastIn,omitzero"`
	LastOutTo      int               `json:"lastOutTo,omitempty"`
	LastPolicyName string            `json:"lastPolicy,omitempty"`
}

func toTargetRec(t *appscaling.Target) targetRec {
	return targetRec{keyRec: toKey(t.Key), ID: t.ID, Min: t.MinCapacity, Max: t.MaxCapacity, RoleARN: t.RoleARN, Created: t.Created,
		SuspendIn: t.Suspended.DynamicScalingInSuspended, SuspendOut: t.Suspended.DynamicScalingOutSuspended,
		SuspendSched: t.Suspended.ScheduledScalingSuspended, Tags: t.Tags, LastScaleOut: t.LastScaleOut, LastScaleIn: t.LastScaleIn,
		LastOutTo: t.LastOutTo, LastPolicyName: t.LastPolicy}
}

func (r targetRec) dom() *appscaling.Target {
	tags := r.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return &appscaling.Target{Key: r.keyRec.dom(), ID: r.ID, MinCapacity: r.Min, MaxCapacity: r.Max, RoleARN: r.RoleARN, Created: r.Created,
		Suspended: appscaling.SuspendedState{DynamicScalingInSuspended: r.SuspendIn, DynamicScalingOutSuspended: r.SuspendOut,
			ScheduledScalingSuspended: r.SuspendSched}, Tags: tags, LastScaleOut: r.LastScaleOut, LastScaleIn: r.LastScaleIn,
		LastOutTo: r.LastOutTo, LastPolicy: r.LastPolicyName}
}

type dimRec struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

func toDims(ds []appscaling.Dimension) []dimRec {
	var out []dimRec
	for _, d := range ds {
		out = append(out, dimRec{d.Name, d.Value})
	}
	return out
}

func fromDims(ds []dimRec) []appscaling.Dimension {
	var out []appscaling.Dimension
	for _, d := range ds {
		out = append(out, appscaling.Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

type queryRec struct {
	ID         string   `json:"id"`
	Expression string   `json:"expr,omitempty"`
	Label      string   `json:"label,omitempty"`
	Namespace  string   `json:"ns,omitempty"`
	MetricName string   `json:"metric,omitempty"`
	Dimensions []dimRec `json:"dims,omitempty"`
	Stat       string   `json:"stat,omitempty"`
	Unit       string   `json:"unit,omitempty"`
	ReturnData *bool    `json:"returnData,omitempty"`
}

type customRec struct {
	Namespace  string     `json:"ns,omitempty"`
	MetricName string     `json:"metric,omitempty"`
	Dimensions []dimRec   `json:"dims,omitempty"`
	Statistic  string     `json:"stat,omitempty"`
	Unit       string     `json:"unit,omitempty"`
	Metrics    []queryRec `json:"metrics,omitempty"`
}

type trackingRec struct {
	TargetValue   float64    `json:"target"`
	Predefined    string     `json:"predefined,omitempty"`
	ResourceLabel string     `json:"label,omitempty"`
	Custom        *customRec `json:"custom,omitempty"`
	OutCooldown   *int       `json:"outCooldown,omitempty"`
	InCooldown    *int       `json:"inCooldown,omitempty"`
	DisableIn     bool       `json:"disableScaleIn,omitempty"`
}

type stepRec struct {
	Lower *float64 `json:"lower,omitempty"`
	Upper *float64 `json:"upper,omitempty"`
	Adj   int      `json:"adj"`
}

type stepCfgRec struct {
	AdjustmentType string    `json:"type"`
	Steps          []stepRec `json:"steps"`
	MinMagnitude   *int      `json:"minMagnitude,omitempty"`
	Cooldown       *int      `json:"cooldown,omitempty"`
	Aggregation    string    `json:"aggregation,omitempty"`
}

type alarmRec struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

type policyRec struct {
	keyRec
	Name     string       `json:"name"`
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Tracking *trackingRec `json:"tracking,omitempty"`
	Step     *stepCfgRec  `json:"step,omitempty"`
	Alarms   []alarmRec   `json:"alarms,omitempty"`
	Created  time.Time    `json:"created"`
}

func toPolicyRec(p *appscaling.Policy) policyRec {
	r := policyRec{keyRec: toKey(p.Key), Name: p.Name, ID: p.ID, Type: p.Type, Created: p.Created}
	if c := p.TargetTracking; c != nil {
		tr := &trackingRec{TargetValue: c.TargetValue, Predefined: c.PredefinedMetric, ResourceLabel: c.ResourceLabel,
			OutCooldown: c.ScaleOutCooldown, InCooldown: c.ScaleInCooldown, DisableIn: c.DisableScaleIn}
		if m := c.Custom; m != nil {
			cr := &customRec{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: toDims(m.Dimensions), Statistic: m.Statistic, Unit: m.Unit}
			for _, q := range m.Metrics {
				cr.Metrics = append(cr.Metrics, queryRec{ID: q.ID, Expression: q.Expression, Label: q.Label, Namespace: q.Namespace,
					MetricName: q.MetricName, Dimensions: toDims(q.Dimensions), Stat: q.Stat, Unit: q.Unit, ReturnData: q.ReturnData})
			}
			tr.Custom = cr
		}
		r.Tracking = tr
	}
	if c := p.Step; c != nil {
		sr := &stepCfgRec{AdjustmentType: c.AdjustmentType, MinMagnitude: c.MinAdjustmentMagnitude, Cooldown: c.Cooldown, Aggregation: c.MetricAggregationType}
		for _, s := range c.Steps {
			sr.Steps = append(sr.Steps, stepRec{Lower: s.Lower, Upper: s.Upper, Adj: s.Adjustment})
		}
		r.Step = sr
	}
	for _, a := range p.Alarms {
		r.Alarms = append(r.Alarms, alarmRec{a.Name, a.ARN})
	}
	return r
}

func (r policyRec) dom() *appscaling.Policy {
	p := &appscaling.Policy{Key: r.keyRec.dom(), Name: r.Name, ID: r.ID, Type: r.Type, Created: r.Created}
	if tr := r.Tracking; tr != nil {
		c := &appscaling.TargetTrackingConfig{TargetValue: tr.TargetValue, PredefinedMetric: tr.Predefined, ResourceLabel: tr.ResourceLabel,
			ScaleOutCooldown: tr.OutCooldown, ScaleInCooldown: tr.InCooldown, DisableScaleIn: tr.DisableIn}
		if cr := tr.Custom; cr != nil {
			m := &appscaling.CustomMetric{Namespace: cr.Namespace, MetricName: cr.MetricName, Dimensions: fromDims(cr.Dimensions), Statistic: cr.Statistic, Unit: cr.Unit}
			for _, q := range cr.Metrics {
				m.Metrics = append(m.Metrics, appscaling.MetricQuery{ID: q.ID, Expression: q.Expression, Label: q.Label, Namespace: q.Namespace,
					MetricName: q.MetricName, Dimensions: fromDims(q.Dimensions), Stat: q.Stat, Unit: q.Unit, ReturnData: q.ReturnData})
			}
			c.Custom = m
		}
		p.TargetTracking = c
	}
	if sr := r.Step; sr != nil {
		c := &appscaling.StepConfig{AdjustmentType: sr.AdjustmentType, MinAdjustmentMagnitude: sr.MinMagnitude, Cooldown: sr.Cooldown, MetricAggregationType: sr.Aggregation}
		for _, s := range sr.Steps {
			c.Steps = append(c.Steps, appscaling.StepAdjustment{Lower: s.Lower, Upper: s.Upper, Adjustment: s.Adj})
		}
		p.Step = c
	}
	for _, a := range r.Alarms {
		p.Alarms = append(p.Alarms, appscaling.AlarmRef{Name: a.Name, ARN: a.ARN})
	}
	return p
}

type scheduledRec struct {
	keyRec
	Name     string    `json:"name"`
	ID       string    `json:"id"`
	Schedule string    `json:"schedule"`
	Timezone string    `json:"tz,omitempty"`
	Start    time.Time `json:"start,omitzero"`
	End      time.Time `json:"end,omitzero"`
	Min      *int      `json:"min,omitempty"`
	Max      *int      `json:"max,omitempty"`
	Created  time.Time `json:"created"`
	LastRun  time.Time `json:"lastRun,omitzero"`
}

func toScheduledRec(a *appscaling.ScheduledAction) scheduledRec {
	return scheduledRec{keyRec: toKey(a.Key), Name: a.Name, ID: a.ID, Schedule: a.Schedule, Timezone: a.Timezone, Start: a.Start, End: a.End,
		Min: a.MinCapacity, Max: a.MaxCapacity, Created: a.Created, LastRun: a.LastRun}
}

func (r scheduledRec) dom() *appscaling.ScheduledAction {
	return &appscaling.ScheduledAction{Key: r.keyRec.dom(), Name: r.Name, ID: r.ID, Schedule: r.Schedule, Timezone: r.Timezone, Start: r.Start,
		End: r.End, MinCapacity: r.Min, MaxCapacity: r.Max, Created: r.Created, LastRun: r.LastRun}
}

type notScaledRec struct {
	Code    string `json:"code"`
	Min     *int   `json:"min,omitempty"`
	Max     *int   `json:"max,omitempty"`
	Current *int   `json:"current,omitempty"`
}

type activityRec struct {
	keyRec
	ID            string         `json:"id"`
	Description   string         `json:"description"`
	Cause         string         `json:"cause"`
	Start         time.Time      `json:"start"`
	End           time.Time      `json:"end,omitzero"`
	Status        string         `json:"status"`
	StatusMessage string         `json:"statusMessage,omitempty"`
	NotScaled     []notScaledRec `json:"notScaled,omitempty"`
}

func toActivityRec(a *appscaling.Activity) activityRec {
	r := activityRec{keyRec: toKey(a.Key), ID: a.ID, Description: a.Description, Cause: a.Cause, Start: a.Start, End: a.End, Status: a.Status,
		StatusMessage: a.StatusMessage}
	for _, n := range a.NotScaled {
		r.NotScaled = append(r.NotScaled, notScaledRec{Code: n.Code, Min: n.Min, Max: n.Max, Current: n.Current})
	}
	return r
}

func (r activityRec) dom() *appscaling.Activity {
	a := &appscaling.Activity{Key: r.keyRec.dom(), ID: r.ID, Description: r.Description, Cause: r.Cause, Start: r.Start, End: r.End,
		Status: r.Status, StatusMessage: r.StatusMessage}
	for _, n := range r.NotScaled {
		a.NotScaled = append(a.NotScaled, appscaling.NotScaledReason{Code: n.Code, Min: n.Min, Max: n.Max, Current: n.Current})
	}
	return a
}
