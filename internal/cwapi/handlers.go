package cwapi

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
)

func (a *API) putMetricData(ctx context.Context, c *awsproto.Call, in *putMetricDataIn) (any, error) {
	data := make([]cw.Datum, 0, len(in.MetricData))
	for i, d := range in.MetricData {
		agg, values, err := datumAgg(i, d)
		if err != nil {
			return nil, err
		}
		var ts time.Time
		if d.Timestamp != nil {
			ts = d.Timestamp.Time
		}
		data = append(data, cw.Datum{Metric: cw.Metric{Name: d.MetricName, Dimensions: dims(d.Dimensions)},
			Time: ts, Agg: agg, Values: values, Unit: d.Unit, StorageResolution: d.StorageResolution})
	}
	return nil, a.plane.PutMetricData(ctx, a.scope(c), in.Namespace, data)
}

// datumAgg turns one MetricDatum (Value, StatisticValues or Values with
// Counts) into an aggregate; for Values, also each distinct value's
// aggregate (one value, its count), which percentiles need.
func datumAgg(i int, d wMetricDatum) (cw.Agg, []cw.Agg, error) {
	set := 0
	for _, b := range []bool{d.Value != nil, d.StatisticValues != nil, len(d.Values) > 0} {
		if b {
			set++
		}
	}
	if set > 1 {
		return cw.Agg{}, nil, cw.Combinationf("The parameters MetricData.member.%d.Value, MetricData.member.%d.StatisticValues and MetricData.member.%d.Values are mutually exclusive and you have specified more than one.", i+1, i+1, i+1)
	}
	switch {
	case d.Value != nil:
		return cw.Agg{Count: 1, Sum: *d.Value, Min: *d.Value, Max: *d.Value}, nil, nil
	case d.StatisticValues != nil:
		s := d.StatisticValues
		if s.SampleCount <= 0 || s.Minimum > s.Maximum {
			return cw.Agg{}, nil, cw.Invalidf("The parameter MetricData.member.%d.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.", i+1)
		}
		return cw.Agg{Count: s.SampleCount, Sum: s.Sum, Min: s.Minimum, Max: s.Maximum}, nil, nil
	case len(d.Values) > 0:
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return cw.Agg{}, nil, cw.Combinationf("The parameters MetricData.member.%d.Values and MetricData.member.%d.Counts must be of the same size.", i+1, i+1)
		}
		if len(d.Values) > 150 {
			return cw.Agg{}, nil, cw.Invalidf("The collection MetricData.member.%d.Values must not have a size greater than 150.", i+1)
		}
		var agg cw.Agg
		var parts []cw.Agg
		at := map[float64]int{}
		for k, v := range d.Values {
			n := 1.0
			if len(d.Counts) > 0 {
				n = d.Counts[k]
			}
			if n <= 0 {
				continue
			}
			one := cw.Agg{Count: n, Sum: v * n, Min: v, Max: v}
			agg.Add(one)
			if j, ok := at[v]; ok {
				parts[j].Add(one)
			} else {
				at[v] = len(parts)
				parts = append(parts, one)
			}
		}
		return agg, parts, nil
	}
	return cw.Agg{}, nil, cw.Missingf("The parameter MetricData.member.%d.Value, StatisticValues or Values is required.", i+1)
}

