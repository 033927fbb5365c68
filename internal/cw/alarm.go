package cw

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Alarm states.
const (
	StateOK           = "OK"
	StateAlarm        = "ALARM"
	StateInsufficient = "INSUFFICIENT_DATA"
)

// Missing-data treatments.
const (
	MissingMissing      = "missing"
	MissingIgnore       = "ignore"
	MissingBreaching    = "breaching"
	MissingNotBreaching = "notBreaching"
)

// comparisons maps each ComparisonOperator to its test and AWS's wording.
var comparisons = map[string]struct {
	test  func(v, t float64) bool
	words string
}{
	"GreaterThanOrEqualToThreshold": {func(v, t float64) bool { return v >= t }, "greater than or equal to"},
	"GreaterThanThreshold":          {func(v, t float64) bool { return v > t }, "greater than"},
	"LessThanThreshold":             {func(v, t float64) bool { return v < t }, "less than"},
	"LessThanOrEqualToThreshold":    {func(v, t float64) bool { return v <= t }, "less than or equal to"},
}

// IsComparison reports whether op is a supported ComparisonOperator.
func IsComparison(op string) bool { _, ok := comparisons[op]; return ok }

// Query is one entry of an alarm's or GetMetricData's Metrics: a metric
// statistic or a math expression.
type Query struct {
	ID         string
	Expression string
	Stat       *MetricStat
	Label      string
	ReturnData bool
	Period     int // seconds (expressions)
	AccountID  string
}

// MetricStat is a metric, its statistic and period.
type MetricStat struct {
	Metric Metric
	Period int // seconds
	Stat   string
	Unit   string
}

// Alarm is a metric alarm.
type Alarm struct {
	Name        string
	ARN         string
	Description string

	ActionsEnabled          bool
	OKActions               []string
	AlarmActions            []string
	InsufficientDataActions []string

	// Single-metric alarms.
	Metric            Metric
	Statistic         string
	ExtendedStatistic string
	Period            int // seconds
	Unit              string
	// Metric-math alarms.
	Queries []Query

	// Composite alarms: the rule over other alarms' states, the
	// suppressor alarm and its periods (seconds), the current suppression,
	// and when the rule was last evaluated (it is evaluated when a child
	// changes state or the configuration changes).
	AlarmRule                 string
	ActionsSuppressor         string
	SuppressorWaitPeriod      int
	SuppressorExtensionPeriod int
	ActionsSuppressedBy       string
	ActionsSuppressedReason   string
	SuppressedUntil           time.Time // end of a WaitPeriod or ExtensionPeriod
	RuleEvaluated             time.Time

	EvaluationPeriods  int
	DatapointsToAlarm  int // 0 means EvaluationPeriods
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string

	State             string
	StateReason       string
	StateReasonData   string
	StateUpdated      time.Time
	StateTransitioned time.Time
	ConfigUpdated     time.Time
	Tags              map[string]string
}

// IsComposite reports whether a is a composite alarm.
func (a *Alarm) IsComposite() bool { return a.AlarmRule != "" }

// Type is the alarm's AlarmType: MetricAlarm or CompositeAlarm.
func (a *Alarm) Type() string {
	if a.IsComposite() {
		return "CompositeAlarm"
	}
	return "MetricAlarm"
}

// M is the number of breaching datapoints that set ALARM.
func (a *Alarm) M() int {
	if a.DatapointsToAlarm > 0 {
		return a.DatapointsToAlarm
	}
	return a.EvaluationPeriods
}

// Missing is the alarm's missing-data treatment (default "missing").
func (a *Alarm) Missing() string {
	if a.TreatMissingData == "" {
		return MissingMissing
	}
	return a.TreatMissingData
}

// EvalPeriod is the period of the datapoints the alarm evaluates, seconds.
func (a *Alarm) EvalPeriod() int {
	if len(a.Queries) == 0 {
		return a.Period
	}
	for _, q := range a.Queries {
		if q.ReturnData {
			if q.Stat != nil {
				return q.Stat.Period
			}
			if q.Period > 0 {
				return q.Period
			}
		}
	}
	for _, q := range a.Queries {
		if q.Stat != nil {
			return q.Stat.Period
		}
	}
	return 60
}

// StatName is the statistic named in reason data.
func (a *Alarm) StatName() string {
	if a.ExtendedStatistic != "" {
		return a.ExtendedStatistic
	}
	return a.Statistic
}

// Slot is one period of an alarm's evaluation range: its start and value
// (Present false when the period has no datapoint).
type Slot struct {
	Time        time.Time
	Value       float64
	SampleCount float64
	Present     bool
}

