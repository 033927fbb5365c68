package cw

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// extendedStat is CloudWatch's percentile statistic: p followed by a
// number from 0 to 100 with at most two decimals (p50, p99, p99.9).
var extendedStat = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$`)

// ParsePercentile returns the percentile an extended statistic names
// ("p99.9" is 99.9); ok is false for anything else.
func ParsePercentile(stat string) (float64, bool) {
	if !extendedStat.MatchString(stat) {
		return 0, false
	}
	p, err := strconv.ParseFloat(stat[1:], 64)
	return p, err == nil
}

// Percentile returns the p-th percentile (0 <= p <= 100) of the values
// the samples carry, by nearest rank: the smallest value v such that at
// least p% of the values are v or less (p0 is the minimum). A sample
// whose Minimum equals its Maximum carries Count copies of one value (a
// Value, or one of a datum's Values with its Count); a statistic set
// with a range does not say its values, so ok is false when any sample
// is one, as CloudWatch gives no percentile for data published as
// statistic sets. ok is also false with no samples.
func Percentile(samples []Sample, p float64) (float64, bool) {
	type wv struct{ v, n float64 }
	vals := make([]wv, 0, len(samples))
	total := 0.0
	for _, s := range samples {
		if s.Agg.Count <= 0 {
			continue
		}
		if s.Agg.Min != s.Agg.Max {
			return 0, false
		}
		vals = append(vals, wv{s.Agg.Min, s.Agg.Count})
		total += s.Agg.Count
	}
	if len(vals) == 0 {
		return 0, false
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].v < vals[j].v })
	rank := max(1, math.Ceil(p/100*total-1e-9))
	seen := 0.0
	for _, x := range vals {
		seen += x.n
		if seen >= rank {
			return x.v, true
		}
	}
	return vals[len(vals)-1].v, true
}

// BucketSamples groups samples into periods of length period from start
// (as Bucket does), returning each period's samples by its index.
func BucketSamples(samples []Sample, start, end time.Time, period time.Duration) map[int][]Sample {
	out := map[int][]Sample{}
	if period <= 0 {
		return out
	}
	for _, s := range samples {
		if s.Time.Before(start) || !s.Time.Before(end) {
			continue
		}
		i := int(s.Time.Sub(start) / period)
		out[i] = append(out[i], s)
	}
	return out
}
