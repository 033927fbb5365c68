package appscaling

import (
	"testing"
	"time"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// The step policy of AWS's step scaling documentation: alarm threshold
// 50; 50-60 no change, 60-70 add 10 percent, 70+ add 30 percent.
func awsSteps() *StepConfig {
	return &StepConfig{AdjustmentType: PercentChangeInCapacity, Steps: []StepAdjustment{
		{Lower: fp(0), Upper: fp(10), Adjustment: 0},
		{Lower: fp(10), Upper: fp(20), Adjustment: 10},
		{Lower: fp(20), Adjustment: 30},
	}}
}

func TestStepScalingDocumentedExample(t *testing.T) {
	c := awsSteps()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		metric float64
		want   int
	}{{55, 10}, {60, 11}, {65, 11}, {70, 13}, {95, 13}} {
		step, ok := StepFor(c.Steps, tc.metric-50)
		if !ok {
			t.Fatalf("metric %v: no step", tc.metric)
		}
		if got := StepCapacity(c, step, 10); got != tc.want {
			t.Errorf("metric %v: capacity %d, want %d", tc.metric, got, tc.want)
		}
	}
	if _, ok := StepFor(c.Steps, -1); ok {
		t.Error("a metric below the threshold matched a step above it")
	}
}

func TestStepBoundsBelowThreshold(t *testing.T) {
	// Scale-in steps: (-inf, -10] remove 2, (-10, 0] remove 1 (upper inclusive below the threshold).
	steps := []StepAdjustment{{Upper: fp(-10), Adjustment: -2}, {Lower: fp(-10), Upper: fp(0), Adjustment: -1}}
	if err := validateSteps(steps); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		delta float64
		adj   int
	}{{-10, -2}, {-9.99, -1}, {-30, -2}} {
		s, ok := StepFor(steps, tc.delta)
		if !ok || s.Adjustment != tc.adj {
			t.Errorf("delta %v: step %+v %v, want adjustment %d", tc.delta, s, ok, tc.adj)
		}
	}
}

func TestPercentRounding(t *testing.T) {
	// AWS: 12.7 -> 12, 0.67 -> 1, -0.67 -> -1, -6.67 -> -6.
	c := &StepConfig{AdjustmentType: PercentChangeInCapacity}
	for _, tc := range []struct{ current, pct, want int }{
		{127, 10, 139}, {67, 1, 68}, {67, -1, 66}, {667, -1, 661}, {10, 0, 10},
	} {
		if got := StepCapacity(c, StepAdjustment{Adjustment: tc.pct}, tc.current); got != tc.want {
			t.Errorf("%d%% of %d: capacity %d, want %d", tc.pct, tc.current, got, tc.want)
		}
	}
	// MinAdjustmentMagnitude: 25% of 4 is 1, raised to 2.
	c.MinAdjustmentMagnitude = ip(2)
	if got := StepCapacity(c, StepAdjustment{Adjustment: 25}, 4); got != 6 {
		t.Errorf("min adjustment magnitude: %d, want 6", got)
	}
	if got := StepCapacity(c, StepAdjustment{Adjustment: -25}, 4); got != 2 {
		t.Errorf("min adjustment magnitude, scale in: %d, want 2", got)
	}
}

func TestChangeAndExact(t *testing.T) {
	if got := StepCapacity(&StepConfig{AdjustmentType: ChangeInCapacity}, StepAdjustment{Adjustment: 1}, 10); got != 11 {
		t.Errorf("ChangeInCapacity +1 on 10: %d", got)
	}
	if got := StepCapacity(&StepConfig{AdjustmentType: ExactCapacity}, StepAdjustment{Adjustment: 3}, 10); got != 3 {
		t.Errorf("ExactCapacity 3: %d", got)
	}
}

