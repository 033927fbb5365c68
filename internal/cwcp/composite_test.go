package cwcp_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store/bolt"
)

const arnPrefix = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"

// child is a metric alarm with no data that ignores missing data, so
// that its state is the one SetAlarmState gives it.
func child(t *testing.T, p *cwcp.Plane, name string) {
	t.Helper()
	err := p.PutAlarm(context.Background(), sc, &cw.Alarm{Name: name, Metric: cpu, Statistic: "Average", Period: 60, EvaluationPeriods: 1,
		Threshold: 60, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: cw.MissingIgnore})
	if err != nil {
		t.Fatal(err)
	}
}

func setState(t *testing.T, p *cwcp.Plane, name, state string) {
	t.Helper()
	if err := p.SetAlarmState(context.Background(), sc, name, state, "by hand", ""); err != nil {
		t.Fatal(err)
	}
}

func alarm(t *testing.T, p *cwcp.Plane, name string) *cw.Alarm {
	t.Helper()
	als, err := p.DescribeAlarms(context.Background(), sc, cwcp.AlarmFilter{Names: []string{name}, Types: []string{"MetricAlarm", "CompositeAlarm"}})
	if err != nil || len(als) != 1 {
		t.Fatalf("describe %s: %v %v", name, als, err)
	}
	return als[0]
}

func code(err error) string {
	var f *fault.Error
	if e, ok := err.(*fault.Error); ok {
		f = e
	}
	if f == nil {
		return ""
	}
	return f.Code
}

