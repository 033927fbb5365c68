package cwcp

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/fault"
)

// MaxDatapointsPerCall is GetMetricStatistics's limit.
const MaxDatapointsPerCall = 1440

// PutMetricData validates and stores datapoints of one namespace.
func (p *Plane) PutMetricData(ctx context.Context, sc cw.Scope, namespace string, data []cw.Datum) error {
	if namespace == "" {
		return cw.Missingf("The parameter Namespace is required.")
	}
	if strings.HasPrefix(namespace, "AWS/") {
		return cw.Invalidf("The value AWS/ for parameter Namespace is invalid.")
	}
	return p.putData(sc, namespace, data)
}

// PublishServiceMetrics stores datapoints of an AWS/ namespace (the ones
// berth itself publishes, such as AWS/ECS).
func (p *Plane) PublishServiceMetrics(sc cw.Scope, namespace string, data []cw.Datum) error {
	return p.putData(sc, namespace, data)
}

func (p *Plane) putData(sc cw.Scope, namespace string, data []cw.Datum) error {
	if len(data) == 0 {
		return cw.Missingf("The parameter MetricData is required.")
	}
	if len(data) > 1000 {
		return cw.Invalidf("The collection MetricData must not have a size greater than 1000.")
	}
	now := p.now()
	for i := range data {
		d := &data[i]
		d.Metric.Namespace = namespace
		d.Metric = d.Metric.Normalize()
		if d.Metric.Name == "" {
			return cw.Missingf("The parameter MetricData.member.%d.MetricName is required.", i+1)
		}
		if len(d.Metric.Dimensions) > 30 {
			return cw.Invalidf("The collection MetricData.member.%d.Dimensions must not have a size greater than 30.", i+1)
		}
		for j, dim := range d.Metric.Dimensions {
			if dim.Name == "" || dim.Value == "" {
				return cw.Missingf("The parameters MetricData.member.%d.Dimensions.member.%d.Name and Value are required.", i+1, j+1)
			}
			if j > 0 && d.Metric.Dimensions[j-1].Name == dim.Name {
				return cw.Invalidf("The dimension %s appears twice in MetricData.member.%d.", dim.Name, i+1)
			}
		}
		if d.Unit != "" && !cw.Units[d.Unit] {
			return cw.Invalidf("The value %s for parameter MetricData.member.%d.Unit is invalid.", d.Unit, i+1)
		}
		if d.StorageResolution != 0 && d.StorageResolution != 1 && d.StorageResolution != 60 {
			return cw.Invalidf("The value %d for parameter MetricData.member.%d.StorageResolution is invalid; it must be 1 or 60.", d.StorageResolution, i+1)
		}
		if d.Time.IsZero() {
			d.Time = now
		}
		if d.Time.Before(now.Add(-14*24*time.Hour)) || d.Time.After(now.Add(2*time.Hour)) {
			return cw.Invalidf("The parameter MetricData.member.%d.Timestamp must be within the last two weeks and not more than two hours in the future.", i+1)
		}
		for _, v := range []float64{d.Agg.Sum, d.Agg.Min, d.Agg.Max, d.Agg.Count} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return cw.Invalidf("The value for parameter MetricData.member.%d must be a finite number.", i+1)
			}
		}
		if d.Agg.Count <= 0 {
			return cw.Invalidf("The parameter MetricData.member.%d has no values (SampleCount must be positive).", i+1)
		}
	}
	if err := p.metrics.Put(sc, data); err != nil {
		return fault.Wrap(err, fault.Internal, "storing metric data")
	}
	return nil
}

// StatPoint is one GetMetricStatistics datapoint: the statistics by
// name, and the percentiles (p99, ...) the period's data can give.
type StatPoint struct {
	Time     time.Time
	Values   map[string]float64
	Extended map[string]float64
	Unit     string
}

// realPeriod validates a period in CloudWatch seconds and returns its
// real duration under the plane's scale.
func (p *Plane) realPeriod(period int, what string) (time.Duration, error) {
	switch {
	case period <= 0:
		return 0, cw.Invalidf("The parameter %s must be greater than 0.", what)
	case period < 60 && period != 1 && period != 5 && period != 10 && period != 30:
		return 0, cw.Invalidf("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", what)
	case period >= 60 && period%60 != 0:
		return 0, cw.Invalidf("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", what)
	}
	d := p.scale.Real(period)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d, nil
}

