package elbstore

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Prefix is the key prefix of every scope's ELB records; AddressPrefix
// that of the host-wide address claims.
const (
	Prefix        = "/elb/"
	AddressPrefix = "/elb-addresses/"
)

// Repo reads and writes ELBv2 objects.
type Repo struct{ s store.Store }

// New returns a Repo over s.
func New(s store.Store) *Repo { return &Repo{s: s} }

// Store returns the underlying store (for watches).
func (r *Repo) Store() store.Store { return r.s }

func scopePrefix(sc elb.Scope) string { return Prefix + sc.Account + "/" + sc.Region + "/" }

// State is every ELB object of one scope, read at one revision.
type State struct {
	Scope         elb.Scope
	LoadBalancers map[string]*elb.LoadBalancer      // by name
	TargetGroups  map[string]*elb.TargetGroup       // by name
	Listeners     map[string]*elb.Listener          // by ARN
	Rules         map[string]*elb.Rule              // by ARN
	Targets       map[string]map[string]*elb.Target // target group ID → target key → target
	gen           int64
	targetRevs    map[string]int64 // target key in store → mod revision
}

func newState(sc elb.Scope) *State {
	return &State{Scope: sc, LoadBalancers: map[string]*elb.LoadBalancer{}, TargetGroups: map[string]*elb.TargetGroup{},
		Listeners: map[string]*elb.Listener{}, Rules: map[string]*elb.Rule{}, Targets: map[string]map[string]*elb.Target{},
		targetRevs: map[string]int64{}}
}

// Read returns the state of a scope.
func (r *Repo) Read(ctx context.Context, sc elb.Scope) (*State, error) {
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

// add decodes one record (rel is its key below the scope prefix).
func (st *State) add(rel string, kv store.KV) error {
	kind, rest, _ := strings.Cut(rel, "/")
	switch kind {
	case "gen":
		st.gen = kv.ModRevision
	case "loadbalancers":
		v, err := storeutil.Decode[lbRec](kv)
		if err != nil {
			return err
		}
		st.LoadBalancers[v.Name] = v.dom()
	case "targetgroups":
		v, err := storeutil.Decode[tgRec](kv)
		if err != nil {
			return err
		}
		st.TargetGroups[v.Name] = v.dom()
	case "listeners":
		v, err := storeutil.Decode[listenerRec](kv)
		if err != nil {
			return err
		}
		st.Listeners[v.ARN] = v.dom()
	case "rules":
		v, err := storeutil.Decode[ruleRec](kv)
		if err != nil {
			return err
		}
		st.Rules[v.ARN] = v.dom()
	case "targets":
		v, err := storeutil.Decode[targetRec](kv)
		if err != nil {
			return err
		}
		tgID, _, _ := strings.Cut(rest, "/")
		if st.Targets[tgID] == nil {
			st.Targets[tgID] = map[string]*elb.Target{}
		}
		t := v.dom()
		st.Targets[tgID][t.Key()] = t
		st.targetRevs[kv.Key] = kv.ModRevision
	}
	return nil
}

// ReadAll returns the state of every scope (for the data plane).
func (r *Repo) ReadAll(ctx context.Context) ([]*State, int64, error) {
	kvs, rev, err := r.s.List(ctx, Prefix, store.ListOptions{})
	if err != nil {
		return nil, 0, storeutil.Err(err)
	}
	byScope := map[elb.Scope]*State{}
	var out []*State
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, Prefix), "/", 3)
		if len(parts) != 3 {
			continue
		}
		sc := elb.Scope{Account: parts[0], Region: parts[1]}
		st := byScope[sc]
		if st == nil {
			st = newState(sc)
			byScope[sc] = st
			out = append(out, st)
		}
		if err := st.add(parts[2], kv); err != nil {
			return nil, 0, err
		}
	}
	return out, rev, nil
}

// Tx collects the writes of one Update.
type Tx struct {
	st   *State
	cmps []store.Compare
	ops  []store.Op
}

func (tx *Tx) put(key string, v any) {
	tx.ops = append(tx.ops, store.Op{Key: key, Value: storeutil.MustJSON(v)})
}

func (tx *Tx) del(key string) { tx.ops = append(tx.ops, store.Op{Key: key, Delete: true}) }

func (tx *Tx) key(kind string, parts ...string) string {
	return scopePrefix(tx.st.Scope) + kind + "/" + strings.Join(parts, "/")
}

// PutLoadBalancer writes lb.
func (tx *Tx) PutLoadBalancer(lb *elb.LoadBalancer) {
	tx.put(tx.key("loadbalancers", lb.Name), toLBRec(lb))
}