// TestCompositeFollowsChildren: a composite alarm is INSUFFICIENT_DATA on
// creation, takes its rule's state at the next evaluation with AWS's
// "was created" reason, follows its children's state changes with AWS's
// "transitioned to" reason and triggering alarms, runs its actions, keeps
// a SetAlarmState until a child changes, and its history says so.
func TestCompositeFollowsChildren(t *testing.T) {
	p := newPlane(t, 60)
	ctx := context.Background()
	rec := &recorder{}
	p.RegisterActionHandler("arn:aws:sns:", rec.handle)
	child(t, p, "a")
	child(t, p, "b")
	const topic = "arn:aws:sns:us-east-1:123456789012:pager"
	err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "both", AlarmRule: `ALARM(a) AND ALARM("` + arnPrefix + `b")`,
		ActionsEnabled: true, AlarmActions: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	if s := alarm(t, p, "both").State; s != cw.StateInsufficient {
		t.Fatalf("new composite in %s", s)
	}
	p.EvaluateAll(ctx)
	c := alarm(t, p, "both")
	if c.State != cw.StateOK || c.StateReason != arnPrefix+"both was created and its alarm rule evaluates to OK" {
		t.Fatalf("after creation: %s %q", c.State, c.StateReason)
	}
	var data struct {
		TriggeringAlarms []struct {
			ARN   string `json:"arn"`
			State struct{ Value, Timestamp string }
		} `json:"triggeringAlarms"`
	}
	if err := json.Unmarshal([]byte(c.StateReasonData), &data); err != nil || len(data.TriggeringAlarms) != 2 ||
		data.TriggeringAlarms[0].ARN != arnPrefix+"a" || data.TriggeringAlarms[0].State.Value != cw.StateInsufficient {
		t.Fatalf("reason data %s (%v)", c.StateReasonData, err)
	}

	setState(t, p, "a", cw.StateAlarm)
	p.EvaluateAll(ctx)
	if s := alarm(t, p, "both").State; s != cw.StateOK {
		t.Fatalf("one child in ALARM: %s", s)
	}
	setState(t, p, "b", cw.StateAlarm)
	p.EvaluateAll(ctx)
	c = alarm(t, p, "both")
	b := alarm(t, p, "b")
	want := arnPrefix + "b transitioned to ALARM at " + b.StateTransitioned.UTC().Format("Monday 02 January, 2006 15:04:05 UTC")
	if c.State != cw.StateAlarm || c.StateReason != want {
		t.Fatalf("both children in ALARM: %s %q, want %q", c.State, c.StateReason, want)
	}
	if !strings.Contains(c.StateReasonData, `{"arn":"`+arnPrefix+`a","state":{"value":"ALARM"`) {
		t.Fatalf("reason data %s", c.StateReasonData)
	}
	evs := rec.snapshot()
	if len(evs) != 1 || evs[0].Action != topic || evs[0].Alarm.Name != "both" || evs[0].OldState != cw.StateOK {
		t.Fatalf("actions %+v", evs)
	}

	// SetAlarmState on the composite holds until a child changes.
	if err := p.SetAlarmState(ctx, sc, "both", cw.StateOK, "testing", ""); err != nil {
		t.Fatal(err)
	}
	p.EvaluateAll(ctx)
	if c := alarm(t, p, "both"); c.State != cw.StateOK || c.StateReason != "testing" {
		t.Fatalf("set state not held: %s %q", c.State, c.StateReason)
	}
	setState(t, p, "a", cw.StateOK)
	setState(t, p, "a", cw.StateAlarm)
	p.EvaluateAll(ctx)
	if c := alarm(t, p, "both"); c.State != cw.StateAlarm || !strings.HasPrefix(c.StateReason, arnPrefix+"a transitioned to ALARM at ") {
		t.Fatalf("after a child changed: %s %q", c.State, c.StateReason)
	}

	if h, err := p.History(ctx, sc, cwcp.HistoryFilter{Name: "both"}); err != nil || len(h) != 0 {
		t.Fatalf("without AlarmTypes a composite's history is not returned (AWS: metric alarms only): %d items, %v", len(h), err)
	}
	hist, err := p.History(ctx, sc, cwcp.HistoryFilter{Name: "both", Ascending: true, AlarmTypes: []string{"CompositeAlarm"}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range hist {
		if h.AlarmType != "CompositeAlarm" {
			t.Errorf("history item of type %s", h.AlarmType)
		}
		kinds = append(kinds, h.Type)
	}
	if got := strings.Join(kinds, " "); got != "ConfigurationUpdate StateUpdate StateUpdate Action StateUpdate StateUpdate Action" {
		t.Fatalf("history %s", got)
	}
	only, err := p.History(ctx, sc, cwcp.HistoryFilter{AlarmTypes: []string{"CompositeAlarm"}})
	if err != nil || len(only) != len(hist) {
		t.Fatalf("history by alarm type: %d items (%v), want %d", len(only), err, len(hist))
	}
}

// TestCompositeOfComposites: a composite naming another composite by
// ARN follows it within one evaluation; a cycle stops evaluation of the
// alarms in it without hanging.
func TestCompositeOfComposites(t *testing.T) {
	p := newPlane(t, 60)
	ctx := context.Background()
	child(t, p, "a")
	for _, c := range []struct{ name, rule string }{{"inner", "ALARM(a)"}, {"outer", `ALARM("` + arnPrefix + `inner") AND TRUE`}} {
		if err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: c.name, AlarmRule: c.rule}); err != nil {
			t.Fatal(err)
		}
	}
	p.EvaluateAll(ctx)
	setState(t, p, "a", cw.StateAlarm)
	p.EvaluateAll(ctx)
	if s := alarm(t, p, "outer").State; s != cw.StateAlarm {
		t.Fatalf("outer %s", s)
	}
	// inner -> outer -> inner.
	if err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "inner", AlarmRule: "ALARM(a) OR OK(outer)"}); err != nil {
		t.Fatal(err)
	}
	setState(t, p, "a", cw.StateOK)
	p.EvaluateAll(ctx)
	if s := alarm(t, p, "inner").State; s != cw.StateAlarm {
		t.Fatalf("a cyclic composite was evaluated: %s", s)
	}
	als, err := p.DescribeAlarms(ctx, sc, cwcp.AlarmFilter{ParentsOf: "inner"})
	if err != nil || len(als) != 1 || als[0].Name != "outer" {
		t.Fatalf("parents of inner: %v %v", als, err)
	}
	als, err = p.DescribeAlarms(ctx, sc, cwcp.AlarmFilter{ChildrenOf: "inner"})
	if err != nil || len(als) != 2 || als[0].Name != "a" || als[1].Name != "outer" {
		t.Fatalf("children of inner: %v %v", als, err)
	}
	// Describing without AlarmTypes gives metric alarms only.
	als, err = p.DescribeAlarms(ctx, sc, cwcp.AlarmFilter{})
	if err != nil || len(als) != 1 || als[0].Name != "a" {
		t.Fatalf("default types: %v %v", als, err)
	}
}

