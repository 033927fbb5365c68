package cwstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// Prefix is the key prefix of CloudWatch's records:
// /cloudwatch/<account>/<region>/alarms/<name> and
// /cloudwatch/<account>/<region>/history/<name>/<time>.
const Prefix = "/cloudwatch/"

// HistoryPerAlarm bounds the history items kept per alarm.
const HistoryPerAlarm = 100

// Repo reads and writes alarms and their history.
type Repo struct{ s store.Store }

// NewRepo returns a Repo over s.
func NewRepo(s store.Store) *Repo { return &Repo{s: s} }

func scopeKey(sc cw.Scope) string { return Prefix + sc.Account + "/" + sc.Region + "/" }

func alarmKey(sc cw.Scope, name string) string { return scopeKey(sc) + "alarms/" + name }

func historyPrefix(sc cw.Scope, name string) string { return scopeKey(sc) + "history/" + name + "/" }

// Stored is an alarm with the revision it was read at.
type Stored struct {
	Alarm *cw.Alarm
	Rev   int64
	Scope cw.Scope
}

// Get returns an alarm or a ResourceNotFound error.
func (r *Repo) Get(ctx context.Context, sc cw.Scope, name string) (Stored, error) {
	kv, err := r.s.Get(ctx, alarmKey(sc, name))
	if errors.Is(err, store.ErrNotFound) {
		return Stored{}, cw.NotFoundf("The alarm %s does not exist.", name)
	}
	if err != nil {
		return Stored{}, fault.Wrap(err, fault.Internal, "reading alarm %s", name)
	}
	a, err := decodeAlarm(kv.Value)
	if err != nil {
		return Stored{}, err
	}
	return Stored{Alarm: a, Rev: kv.ModRevision, Scope: sc}, nil
}

// List returns the alarms of a scope, by name.
func (r *Repo) List(ctx context.Context, sc cw.Scope) ([]Stored, error) {
	kvs, _, err := r.s.List(ctx, scopeKey(sc)+"alarms/", store.ListOptions{})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "listing alarms")
	}
	out := make([]Stored, 0, len(kvs))
	for _, kv := range kvs {
		a, err := decodeAlarm(kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, Stored{Alarm: a, Rev: kv.ModRevision, Scope: sc})
	}
	return out, nil
}

// ListAll returns every alarm of every scope (for the evaluator).
func (r *Repo) ListAll(ctx context.Context) ([]Stored, error) {
	kvs, _, err := r.s.List(ctx, Prefix, store.ListOptions{})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "listing alarms")
	}
	var out []Stored
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, Prefix), "/", 4)
		if len(parts) != 4 || parts[2] != "alarms" {
			continue
		}
		a, err := decodeAlarm(kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, Stored{Alarm: a, Rev: kv.ModRevision, Scope: cw.Scope{Account: parts[0], Region: parts[1]}})
	}
	return out, nil
}

// HistoryItem is one alarm history entry.
type HistoryItem struct {
	AlarmName string    `json:"alarmName"`
	AlarmType string    `json:"alarmType"`
	Time      time.Time `json:"time"`
	Type      string    `json:"type"` // ConfigurationUpdate, StateUpdate, Action
	Summary   string    `json:"summary"`
	Data      string    `json:"data"`
}

// Put writes an alarm (rev 0: must not exist; rev > 0: must be unchanged
// since; rev < 0: unconditionally) with history items. A lost compare is a
// fault.Conflict.
func (r *Repo) Put(ctx context.Context, sc cw.Scope, a *cw.Alarm, rev int64, history ...HistoryItem) error {
	b, err := json.Marshal(recOf(a))
	if err != nil {
		return fault.Wrap(err, fault.Internal, "encoding alarm")
	}
	var cmps []store.Compare
	if rev >= 0 {
		cmps = append(cmps, store.Compare{Key: alarmKey(sc, a.Name), ModRevision: rev})
	}
	ops := []store.Op{{Key: alarmKey(sc, a.Name), Value: b}}
	hops, err := r.historyOps(ctx, sc, a.Name, history)
	if err != nil {
		return err
	}
	ops = append(ops, hops...)
	if _, err := r.s.Txn(ctx, cmps, ops); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fault.New(fault.Conflict, "the alarm %s changed concurrently", a.Name)
		}
		return fault.Wrap(err, fault.Internal, "writing alarm %s", a.Name)
	}
	return nil
}

// AddHistory appends history items of an alarm.
func (r *Repo) AddHistory(ctx context.Context, sc cw.Scope, name string, items ...HistoryItem) error {
	ops, err := r.historyOps(ctx, sc, name, items)
	if err != nil || len(ops) == 0 {
		return err
	}
	if _, err := r.s.Txn(ctx, nil, ops); err != nil {
		return fault.Wrap(err, fault.Internal, "writing alarm history")
	}
	return nil
}

func (r *Repo) historyOps(ctx context.Context, sc cw.Scope, name string, items []HistoryItem) ([]store.Op, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var ops []store.Op
	for i, h := range items {
		b, _ := json.Marshal(h)
		ops = append(ops, store.Op{Key: fmt.Sprintf("%s%020d-%02d", historyPrefix(sc, name), h.Time.UnixNano(), i), Value: b})
	}
	kvs, _, err := r.s.List(ctx, historyPrefix(sc, name), store.ListOptions{})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "reading alarm history")
	}
	for i := 0; i < len(kvs)+len(items)-HistoryPerAlarm && i < len(kvs); i++ {
		ops = append(ops, store.Op{Key: kvs[i].Key, Delete: true})
	}
	return ops, nil
}

// History returns the history of one alarm ("" = every alarm of the
// scope), oldest first.
func (r *Repo) History(ctx context.Context, sc cw.Scope, name string) ([]HistoryItem, error) {
	prefix := scopeKey(sc) + "history/"
	if name != "" {
		prefix = historyPrefix(sc, name)
	}
	kvs, _, err := r.s.List(ctx, prefix, store.ListOptions{})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "reading alarm history")
	}
	out := make([]HistoryItem, 0, len(kvs))
	for _, kv := range kvs {
		var h HistoryItem
		if err := json.Unmarshal(kv.Value, &h); err != nil {
			return nil, fault.Wrap(err, fault.Internal, "decoding alarm history")
		}
		out = append(out, h)
	}
	return out, nil
}

// Delete removes alarms and their history.
func (r *Repo) Delete(ctx context.Context, sc cw.Scope, names []string) error {
	var ops []store.Op
	for _, n := range names {
		ops = append(ops, store.Op{Key: alarmKey(sc, n), Delete: true})
		kvs, _, err := r.s.List(ctx, historyPrefix(sc, n), store.ListOptions{})
		if err != nil {
			return fault.Wrap(err, fault.Internal, "reading alarm history")
		}
		for _, kv := range kvs {
			ops = append(ops, store.Op{Key: kv.Key, Delete: true})
		}
	}
	if _, err := r.s.Txn(ctx, nil, ops); err != nil {
		return fault.Wrap(err, fault.Internal, "deleting alarms")
	}
	return nil
}
