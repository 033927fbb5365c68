package cwstore

import (
	"encoding/json"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/fault"
)

// Storage shapes of alarms (their own, not the domain's).

type dimRec struct {
	N string `json:"n"`
	V string `json:"v"`
}

type metricRec struct {
	Namespace string   `json:"ns,omitempty"`
	Name      string   `json:"name,omitempty"`
	Dims      []dimRec `json:"dims,omitempty"`
}

type queryRec struct {
	ID         string     `json:"id"`
	Expression string     `json:"expr,omitempty"`
	Metric     *metricRec `json:"metric,omitempty"`
	Period     int        `json:"period,omitempty"`
	Stat       string     `json:"stat,omitempty"`
	Unit       string     `json:"unit,omitempty"`
	Label      string     `json:"label,omitempty"`
	ReturnData bool       `json:"returnData,omitempty"`
	AccountID  string     `json:"accountId,omitempty"`
}

type alarmRec struct {
	Name                    string            `json:"name"`
	ARN                     string            `json:"arn"`
	Description             string            `json:"description,omitempty"`
	ActionsEnabled          bool              `json:"actionsEnabled"`
	OKActions               []string          `json:"okActions,omitempty"`
	AlarmActions            []string          `json:"alarmActions,omitempty"`
	InsufficientDataActions []string          `json:"insufficientDataActions,omitempty"`
	Metric                  metricRec         `json:"metric"`
	Statistic               string            `json:"statistic,omitempty"`
	ExtendedStatistic       string            `json:"extendedStatistic,omitempty"`
	Period                  int               `json:"period,omitempty"`
	Unit                    string            `json:"unit,omitempty"`
	Queries                 []queryRec        `json:"queries,omitempty"`
	EvaluationPeriods       int               `json:"evaluationPeriods"`
	DatapointsToAlarm       int               `json:"datapointsToAlarm,omitempty"`
	Threshold               float64           `json:"threshold"`
	ComparisonOperator      string            `json:"comparisonOperator"`
	TreatMissingData        string            `json:"treatMissingData,omitempty"`
	State                   string            `json:"state"`
	StateReason             string            `json:"stateReason"`
	StateReasonData         string            `json:"stateReasonData,omitempty"`
	StateUpdated            time.Time         `json:"stateUpdated"`
	StateTransitioned       time.Time         `json:"stateTransitioned"`
	ConfigUpdated           time.Time         `json:"configUpdated"`
	Tags                    map[string]string `json:"tags,omitempty"`
	AlarmRule               string            `json:"alarmRule,omitempty"`
	ActionsSuppressor       string            `json:"actionsSuppressor,omitempty"`
	SuppressorWait          int               `json:"suppressorWait,omitempty"`
	SuppressorExtension     int               `json:"suppressorExtension,omitempty"`
	SuppressedBy            string            `json:"suppressedBy,omitempty"`
	SuppressedReason        string            `json:"suppressedReason,omitempty"`
	SuppressedUntil         time.Time         `json:"suppressedUntil,omitzero"`
	RuleEvaluated           time.Time         `json:"ruleEvaluated,omitzero"`
}

func metricRecOf(m cw.Metric) metricRec {
	r := metricRec{Namespace: m.Namespace, Name: m.Name}
	for _, d := range m.Dimensions {
		r.Dims = append(r.Dims, dimRec{d.Name, d.Value})
	}
	return r
}

func (r metricRec) dom() cw.Metric {
	m := cw.Metric{Namespace: r.Namespace, Name: r.Name}
	for _, d := range r.Dims {
		m.Dimensions = append(m.Dimensions, cw.Dimension{Name: d.N, Value: d.V})
	}
	return m
}

func recOf(a *cw.Alarm) alarmRec {
	r := alarmRec{
		Name: a.Name, ARN: a.ARN, Description: a.Description, ActionsEnabled: a.ActionsEnabled,
		OKActions: a.OKActions, AlarmActions: a.AlarmActions, InsufficientDataActions: a.InsufficientDataActions,
		Metric: metricRecOf(a.Metric), Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic, Period: a.Period,
		Unit: a.Unit, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm, Threshold: a.Threshold,
		ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData, State: a.State,
		StateReason: a.StateReason, StateReasonData: a.StateReasonData, StateUpdated: a.StateUpdated,
		StateTransitioned: a.StateTransitioned, ConfigUpdated: a.ConfigUpdated, Tags: a.Tags,
		AlarmRule: a.AlarmRule, ActionsSuppressor: a.ActionsSuppressor, SuppressorWait: a.SuppressorWaitPeriod,
		SuppressorExtension: a.SuppressorExtensionPeriod, SuppressedBy: a.ActionsSuppressedBy,
		SuppressedReason: a.ActionsSuppressedReason, SuppressedUntil: a.SuppressedUntil, RuleEvaluated: a.RuleEvaluated,
	}
	for _, q := range a.Queries {
		qr := queryRec{ID: q.ID, Expression: q.Expression, Period: q.Period, Label: q.Label, ReturnData: q.ReturnData, AccountID: q.AccountID}
		if q.Stat != nil {
			m := metricRecOf(q.Stat.Metric)
			qr.Metric, qr.Stat, qr.Unit = &m, q.Stat.Stat, q.Stat.Unit
			qr.Period = q.Stat.Period
		}
		r.Queries = append(r.Queries, qr)
	}
	return r
}

func decodeAlarm(b []byte) (*cw.Alarm, error) {
	var r alarmRec
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "decoding alarm")
	}
	a := &cw.Alarm{
		Name: r.Name, ARN: r.ARN, Description: r.Description, ActionsEnabled: r.ActionsEnabled,
		OKActions: r.OKActions, AlarmActions: r.AlarmActions, InsufficientDataActions: r.InsufficientDataActions,
		Metric: r.Metric.dom(), Statistic: r.Statistic, ExtendedStatistic: r.ExtendedStatistic, Period: r.Period,
		Unit: r.Unit, EvaluationPeriods: r.EvaluationPeriods, DatapointsToAlarm: r.DatapointsToAlarm, Threshold: r.Threshold,
		ComparisonOperator: r.ComparisonOperator, TreatMissingData: r.TreatMissingData, State: r.State,
		StateReason: r.StateReason, StateReasonData: r.StateReasonData, StateUpdated: r.StateUpdated,
		StateTransitioned: r.StateTransitioned, ConfigUpdated: r.ConfigUpdated, Tags: r.Tags,
		AlarmRule: r.AlarmRule, ActionsSuppressor: r.ActionsSuppressor, SuppressorWaitPeriod: r.SuppressorWait,
		SuppressorExtensionPeriod: r.SuppressorExtension, ActionsSuppressedBy: r.SuppressedBy,
		ActionsSuppressedReason: r.SuppressedReason, SuppressedUntil: r.SuppressedUntil, RuleEvaluated: r.RuleEvaluated,
	}
	for _, q := range r.Queries {
		dq := cw.Query{ID: q.ID, Expression: q.Expression, Period: q.Period, Label: q.Label, ReturnData: q.ReturnData, AccountID: q.AccountID}
		if q.Metric != nil {
			dq.Stat = &cw.MetricStat{Metric: q.Metric.dom(), Period: q.Period, Stat: q.Stat, Unit: q.Unit}
		}
		a.Queries = append(a.Queries, dq)
	}
	return a, nil
}
