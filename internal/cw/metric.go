package cw

import (
	"math"
	"sort"
	"strings"
	"time"
)

// Scope is one account and region.
type Scope struct{ Account, Region string }

// Dimension is one name/value pair of a metric's identity.
type Dimension struct{ Name, Value string }

// Metric is a metric's identity: namespace, name and dimensions (kept
// sorted by name, as identity does not depend on their order).
type Metric struct {
	Namespace  string
	Name       string
	Dimensions []Dimension
}

// Normalize sorts the dimensions by name.
func (m Metric) Normalize() Metric {
	if sort.SliceIsSorted(m.Dimensions, func(i, j int) bool { return m.Dimensions[i].Name < m.Dimensions[j].Name }) {
		return m
	}
	d := append([]Dimension(nil), m.Dimensions...)
	sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
	m.Dimensions = d
	return m
}

// Key is a stable string for the (normalized) metric.
func (m Metric) Key() string {
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, d := range m.Dimensions {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(1)
		b.WriteString(d.Value)
	}
	return b.String()
}

// HasDimensions reports whether m has every dimension of filter (a filter
// dimension with an empty value matches any value).
func (m Metric) HasDimensions(filter []Dimension) bool {
	for _, f := range filter {
		found := false
		for _, d := range m.Dimensions {
			if d.Name == f.Name && (f.Value == "" || d.Value == f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Agg is the aggregate of a set of samples: what CloudWatch keeps per
// metric and period (statistic set).
type Agg struct {
	Count, Sum, Min, Max float64
}

// Add merges o into a.
func (a *Agg) Add(o Agg) {
	if o.Count <= 0 {
		return
	}
	if a.Count == 0 {
		*a = o
		return
	}
	a.Count += o.Count
	a.Sum += o.Sum
	a.Min = math.Min(a.Min, o.Min)
	a.Max = math.Max(a.Max, o.Max)
}

// Value returns the aggregate's statistic (Average, Sum, Minimum, Maximum,
// SampleCount); ok is false for an unknown statistic.
func (a Agg) Value(stat string) (float64, bool) {
	switch stat {
	case "Average":
		return a.Sum / a.Count, true
	case "Sum":
		return a.Sum, true
	case "Minimum":
		return a.Min, true
	case "Maximum":
		return a.Max, true
	case "SampleCount":
		return a.Count, true
	}
	return 0, false
}

// Statistics are the statistics CloudWatch computes from statistic sets.
var Statistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// IsStatistic reports whether s is one of Statistics.
func IsStatistic(s string) bool {
	for _, x := range Statistics {
		if x == s {
			return true
		}
	}
	return false
}

// Sample is one aggregate at one time, as stored.
type Sample struct {
	Time time.Time
	Agg  Agg
}

// Datum is one PutMetricData entry, normalized to an aggregate.
type Datum struct {
	Metric Metric
	Time   time.Time
	Agg    Agg
	// Values are the datum's distinct values, each an aggregate of one
	// value with its count, when it was put as Values and Counts: they are
	// stored one record each (Agg is their total) so that percentiles can
	// be computed from them.
	Values            []Agg
	Unit              string
	StorageResolution int // 1 (high resolution) or 60
}

// Units are CloudWatch's standard units.
var Units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true, "Megabytes": true,
	"Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true,
	"Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// Point is one datapoint of a period: its start and aggregate.
type Point struct {
	Time time.Time
	Agg  Agg
}

// Bucket groups samples into periods of length period starting at start
// (aligned), returning the periods that have data, oldest first.
func Bucket(samples []Sample, start, end time.Time, period time.Duration) []Point {
	if period <= 0 || !end.After(start) {
		return nil
	}
	n := int64((end.Sub(start) + period - 1) / period)
	if n > 1<<20 {
		return bucketSparse(samples, start, end, period)
	}
	aggs := make([]Agg, n)
	for _, s := range samples {
		if s.Time.Before(start) || !s.Time.Before(end) {
			continue
		}
		aggs[s.Time.Sub(start)/period].Add(s.Agg)
	}
	var out []Point
	for i, a := range aggs {
		if a.Count > 0 {
			out = append(out, Point{Time: start.Add(time.Duration(i) * period), Agg: a})
		}
	}
	return out
}

// bucketSparse is Bucket for ranges of very many periods.
func bucketSparse(samples []Sample, start, end time.Time, period time.Duration) []Point {
	byIdx := map[int64]*Agg{}
	for _, s := range samples {
		if s.Time.Before(start) || !s.Time.Before(end) {
			continue
		}
		i := int64(s.Time.Sub(start) / period)
		a := byIdx[i]
		if a == nil {
			a = &Agg{}
			byIdx[i] = a
		}
		a.Add(s.Agg)
	}
	idx := make([]int64, 0, len(byIdx))
	for i := range byIdx {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	out := make([]Point, len(idx))
	for k, i := range idx {
		out[k] = Point{Time: start.Add(time.Duration(i) * period), Agg: *byIdx[i]}
	}
	return out
}