// GetMetricStatistics returns the statistics and extended statistics
// (percentiles) of one metric per period, oldest first.
func (p *Plane) GetMetricStatistics(ctx context.Context, sc cw.Scope, m cw.Metric, start, end time.Time, period int, stats, extended []string, unit string) ([]StatPoint, error) {
	if m.Namespace == "" || m.Name == "" {
		return nil, cw.Missingf("The parameters Namespace and MetricName are required.")
	}
	if !end.After(start) {
		return nil, cw.Invalidf("The parameter StartTime must be less than the parameter EndTime.")
	}
	if len(stats) == 0 && len(extended) == 0 {
		return nil, cw.Missingf("At least one of the parameters Statistics and ExtendedStatistics must be specified.")
	}
	if len(stats)+len(extended) > 10 {
		return nil, cw.Invalidf("The collections Statistics and ExtendedStatistics must not have more than 10 members together.")
	}
	for _, s := range stats {
		if !cw.IsStatistic(s) {
			return nil, cw.Invalidf("The value %s for parameter Statistics is not a valid statistic.", s)
		}
	}
	for _, s := range extended {
		if _, ok := cw.ParsePercentile(s); !ok {
			return nil, cw.Invalidf("The value %s for parameter ExtendedStatistics is not a valid percentile (p0.0 to p100).", s)
		}
	}
	if unit != "" && !cw.Units[unit] {
		return nil, cw.Invalidf("The value %s for parameter Unit is invalid.", unit)
	}
	rp, err := p.realPeriod(period, "Period")
	if err != nil {
		return nil, err
	}
	start = start.Truncate(rp)
	if n := end.Sub(start) / rp; n > MaxDatapointsPerCall {
		return nil, cw.Combinationf("You have requested up to %d datapoints, which exceeds the limit of %d. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, MaxDatapointsPerCall)
	}
	samples, err := p.metrics.Samples(sc, m, start, end)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "reading metric data")
	}
	// The store keeps a metric's latest unit, not one per datapoint: a
	// Unit filter that differs from it selects nothing (as AWS answers
	// for a unit the data was not put with).
	stored := p.metrics.Unit(sc, m)
	if unit != "" && unit != stored {
		return nil, nil
	}
	unit = stored
	var groups map[int][]cw.Sample
	if len(extended) > 0 {
		groups = cw.BucketSamples(samples, start, end, rp)
	}
	var out []StatPoint
	for _, pt := range cw.Bucket(samples, start, end, rp) {
		sp := StatPoint{Time: pt.Time, Values: map[string]float64{}, Unit: unit}
		for _, s := range stats {
			sp.Values[s], _ = pt.Agg.Value(s)
		}
		for _, s := range extended {
			if v, ok := statValue(pt.Agg, groups[int(pt.Time.Sub(start)/rp)], s); ok {
				if sp.Extended == nil {
					sp.Extended = map[string]float64{}
				}
				sp.Extended[s] = v
			}
		}
		out = append(out, sp)
	}
	return out, nil
}

// statValue is a period's value of a statistic: from its aggregate, or,
// for a percentile, from its samples (ok is false when they cannot give
// it: statistic sets).
func statValue(agg cw.Agg, samples []cw.Sample, stat string) (float64, bool) {
	if pc, ok := cw.ParsePercentile(stat); ok {
		return cw.Percentile(samples, pc)
	}
	return agg.Value(stat)
}

// isStat reports whether stat is a statistic or a percentile.
func isStat(stat string) bool {
	_, ok := cw.ParsePercentile(stat)
	return ok || cw.IsStatistic(stat)
}

// DataQuery is one GetMetricData query.
type DataQuery = cw.Query

// DataResult is one GetMetricData result (oldest first).
type DataResult struct {
	ID     string
	Label  string
	Times  []time.Time
	Values []float64
}