func TestStepValidation(t *testing.T) {
	for name, steps := range map[string][]StepAdjustment{
		"gap":        {{Lower: fp(0), Upper: fp(10), Adjustment: 1}, {Lower: fp(20), Adjustment: 2}},
		"overlap":    {{Lower: fp(0), Upper: fp(15), Adjustment: 1}, {Lower: fp(10), Adjustment: 2}},
		"two nulls":  {{Upper: fp(0), Adjustment: -1}, {Upper: fp(5), Adjustment: -2}},
		"upper<=low": {{Lower: fp(5), Upper: fp(5), Adjustment: 1}},
	} {
		if err := validateSteps(steps); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTrackingCapacity(t *testing.T) {
	for _, tc := range []struct {
		cur            int
		metric, target float64
		want           int
	}{
		{4, 90, 60, 6},  // the seed's policy: 4 tasks at 90% against 60% -> 6
		{2, 100, 60, 4}, // ceil(3.33)
		{4, 75, 60, 5},  // exactly 5
		{10, 30, 60, 5}, // scale in to the count that keeps the metric at the target
		{10, 50, 60, 9}, // ceil(8.33): conservative
		{0, 90, 60, 1},
	} {
		if got := TrackingCapacity(tc.cur, tc.metric, tc.target); got != tc.want {
			t.Errorf("%d tasks at %v vs %v: %d, want %d", tc.cur, tc.metric, tc.target, got, tc.want)
		}
	}
}

func TestDecideBoundsAndCooldowns(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tg := &Target{MinCapacity: 2, MaxCapacity: 20}
	cd := Cooldowns{Out: 60 * time.Second, In: 120 * time.Second}
	if d := Decide(tg, cd, 4, 40, now, 1); d.Capacity != 20 {
		t.Errorf("max bound: %+v", d)
	}
	if d := Decide(tg, cd, 4, 0, now, 1); d.Capacity != 2 {
		t.Errorf("min bound: %+v", d)
	}
	tg.LastScaleOut, tg.LastOutTo = now.Add(-30*time.Second), 6
	if d := Decide(tg, cd, 6, 6, now, 1); d.Capacity != 6 {
		t.Errorf("no change: %+v", d)
	}
	if d := Decide(tg, cd, 6, 5, now, 1); d.Capacity != 6 || d.Reason == "" {
		t.Errorf("scale-in during scale-out cooldown: %+v", d)
	}
	if d := Decide(tg, cd, 6, 8, now, 1); d.Capacity != 8 {
		t.Errorf("larger scale-out during cooldown: %+v", d)
	}
	if d := Decide(tg, cd, 6, 5, now, 0.1); d.Capacity != 5 {
		t.Errorf("time-scaled cooldown (6s) is over after 30s: %+v", d)
	}
	tg.LastScaleOut = time.Time{}
	tg.LastScaleIn = now.Add(-60 * time.Second)
	if d := Decide(tg, cd, 6, 4, now, 1); d.Capacity != 6 {
		t.Errorf("scale-in during scale-in cooldown: %+v", d)
	}
	if d := Decide(tg, cd, 6, 9, now, 1); d.Capacity != 9 {
		t.Errorf("scale-out interrupts the scale-in cooldown: %+v", d)
	}
	tg.Suspended.DynamicScalingOutSuspended = true
	if d := Decide(tg, cd, 6, 9, now, 1); d.Capacity != 6 {
		t.Errorf("suspended scale-out: %+v", d)
	}
}

func mustSchedule(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := ParseSchedule(expr, tz)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

func TestCronSchedules(t *testing.T) {
	from := time.Date(2026, 12, 7, 5, 30, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		expr, tz string
		want     time.Time
	}{
		{"cron(0 9 * * ? *)", "", time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)},
		{"cron(15 10 ? * MON-FRI *)", "", time.Date(2026, 12, 7, 10, 15, 0, 0, time.UTC)},
		{"cron(0 18 ? * SAT *)", "", time.Date(2026, 12, 12, 18, 0, 0, 0, time.UTC)},
		{"cron(0/15 * * * ? *)", "", time.Date(2026, 12, 7, 5, 45, 0, 0, time.UTC)},
		{"cron(0 0 1 JAN ? 2027)", "", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		// 08:00 in New York (UTC-5 in December) is 13:00 UTC.
		{"cron(0 8 * * ? *)", "America/New_York", time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)},
		// 07:00 in Tokyo (UTC+9) is 22:00 UTC the day before; next is Dec 7 22:00 UTC.
		{"cron(0 7 * * ? *)", "Asia/Tokyo", time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)},
	} {
		s := mustSchedule(t, tc.expr, tc.tz)
		got, ok := s.Next(from, time.Time{}, time.Time{})
		if !ok || !got.Equal(tc.want) {
			t.Errorf("%s %s: next %v %v, want %v", tc.expr, tc.tz, got.UTC(), ok, tc.want)
		}
	}
	// Daylight saving: 08:00 New York in July is 12:00 UTC.
	s := mustSchedule(t, "cron(0 8 * * ? *)", "America/New_York")
	got, _ := s.Next(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), time.Time{}, time.Time{})
	if want := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("DST: %v, want %v", got.UTC(), want)
	}
	// A year in the past never fires again.
	if _, ok := mustSchedule(t, "cron(0 0 1 1 ? 2020)", "").Next(from, time.Time{}, time.Time{}); ok {
		t.Error("a cron in 2020 fired in 2026")
	}
}