// ClaimAddress claims a loopback address for lb (fails the Update with a
// conflict if another load balancer holds it).
func (tx *Tx) ClaimAddress(addr, lbARN string) {
	tx.cmps = append(tx.cmps, store.Compare{Key: AddressPrefix + addr, ModRevision: 0})
	tx.ops = append(tx.ops, store.Op{Key: AddressPrefix + addr, Value: []byte(lbARN)})
}

// DeleteLoadBalancer deletes lb and releases its address.
func (tx *Tx) DeleteLoadBalancer(lb *elb.LoadBalancer) {
	tx.del(tx.key("loadbalancers", lb.Name))
	if lb.Address != "" {
		tx.del(AddressPrefix + lb.Address)
	}
}

// PutTargetGroup writes tg; DeleteTargetGroup deletes it and its targets.
func (tx *Tx) PutTargetGroup(tg *elb.TargetGroup) {
	tx.put(tx.key("targetgroups", tg.Name), toTGRec(tg))
}

func (tx *Tx) DeleteTargetGroup(tg *elb.TargetGroup) {
	tx.del(tx.key("targetgroups", tg.Name))
	for k := range tx.st.Targets[tg.ID] {
		tx.del(tx.key("targets", tg.ID, k))
	}
}

// PutListener and the others write or delete one object.
func (tx *Tx) PutListener(lbID string, l *elb.Listener) {
	tx.put(tx.key("listeners", lbID, l.ID), toListenerRec(l))
}

func (tx *Tx) DeleteListener(lbID string, l *elb.Listener) { tx.del(tx.key("listeners", lbID, l.ID)) }

func (tx *Tx) PutRule(lbID, listenerID string, r *elb.Rule) {
	tx.put(tx.key("rules", lbID, listenerID, r.ID), toRuleRec(r))
}

func (tx *Tx) DeleteRule(lbID, listenerID string, r *elb.Rule) {
	tx.del(tx.key("rules", lbID, listenerID, r.ID))
}

// PutTarget writes a target of group tgID, comparing its record's
// revision as read (so a concurrent health report is not lost).
func (tx *Tx) PutTarget(tgID string, t *elb.Target) {
	k := tx.key("targets", tgID, t.Key())
	tx.cmps = append(tx.cmps, store.Compare{Key: k, ModRevision: tx.st.targetRevs[k]})
	tx.put(k, toTargetRec(t))
}

// DeleteTarget deletes a target of group tgID.
func (tx *Tx) DeleteTarget(tgID string, t *elb.Target) {
	k := tx.key("targets", tgID, t.Key())
	tx.cmps = append(tx.cmps, store.Compare{Key: k, ModRevision: tx.st.targetRevs[k]})
	tx.del(k)
}

// Update reads the scope, runs fn on it and commits fn's writes in one
// transaction that fails if anything in the scope's configuration changed
// meanwhile; it retries on such conflicts. fn must not keep st.
func (r *Repo) Update(ctx context.Context, sc elb.Scope, fn func(st *State, tx *Tx) error) error {
	return storeutil.Retry(ctx, func() error {
		st, err := r.Read(ctx, sc)
		if err != nil {
			return err
		}
		tx := &Tx{st: st}
		if err := fn(st, tx); err != nil {
			return err
		}
		return storeutil.CommitGen(ctx, r.s, scopePrefix(sc)+"gen", st.gen, tx.cmps, tx.ops)
	})
}

// AddressTaken reports whether a loopback address is claimed.
func (r *Repo) AddressTaken(ctx context.Context, addr string) (bool, error) {
	_, err := r.s.Get(ctx, AddressPrefix+addr)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, storeutil.Err(err)
}

// Addresses returns every claimed loopback address.
func (r *Repo) Addresses(ctx context.Context) (map[string]bool, error) {
	kvs, _, err := r.s.List(ctx, AddressPrefix, store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		out[strings.TrimPrefix(kv.Key, AddressPrefix)] = true
	}
	return out, nil
}

// SetTargetHealth records a target's health as the data plane observed
// it; a target no longer registered (or draining) is left alone.
func (r *Repo) SetTargetHealth(ctx context.Context, sc elb.Scope, tgID, targetKey string, h elb.Health) error {
	key := scopePrefix(sc) + "targets/" + tgID + "/" + targetKey
	return storeutil.Retry(ctx, func() error {
		kv, err := r.s.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return storeutil.Err(err)
		}
		rec, err := storeutil.Decode[targetRec](kv)
		if err != nil {
			return err
		}
		if !rec.DrainingSince.IsZero() || (rec.State == h.State && rec.Reason == h.Reason && rec.Description == h.Description) {
			return nil
		}
		rec.State, rec.Reason, rec.Description = h.State, h.Reason, h.Description
		_, err = r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: kv.ModRevision}}, []store.Op{{Key: key, Value: storeutil.MustJSON(rec)}})
		return storeutil.Err(err)
	})
}