// GetMetricData evaluates queries (metric statistics and math
// expressions) over [start, end); only results with ReturnData are
// returned. descending orders the datapoints newest first.
func (p *Plane) GetMetricData(ctx context.Context, sc cw.Scope, qs []cw.Query, start, end time.Time, descending bool) ([]DataResult, error) {
	if len(qs) == 0 {
		return nil, cw.Missingf("The parameter MetricDataQueries is required.")
	}
	if len(qs) > 500 {
		return nil, cw.Invalidf("The collection MetricDataQueries must not have a size greater than 500.")
	}
	if !end.After(start) {
		return nil, cw.Invalidf("The parameter StartTime must be less than the parameter EndTime.")
	}
	series, period, err := p.evalQueries(sc, qs, start, end)
	if err != nil {
		return nil, err
	}
	grid := start.Truncate(period)
	var out []DataResult
	for _, q := range qs {
		if !q.ReturnData {
			continue
		}
		for _, s := range series[q.ID] {
			r := DataResult{ID: q.ID, Label: s.Label}
			for i, v := range s.Values {
				if math.IsNaN(v) {
					continue
				}
				r.Times = append(r.Times, grid.Add(time.Duration(i)*period))
				r.Values = append(r.Values, v)
			}
			if descending {
				reverse(r.Times)
				reverse(r.Values)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// evalQueries computes every query on one grid (the smallest metric
// period) and returns each query's series by ID.
func (p *Plane) evalQueries(sc cw.Scope, qs []cw.Query, start, end time.Time) (map[string][]cw.Series, time.Duration, error) {
	periodSec := 0
	ids := map[string]bool{}
	for i, q := range qs {
		if q.ID == "" {
			return nil, 0, cw.Missingf("The parameter MetricDataQueries.member.%d.Id is required.", i+1)
		}
		if ids[q.ID] {
			return nil, 0, cw.Invalidf("The Id %s is used by more than one query.", q.ID)
		}
		ids[q.ID] = true
		if q.ID[0] < 'a' || q.ID[0] > 'z' {
			return nil, 0, cw.Invalidf("The value %s for parameter MetricDataQueries.member.%d.Id is invalid: it must start with a lowercase letter.", q.ID, i+1)
		}
		switch {
		case q.Stat == nil && q.Expression == "":
			return nil, 0, cw.Combinationf("The query %s needs exactly one of MetricStat and Expression.", q.ID)
		case q.Stat != nil && q.Expression != "":
			return nil, 0, cw.Combinationf("The query %s needs exactly one of MetricStat and Expression.", q.ID)
		case q.Stat != nil:
			if !isStat(q.Stat.Stat) {
				return nil, 0, cw.Invalidf("The value %s for parameter MetricDataQueries.member.%d.MetricStat.Stat is not a supported statistic.", q.Stat.Stat, i+1)
			}
			if _, err := p.realPeriod(q.Stat.Period, "MetricStat.Period"); err != nil {
				return nil, 0, err
			}
			if periodSec == 0 || q.Stat.Period < periodSec {
				periodSec = q.Stat.Period
			}
		}
	}
	if periodSec == 0 {
		for _, q := range qs {
			if q.Period > 0 {
				periodSec = q.Period
			}
		}
	}
	if periodSec == 0 {
		periodSec = 60
	}
	rp, err := p.realPeriod(periodSec, "Period")
	if err != nil {
		return nil, 0, err
	}
	grid := start.Truncate(rp)
	n := int(end.Sub(grid) / rp)
	if end.Sub(grid)%rp != 0 {
		n++
	}
	if n > 100800 {
		return nil, 0, cw.Combinationf("The query asks for %d datapoints per series, more than the limit of 100800.", n)
	}
	out := map[string][]cw.Series{}
	var vars []cw.Series
	for _, q := range qs {
		if q.Stat == nil {
			continue
		}
		samples, err := p.metrics.Samples(sc, q.Stat.Metric, grid, end)
		if err != nil {
			return nil, 0, fault.Wrap(err, fault.Internal, "reading metric data")
		}
		s := cw.Series{Metric: true, ID: q.ID, Label: q.Label, Values: make([]float64, n)}
		if s.Label == "" {
			s.Label = q.Stat.Metric.Name
		}
		for i := range s.Values {
			s.Values[i] = math.NaN()
		}
		var groups map[int][]cw.Sample
		if _, pc := cw.ParsePercentile(q.Stat.Stat); pc {
			groups = cw.BucketSamples(samples, grid, end, rp)
		}
		for _, pt := range cw.Bucket(samples, grid, end, rp) {
			i := int(pt.Time.Sub(grid) / rp)
			if i < 0 || i >= n {
				continue
			}
			if v, ok := statValue(pt.Agg, groups[i], q.Stat.Stat); ok {
				s.Values[i] = v
			}
		}
		out[q.ID] = []cw.Series{s}
		vars = append(vars, s)
	}
	// Expressions may refer to each other: evaluate until none is left
	// (each pass resolves at least one, or the references are bad).
	pending := []cw.Query{}
	for _, q := range qs {
		if q.Stat == nil {
			pending = append(pending, q)
		}
	}
	for len(pending) > 0 {
		var next []cw.Query
		var firstErr error
		for _, q := range pending {
			res, err := cw.EvalExpression(q.Expression, vars, n)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				next = append(next, q)
				continue
			}
			label := q.Label
			if label == "" {
				label = q.ID
			}
			for k := range res {
				res[k].ID, res[k].Metric = q.ID, false
				if len(res) == 1 || res[k].Label == "" {
					res[k].Label = label
				}
			}
			out[q.ID] = res
			if len(res) == 1 {
				vars = append(vars, res[0])
			}
		}
		if len(next) == len(pending) {
			return nil, 0, firstErr
		}
		pending = next
	}
	return out, rp, nil
}

// MetricFilter selects ListMetrics results.
type MetricFilter struct {
	Namespace  string
	Name       string
	Dimensions []cw.Dimension
	// RecentlyActive "PT3H" limits to metrics with data in the last three hours.
	RecentlyActive string
}

// ListMetrics returns the metrics matching f that have data in the last
// two weeks, sorted.
func (p *Plane) ListMetrics(ctx context.Context, sc cw.Scope, f MetricFilter) ([]cw.Metric, error) {
	since := p.now().Add(-14 * 24 * time.Hour)
	switch f.RecentlyActive {
	case "":
	case "PT3H":
		since = p.now().Add(-p.scale.Real(3 * 3600))
	default:
		return nil, cw.Invalidf("The value %s for parameter RecentlyActive is invalid; it must be PT3H.", f.RecentlyActive)
	}
	var out []cw.Metric
	for _, m := range p.metrics.List(sc, since) {
		if (f.Namespace == "" || m.Namespace == f.Namespace) && (f.Name == "" || m.Name == f.Name) && m.HasDimensions(f.Dimensions) {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}
