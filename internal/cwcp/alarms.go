package cwcp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/fault"
)

// MaxAlarmsPerScope bounds the alarms of one account and region.
const MaxAlarmsPerScope = 5000

// PutAlarm creates or replaces a metric alarm. A new alarm starts in
// INSUFFICIENT_DATA; a replaced one keeps its state (as AWS does).
func (p *Plane) PutAlarm(ctx context.Context, sc cw.Scope, a *cw.Alarm) error {
	if err := validateAlarm(a); err != nil {
		return err
	}
	now := p.now()
	a.ARN = AlarmARN(sc, a.Name)
	a.ConfigUpdated = now
	for attempt := 0; attempt < 16; attempt++ {
		cur, err := p.repo.Get(ctx, sc, a.Name)
		created := fault.Is(err, fault.NotFound)
		if err != nil && !created {
			return err
		}
		rev := int64(0)
		summary, typ := fmt.Sprintf("Alarm %q created", a.Name), "Create"
		if created {
			all, err := p.repo.List(ctx, sc)
			if err != nil {
				return err
			}
			if len(all) >= MaxAlarmsPerScope {
				return fault.New(fault.LimitExceeded, "The maximum number of alarms (%d) has been reached.", MaxAlarmsPerScope).WithCode(cw.CodeLimitExceeded)
			}
			a.State, a.StateReason, a.StateReasonData = cw.StateInsufficient, "Unchecked: Initial alarm creation", ""
			a.StateUpdated, a.StateTransitioned = now, now
		} else {
			rev = cur.Rev
			o := cur.Alarm
			if o.IsComposite() {
				return cw.Validationf("The alarm %s is a composite alarm; PutMetricAlarm cannot replace it.", a.Name)
			}
			a.State, a.StateReason, a.StateReasonData = o.State, o.StateReason, o.StateReasonData
			a.StateUpdated, a.StateTransitioned = o.StateUpdated, o.StateTransitioned
			if a.Tags == nil {
				a.Tags = o.Tags
			}
			summary, typ = fmt.Sprintf("Alarm %q updated", a.Name), "Update"
		}
		data, _ := json.Marshal(map[string]any{"version": "1.0", "type": typ})
		err = p.repo.Put(ctx, sc, a, rev, cwstore.HistoryItem{
			AlarmName: a.Name, AlarmType: "MetricAlarm", Time: now, Type: "ConfigurationUpdate", Summary: summary, Data: string(data),
		})
		if fault.Is(err, fault.Conflict) {
			continue
		}
		if err == nil {
			p.wake()
		}
		return err
	}
	return fault.New(fault.Unavailable, "the alarm %s is being changed concurrently; retry", a.Name)
}