func TestRateAndAt(t *testing.T) {
	anchor := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	s := mustSchedule(t, "rate(5 minutes)", "")
	got, _ := s.Next(anchor.Add(12*time.Minute), anchor, time.Time{})
	if want := anchor.Add(15 * time.Minute); !got.Equal(want) {
		t.Errorf("rate: %v, want %v", got, want)
	}
	if _, ok := s.Next(anchor.Add(12*time.Minute), anchor, anchor.Add(14*time.Minute)); ok {
		t.Error("rate fired after its end time")
	}
	at := mustSchedule(t, "at(2026-12-07T09:00:00)", "Europe/Berlin")
	got, ok := at.Next(anchor, time.Time{}, time.Time{})
	if want := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("at in Berlin: %v %v, want %v", got.UTC(), ok, want)
	}
	if _, ok := at.Next(got, time.Time{}, time.Time{}); ok {
		t.Error("at fired twice")
	}
}

func TestBadSchedules(t *testing.T) {
	for _, tc := range [][2]string{
		{"rate(1 minutes)", ""}, {"rate(0 minutes)", ""}, {"rate(5 weeks)", ""},
		{"cron(0 9 * * *)", ""}, {"cron(0 9 * * MON *)", ""}, {"cron(0 25 * * ? *)", ""},
		{"at(2026-12-07 09:00)", ""}, {"every(5m)", ""}, {"cron(0 9 * * ? *)", "Mars/Olympus"},
		{"cron(0 9 ? * 6#3 *)", ""},
	} {
		if _, err := ParseSchedule(tc[0], tc[1]); err == nil {
			t.Errorf("%s %s: accepted", tc[0], tc[1])
		}
	}
}

func TestScheduledRange(t *testing.T) {
	a := &ScheduledAction{MinCapacity: ip(8)}
	got := a.ApplyRange(Target{MinCapacity: 2, MaxCapacity: 5})
	if got.MinCapacity != 8 || got.MaxCapacity != 8 {
		t.Errorf("min above max: %+v", got)
	}
	a = &ScheduledAction{MinCapacity: ip(1), MaxCapacity: ip(3)}
	tg := a.ApplyRange(Target{MinCapacity: 2, MaxCapacity: 20})
	if tg.Clamp(10) != 3 {
		t.Errorf("current 10 in new range 1-3: %d, want 3", tg.Clamp(10))
	}
}

func TestRegisterAndNames(t *testing.T) {
	now := time.Now()
	r := Register{Key: Key{NamespaceECS, "service/prod-cluster/web-service", DimensionECSDesire}, MinCapacity: ip(2), MaxCapacity: ip(20)}
	tg, err := r.Apply(nil, "id1", now, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if tg.RoleARN != ServiceLinkedRole("123456789012") {
		t.Errorf("role %s", tg.RoleARN)
	}
	if _, err := (Register{Key: r.Key, MinCapacity: ip(5), MaxCapacity: ip(2)}).Apply(nil, "x", now, "1"); err == nil {
		t.Error("min > max accepted")
	}
	if _, err := (Register{Key: Key{NamespaceECS, "service/only-one", DimensionECSDesire}, MinCapacity: ip(1), MaxCapacity: ip(2)}).Apply(nil, "x", now, "1"); err == nil {
		t.Error("bad resource id accepted")
	}
	hi, lo := AlarmNames("service/prod-cluster/web-service", "a", "b")
	if hi != "TargetTracking-service/prod-cluster/web-service-AlarmHigh-a" || lo != "TargetTracking-service/prod-cluster/web-service-AlarmLow-b" {
		t.Errorf("alarm names %s %s", hi, lo)
	}
}
