package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingcp"
	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/ecs"
)

// Target tracking's alarms, as AWS creates them: one-minute periods; the
// high alarm at 3 of 3 datapoints above the target, the low one at 15 of
// 15 below 90% of it.
const (
	trackingPeriod     = 60
	trackingHighPoints = 3
	trackingLowPoints  = 15
	trackingLowFactor  = 0.9
)

// cwAlarms creates and deletes the alarms of target tracking policies in
// CloudWatch (appscalingcp.Alarms).
type cwAlarms struct{ cw *cwcp.Plane }

var _ appscalingcp.Alarms = cwAlarms{}

func cwScope(sc appscaling.Scope) cw.Scope { return cw.Scope{Account: sc.Account, Region: sc.Region} }

// trackedMetric is the metric of a target tracking policy: a predefined
// one (AWS/ECS service CPU or memory, AWS/ApplicationELB requests per
// target) or the customized one.
func trackedMetric(p *appscaling.Policy) (cw.Metric, string, []cw.Query, error) {
	c := p.TargetTracking
	cluster, service := p.ECSService()
	ecsDims := []cw.Dimension{{Name: "ClusterName", Value: cluster}, {Name: "ServiceName", Value: service}}
	switch c.PredefinedMetric {
	case appscaling.MetricECSCPU:
		return cw.Metric{Namespace: "AWS/ECS", Name: "CPUUtilization", Dimensions: ecsDims}, "Average", nil, nil
	case appscaling.MetricECSMemory:
		return cw.Metric{Namespace: "AWS/ECS", Name: "MemoryUtilization", Dimensions: ecsDims}, "Average", nil, nil
	case appscaling.MetricALBRequestCount:
		_, tg, err := appscaling.ParseResourceLabel(c.ResourceLabel)
		if err != nil {
			return cw.Metric{}, "", nil, err
		}
		return cw.Metric{Namespace: "AWS/ApplicationELB", Name: "RequestCountPerTarget",
			Dimensions: []cw.Dimension{{Name: "TargetGroup", Value: tg}}}, "Sum", nil, nil
	}
	m := c.Custom
	if m == nil {
		return cw.Metric{}, "", nil, appscaling.Validationf("the policy has no metric")
	}
	if len(m.Metrics) == 0 {
		return cw.Metric{Namespace: m.Namespace, Name: m.MetricName, Dimensions: cwDims(m.Dimensions)}, m.Statistic, nil, nil
	}
	var qs []cw.Query
	for _, q := range m.Metrics {
		cq := cw.Query{ID: q.ID, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData == nil || *q.ReturnData}
		if q.MetricName != "" {
			cq.Stat = &cw.MetricStat{Metric: cw.Metric{Namespace: q.Namespace, Name: q.MetricName, Dimensions: cwDims(q.Dimensions)},
				Period: trackingPeriod, Stat: q.Stat, Unit: q.Unit}
		} else {
			cq.Period = trackingPeriod
		}
		qs = append(qs, cq)
	}
	return cw.Metric{}, "", qs, nil
}