func validateAlarm(a *cw.Alarm) error {
	switch {
	case a.Name == "":
		return cw.Missingf("The parameter AlarmName is required.")
	case len(a.Name) > 255:
		return cw.Invalidf("The parameter AlarmName must be at most 255 characters.")
	case a.EvaluationPeriods < 1:
		return cw.Invalidf("The parameter EvaluationPeriods must be at least 1.")
	case a.DatapointsToAlarm < 0 || a.DatapointsToAlarm > a.EvaluationPeriods:
		return cw.Invalidf("DatapointsToAlarm (%d) must be from 1 to EvaluationPeriods (%d).", a.DatapointsToAlarm, a.EvaluationPeriods)
	case strings.HasPrefix(a.ComparisonOperator, "LessThanLowerOrGreaterThanUpper") || strings.HasSuffix(a.ComparisonOperator, "ThanLowerThreshold") || strings.HasSuffix(a.ComparisonOperator, "ThanUpperThreshold"):
		return cw.Invalidf("The ComparisonOperator %s is for anomaly detection alarms, which berth does not support.", a.ComparisonOperator)
	case !cw.IsComparison(a.ComparisonOperator):
		return cw.Invalidf("The value %s for parameter ComparisonOperator is invalid; berth supports GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold and LessThanOrEqualToThreshold.", a.ComparisonOperator)
	}
	switch a.TreatMissingData {
	case "", cw.MissingMissing, cw.MissingIgnore, cw.MissingBreaching, cw.MissingNotBreaching:
	default:
		return cw.Invalidf("The value %s for parameter TreatMissingData is invalid; it must be breaching, notBreaching, ignore or missing.", a.TreatMissingData)
	}
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		if len(list) > 5 {
			return cw.Invalidf("An alarm can have at most 5 actions per state.")
		}
		for _, arn := range list {
			if !strings.HasPrefix(arn, "arn:") {
				return cw.Invalidf("Invalid action %q: actions are ARNs.", arn)
			}
		}
	}
	if len(a.Queries) > 0 {
		if a.Metric.Name != "" || a.Statistic != "" || a.Period != 0 {
			return cw.Combinationf("An alarm takes either Metrics or MetricName, Statistic and Period, not both.")
		}
		returned := 0
		for _, q := range a.Queries {
			if q.ReturnData {
				returned++
			}
			if strings.Contains(strings.ToUpper(q.Expression), "ANOMALY_DETECTION_BAND") {
				return cw.Invalidf("berth does not support anomaly detection alarms (ANOMALY_DETECTION_BAND in %s).", q.ID)
			}
		}
		if returned != 1 {
			return cw.Invalidf("Exactly one element of the Metrics list must have ReturnData set to true.")
		}
		return nil
	}
	switch {
	case a.Metric.Name == "" || a.Metric.Namespace == "":
		return cw.Missingf("The parameters MetricName and Namespace are required (or Metrics).")
	case a.ExtendedStatistic != "" && a.Statistic != "":
		return cw.Combinationf("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case a.ExtendedStatistic != "" && !isStat(a.ExtendedStatistic):
		return cw.Invalidf("The value %q for parameter ExtendedStatistic is not a valid percentile (p0.0 to p100).", a.ExtendedStatistic)
	case a.ExtendedStatistic == "" && !cw.IsStatistic(a.Statistic):
		return cw.Invalidf("The value %q for parameter Statistic is invalid.", a.Statistic)
	case a.Period < 10 || (a.Period >= 60 && a.Period%60 != 0) || (a.Period < 60 && a.Period != 10 && a.Period != 30):
		return cw.Invalidf("The parameter Period must be 10, 30 or a multiple of 60.")
	case a.Period*a.EvaluationPeriods > 7*24*3600:
		return cw.Invalidf("The evaluation range (Period * EvaluationPeriods) must not exceed one week.")
	}
	a.Metric = a.Metric.Normalize()
	return nil
}

// AlarmFilter selects DescribeAlarms results.
type AlarmFilter struct {
	Names        []string
	NamePrefix   string
	State        string
	ActionPrefix string
	// Types are the alarm types wanted (MetricAlarm, CompositeAlarm;
	// none: MetricAlarm only, as AWS).
	Types []string
	// ChildrenOf and ParentsOf select the alarms a composite alarm's rule
	// names, or the composite alarms naming an alarm; with them no other
	// filter may be given.
	ChildrenOf string
	ParentsOf  string
}