// TestCompositeValidation: AWS's errors for bad rules, missing children,
// deleting a child that a composite names, and the limits.
func TestCompositeValidation(t *testing.T) {
	p := newPlane(t, 60)
	ctx := context.Background()
	child(t, p, "a")
	child(t, p, "b")
	cases := []struct {
		a        cw.Alarm
		code, in string
	}{
		{cw.Alarm{Name: "c", AlarmRule: "()"}, "ValidationError", "Error in AlarmRule [Unsupported token ')' at char 1]"},
		{cw.Alarm{Name: "c", AlarmRule: "ALARM(a) AND ALARM(nope) OR OK(gone)"}, "ValidationError", "Could not save the composite alarm as alarms [nope, gone] in the alarm rule do not exist"},
		{cw.Alarm{Name: "c", AlarmRule: `ALARM("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a")`}, "ValidationError", "do not exist"},
		{cw.Alarm{Name: "c"}, "MissingParameter", "AlarmRule"},
		{cw.Alarm{Name: "c", AlarmRule: "ALARM(a)", AlarmActions: []string{"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x"}}, "ValidationError", "Auto Scaling"},
		{cw.Alarm{Name: "c", AlarmRule: "ALARM(a)", ActionsSuppressor: "b"}, "ValidationError", "ActionsSuppressorWaitPeriod"},
		{cw.Alarm{Name: "a", AlarmRule: "ALARM(b)"}, "ValidationError", "metric alarm"},
		{cw.Alarm{Name: "c", AlarmRule: strings.Repeat("TRUE OR ", 1300) + "TRUE"}, "InvalidParameterValue", "10240"},
	}
	for _, c := range cases {
		a := c.a
		err := p.PutCompositeAlarm(ctx, sc, &a)
		if code(err) != c.code || !strings.Contains(err.Error(), c.in) {
			t.Errorf("%q: %v (%s), want %s with %q", c.a.AlarmRule, err, code(err), c.code, c.in)
		}
	}
	var refs []string
	for i := 0; i < 101; i++ {
		refs = append(refs, "ALARM(x"+string(rune('a'+i%26))+strings.Repeat("y", i/26)+")")
	}
	if err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "c", AlarmRule: strings.Join(refs, " OR ")}); code(err) != "ValidationError" || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("101 alarms: %v", err)
	}

	if err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "c", AlarmRule: "ALARM(a) OR ALARM(b)"}); err != nil {
		t.Fatal(err)
	}
	if err := p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "d", AlarmRule: "ALARM(a)"}); err != nil {
		t.Fatal(err)
	}
	err := p.PutAlarm(ctx, sc, &cw.Alarm{Name: "c", Metric: cpu, Statistic: "Average", Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanThreshold"})
	if code(err) != "ValidationError" {
		t.Errorf("PutMetricAlarm over a composite: %v", err)
	}
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"b"}, "Cannot delete b as there are composite alarm(s) depending on it."},
		{[]string{"a", "b", "c"}, "Cannot delete a as there are composite alarm(s) depending on it."},
		{[]string{"a", "b"}, "Cannot delete a,b as there are composite alarm(s) depending on them."},
		{[]string{"c", "d"}, "at most one composite alarm"},
	} {
		err := p.DeleteAlarms(ctx, sc, c.names)
		if code(err) != "ValidationError" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("delete %v: %v, want %q", c.names, err, c.want)
		}
	}
	if err := p.DeleteAlarms(ctx, sc, []string{"c", "b"}); err != nil {
		t.Fatalf("deleting a composite with its only-held child: %v", err)
	}
	if _, err := p.DescribeAlarms(ctx, sc, cwcp.AlarmFilter{ChildrenOf: "d", State: "OK"}); code(err) != "ValidationError" {
		t.Errorf("ChildrenOf with another filter: %v", err)
	}
}

