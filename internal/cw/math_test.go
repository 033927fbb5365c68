package cw

import (
	"math"
	"testing"
)

func TestExpressions(t *testing.T) {
	nan := math.NaN()
	vars := []Series{
		{Metric: true, ID: "m1", Values: []float64{1, 2, nan, 4}},
		{Metric: true, ID: "m2", Values: []float64{10, 20, 30, nan}},
		{Metric: true, ID: "e9", Values: []float64{5, 5, 5, 5}},
	}
	for expr, want := range map[string][]float64{
		"m1 + m2":              {11, 22, nan, nan},
		"m1 * 2 + 1":           {3, 5, nan, 9},
		"-m1":                  {-1, -2, nan, -4},
		"(m1 + m2) / 2":        {5.5, 11, nan, nan},
		"SUM(METRICS(\"m\"))":  {11, 22, 30, 4},
		"AVG([m1, m2])":        {5.5, 11, 30, 4},
		"MAX(METRICS())":       {10, 20, 30, 5},
		"MIN(METRICS())":       {1, 2, 5, 4},
		"SUM(m1)":              {7, 7, 7, 7},
		"FILL(m1, 0)":          {1, 2, 0, 4},
		"FILL(m1, REPEAT)":     {1, 2, 2, 4},
		"IF(m2 > 15, 1, 0)":    {0, 1, 1, nan},
		"IF(m1 >= 2, m1)":      {nan, 2, nan, 4},
		"m1 / 0":               {nan, nan, nan, nan},
		"ABS(m1 - 3)":          {2, 1, nan, 1},
		"100 * m1 / (m1 + e9)": {100.0 / 6, 200.0 / 7, nan, 400.0 / 9},
	} {
		got, err := EvalExpression(expr, vars, 4)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %d series", expr, len(got))
			continue
		}
		for i, w := range want {
			g := got[0].Values[i]
			if (math.IsNaN(w) != math.IsNaN(g)) || (!math.IsNaN(w) && math.Abs(g-w) > 1e-9) {
				t.Errorf("%s: got %v, want %v", expr, got[0].Values, want)
				break
			}
		}
	}
	for _, bad := range []string{"", "m1 +", "nope * 2", "FOO(m1)", "(m1", "SUM(1)"} {
		if _, err := EvalExpression(bad, vars, 4); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
