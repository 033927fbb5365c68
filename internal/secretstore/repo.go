package secretstore

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Prefix is the key prefix of every scope's records.
const Prefix = "/secrets/"

// Repo reads and writes secrets and parameters.
type Repo struct {
	s      store.Store
	sealer *Sealer
}

// New returns a Repo over s that seals values with sealer.
func New(s store.Store, sealer *Sealer) *Repo { return &Repo{s: s, sealer: sealer} }

func scopePrefix(sc secrets.Scope) string { return Prefix + sc.Account + "/" + sc.Region + "/" }

// State is every secret and parameter of a scope.
type State struct {
	Scope   secrets.Scope
	Secrets map[string]*secrets.Secret    // by name
	Params  map[string]*secrets.Parameter // by name
	gen     int64
}

// Read returns the state of a scope.
func (r *Repo) Read(ctx context.Context, sc secrets.Scope) (*State, error) {
	kvs, _, err := r.s.List(ctx, scopePrefix(sc), store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	st := &State{Scope: sc, Secrets: map[string]*secrets.Secret{}, Params: map[string]*secrets.Parameter{}}
	for _, kv := range kvs {
		kind, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, scopePrefix(sc)), "/")
		switch kind {
		case "gen":
			st.gen = kv.ModRevision
		case "secret":
			rec, err := storeutil.Decode[secretRec](kv)
			if err != nil {
				return nil, err
			}
			x, err := r.fromSecretRec(rec)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "secret %s cannot be decrypted with this server's key", rec.Name)
			}
			st.Secrets[x.Name] = x
		case "param":
			rec, err := storeutil.Decode[paramRec](kv)
			if err != nil {
				return nil, err
			}
			p, err := r.fromParamRec(sc, rec)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "parameter %s cannot be decrypted with this server's key", rec.Name)
			}
			st.Params[p.Name] = p
		}
	}
	return st, nil
}

// Tx collects the writes of one Update.
type Tx struct {
	r   *Repo
	st  *State
	ops map[string]store.Op
}

func (tx *Tx) key(kind, name string) string { return scopePrefix(tx.st.Scope) + kind + "/" + name }

// PutSecret writes a secret; DeleteSecret deletes it.
func (tx *Tx) PutSecret(x *secrets.Secret) {
	k := tx.key("secret", x.Name)
	tx.ops[k] = store.Op{Key: k, Value: storeutil.MustJSON(tx.r.toSecretRec(x))}
}

func (tx *Tx) DeleteSecret(name string) {
	k := tx.key("secret", name)
	tx.ops[k] = store.Op{Key: k, Delete: true}
}

// PutParam writes a parameter; DeleteParam deletes it.
func (tx *Tx) PutParam(p *secrets.Parameter) {
	k := tx.key("param", p.Name)
	tx.ops[k] = store.Op{Key: k, Value: storeutil.MustJSON(tx.r.toParamRec(tx.st.Scope, p))}
}

func (tx *Tx) DeleteParam(name string) {
	k := tx.key("param", name)
	tx.ops[k] = store.Op{Key: k, Delete: true}
}

// Update reads the scope, runs fn and commits its writes in one
// transaction guarded by the scope's generation; it retries on conflict.
func (r *Repo) Update(ctx context.Context, sc secrets.Scope, fn func(st *State, tx *Tx) error) error {
	return storeutil.Retry(ctx, func() error {
		st, err := r.Read(ctx, sc)
		if err != nil {
			return err
		}
		tx := &Tx{r: r, st: st, ops: map[string]store.Op{}}
		if err := fn(st, tx); err != nil {
			return err
		}
		ops := slices.Collect(maps.Values(tx.ops))
		return storeutil.CommitGen(ctx, r.s, scopePrefix(sc)+"gen", st.gen, nil, ops)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