// Evaluation is the outcome of evaluating an alarm once.
type Evaluation struct {
	State      string
	Reason     string
	ReasonData string
	// Changed is set when State differs from the alarm's state.
	Changed bool
}

// RangeExtra is how many periods before its evaluation periods an
// alarm's evaluation range reaches back, for datapoints to stand in for
// missing ones: AWS's documented example retrieves 5 datapoints for an
// alarm of 3 evaluation periods.
const RangeExtra = 2

// RangePeriods is the length of the alarm's evaluation range in periods.
func (a *Alarm) RangePeriods() int { return a.EvaluationPeriods + RangeExtra }

// Evaluate applies the alarm's rule to its evaluation range (periods,
// oldest first; normally RangePeriods of them) as AWS's "How alarm state
// is evaluated when data is missing" describes:
//
//   - with at least EvaluationPeriods (N) real datapoints in the range,
//     the N most recent are evaluated, looking back past missing periods,
//     and TreatMissingData does not matter;
//   - with fewer, every real datapoint is evaluated and the rest of the N
//     are filled per TreatMissingData (breaching, notBreaching; missing
//     and ignore fill with datapoints that do not breach), except that an
//     alarm with fewer real datapoints than DatapointsToAlarm (M) goes to
//     ALARM ("missing"; "ignore" keeps its state) when the oldest
//     breaching datapoint of the last N periods is at least M periods old
//     and none after it is within the threshold (AWS's rule against
//     premature alarms), and otherwise keeps its state while every real
//     datapoint breaches (AWS: it "does not go immediately into ALARM";
//     that it stays put rather than going to OK is berth's reading);
//   - with none, "missing" gives INSUFFICIENT_DATA, "ignore" keeps the
//     state, "breaching" ALARM and "notBreaching" OK.
//
// ALARM when at least M evaluated datapoints breach, else OK.
func Evaluate(a *Alarm, rng []Slot, now time.Time) Evaluation {
	cmp := comparisons[a.ComparisonOperator]
	n, m := a.EvaluationPeriods, a.M()
	if n <= 0 || n > len(rng) {
		n = len(rng)
	}
	if m > n {
		m = n
	}
	breaches := func(s Slot) bool { return s.Present && cmp.test(s.Value, a.Threshold) }
	var real []int
	for i, s := range rng {
		if s.Present {
			real = append(real, i)
		}
	}
	keep := Evaluation{State: a.State, Reason: a.StateReason, ReasonData: a.StateReasonData}
	// evaluated marks the periods evaluated: real datapoints and fills.
	evaluated := make([]bool, len(rng))
	breaching := 0
	premature := false
	switch {
	case len(real) == 0:
		if a.Missing() == MissingIgnore {
			return keep
		}
		for i := len(rng) - n; i < len(rng); i++ {
			evaluated[i] = true
		}
		if a.Missing() == MissingBreaching {
			breaching = n
		}
	case len(real) >= n:
		for _, i := range real[len(real)-n:] {
			evaluated[i] = true
			if breaches(rng[i]) {
				breaching++
			}
		}
	default:
		fills := n - len(real)
		for _, i := range real {
			evaluated[i] = true
			if breaches(rng[i]) {
				breaching++
			}
		}
		for i := len(rng) - 1; i >= 0 && fills > 0; i-- { // the most recent missing periods
			if !rng[i].Present {
				evaluated[i] = true
				fills--
				if a.Missing() == MissingBreaching {
					breaching++
				}
			}
		}
		if (a.Missing() == MissingMissing || a.Missing() == MissingIgnore) && len(real) < m {
			switch {
			case prematureAlarm(rng[len(rng)-n:], m, breaches):
				if a.Missing() == MissingIgnore {
					return keep
				}
				premature = true
			case breaching == len(real):
				// Only breaching datapoints, too few to alarm: the
				// next may be within the threshold; wait.
				return keep
			}
		}
	}
	var ev []Slot
	for i, s := range rng {
		if evaluated[i] {
			ev = append(ev, s)
		}
	}
	var state string
	switch {
	case len(real) == 0 && a.Missing() == MissingMissing:
		state = StateInsufficient
	case breaching >= m || premature:
		state = StateAlarm
	default:
		state = StateOK
	}
	out := Evaluation{State: state, Changed: state != a.State}
	if state == StateInsufficient {
		out.Reason = fmt.Sprintf("Insufficient Data: %d datapoint%s unknown.", len(ev), plural(len(ev), " was", "s were"))
	} else {
		out.Reason = thresholdReason(a, ev, state, m, cmp.words, cmp.test)
	}
	out.ReasonData = reasonData(a, ev, now)
	return out
}

