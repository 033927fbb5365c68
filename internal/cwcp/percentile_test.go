package cwcp_test

import (
	"math"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/cw"
)

// TestPercentilesThroughThePlane puts the datapoints of a response-time
// metric as AWS clients do (Values with Counts, and single Values) and
// reads p50, p90 and p99.9 back from GetMetricStatistics and from a
// GetMetricData stat, against answers worked by hand (nearest rank).
func TestPercentilesThroughThePlane(t *testing.T) {
	p := newPlane(t, 1)
	ctx := t.Context()
	m := cw.Metric{Namespace: "App", Name: "Latency"}
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	// Minute 0: 0.1 s ninety times, 0.2 s nine times, 1.5 s once (one
	// datum, Values and Counts) plus 0.3 s as a single Value: 101 values.
	parts := []cw.Agg{{Count: 90, Sum: 9, Min: 0.1, Max: 0.1}, {Count: 9, Sum: 1.8, Min: 0.2, Max: 0.2}, {Count: 1, Sum: 1.5, Min: 1.5, Max: 1.5}}
	total := cw.Agg{}
	for _, a := range parts {
		total.Add(a)
	}
	data := []cw.Datum{
		{Metric: m, Time: t0.Add(10 * time.Second), Agg: total, Values: parts},
		{Metric: m, Time: t0.Add(20 * time.Second), Agg: cw.Agg{Count: 1, Sum: 0.3, Min: 0.3, Max: 0.3}},
		// Minute 1: a statistic set, which gives no percentile.
		{Metric: m, Time: t0.Add(70 * time.Second), Agg: cw.Agg{Count: 5, Sum: 2, Min: 0.1, Max: 0.9}},
	}
	if err := p.PutMetricData(ctx, sc, "App", data); err != nil {
		t.Fatal(err)
	}
	pts, err := p.GetMetricStatistics(ctx, sc, m, t0, t0.Add(2*time.Minute), 60, []string{"SampleCount"}, []string{"p50", "p90", "p99", "p99.9"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 {
		t.Fatalf("%d datapoints: %+v", len(pts), pts)
	}
	// 101 values sorted: 0.1 x90, 0.2 x9, 0.3, 1.5. p50: rank 51 -> 0.1;
	// p90: rank ceil(90.9) = 91 -> 0.2; p99: rank ceil(99.99) = 100 ->
	// 0.3; p99.9: rank ceil(100.899) = 101 -> 1.5.
	want := map[string]float64{"p50": 0.1, "p90": 0.2, "p99": 0.3, "p99.9": 1.5}
	if pts[0].Values["SampleCount"] != 101 || len(pts[0].Extended) != len(want) {
		t.Fatalf("minute 0: %+v", pts[0])
	}
	for k, v := range want {
		if got := pts[0].Extended[k]; math.Abs(got-v) > 1e-12 {
			t.Errorf("minute 0 %s = %v, want %v", k, got, v)
		}
	}
	if len(pts[1].Extended) != 0 || pts[1].Values["SampleCount"] != 5 {
		t.Errorf("minute 1 (a statistic set) has percentiles: %+v", pts[1])
	}
	res, err := p.GetMetricData(ctx, sc, []cw.Query{{ID: "p", ReturnData: true, Stat: &cw.MetricStat{Metric: m, Period: 60, Stat: "p90"}}},
		t0, t0.Add(2*time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Values) != 1 || res[0].Values[0] != 0.2 || !res[0].Times[0].Equal(t0) {
		t.Fatalf("GetMetricData p90: %+v", res)
	}
	for _, bad := range [][]string{{"p101"}, {"P50"}, {"p99.999"}} {
		if _, err := p.GetMetricStatistics(ctx, sc, m, t0, t0.Add(2*time.Minute), 60, nil, bad, ""); err == nil {
			t.Errorf("ExtendedStatistics %v accepted", bad)
		}
	}
	if _, err := p.GetMetricData(ctx, sc, []cw.Query{{ID: "p", ReturnData: true, Stat: &cw.MetricStat{Metric: m, Period: 60, Stat: "p101"}}},
		t0, t0.Add(2*time.Minute), false); err == nil {
		t.Error("stat p101 accepted")
	}
}