func dims(ds []wDimension) []cw.Dimension {
	out := make([]cw.Dimension, 0, len(ds))
	for _, d := range ds {
		out = append(out, cw.Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func wdims(ds []cw.Dimension) []wDimension {
	if len(ds) == 0 {
		return nil
	}
	out := make([]wDimension, 0, len(ds))
	for _, d := range ds {
		out = append(out, wDimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func (a *API) getMetricStatistics(ctx context.Context, c *awsproto.Call, in *getMetricStatisticsIn) (any, error) {
	m := cw.Metric{Namespace: in.Namespace, Name: in.MetricName, Dimensions: dims(in.Dimensions)}
	pts, err := a.plane.GetMetricStatistics(ctx, a.scope(c), m, in.StartTime.Time, in.EndTime.Time, in.Period, in.Statistics, in.ExtendedStatistics, in.Unit)
	if err != nil {
		return nil, err
	}
	out := &getMetricStatisticsOut{Label: in.MetricName, Datapoints: []wDatapoint{}}
	for _, p := range pts {
		dp := wDatapoint{Timestamp: awsproto.EpochTime{Time: p.Time}, Unit: p.Unit, ExtendedStatistics: p.Extended}
		for s, v := range p.Values {
			v := v
			switch s {
			case "SampleCount":
				dp.SampleCount = &v
			case "Average":
				dp.Average = &v
			case "Sum":
				dp.Sum = &v
			case "Minimum":
				dp.Minimum = &v
			case "Maximum":
				dp.Maximum = &v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

func queries(in []wMetricDataQuery) []cw.Query {
	out := make([]cw.Query, 0, len(in))
	for _, q := range in {
		dq := cw.Query{ID: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData == nil || *q.ReturnData, Period: q.Period, AccountID: q.AccountId}
		if q.MetricStat != nil {
			dq.Stat = &cw.MetricStat{
				Metric: cw.Metric{Namespace: q.MetricStat.Metric.Namespace, Name: q.MetricStat.Metric.MetricName, Dimensions: dims(q.MetricStat.Metric.Dimensions)}.Normalize(),
				Period: q.MetricStat.Period, Stat: q.MetricStat.Stat, Unit: q.MetricStat.Unit,
			}
		}
		out = append(out, dq)
	}
	return out
}

func wqueries(qs []cw.Query) []wMetricDataQuery {
	var out []wMetricDataQuery
	for _, q := range qs {
		rd := q.ReturnData
		w := wMetricDataQuery{Id: q.ID, Expression: q.Expression, Label: q.Label, ReturnData: &rd, Period: q.Period, AccountId: q.AccountID}
		if q.Stat != nil {
			w.Period = 0
			w.MetricStat = &wMetricStat{Metric: wMetric{Namespace: q.Stat.Metric.Namespace, MetricName: q.Stat.Metric.Name, Dimensions: wdims(q.Stat.Metric.Dimensions)},
				Period: q.Stat.Period, Stat: q.Stat.Stat, Unit: q.Stat.Unit}
		}
		out = append(out, w)
	}
	return out
}

func (a *API) getMetricData(ctx context.Context, c *awsproto.Call, in *getMetricDataIn) (any, error) {
	desc := true
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		desc = false
	default:
		return nil, cw.Invalidf("The value %s for parameter ScanBy is invalid.", in.ScanBy)
	}
	res, err := a.plane.GetMetricData(ctx, a.scope(c), queries(in.MetricDataQueries), in.StartTime.Time, in.EndTime.Time, desc)
	if err != nil {
		return nil, err
	}
	size := in.MaxDatapoints
	switch {
	case size < 0:
		return nil, cw.Invalidf("The parameter MaxDatapoints must be greater than 0.")
	case size == 0:
		size = defaultMaxDatapoints
	}
	// The datapoints of every result, in order, are one sequence that
	// pages by MaxDatapoints; a result with datapoints left for a later
	// page is PartialData.
	type ref struct{ r, i int }
	var flat []ref
	for ri, r := range res {
		for i := range r.Times {
			flat = append(flat, ref{ri, i})
		}
	}
	pg, next, err := page(flat, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &getMetricDataOut{MetricDataResults: []wMetricDataResult{}, NextToken: next}
	ws := make([]wMetricDataResult, len(res))
	for ri, r := range res {
		ws[ri] = wMetricDataResult{Id: r.ID, Label: r.Label, StatusCode: "Complete", Timestamps: []awsproto.EpochTime{}, Values: []float64{}}
	}
	last := map[int]int{}
	for _, x := range pg {
		ws[x.r].Timestamps = append(ws[x.r].Timestamps, awsproto.EpochTime{Time: res[x.r].Times[x.i]})
		ws[x.r].Values = append(ws[x.r].Values, res[x.r].Values[x.i])
		last[x.r] = x.i
	}
	if next != "" {
		for ri, r := range res {
			i, seen := last[ri]
			if len(r.Times) > 0 && (!seen && (len(pg) == 0 || ri > pg[len(pg)-1].r) || seen && i < len(r.Times)-1) {
				ws[ri].StatusCode = "PartialData"
			}
		}
	}
	out.MetricDataResults = ws
	return out, nil
}

// defaultMaxDatapoints is GetMetricData's page size when MaxDatapoints is
// not given.
const defaultMaxDatapoints = 100800

func (a *API) listMetrics(ctx context.Context, c *awsproto.Call, in *listMetricsIn) (any, error) {
	ms, err := a.plane.ListMetrics(ctx, a.scope(c), cwcp.MetricFilter{Namespace: in.Namespace, Name: in.MetricName, Dimensions: dims(in.Dimensions), RecentlyActive: in.RecentlyActive})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ms, in.NextToken, 500)
	if err != nil {
		return nil, err
	}
	out := &listMetricsOut{Metrics: []wMetric{}, NextToken: next}
	for _, m := range pg {
		out.Metrics = append(out.Metrics, wMetric{Namespace: m.Namespace, MetricName: m.Name, Dimensions: orEmpty(wdims(m.Dimensions))})
	}
	return out, nil
}

func orEmpty(d []wDimension) []wDimension {
	if d == nil {
		return []wDimension{}
	}
	return d
}

func (a *API) putMetricAlarm(ctx context.Context, c *awsproto.Call, in *putMetricAlarmIn) (any, error) {
	if in.ThresholdMetricId != "" {
		return nil, cw.Invalidf("berth does not support anomaly detection alarms (ThresholdMetricId).")
	}
	if in.Threshold == nil {
		return nil, cw.Missingf("The parameter Threshold is required.")
	}
	al := &cw.Alarm{
		Name: in.AlarmName, Description: in.AlarmDescription, ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
		Metric:    cw.Metric{Namespace: in.Namespace, Name: in.MetricName, Dimensions: dims(in.Dimensions)},
		Statistic: in.Statistic, ExtendedStatistic: in.ExtendedStatistic, Period: in.Period, Unit: in.Unit,
		EvaluationPeriods: in.EvaluationPeriods, DatapointsToAlarm: in.DatapointsToAlarm, Threshold: *in.Threshold,
		ComparisonOperator: in.ComparisonOperator, TreatMissingData: in.TreatMissingData, Queries: nil,
	}
	if len(in.Metrics) > 0 {
		al.Queries = queries(in.Metrics)
	}
	if len(in.Tags) > 0 {
		al.Tags = map[string]string{}
		for _, t := range in.Tags {
			al.Tags[t.Key] = t.Value
		}
	}
	return nil, a.plane.PutAlarm(ctx, a.scope(c), al)
}

func walarm(al *cw.Alarm) wMetricAlarm {
	w := wMetricAlarm{
		AlarmName: al.Name, AlarmArn: al.ARN, AlarmDescription: al.Description,
		AlarmConfigurationUpdatedTimestamp: awsproto.Epoch(al.ConfigUpdated), ActionsEnabled: al.ActionsEnabled,
		OKActions: orNone(al.OKActions), AlarmActions: orNone(al.AlarmActions), InsufficientDataActions: orNone(al.InsufficientDataActions),
		StateValue: al.State, StateReason: al.StateReason, StateReasonData: al.StateReasonData,
		StateUpdatedTimestamp: awsproto.Epoch(al.StateUpdated), MetricName: al.Metric.Name, Namespace: al.Metric.Namespace,
		Statistic: al.Statistic, Dimensions: wdims(al.Metric.Dimensions), Period: al.Period, Unit: al.Unit,
		EvaluationPeriods: al.EvaluationPeriods, DatapointsToAlarm: al.DatapointsToAlarm, Threshold: al.Threshold,
		ComparisonOperator: al.ComparisonOperator, TreatMissingData: al.TreatMissingData, Metrics: wqueries(al.Queries),
		StateTransitionedTimestamp: awsproto.Epoch(al.StateTransitioned),
	}
	if len(al.Queries) == 0 && w.Dimensions == nil {
		w.Dimensions = []wDimension{}
	}
	return w
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) describeAlarms(ctx context.Context, c *awsproto.Call, in *describeAlarmsIn) (any, error) {
	size := 50
	if in.MaxRecords != 0 {
		if in.MaxRecords < 1 || in.MaxRecords > 100 {
			return nil, cw.Invalidf("The parameter MaxRecords must be from 1 to 100.")
		}
		size = in.MaxRecords
	}
	als, err := a.plane.DescribeAlarms(ctx, a.scope(c), cwcp.AlarmFilter{Names: in.AlarmNames, NamePrefix: in.AlarmNamePrefix,
		State: in.StateValue, ActionPrefix: in.ActionPrefix, Types: in.AlarmTypes, ChildrenOf: in.ChildrenOfAlarmName, ParentsOf: in.ParentsOfAlarmName})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(als, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &describeAlarmsOut{MetricAlarms: []wMetricAlarm{}, NextToken: next}
	wantComposite := in.ChildrenOfAlarmName != "" || in.ParentsOfAlarmName != ""
	for _, t := range in.AlarmTypes {
		wantComposite = wantComposite || t == "CompositeAlarm"
	}
	if wantComposite {
		out.CompositeAlarms = []wCompositeAlarm{}
	}
	for _, al := range pg {
		switch {
		case !al.IsComposite():
			out.MetricAlarms = append(out.MetricAlarms, walarm(al))
		case in.ParentsOfAlarmName != "":
			// Only the name and ARN, as AWS answers ParentsOfAlarmName.
			out.CompositeAlarms = append(out.CompositeAlarms, wCompositeAlarm{AlarmName: al.Name, AlarmArn: al.ARN})
		case in.ChildrenOfAlarmName != "":
			// Only the name, ARN, state and its time, as AWS answers
			// ChildrenOfAlarmName.
			out.CompositeAlarms = append(out.CompositeAlarms, wCompositeAlarm{AlarmName: al.Name, AlarmArn: al.ARN,
				StateValue: al.State, StateUpdatedTimestamp: awsproto.Epoch(al.StateUpdated)})
		default:
			out.CompositeAlarms = append(out.CompositeAlarms, wcomposite(al))
		}
	}
	return out, nil
}

func wcomposite(al *cw.Alarm) wCompositeAlarm {
	enabled := al.ActionsEnabled
	w := wCompositeAlarm{
		ActionsEnabled: &enabled, AlarmActions: orNone(al.AlarmActions), AlarmArn: al.ARN,
		AlarmConfigurationUpdatedTimestamp: awsproto.Epoch(al.ConfigUpdated), AlarmDescription: al.Description,
		AlarmName: al.Name, AlarmRule: al.AlarmRule, InsufficientDataActions: orNone(al.InsufficientDataActions),
		OKActions: orNone(al.OKActions), StateReason: al.StateReason, StateReasonData: al.StateReasonData,
		StateUpdatedTimestamp: awsproto.Epoch(al.StateUpdated), StateValue: al.State,
		StateTransitionedTimestamp: awsproto.Epoch(al.StateTransitioned),
		ActionsSuppressedBy:        al.ActionsSuppressedBy, ActionsSuppressedReason: al.ActionsSuppressedReason,
		ActionsSuppressor: al.ActionsSuppressor,
	}
	if al.ActionsSuppressor != "" {
		wait, ext := al.SuppressorWaitPeriod, al.SuppressorExtensionPeriod
		w.ActionsSuppressorWaitPeriod, w.ActionsSuppressorExtensionPeriod = &wait, &ext
	}
	return w
}

func (a *API) putCompositeAlarm(ctx context.Context, c *awsproto.Call, in *putCompositeAlarmIn) (any, error) {
	al := &cw.Alarm{
		Name: in.AlarmName, Description: in.AlarmDescription, ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
		AlarmRule: in.AlarmRule, ActionsSuppressor: in.ActionsSuppressor,
		SuppressorWaitPeriod: in.ActionsSuppressorWaitPeriod, SuppressorExtensionPeriod: in.ActionsSuppressorExtensionPeriod,
	}
	if len(in.Tags) > 0 {
		al.Tags = map[string]string{}
		for _, t := range in.Tags {
			al.Tags[t.Key] = t.Value
		}
	}
	return nil, a.plane.PutCompositeAlarm(ctx, a.scope(c), al)
}

func (a *API) describeAlarmsForMetric(ctx context.Context, c *awsproto.Call, in *describeAlarmsForMetricIn) (any, error) {
	m := cw.Metric{Namespace: in.Namespace, Name: in.MetricName, Dimensions: dims(in.Dimensions)}
	als, err := a.plane.DescribeAlarmsForMetric(ctx, a.scope(c), m, in.Statistic, in.Period, in.Unit)
	if err != nil {
		return nil, err
	}
	out := &describeAlarmsForMetricOut{MetricAlarms: []wMetricAlarm{}}
	for _, al := range als {
		out.MetricAlarms = append(out.MetricAlarms, walarm(al))
	}
	return out, nil
}

func (a *API) describeAlarmHistory(ctx context.Context, c *awsproto.Call, in *describeAlarmHistoryIn) (any, error) {
	size := 100
	if in.MaxRecords != 0 {
		if in.MaxRecords < 1 || in.MaxRecords > 100 {
			return nil, cw.Invalidf("The parameter MaxRecords must be from 1 to 100.")
		}
		size = in.MaxRecords
	}
	f := cwcp.HistoryFilter{Name: in.AlarmName, Type: in.HistoryItemType, AlarmTypes: in.AlarmTypes}
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		f.Ascending = true
	default:
		return nil, cw.Invalidf("The value %s for parameter ScanBy is invalid.", in.ScanBy)
	}
	if in.StartDate != nil {
		f.Start = in.StartDate.Time
	}
	if in.EndDate != nil {
		f.End = in.EndDate.Time
	}
	items, err := a.plane.History(ctx, a.scope(c), f)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &describeAlarmHistoryOut{AlarmHistoryItems: []wAlarmHistoryItem{}, NextToken: next}
	for _, h := range pg {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, wAlarmHistoryItem{AlarmName: h.AlarmName, AlarmType: h.AlarmType,
			Timestamp: awsproto.EpochTime{Time: h.Time}, HistoryItemType: h.Type, HistorySummary: h.Summary, HistoryData: h.Data})
	}
	return out, nil
}

func (a *API) deleteAlarms(ctx context.Context, c *awsproto.Call, in *alarmNamesIn) (any, error) {
	return nil, a.plane.DeleteAlarms(ctx, a.scope(c), in.AlarmNames)
}

func (a *API) enableAlarmActions(ctx context.Context, c *awsproto.Call, in *alarmNamesIn) (any, error) {
	return nil, a.plane.SetActionsEnabled(ctx, a.scope(c), in.AlarmNames, true)
}

func (a *API) disableAlarmActions(ctx context.Context, c *awsproto.Call, in *alarmNamesIn) (any, error) {
	return nil, a.plane.SetActionsEnabled(ctx, a.scope(c), in.AlarmNames, false)
}

func (a *API) setAlarmState(ctx context.Context, c *awsproto.Call, in *setAlarmStateIn) (any, error) {
	return nil, a.plane.SetAlarmState(ctx, a.scope(c), in.AlarmName, in.StateValue, in.StateReason, in.StateReasonData)
}
