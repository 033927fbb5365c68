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

// MaxParentsPerAlarm bounds the composite alarms whose rules name one
// alarm (AWS: 150).
const MaxParentsPerAlarm = 150

// maxCompositePasses bounds the passes over composite alarms in one
// evaluation (a composite of composites settles one level a pass).
const maxCompositePasses = 10

// resolveRef is the alarm name a rule's reference means: the name
// itself, or the name in an alarm ARN of the scope ("" for an ARN of
// another account or region).
func resolveRef(sc cw.Scope, ref string) string {
	if !strings.HasPrefix(ref, "arn:") {
		return ref
	}
	prefix := AlarmARN(sc, "")
	if !strings.HasPrefix(ref, prefix) {
		return ""
	}
	return ref[len(prefix):]
}

// children are the alarm names a composite's rule refers to.
func children(sc cw.Scope, a *cw.Alarm) []string {
	r, err := cw.ParseRule(a.AlarmRule)
	if err != nil {
		return nil
	}
	var out []string
	for _, ref := range r.Refs() {
		if n := resolveRef(sc, ref); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// parents maps each alarm name to the composite alarms naming it.
func parents(sc cw.Scope, all []cwstore.Stored) map[string][]string {
	out := map[string][]string{}
	for _, st := range all {
		if !st.Alarm.IsComposite() {
			continue
		}
		for _, c := range children(sc, st.Alarm) {
			out[c] = append(out[c], st.Alarm.Name)
		}
	}
	return out
}

// PutCompositeAlarm creates or replaces a composite alarm. A new alarm
// starts in INSUFFICIENT_DATA and the evaluator sets its state from its
// rule at once; a replaced one keeps its state until then.
func (p *Plane) PutCompositeAlarm(ctx context.Context, sc cw.Scope, a *cw.Alarm) error {
	rule, err := validateComposite(a)
	if err != nil {
		return err
	}
	now := p.now()
	a.ARN = AlarmARN(sc, a.Name)
	a.ConfigUpdated = now
	for attempt := 0; attempt < 16; attempt++ {
		all, err := p.repo.List(ctx, sc)
		if err != nil {
			return err
		}
		byName := map[string]*cwstore.Stored{}
		for i := range all {
			byName[all[i].Alarm.Name] = &all[i]
		}
		if err := checkRefs(sc, a, rule, byName, parents(sc, all)); err != nil {
			return err
		}
		cur := byName[a.Name]
		rev := int64(0)
		summary, typ := fmt.Sprintf("Alarm %q created", a.Name), "Create"
		if cur == nil {
			if len(all) >= MaxAlarmsPerScope {
				return fault.New(fault.LimitExceeded, "The maximum number of alarms (%d) has been reached.", MaxAlarmsPerScope).WithCode(cw.CodeLimitExceeded)
			}
			a.State, a.StateReason, a.StateReasonData = cw.StateInsufficient, "Unchecked: Initial alarm creation", ""
			a.StateUpdated, a.StateTransitioned = now, now
		} else {
			o := cur.Alarm
			if !o.IsComposite() {
				return cw.Validationf("The alarm %s is a metric alarm; PutCompositeAlarm cannot replace it.", a.Name)
			}
			rev = cur.Rev
			a.State, a.StateReason, a.StateReasonData = o.State, o.StateReason, o.StateReasonData
			a.StateUpdated, a.StateTransitioned, a.RuleEvaluated = o.StateUpdated, o.StateTransitioned, o.RuleEvaluated
			a.ActionsSuppressedBy, a.ActionsSuppressedReason, a.SuppressedUntil = o.ActionsSuppressedBy, o.ActionsSuppressedReason, o.SuppressedUntil
			a.Tags = o.Tags // tags given on update are ignored, as AWS documents
			summary, typ = fmt.Sprintf("Alarm %q updated", a.Name), "Update"
		}
		data, _ := json.Marshal(map[string]any{"version": "1.0", "type": typ})
		err = p.repo.Put(ctx, sc, a, rev, cwstore.HistoryItem{
			AlarmName: a.Name, AlarmType: "CompositeAlarm", Time: now, Type: "ConfigurationUpdate", Summary: summary, Data: string(data),
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

func validateComposite(a *cw.Alarm) (*cw.Rule, error) {
	switch {
	case a.Name == "":
		return nil, cw.Missingf("The parameter AlarmName is required.")
	case len(a.Name) > 255:
		return nil, cw.Invalidf("The parameter AlarmName must be at most 255 characters.")
	case a.AlarmRule == "":
		return nil, cw.Missingf("The parameter AlarmRule is required.")
	case len(a.AlarmRule) > cw.MaxRuleLength:
		return nil, cw.Invalidf("The parameter AlarmRule must be at most %d characters.", cw.MaxRuleLength)
	case len(a.Description) > 1024:
		return nil, cw.Invalidf("The parameter AlarmDescription must be at most 1024 characters.")
	}
	rule, err := cw.ParseRule(a.AlarmRule)
	if err != nil {
		return nil, cw.Validationf("%s", err.Error())
	}
	if n := len(rule.Refs()); n > cw.MaxRuleAlarms {
		return nil, cw.Validationf("Error in AlarmRule [the rule names %d alarms; a composite alarm can name at most %d]", n, cw.MaxRuleAlarms)
	}
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		if len(list) > 5 {
			return nil, cw.Invalidf("An alarm can have at most 5 actions per state.")
		}
		for _, arn := range list {
			switch {
			case !strings.HasPrefix(arn, "arn:"):
				return nil, cw.Invalidf("Invalid action %q: actions are ARNs.", arn)
			case strings.HasPrefix(arn, "arn:aws:autoscaling:"), strings.HasPrefix(arn, "arn:aws:automate:"):
				return nil, cw.Validationf("Invalid action %s: composite alarms cannot perform Auto Scaling or EC2 actions.", arn)
			}
		}
	}
	if a.ActionsSuppressor != "" && (a.SuppressorWaitPeriod <= 0 || a.SuppressorExtensionPeriod <= 0) {
		return nil, cw.Validationf("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required (positive) when ActionsSuppressor is specified.")
	}
	if a.ActionsSuppressor == "" {
		a.SuppressorWaitPeriod, a.SuppressorExtensionPeriod = 0, 0
	}
	return rule, nil
}

// checkRefs refuses a rule naming alarms that do not exist, naming an
// alarm already in the rules of MaxParentsPerAlarm other composites, or a
// suppressor that does not exist.
func checkRefs(sc cw.Scope, a *cw.Alarm, rule *cw.Rule, byName map[string]*cwstore.Stored, par map[string][]string) error {
	var missing []string
	for _, ref := range rule.Refs() {
		n := resolveRef(sc, ref)
		if n == "" || byName[n] == nil {
			missing = append(missing, ref)
			continue
		}
		others := 0
		for _, q := range par[n] {
			if q != a.Name {
				others++
			}
		}
		if others >= MaxParentsPerAlarm {
			return fault.New(fault.LimitExceeded, "The alarm %s is already in the rules of %d composite alarms, the most one alarm can be in.", n, MaxParentsPerAlarm).WithCode(cw.CodeLimitExceeded)
		}
	}
	if len(missing) > 0 {
		return cw.Validationf("Could not save the composite alarm as alarms [%s] in the alarm rule do not exist", strings.Join(missing, ", "))
	}
	if a.ActionsSuppressor != "" {
		n := resolveRef(sc, a.ActionsSuppressor)
		if n == "" || (byName[n] == nil && n != a.Name) {
			return cw.Validationf("Could not save the composite alarm as the ActionsSuppressor alarm %s does not exist", a.ActionsSuppressor)
		}
	}
	return nil
}

// cyclic returns the composite alarms that are in a cycle of rules (their
// evaluation stops, as on AWS).
func cyclic(sc cw.Scope, byName map[string]*cwstore.Stored) map[string]bool {
	out := map[string]bool{}
	for name, st := range byName {
		if !st.Alarm.IsComposite() {
			continue
		}
		seen := map[string]bool{}
		stack := children(sc, st.Alarm)
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n == name {
				out[name] = true
				break
			}
			c := byName[n]
			if seen[n] || c == nil || !c.Alarm.IsComposite() {
				continue
			}
			seen[n] = true
			stack = append(stack, children(sc, c.Alarm)...)
		}
	}
	return out
}

// evaluateComposites evaluates the composite alarms whose configuration
// changed or one of whose children changed state since their rule was
// last evaluated, in passes until none changes (composites of composites).
func (p *Plane) evaluateComposites(ctx context.Context, all []cwstore.Stored) {
	scopes := map[cw.Scope]map[string]*cwstore.Stored{}
	for i := range all {
		st := &all[i]
		if scopes[st.Scope] == nil {
			scopes[st.Scope] = map[string]*cwstore.Stored{}
		}
		scopes[st.Scope][st.Alarm.Name] = st
	}
	for sc, byName := range scopes {
		var names []string
		for n, st := range byName {
			if st.Alarm.IsComposite() {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		skip := cyclic(sc, byName)
		for pass := 0; pass < maxCompositePasses; pass++ {
			changed := false
			for _, n := range names {
				if ctx.Err() != nil {
					return
				}
				if skip[n] {
					continue
				}
				ch, err := p.evaluateComposite(ctx, sc, byName, byName[n])
				if err != nil && !fault.Is(err, fault.Conflict) {
					p.log.Warn("composite alarm evaluation failed", "alarm", n, "err", err)
				}
				changed = changed || ch
			}
			if !changed {
				break
			}
		}
		for _, n := range names {
			if err := p.advanceSuppression(ctx, sc, byName, byName[n]); err != nil && !fault.Is(err, fault.Conflict) {
				p.log.Warn("composite alarm suppression failed", "alarm", n, "err", err)
			}
		}
	}
}

// evaluateComposite evaluates one composite alarm if it needs it and
// reports whether its state changed. The watermark (RuleEvaluated) is the
// newest configuration or child transition it has seen.
func (p *Plane) evaluateComposite(ctx context.Context, sc cw.Scope, byName map[string]*cwstore.Stored, st *cwstore.Stored) (bool, error) {
	a := st.Alarm
	rule, err := cw.ParseRule(a.AlarmRule)
	if err != nil {
		return false, err
	}
	mark := a.ConfigUpdated
	configured := a.RuleEvaluated.IsZero() || a.ConfigUpdated.After(a.RuleEvaluated)
	var trigger *cw.Alarm
	for _, ref := range rule.Refs() {
		c := byName[resolveRef(sc, ref)]
		if c == nil {
			continue
		}
		t := c.Alarm.StateTransitioned
		if t.After(mark) {
			mark = t
		}
		if t.After(a.RuleEvaluated) && (trigger == nil || t.After(trigger.StateTransitioned)) {
			trigger = c.Alarm
		}
	}
	if !configured && trigger == nil {
		return false, nil
	}
	state := func(ref string) string {
		if c := byName[resolveRef(sc, ref)]; c != nil {
			return c.Alarm.State
		}
		return ""
	}
	next := *a
	next.RuleEvaluated = mark
	newState := cw.StateOK
	if rule.Eval(state) {
		newState = cw.StateAlarm
	}
	now := p.now()
	var hist []cwstore.HistoryItem
	changed := newState != a.State
	if changed {
		next.State, next.StateUpdated, next.StateTransitioned = newState, now, now
		if configured {
			next.StateReason = cw.CompositeConfigReason(a.ARN, newState, !a.RuleEvaluated.IsZero())
		} else {
			next.StateReason = cw.CompositeChildReason(cw.ChildState{ARN: trigger.ARN, State: trigger.State, Time: trigger.StateTransitioned})
		}
		var trig []cw.ChildState
		for _, ref := range rule.Matching(state, newState == cw.StateAlarm) {
			if c := byName[resolveRef(sc, ref)]; c != nil {
				trig = append(trig, cw.ChildState{ARN: c.Alarm.ARN, State: c.Alarm.State, Time: c.Alarm.StateTransitioned})
			}
		}
		next.StateReasonData = cw.CompositeReasonData(trig)
		p.suppress(sc, byName, &next, now)
		hist = append(hist, stateHistory(a, &next, now))
	}
	if err := p.repo.Put(ctx, sc, &next, st.Rev, hist...); err != nil {
		return false, err
	}
	cur, err := p.repo.Get(ctx, sc, a.Name)
	if err == nil {
		*st = cur
	}
	if changed {
		p.log.Info("alarm state changed", "alarm", a.Name, "from", a.State, "to", next.State, "reason", next.StateReason)
		p.runActions(ctx, sc, &next, a.State, false)
	}
	return changed, nil
}

// Suppression reasons (ActionsSuppressedBy).
const (
	suppressedByAlarm     = "Alarm"
	suppressedByWait      = "WaitPeriod"
	suppressedByExtension = "ExtensionPeriod"
)

func setSuppressed(a *cw.Alarm, by string, until time.Time) {
	a.ActionsSuppressedBy, a.SuppressedUntil = by, until
	a.ActionsSuppressedReason = ""
	if by != "" {
		a.ActionsSuppressedReason = "Actions suppressed by " + by
	}
}

// suppress sets a composite alarm's action suppression as it enters its
// (new) state: only ALARM actions are suppressed; with the
// ActionsSuppressor in ALARM by "Alarm"; within the ExtensionPeriod after
// the suppressor left ALARM by "ExtensionPeriod"; otherwise for the
// WaitPeriod, in case the suppressor goes to ALARM ("WaitPeriod"). The
// evaluator ends a wait or extension (advanceSuppression).
func (p *Plane) suppress(sc cw.Scope, byName map[string]*cwstore.Stored, a *cw.Alarm, now time.Time) {
	if !a.IsComposite() || a.ActionsSuppressor == "" || a.State != cw.StateAlarm {
		setSuppressed(a, "", time.Time{})
		return
	}
	s := byName[resolveRef(sc, a.ActionsSuppressor)]
	switch {
	case s == nil:
		setSuppressed(a, "", time.Time{})
	case s.Alarm.State == cw.StateAlarm:
		setSuppressed(a, suppressedByAlarm, time.Time{})
	case a.ActionsSuppressedBy == suppressedByExtension && now.Before(a.SuppressedUntil):
		// still in the extension after the suppressor left ALARM
	default:
		setSuppressed(a, suppressedByWait, now.Add(p.scale.Real(a.SuppressorWaitPeriod)))
	}
}

// advanceSuppression moves a composite alarm's suppression on with the
// suppressor and the clock: a wait or extension ends in "Alarm" if the
// suppressor goes to ALARM, else at its end the alarm's actions run; an
// "Alarm" suppression becomes an extension when the suppressor leaves
// ALARM.
func (p *Plane) advanceSuppression(ctx context.Context, sc cw.Scope, byName map[string]*cwstore.Stored, st *cwstore.Stored) error {
	a := st.Alarm
	if a.ActionsSuppressedBy == "" {
		return nil
	}
	now := p.now()
	s := byName[resolveRef(sc, a.ActionsSuppressor)]
	inAlarm := s != nil && s.Alarm.State == cw.StateAlarm
	next := *a
	run := false
	switch {
	case a.ActionsSuppressedBy != suppressedByAlarm && inAlarm:
		setSuppressed(&next, suppressedByAlarm, time.Time{})
	case a.ActionsSuppressedBy != suppressedByAlarm && !now.Before(a.SuppressedUntil):
		setSuppressed(&next, "", time.Time{})
		run = a.State == cw.StateAlarm
	case a.ActionsSuppressedBy == suppressedByAlarm && !inAlarm:
		left := now
		if s != nil {
			left = s.Alarm.StateTransitioned
		}
		setSuppressed(&next, suppressedByExtension, left.Add(p.scale.Real(a.SuppressorExtensionPeriod)))
	default:
		return nil
	}
	if err := p.repo.Put(ctx, sc, &next, st.Rev); err != nil {
		return err
	}
	if cur, err := p.repo.Get(ctx, sc, a.Name); err == nil {
		*st = cur
	}
	if run {
		p.runActions(ctx, sc, &next, next.State, false)
	}
	return nil
}

// scopeAlarms maps the alarms of a scope by name.
func (p *Plane) scopeAlarms(ctx context.Context, sc cw.Scope) (map[string]*cwstore.Stored, []cwstore.Stored, error) {
	all, err := p.repo.List(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]*cwstore.Stored, len(all))
	for i := range all {
		byName[all[i].Alarm.Name] = &all[i]
	}
	return byName, all, nil
}
