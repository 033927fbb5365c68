package cw

import (
	"testing"
	"time"
)

func one(v, n float64) Sample {
	return Sample{Agg: Agg{Count: n, Sum: v * n, Min: v, Max: v}}
}

func TestParsePercentile(t *testing.T) {
	for s, want := range map[string]float64{"p50": 50, "p99": 99, "p99.9": 99.9, "p99.99": 99.99, "p0": 0, "p100": 100, "p0.1": 0.1, "p100.0": 100} {
		if got, ok := ParsePercentile(s); !ok || got != want {
			t.Errorf("ParsePercentile(%q) = %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "p", "P99", "p101", "p99.999", "p-1", "Average", "tm99", "p 9", "p100.5"} {
		if _, ok := ParsePercentile(s); ok {
			t.Errorf("ParsePercentile(%q) accepted", s)
		}
	}
}

// The answers below are worked by hand with the nearest-rank rule: the
// p-th percentile of N values is the value at rank ceil(p/100 * N) in
// ascending order (rank 1 for p0).
func TestPercentileHandComputed(t *testing.T) {
	// 1..10, one each, in a shuffled order.
	var ten []Sample
	for _, v := range []float64{7, 3, 10, 1, 5, 9, 2, 8, 6, 4} {
		ten = append(ten, one(v, 1))
	}
	// Values 100 (count 90), 200 (count 9), 1000 (count 1): 100 values,
	// as one PutMetricData datum with Values and Counts is stored.
	weighted := []Sample{one(200, 9), one(1000, 1), one(100, 90)}
	cases := []struct {
		name    string
		samples []Sample
		p, want float64
	}{
		{"p50 of 1..10 is rank 5", ten, 50, 5},
		{"p90 of 1..10 is rank 9", ten, 90, 9},
		{"p99 of 1..10 is rank ceil(9.9) = 10", ten, 99, 10},
		{"p10 of 1..10 is rank 1", ten, 10, 1},
		{"p10.1 of 1..10 is rank ceil(1.01) = 2", ten, 10.1, 2},
		{"p0 is the minimum", ten, 0, 1},
		{"p100 is the maximum", ten, 100, 10},
		{"p90 of counts: rank 90 is the last 100", weighted, 90, 100},
		{"p90.5: rank ceil(90.5) = 91 is the first 200", weighted, 90.5, 200},
		{"p99: rank 99 is the last 200", weighted, 99, 200},
		{"p99.5: rank 100 is 1000", weighted, 99.5, 1000},
		{"p50 of one value", []Sample{one(42.5, 1)}, 50, 42.5},
	}
	for _, c := range cases {
		got, ok := Percentile(c.samples, c.p)
		if !ok || got != c.want {
			t.Errorf("%s: Percentile(p%v) = %v %v, want %v", c.name, c.p, got, ok, c.want)
		}
	}
}

func TestPercentileNeedsValues(t *testing.T) {
	if _, ok := Percentile(nil, 50); ok {
		t.Error("a percentile of no data")
	}
	// A statistic set says how many values and their range, not the
	// values: no percentile, as CloudWatch gives none for such data.
	set := Sample{Agg: Agg{Count: 10, Sum: 55, Min: 1, Max: 10}}
	if v, ok := Percentile([]Sample{one(3, 1), set}, 50); ok {
		t.Errorf("a percentile %v from a statistic set", v)
	}
	// A statistic set of one value (Min == Max) says every value.
	if v, ok := Percentile([]Sample{{Agg: Agg{Count: 4, Sum: 20, Min: 5, Max: 5}}, one(1, 1)}, 50); !ok || v != 5 {
		t.Errorf("p50 of 1,5,5,5,5 = %v %v, want 5", v, ok)
	}
}

func TestBucketSamples(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	at := func(sec int, v float64) Sample {
		s := one(v, 1)
		s.Time = t0.Add(time.Duration(sec) * time.Second)
		return s
	}
	g := BucketSamples([]Sample{at(0, 1), at(59, 2), at(60, 3), at(179, 4), at(180, 5), at(-1, 6)}, t0, t0.Add(3*time.Minute), time.Minute)
	if len(g) != 3 || len(g[0]) != 2 || len(g[1]) != 1 || len(g[2]) != 1 || g[2][0].Agg.Min != 4 {
		t.Fatalf("groups: %+v", g)
	}
}
