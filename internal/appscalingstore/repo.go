package appscalingstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Prefix is the key prefix of every scope's records.
const Prefix = "/appscaling/"

// MaxActivities is how many activities a target keeps (the newest).
const MaxActivities = 100

// Repo reads and writes Application Auto Scaling objects.
type Repo struct{ s store.Store }

// New returns a Repo over s.
func New(s store.Store) *Repo { return &Repo{s: s} }

func scopePrefix(sc appscaling.Scope) string { return Prefix + sc.Account + "/" + sc.Region + "/" }

// TargetKey is the store path element of a target.
func TargetKey(k appscaling.Key) string {
	return url.PathEscape(k.Namespace + "|" + k.Dimension + "|" + k.ResourceID)
}

// State is every object of one scope, read at one revision.
type State struct {
	Scope      appscaling.Scope
	Targets    map[string]*appscaling.Target                     // by TargetKey
	Policies   map[string]map[string]*appscaling.Policy          // TargetKey → name → policy
	Scheduled  map[string]map[string]*appscaling.ScheduledAction // TargetKey → name → action
	Activities map[string][]*appscaling.Activity                 // TargetKey → oldest first
	actKeys    map[string][]string                               // TargetKey → store keys, as Activities
	gen        int64
}

func newState(sc appscaling.Scope) *State {
	return &State{Scope: sc, Targets: map[string]*appscaling.Target{}, Policies: map[string]map[string]*appscaling.Policy{},
		Scheduled: map[string]map[string]*appscaling.ScheduledAction{}, Activities: map[string][]*appscaling.Activity{},
		actKeys: map[string][]string{}}
}

// Target returns the target of k, or nil.
func (st *State) Target(k appscaling.Key) *appscaling.Target { return st.Targets[TargetKey(k)] }

// Read returns the state of a scope.
func (r *Repo) Read(ctx context.Context, sc appscaling.Scope) (*State, error) {
	kvs, _, err := r.s.List(ctx, scopePrefix(sc), store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	st := newState(sc)
	for _, kv := range kvs {
		if err := st.add(strings.TrimPrefix(kv.Key, scopePrefix(sc)), kv); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Scopes lists every scope that holds a record.
func (r *Repo) Scopes(ctx context.Context) ([]appscaling.Scope, error) {
	kvs, _, err := r.s.List(ctx, Prefix, store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	seen := map[appscaling.Scope]bool{}
	var out []appscaling.Scope
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, Prefix), "/", 3)
		if len(parts) != 3 {
			continue
		}
		sc := appscaling.Scope{Account: parts[0], Region: parts[1]}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

func (st *State) add(rel string, kv store.KV) error {
	kind, rest, _ := strings.Cut(rel, "/")
	tk, _, _ := strings.Cut(rest, "/")
	switch kind {
	case "gen":
		st.gen = kv.ModRevision
	case "targets":
		v, err := storeutil.Decode[targetRec](kv)
		if err != nil {
			return err
		}
		st.Targets[tk] = v.dom()
	case "policies":
		v, err := storeutil.Decode[policyRec](kv)
		if err != nil {
			return err
		}
		if st.Policies[tk] == nil {
			st.Policies[tk] = map[string]*appscaling.Policy{}
		}
		st.Policies[tk][v.Name] = v.dom()
	case "scheduled":
		v, err := storeutil.Decode[scheduledRec](kv)
		if err != nil {
			return err
		}
		if st.Scheduled[tk] == nil {
			st.Scheduled[tk] = map[string]*appscaling.ScheduledAction{}
		}
		st.Scheduled[tk][v.Name] = v.dom()
	case "activities":
		v, err := storeutil.Decode[activityRec](kv)
		if err != nil {
			return err
		}
		st.Activities[tk] = append(st.Activities[tk], v.dom())
		st.actKeys[tk] = append(st.actKeys[tk], kv.Key)
	}
	return nil
}

// Tx collects the writes of one Update.
type Tx struct {
	st  *State
	ops []store.Op
}

func (tx *Tx) put(key string, v any) {
	tx.ops = append(tx.ops, store.Op{Key: key, Value: storeutil.MustJSON(v)})
}
func (tx *Tx) del(key string) { tx.ops = append(tx.ops, store.Op{Key: key, Delete: true}) }

func (tx *Tx) key(kind string, parts ...string) string {
	return scopePrefix(tx.st.Scope) + kind + "/" + strings.Join(parts, "/")
}

// PutTarget writes t.
func (tx *Tx) PutTarget(t *appscaling.Target) {
	tx.put(tx.key("targets", TargetKey(t.Key)), toTargetRec(t))
}

// DeleteTarget deletes t with its policies, scheduled actions and
// activities.
func (tx *Tx) DeleteTarget(k appscaling.Key) {
	tk := TargetKey(k)
	tx.del(tx.key("targets", tk))
	for name := range tx.st.Policies[tk] {
		tx.del(tx.key("policies", tk, url.PathEscape(name)))
	}
	for name := range tx.st.Scheduled[tk] {
		tx.del(tx.key("scheduled", tk, url.PathEscape(name)))
	}
	for _, k := range tx.st.actKeys[tk] {
		tx.del(k)
	}
}

// PutPolicy and the others write or delete one object.
func (tx *Tx) PutPolicy(p *appscaling.Policy) {
	tx.put(tx.key("policies", TargetKey(p.Key), url.PathEscape(p.Name)), toPolicyRec(p))
}

func (tx *Tx) DeletePolicy(p *appscaling.Policy) {
	tx.del(tx.key("policies", TargetKey(p.Key), url.PathEscape(p.Name)))
}

func (tx *Tx) PutScheduled(a *appscaling.ScheduledAction) {
	tx.put(tx.key("scheduled", TargetKey(a.Key), url.PathEscape(a.Name)), toScheduledRec(a))
}

func (tx *Tx) DeleteScheduled(a *appscaling.ScheduledAction) {
	tx.del(tx.key("scheduled", TargetKey(a.Key), url.PathEscape(a.Name)))
}

// AddActivity writes a new activity and deletes the target's oldest
// beyond MaxActivities.
func (tx *Tx) AddActivity(a *appscaling.Activity) {
	tk := TargetKey(a.Key)
	keys := tx.st.actKeys[tk]
	// The sequence number orders activities that start at one instant.
	seq := 0
	if len(keys) > 0 {
		_, last, _ := strings.Cut(path.Base(keys[len(keys)-1]), "-")
		seq, _ = strconv.Atoi(last)
		seq++
	}
	tx.put(tx.key("activities", tk, fmt.Sprintf("%020d-%010d", a.Start.UnixNano(), seq)), toActivityRec(a))
	for i := 0; i < len(keys)-(MaxActivities-1); i++ {
		tx.del(keys[i])
	}
}

// Update reads the scope, runs fn on it and commits fn's writes in one
// transaction that fails if anything in the scope changed meanwhile; it
// retries on such conflicts. fn must not keep st.
func (r *Repo) Update(ctx context.Context, sc appscaling.Scope, fn func(st *State, tx *Tx) error) error {
	err := storeutil.Retry(ctx, func() error {
		st, err := r.Read(ctx, sc)
		if err != nil {
			return err
		}
		tx := &Tx{st: st}
		if err := fn(st, tx); err != nil {
			return err
		}
		return storeutil.CommitGen(ctx, r.s, scopePrefix(sc)+"gen", st.gen, nil, tx.ops)
	})
	if fe, ok := fault.As(err); ok && errors.Is(err, storeutil.ErrContention) {
		return fe.WithCode(appscaling.CodeConcurrentUpdate)
	}
	return err
}