// TestCompositeSuppressor follows AWS's action suppression on a clock of
// its own: entering ALARM with the suppressor not in ALARM, the actions
// wait WaitPeriod for it (and then run); with the suppressor in ALARM
// they are suppressed ("Alarm"); after the suppressor leaves ALARM they
// stay suppressed for the ExtensionPeriod, then run; a suppressor going
// to ALARM during the wait suppresses them.
func TestCompositeSuppressor(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	tick := func(d time.Duration) { now = now.Add(d) }
	p := cwcp.New(cwcp.Config{Repo: cwstore.NewRepo(st), Now: func() time.Time { return now }})
	ctx := context.Background()
	rec := &recorder{}
	p.RegisterActionHandler("arn:aws:sns:", rec.handle)
	child(t, p, "a")
	child(t, p, "maintenance")
	err = p.PutCompositeAlarm(ctx, sc, &cw.Alarm{Name: "c", AlarmRule: "ALARM(a)", ActionsEnabled: true,
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:t"}, ActionsSuppressor: "maintenance",
		SuppressorWaitPeriod: 60, SuppressorExtensionPeriod: 120})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) {
		tick(d)
		p.EvaluateComposites(ctx)
	}
	expect := func(what, state, by string, actions int) {
		t.Helper()
		c := alarm(t, p, "c")
		if c.State != state || c.ActionsSuppressedBy != by || len(rec.snapshot()) != actions {
			t.Fatalf("%s: %s suppressed by %q (%q), %d actions; want %s, %q, %d", what, c.State, c.ActionsSuppressedBy, c.ActionsSuppressedReason, len(rec.snapshot()), state, by, actions)
		}
		if by != "" && c.ActionsSuppressedReason != "Actions suppressed by "+by {
			t.Fatalf("%s: reason %q", what, c.ActionsSuppressedReason)
		}
	}
	set := func(name, state string) { tick(time.Second); setState(t, p, name, state) }
	step(time.Second)
	expect("created", cw.StateOK, "", 0)

	set("a", cw.StateAlarm)
	step(time.Second)
	expect("ALARM, suppressor OK", cw.StateAlarm, "WaitPeriod", 0)
	step(30 * time.Second)
	expect("within the wait", cw.StateAlarm, "WaitPeriod", 0)
	step(31 * time.Second)
	expect("wait over", cw.StateAlarm, "", 1)

	set("maintenance", cw.StateAlarm)
	set("a", cw.StateOK)
	step(time.Second)
	expect("OK", cw.StateOK, "", 1)
	set("a", cw.StateAlarm)
	step(time.Second)
	expect("ALARM during maintenance", cw.StateAlarm, "Alarm", 1)
	set("maintenance", cw.StateOK)
	step(time.Second)
	expect("maintenance over", cw.StateAlarm, "ExtensionPeriod", 1)
	step(100 * time.Second)
	expect("within the extension", cw.StateAlarm, "ExtensionPeriod", 1)
	step(25 * time.Second)
	expect("extension over", cw.StateAlarm, "", 2)

	set("a", cw.StateOK)
	step(time.Second)
	set("a", cw.StateAlarm)
	step(time.Second)
	expect("ALARM again", cw.StateAlarm, "WaitPeriod", 2)
	set("maintenance", cw.StateAlarm)
	step(time.Second)
	expect("suppressor in ALARM within the wait", cw.StateAlarm, "Alarm", 2)
	step(2 * time.Minute)
	expect("still suppressed", cw.StateAlarm, "Alarm", 2)
}

// TestAnomalyAlarmsRefused: anomaly detection alarms are out of scope and
// refused clearly rather than stored and never evaluated.
func TestAnomalyAlarmsRefused(t *testing.T) {
	p := newPlane(t, 60)
	ctx := context.Background()
	math := &cw.Alarm{Name: "band", EvaluationPeriods: 1, ComparisonOperator: "GreaterThanThreshold", Queries: []cw.Query{
		{ID: "m1", Stat: &cw.MetricStat{Metric: cpu, Period: 60, Stat: "Average"}, ReturnData: true},
		{ID: "ad1", Expression: "ANOMALY_DETECTION_BAND(m1, 2)"},
	}}
	if err := p.PutAlarm(ctx, sc, math); code(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "anomaly detection") {
		t.Errorf("ANOMALY_DETECTION_BAND: %v", err)
	}
	op := &cw.Alarm{Name: "band", Metric: cpu, Statistic: "Average", Period: 60, EvaluationPeriods: 1, ComparisonOperator: "LessThanLowerOrGreaterThanUpperThreshold"}
	if err := p.PutAlarm(ctx, sc, op); code(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "anomaly detection") {
		t.Errorf("band operator: %v", err)
	}
}