// prematureAlarm is AWS's rule for alarms with fewer real datapoints than
// M: ALARM when the oldest breaching datapoint of the last N periods is at
// least M periods old and every later one breaches or is missing.
func prematureAlarm(last []Slot, m int, breaches func(Slot) bool) bool {
	oldest := -1
	for i, s := range last {
		if breaches(s) {
			oldest = i
			break
		}
	}
	if oldest < 0 || len(last)-oldest < m {
		return false
	}
	for _, s := range last[oldest+1:] {
		if s.Present && !breaches(s) {
			return false
		}
	}
	return true
}

// thresholdReason is AWS's "Threshold Crossed: ..." sentence.
func thresholdReason(a *Alarm, slots []Slot, state string, m int, words string, test func(v, t float64) bool) string {
	var shown []string
	for i := len(slots) - 1; i >= 0; i-- { // most recent first: the datapoints that led to the state
		if slots[i].Present && test(slots[i].Value, a.Threshold) == (state == StateAlarm) {
			shown = append(shown, fmt.Sprintf("%s (%s)", JavaDouble(slots[i].Value), slots[i].Time.UTC().Format("02/01/06 15:04:05")))
		}
	}
	verb := words
	if state == StateOK {
		verb = "not " + words
	}
	n := len(slots)
	list := "[" + strings.Join(shown, ", ") + "]"
	if n == 1 {
		return fmt.Sprintf("Threshold Crossed: 1 datapoint %s was %s the threshold (%s).", list, verb, JavaDouble(a.Threshold))
	}
	from, to := StateOK, StateAlarm
	if state == StateOK {
		from, to = StateAlarm, StateOK
	}
	need := m
	if state == StateOK {
		need = n - m + 1
	}
	count := len(shown)
	return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s were %s the threshold (%s) (minimum %d datapoint%s for %s -> %s transition).",
		count, n, list, verb, JavaDouble(a.Threshold), need, plural(need, "", "s"), from, to)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// awsTime is the timestamp format of reason data.
const awsTime = "2006-01-02T15:04:05.000-0700"

func reasonData(a *Alarm, slots []Slot, now time.Time) string {
	type evaluated struct {
		Timestamp   string   `json:"timestamp"`
		SampleCount *float64 `json:"sampleCount,omitempty"`
		Value       *float64 `json:"value,omitempty"`
	}
	d := struct {
		Version             string      `json:"version"`
		QueryDate           string      `json:"queryDate"`
		StartDate           string      `json:"startDate,omitempty"`
		Statistic           string      `json:"statistic,omitempty"`
		Period              int         `json:"period"`
		RecentDatapoints    []float64   `json:"recentDatapoints"`
		Threshold           float64     `json:"threshold"`
		EvaluatedDatapoints []evaluated `json:"evaluatedDatapoints,omitempty"`
	}{Version: "1.0", QueryDate: now.UTC().Format(awsTime), Statistic: a.StatName(), Period: a.EvalPeriod(),
		RecentDatapoints: []float64{}, Threshold: a.Threshold}
	if len(slots) > 0 {
		d.StartDate = slots[0].Time.UTC().Format(awsTime)
	}
	for i := len(slots) - 1; i >= 0; i-- {
		s := slots[i]
		e := evaluated{Timestamp: s.Time.UTC().Format(awsTime)}
		if s.Present {
			v, c := s.Value, s.SampleCount
			e.Value = &v
			if c > 0 {
				e.SampleCount = &c
			}
		}
		d.EvaluatedDatapoints = append(d.EvaluatedDatapoints, e)
	}
	for _, s := range slots {
		if s.Present {
			d.RecentDatapoints = append(d.RecentDatapoints, s.Value)
		}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// JavaDouble formats v as Java's Double.toString does for ordinary values
// ("60.0", "72.5"), which AWS's messages use.
func JavaDouble(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// TimeScale divides CloudWatch's periods and evaluation intervals for
// local testing: with scale 60 a 60-second period lasts one real second.
// The arithmetic (periods, M of N, statistics) is unchanged. 1 is AWS's
// time.
type TimeScale float64

// Real is the real duration of awsSeconds CloudWatch seconds.
func (s TimeScale) Real(awsSeconds int) time.Duration {
	if s <= 1 {
		return time.Duration(awsSeconds) * time.Second
	}
	return time.Duration(float64(awsSeconds) * float64(time.Second) / float64(s))
}
