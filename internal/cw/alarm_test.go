package cw

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

// row builds an evaluation range from AWS's notation: 0 a datapoint
// within the threshold, X a breaching one, - a missing one.
func row(s string) []Slot {
	var out []Slot
	for i, c := range strings.Fields(s) {
		sl := Slot{Time: t0.Add(time.Duration(i) * time.Minute)}
		switch c {
		case "0":
			sl.Value, sl.Present, sl.SampleCount = 10, true, 1
		case "X":
			sl.Value, sl.Present, sl.SampleCount = 90, true, 1
		}
		out = append(out, sl)
	}
	return out
}

// TestMissingDataTable follows the two tables of AWS's "Configuring how
// CloudWatch alarms treat missing data" (How alarm state is evaluated
// when data is missing): an evaluation range of 5 periods, most recent
// on the right, for an alarm of 3 evaluation periods with 3 datapoints to
// alarm, then 2 (M out of N); each row's state for missing, ignore,
// breaching and notBreaching ("retain": the state before).
func TestMissingDataTable(t *testing.T) {
	for _, tc := range []struct {
		m                                        int
		points                                   string
		missing, ignore, breaching, notBreaching string
	}{
		{3, "0 - X - X", StateOK, StateOK, StateOK, StateOK},
		{3, "0 - - - -", StateOK, StateOK, StateOK, StateOK},
		{3, "- - - - -", StateInsufficient, "retain", StateAlarm, StateOK},
		{3, "0 X X - X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{3, "- - X - -", StateAlarm, "retain", StateAlarm, StateOK},
		{2, "0 - X - X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{2, "0 0 X 0 X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
		{2, "0 - X - -", StateOK, StateOK, StateAlarm, StateOK},
		{2, "- - - - 0", StateOK, StateOK, StateAlarm, StateOK},
		{2, "- - - X -", StateAlarm, "retain", StateAlarm, StateOK},
	} {
		for treat, want := range map[string]string{MissingMissing: tc.missing, MissingIgnore: tc.ignore, MissingBreaching: tc.breaching, MissingNotBreaching: tc.notBreaching} {
			for _, prior := range []string{StateOK, StateAlarm, StateInsufficient} {
				a := &Alarm{Name: "a", EvaluationPeriods: 3, DatapointsToAlarm: tc.m, Threshold: 50,
					ComparisonOperator: "GreaterThanThreshold", TreatMissingData: treat, State: prior, Statistic: "Average", Period: 300}
				rng := row(tc.points)
				if len(rng) != a.RangePeriods() {
					t.Fatalf("range of %d periods, want %d", len(rng), a.RangePeriods())
				}
				got := Evaluate(a, rng, t0.Add(5*time.Minute)).State
				w := want
				if w == "retain" {
					w = prior
				}
				if got != w {
					t.Errorf("%d of 3, %s treat=%s prior=%s: got %s, want %s", tc.m, tc.points, treat, prior, got, w)
				}
			}
		}
	}
}

// TestPrematureAlarm: AWS's examples of its rule against premature alarms
// (3 of 3): "- - - - X" and "- - - X -" do not go to ALARM (the next
// datapoint may be within the threshold; berth keeps the state), "- - X
// - -" does, and "- - X - 0" is OK; the
// evaluated datapoints of a look-back are the most recent real ones.
func TestPrematureAlarm(t *testing.T) {
	a := &Alarm{Name: "a", EvaluationPeriods: 3, Threshold: 50, ComparisonOperator: "GreaterThanThreshold", State: StateInsufficient, Statistic: "Average", Period: 60}
	for points, want := range map[string]string{"- - - - X": StateInsufficient, "- - - X -": StateInsufficient, "- - X - -": StateAlarm, "- - - X 0": StateOK, "- - X - 0": StateOK} {
		if got := Evaluate(a, row(points), t0).State; got != want {
			t.Errorf("%s: got %s, want %s", points, got, want)
		}
	}
	a.State = StateOK
	ev := Evaluate(a, row("X X - X -"), t0.Add(5*time.Minute))
	want := "Threshold Crossed: 3 out of the last 3 datapoints [90.0 (07/12/26 05:03:00), 90.0 (07/12/26 05:01:00), 90.0 (07/12/26 05:00:00)] were greater than the threshold (50.0) (minimum 3 datapoints for OK -> ALARM transition)."
	if ev.State != StateAlarm || ev.Reason != want {
		t.Fatalf("look-back: %s %q\nwant %q", ev.State, ev.Reason, want)
	}
}

// TestMOfN: an alarm with DatapointsToAlarm 3 of EvaluationPeriods 5 goes
// to ALARM when any 3 of the last 5 breach, not necessarily in a row.
func TestMOfN(t *testing.T) {
	a := &Alarm{EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 50, ComparisonOperator: "GreaterThanOrEqualToThreshold", State: StateOK}
	for points, want := range map[string]string{
		"X 0 X 0 X": StateAlarm, "X X 0 0 0": StateOK, "0 0 X X X": StateAlarm, "X X X X X": StateAlarm, "0 X 0 X 0": StateOK,
	} {
		if got := Evaluate(a, row(points), t0).State; got != want {
			t.Errorf("%s: got %s, want %s", points, got, want)
		}
	}
	// Without DatapointsToAlarm, M is N.
	b := &Alarm{EvaluationPeriods: 3, Threshold: 50, ComparisonOperator: "GreaterThanThreshold", State: StateOK}
	if got := Evaluate(b, row("X X 0"), t0).State; got != StateOK {
		t.Errorf("2 of 3 with M=N: %s", got)
	}
	if got := Evaluate(b, row("X X X"), t0).State; got != StateAlarm {
		t.Errorf("3 of 3: %s", got)
	}
}

func TestReasons(t *testing.T) {
	a := &Alarm{Name: "a", EvaluationPeriods: 1, Threshold: 60, ComparisonOperator: "GreaterThanThreshold", State: StateInsufficient, Statistic: "Average", Period: 60}
	ev := Evaluate(a, []Slot{{Time: t0, Value: 72.5, Present: true, SampleCount: 3}}, t0.Add(90*time.Second))
	want := "Threshold Crossed: 1 datapoint [72.5 (07/12/26 05:00:00)] was greater than the threshold (60.0)."
	if ev.State != StateAlarm || !ev.Changed || ev.Reason != want {
		t.Fatalf("%+v\nwant %s", ev, want)
	}
	var rd map[string]any
	if err := json.Unmarshal([]byte(ev.ReasonData), &rd); err != nil {
		t.Fatal(err)
	}
	if rd["version"] != "1.0" || rd["statistic"] != "Average" || rd["period"] != 60.0 || rd["startDate"] != "2026-12-07T05:00:00.000+0000" {
		t.Fatalf("reason data %s", ev.ReasonData)
	}
	a.State = StateAlarm
	ev = Evaluate(a, []Slot{{Time: t0, Value: 12, Present: true}}, t0)
	if ev.Reason != "Threshold Crossed: 1 datapoint [12.0 (07/12/26 05:00:00)] was not greater than the threshold (60.0)." {
		t.Fatal(ev.Reason)
	}
	m := &Alarm{EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 80, ComparisonOperator: "GreaterThanOrEqualToThreshold", State: StateOK}
	ev = Evaluate(m, row("0 X X"), t0)
	if want := "Threshold Crossed: 2 out of the last 3 datapoints [90.0 (07/12/26 05:02:00), 90.0 (07/12/26 05:01:00)] were greater than or equal to the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition)."; ev.Reason != want {
		t.Fatalf("got  %s\nwant %s", ev.Reason, want)
	}
	ev = Evaluate(&Alarm{EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: "LessThanThreshold", State: StateOK}, row("- -"), t0)
	if ev.State != StateInsufficient || ev.Reason != "Insufficient Data: 2 datapoints were unknown." {
		t.Fatalf("%+v", ev)
	}
}

func TestTimeScale(t *testing.T) {
	if TimeScale(60).Real(60) != time.Second || TimeScale(1).Real(300) != 5*time.Minute || TimeScale(0).Real(60) != time.Minute {
		t.Fatal("scale")
	}
}

func TestBucket(t *testing.T) {
	s := []Sample{
		{Time: t0.Add(10 * time.Second), Agg: Agg{Count: 1, Sum: 1, Min: 1, Max: 1}},
		{Time: t0.Add(70 * time.Second), Agg: Agg{Count: 2, Sum: 10, Min: 4, Max: 6}},
		{Time: t0.Add(80 * time.Second), Agg: Agg{Count: 1, Sum: 7, Min: 7, Max: 7}},
		{Time: t0.Add(-time.Second), Agg: Agg{Count: 1, Sum: 100, Min: 100, Max: 100}},
		{Time: t0.Add(3 * time.Minute), Agg: Agg{Count: 1, Sum: 100, Min: 100, Max: 100}},
	}
	for _, f := range []func([]Sample, time.Time, time.Time, time.Duration) []Point{Bucket, bucketSparse} {
		got := f(s, t0, t0.Add(3*time.Minute), time.Minute)
		if len(got) != 2 || got[0].Agg != (Agg{1, 1, 1, 1}) || !got[1].Time.Equal(t0.Add(time.Minute)) || got[1].Agg != (Agg{3, 17, 4, 7}) {
			t.Fatalf("%+v", got)
		}
	}
}