// DescribeAlarms returns the matching alarms, by name.
func (p *Plane) DescribeAlarms(ctx context.Context, sc cw.Scope, f AlarmFilter) ([]*cw.Alarm, error) {
	if len(f.Names) > 0 && f.NamePrefix != "" {
		return nil, cw.Combinationf("AlarmNames and AlarmNamePrefix cannot be used together.")
	}
	if f.ChildrenOf != "" || f.ParentsOf != "" {
		if len(f.Names) > 0 || f.NamePrefix != "" || f.State != "" || f.ActionPrefix != "" || len(f.Types) > 0 || (f.ChildrenOf != "" && f.ParentsOf != "") {
			return nil, cw.Validationf("With ChildrenOfAlarmName or ParentsOfAlarmName no other parameter but MaxRecords and NextToken may be given.")
		}
		return p.family(ctx, sc, f.ChildrenOf, f.ParentsOf)
	}
	switch f.State {
	case "", cw.StateOK, cw.StateAlarm, cw.StateInsufficient:
	default:
		return nil, cw.Invalidf("The value %s for parameter StateValue is invalid.", f.State)
	}
	types := map[string]bool{}
	for _, t := range f.Types {
		if t != "MetricAlarm" && t != "CompositeAlarm" {
			return nil, cw.Invalidf("The value %s for parameter AlarmTypes is invalid.", t)
		}
		types[t] = true
	}
	if len(types) == 0 {
		types["MetricAlarm"] = true
	}
	all, err := p.repo.List(ctx, sc)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, n := range f.Names {
		names[n] = true
	}
	var out []*cw.Alarm
	for _, st := range all {
		a := st.Alarm
		if !types[a.Type()] || (len(names) > 0 && !names[a.Name]) || !strings.HasPrefix(a.Name, f.NamePrefix) || (f.State != "" && a.State != f.State) {
			continue
		}
		if f.ActionPrefix != "" && !hasActionPrefix(a, f.ActionPrefix) {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// family returns the children of a composite alarm or the parents of an
// alarm, by name.
func (p *Plane) family(ctx context.Context, sc cw.Scope, childrenOf, parentsOf string) ([]*cw.Alarm, error) {
	byName, all, err := p.scopeAlarms(ctx, sc)
	if err != nil {
		return nil, err
	}
	var names []string
	if childrenOf != "" {
		c := byName[childrenOf]
		if c == nil || !c.Alarm.IsComposite() {
			return nil, cw.NotFoundf("The composite alarm %s does not exist.", childrenOf)
		}
		names = children(sc, c.Alarm)
	} else {
		names = parents(sc, all)[parentsOf]
	}
	var out []*cw.Alarm
	seen := map[string]bool{}
	for _, n := range names {
		if st := byName[n]; st != nil && !seen[n] {
			seen[n] = true
			out = append(out, st.Alarm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func hasActionPrefix(a *cw.Alarm, prefix string) bool {
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		for _, x := range list {
			if strings.HasPrefix(x, prefix) {
				return true
			}
		}
	}
	return false
}

// DescribeAlarmsForMetric returns the single-metric alarms on m (and, if
// given, statistic, period and unit).
func (p *Plane) DescribeAlarmsForMetric(ctx context.Context, sc cw.Scope, m cw.Metric, stat string, period int, unit string) ([]*cw.Alarm, error) {
	if m.Name == "" || m.Namespace == "" {
		return nil, cw.Missingf("The parameters MetricName and Namespace are required.")
	}
	all, err := p.repo.List(ctx, sc)
	if err != nil {
		return nil, err
	}
	key := m.Normalize().Key()
	var out []*cw.Alarm
	for _, st := range all {
		a := st.Alarm
		if a.IsComposite() || len(a.Queries) > 0 || a.Metric.Key() != key {
			continue
		}
		if (stat != "" && a.Statistic != stat) || (period != 0 && a.Period != period) || (unit != "" && a.Unit != unit) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// HistoryFilter selects DescribeAlarmHistory results.
type HistoryFilter struct {
	Name string
	Type string
	// AlarmTypes are the alarm types whose history is wanted (none:
	// MetricAlarm, as AWS documents).
	AlarmTypes []string
	Start, End time.Time
	Ascending  bool
}

// History returns alarm history items, newest first unless Ascending.
func (p *Plane) History(ctx context.Context, sc cw.Scope, f HistoryFilter) ([]cwstore.HistoryItem, error) {
	switch f.Type {
	case "", "ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction":
	default:
		return nil, cw.Invalidf("The value %s for parameter HistoryItemType is invalid.", f.Type)
	}
	types := map[string]bool{}
	for _, t := range f.AlarmTypes {
		if t != "MetricAlarm" && t != "CompositeAlarm" {
			return nil, cw.Invalidf("The value %s for parameter AlarmTypes is invalid.", t)
		}
		types[t] = true
	}
	if len(types) == 0 {
		types["MetricAlarm"] = true // AWS: without AlarmTypes, metric alarms' history only
	}
	items, err := p.repo.History(ctx, sc, f.Name)
	if err != nil {
		return nil, err
	}
	var out []cwstore.HistoryItem
	for _, h := range items {
		if !types[h.AlarmType] || (f.Type != "" && h.Type != f.Type) || (!f.Start.IsZero() && h.Time.Before(f.Start)) || (!f.End.IsZero() && !h.Time.Before(f.End)) {
			continue
		}
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if f.Ascending {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Time.After(out[j].Time)
	})
	return out, nil
}

// DeleteAlarms deletes alarms; if any does not exist nothing is deleted.
// An alarm that a composite alarm not deleted with it names cannot be
// deleted (AWS's ValidationError), and one call deletes at most one
// composite alarm, as AWS documents.
func (p *Plane) DeleteAlarms(ctx context.Context, sc cw.Scope, names []string) error {
	if len(names) == 0 {
		return cw.Missingf("The parameter AlarmNames is required.")
	}
	if len(names) > 100 {
		return cw.Invalidf("The collection AlarmNames must not have a size greater than 100.")
	}
	byName, all, err := p.scopeAlarms(ctx, sc)
	if err != nil {
		return err
	}
	del := map[string]bool{}
	composites := 0
	for _, n := range names {
		st := byName[n]
		if st == nil {
			return cw.NotFoundf("The alarm %s does not exist.", n)
		}
		if st.Alarm.IsComposite() && !del[n] {
			composites++
		}
		del[n] = true
	}
	if composites > 1 {
		return cw.Validationf("You can delete at most one composite alarm in one DeleteAlarms call.")
	}
	par := parents(sc, all)
	var held []string
	for _, n := range names {
		for _, q := range par[n] {
			if !del[q] {
				held = append(held, n)
				break
			}
		}
	}
	if len(held) > 0 {
		pronoun := "it"
		if len(held) > 1 {
			pronoun = "them"
		}
		return cw.Validationf("Cannot delete %s as there are composite alarm(s) depending on %s.", strings.Join(held, ","), pronoun)
	}
	return p.repo.Delete(ctx, sc, names)
}

// SetActionsEnabled enables or disables the actions of alarms; unknown
// names are ignored, as AWS does.
func (p *Plane) SetActionsEnabled(ctx context.Context, sc cw.Scope, names []string, enabled bool) error {
	if len(names) == 0 {
		return cw.Missingf("The parameter AlarmNames is required.")
	}
	for _, n := range names {
		if err := p.update(ctx, sc, n, func(a *cw.Alarm) ([]cwstore.HistoryItem, bool) {
			if a.ActionsEnabled == enabled {
				return nil, false
			}
			a.ActionsEnabled = enabled
			return nil, true
		}); err != nil && !fault.Is(err, fault.NotFound) {
			return err
		}
	}
	return nil
}

// update applies fn to an alarm with compare-and-swap retries; fn returns
// history to add and whether to write.
func (p *Plane) update(ctx context.Context, sc cw.Scope, name string, fn func(a *cw.Alarm) ([]cwstore.HistoryItem, bool)) error {
	for attempt := 0; attempt < 16; attempt++ {
		cur, err := p.repo.Get(ctx, sc, name)
		if err != nil {
			return err
		}
		hist, write := fn(cur.Alarm)
		if !write {
			return nil
		}
		err = p.repo.Put(ctx, sc, cur.Alarm, cur.Rev, hist...)
		if !fault.Is(err, fault.Conflict) {
			return err
		}
	}
	return fault.New(fault.Unavailable, "the alarm %s is being changed concurrently; retry", name)
}

// SetAlarmState sets an alarm's state by hand (it holds until the next
// evaluation) and runs the new state's actions.
func (p *Plane) SetAlarmState(ctx context.Context, sc cw.Scope, name, state, reason, reasonData string) error {
	switch state {
	case cw.StateOK, cw.StateAlarm, cw.StateInsufficient:
	default:
		return cw.Invalidf("The value %s for parameter StateValue is invalid.", state)
	}
	if reason == "" {
		return cw.Missingf("The parameter StateReason is required.")
	}
	if reasonData != "" && !json.Valid([]byte(reasonData)) {
		return fault.New(fault.InvalidParameter, "The StateReasonData is not valid JSON.").WithCode(cw.CodeInvalidFormat)
	}
	var ev *transition
	err := p.update(ctx, sc, name, func(a *cw.Alarm) ([]cwstore.HistoryItem, bool) {
		old := *a
		now := p.now()
		ev = &transition{old: old.State, reason: reason}
		a.State, a.StateReason, a.StateReasonData, a.StateUpdated = state, reason, reasonData, now
		if old.State != state {
			a.StateTransitioned = now
			if a.IsComposite() {
				byName, _, err := p.scopeAlarms(ctx, sc)
				if err == nil {
					p.suppress(sc, byName, a, now)
				}
			}
		}
		return []cwstore.HistoryItem{stateHistory(&old, a, now)}, true
	})
	if err != nil {
		return err
	}
	st, err := p.repo.Get(ctx, sc, name)
	if err == nil && ev.old != state {
		p.runActions(ctx, sc, st.Alarm, ev.old, false)
		p.wakeComposites() // the composite alarms naming it evaluate again
	}
	return nil
}

type transition struct{ old, reason string }

func stateHistory(old, cur *cw.Alarm, now time.Time) cwstore.HistoryItem {
	newState := map[string]any{"stateValue": cur.State, "stateReason": cur.StateReason}
	if cur.StateReasonData != "" {
		newState["stateReasonData"] = json.RawMessage(cur.StateReasonData)
	}
	data, _ := json.Marshal(map[string]any{
		"version":  "1.0",
		"oldState": map[string]any{"stateValue": old.State, "stateReason": old.StateReason},
		"newState": newState,
	})
	return cwstore.HistoryItem{AlarmName: cur.Name, AlarmType: cur.Type(), Time: now, Type: "StateUpdate",
		Summary: fmt.Sprintf("Alarm updated from %s to %s", old.State, cur.State), Data: string(data)}
}
