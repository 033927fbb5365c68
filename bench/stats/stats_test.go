package stats

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	ds := ms(5, 1, 4, 2, 3, 10, 9, 8, 7, 6) // 1..10, unsorted
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{0, 1}, {10, 1}, {11, 2}, {50, 5}, {90, 9}, {95, 10}, {99, 10}, {100, 10}} {
		if got := Percentile(ds, tc.p); got != tc.want*time.Millisecond {
			t.Errorf("Percentile(1..10, %d) = %v, want %v", tc.p, got, tc.want*time.Millisecond)
		}
	}
	if ds[0] != 5*time.Millisecond {
		t.Error("Percentile sorted its argument")
	}
	if Percentile(nil, 50) != 0 {
		t.Error("Percentile(nil) != 0")
	}
	if got := Percentile(ms(7), 99); got != 7*time.Millisecond {
		t.Errorf("one sample: %v", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestMsAndLoadAvg(t *testing.T) {
	if got := Ms(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("Ms(1.5ms) = %v", got)
	}
	if la := LoadAvg(); la != "?" && len(strings.Fields(la)) != 3 {
		t.Errorf("LoadAvg() = %q, want three figures or ?", la)
	}
}
