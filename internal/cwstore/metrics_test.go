package cwstore

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/cw"
)

func TestMetricsPutReadReloadExpire(t *testing.T) {
	dir := t.TempDir()
	sc := cw.Scope{Account: "123456789012", Region: "us-east-1"}
	m := cw.Metric{Namespace: "App", Name: "Lat", Dimensions: []cw.Dimension{{Name: "b", Value: "2"}, {Name: "a", Value: "1"}}}.Normalize()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ms, err := OpenMetrics(dir, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var data []cw.Datum
	for i := 0; i < 100; i++ {
		v := float64(i)
		data = append(data, cw.Datum{Metric: m, Time: t0.Add(time.Duration(i) * time.Minute), Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}, Unit: "Seconds"})
	}
	// One out-of-order datum, 50 minutes late: reads must still find it.
	data = append(data, cw.Datum{Metric: m, Time: t0.Add(49 * time.Minute), Agg: cw.Agg{Count: 1, Sum: 1000, Min: 1000, Max: 1000}})
	if err := ms.Put(sc, data); err != nil {
		t.Fatal(err)
	}
	check := func(ms *Metrics, from, to time.Duration, wantN int, wantSum float64) {
		t.Helper()
		got, err := ms.Samples(sc, m, t0.Add(from), t0.Add(to))
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, s := range got {
			sum += s.Agg.Sum
		}
		if len(got) != wantN || sum != wantSum {
			t.Fatalf("[%v,%v): %d samples sum %v, want %d sum %v", from, to, len(got), sum, wantN, wantSum)
		}
	}
	check(ms, 49*time.Minute, 50*time.Minute, 2, 1049)
	check(ms, 90*time.Minute, 200*time.Minute, 10, 945)
	check(ms, 0, 10*time.Minute, 10, 45)
	if u := ms.Unit(sc, m); u != "Seconds" {
		t.Fatalf("unit %q", u)
	}
	if err := ms.Close(); err != nil {
		t.Fatal(err)
	}
	ms, err = OpenMetrics(dir, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	check(ms, 49*time.Minute, 50*time.Minute, 2, 1049)
	if l := ms.List(sc, t0); len(l) != 1 || l[0].Key() != m.Key() {
		t.Fatalf("list %+v", l)
	}
	// Expire everything before minute 60 (retention 24h, now = t0+24h+60m).
	n, err := ms.Expire(t0.Add(24*time.Hour + 60*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	check(ms, 0, 60*time.Minute, 0, 0)
	check(ms, 60*time.Minute, 100*time.Minute, 40, 3180)
	if n, _ := ms.Expire(t0.Add(48 * time.Hour)); n != 1 {
		t.Fatalf("second expire %d", n)
	}
	if l := ms.List(sc, t0); len(l) != 0 {
		t.Fatalf("list after full expiry %+v", l)
	}
}