func cwDims(ds []appscaling.Dimension) []cw.Dimension {
	var out []cw.Dimension
	for _, d := range ds {
		out = append(out, cw.Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func (a cwAlarms) PutTrackingAlarms(ctx context.Context, sc appscaling.Scope, p *appscaling.Policy, high, low string) ([]appscaling.AlarmRef, error) {
	metric, stat, queries, err := trackedMetric(p)
	if err != nil {
		return nil, err
	}
	policyARN := p.ARN(sc)
	mk := func(name, op string, threshold float64, points int) *cw.Alarm {
		al := &cw.Alarm{Name: name, Description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + policyARN + ".",
			ActionsEnabled: true, AlarmActions: []string{policyARN}, Metric: metric, Statistic: stat, Queries: queries,
			EvaluationPeriods: points, DatapointsToAlarm: points, Threshold: threshold, ComparisonOperator: op,
			TreatMissingData: "missing"}
		if len(queries) == 0 {
			al.Period = trackingPeriod
		}
		return al
	}
	target := p.TargetTracking.TargetValue
	alarms := []*cw.Alarm{mk(high, "GreaterThanThreshold", target, trackingHighPoints)}
	if !p.TargetTracking.DisableScaleIn {
		alarms = append(alarms, mk(low, "LessThanThreshold", target*trackingLowFactor, trackingLowPoints))
	}
	var refs []appscaling.AlarmRef
	for _, al := range alarms {
		if err := a.cw.PutAlarm(ctx, cwScope(sc), al); err != nil {
			_ = a.DeleteAlarms(ctx, sc, names(refs))
			return nil, err
		}
		refs = append(refs, appscaling.AlarmRef{Name: al.Name, ARN: al.ARN})
	}
	return refs, nil
}

func names(refs []appscaling.AlarmRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func (a cwAlarms) DeleteAlarms(ctx context.Context, sc appscaling.Scope, names []string) error {
	return a.cw.DeleteAlarms(ctx, cwScope(sc), names)
}

// scalingAction is CloudWatch's handler of the alarm actions that name a
// scaling policy (arn:aws:autoscaling:...): while the alarm is in ALARM
// (each evaluation) it runs the policy with the alarm's current metric:
// the newest datapoint for target tracking, the policy's aggregation of
// the evaluated datapoints for step scaling.
func scalingAction(cwp *cwcp.Plane, scaling *appscalingcp.Plane, log *slog.Logger) cwcp.ActionHandler {
	return func(ctx context.Context, ev cwcp.ActionEvent) error {
		if ev.NewState != cw.StateAlarm {
			return nil
		}
		sc := appscaling.Scope{Account: ev.Scope.Account, Region: ev.Scope.Region}
		pol, err := scaling.PolicyByARN(ctx, sc, ev.Action)
		if err != nil {
			return err
		}
		slots, err := cwp.Slots(ev.Scope, &ev.Alarm, ev.Time)
		if err != nil {
			return err
		}
		agg := "Latest"
		if pol.Step != nil {
			agg = pol.Step.MetricAggregationType
		}
		v, ok := aggregate(slots, agg)
		if !ok {
			return fmt.Errorf("alarm %s has no datapoint to scale on", ev.Alarm.Name)
		}
		res, err := scaling.Execute(ctx, sc, ev.Action, appscalingcp.Trigger{Alarm: ev.Alarm.Name, State: ev.NewState,
			Metric: v, Threshold: ev.Alarm.Threshold})
		if err != nil {
			return err
		}
		if res.Activity == nil && !ev.Repeat {
			log.Info("scaling policy did not scale", "policy", pol.Name, "alarm", ev.Alarm.Name, "metric", v, "reason", res.NotScaled)
		}
		return nil
	}
}

// aggregate is the Latest, Average (default), Minimum or Maximum of the
// present datapoints.
func aggregate(slots []cw.Slot, how string) (float64, bool) {
	var vals []float64
	for _, s := range slots {
		if s.Present {
			vals = append(vals, s.Value)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	switch how {
	case "Latest":
		return vals[len(vals)-1], true
	case "Minimum":
		m := math.Inf(1)
		for _, v := range vals {
			m = min(m, v)
		}
		return m, true
	case "Maximum":
		m := math.Inf(-1)
		for _, v := range vals {
			m = max(m, v)
		}
		return m, true
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	return sum / float64(len(vals)), true
}

// cwAlarmStates tells the service scheduler which of a deployment's
// alarms are in ALARM (deploymentConfiguration.alarms).
type cwAlarmStates struct{ cw *cwcp.Plane }

var _ controller.AlarmStates = cwAlarmStates{}

func (a cwAlarmStates) InAlarm(ctx context.Context, sc ecs.Scope, names []string) ([]string, error) {
	got, err := a.cw.DescribeAlarms(ctx, cw.Scope{Account: sc.Account, Region: sc.Region}, cwcp.AlarmFilter{Names: names, State: cw.StateAlarm})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, al := range got {
		out = append(out, al.Name)
	}
	return out, nil
}
