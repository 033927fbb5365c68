package iamstore

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Key prefixes (see doc.go).
const (
	Prefix        = "/iam/"
	KeyPrefix     = "/iam-keys/"
	SessionPrefix = "/iam-sessions/"
)

// Repo reads and writes IAM objects.
type Repo struct {
	s      store.Store
	sealer *secretstore.Sealer
}

// New returns a Repo over s sealing server certificates' private keys
// with sealer (nil: an account with server certificates cannot be read,
// and none can be uploaded).
func New(s store.Store, sealer *secretstore.Sealer) *Repo { return &Repo{s: s, sealer: sealer} }

func accountPrefix(account string) string { return Prefix + account + "/" }

// State is every IAM object of one account, read at one revision.
type State struct {
	Account  string
	Roles    map[string]*iam.Role            // by name
	Users    map[string]*iam.User            // by name
	Policies map[string]*iam.Policy          // customer-managed, by ARN
	Profiles map[string]*iam.InstanceProfile // by name
	OIDC     map[string]*iam.OIDCProvider    // by ARN
	Keys     map[string]*iam.AccessKey       // by access key ID
	// ServerCerts are the server certificates by name, keys opened.
	ServerCerts map[string]*iam.ServerCertificate
	gen         int64
}

// Read returns the state of an account.
func (r *Repo) Read(ctx context.Context, account string) (*State, error) {
	kvs, _, err := r.s.List(ctx, accountPrefix(account), store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	st := &State{Account: account, Roles: map[string]*iam.Role{}, Users: map[string]*iam.User{},
		Policies: map[string]*iam.Policy{}, Profiles: map[string]*iam.InstanceProfile{},
		OIDC: map[string]*iam.OIDCProvider{}, Keys: map[string]*iam.AccessKey{}, ServerCerts: map[string]*iam.ServerCertificate{}}
	for _, kv := range kvs {
		kind, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, accountPrefix(account)), "/")
		if kind == "servercerts" {
			if err := r.addServerCert(st, kv); err != nil {
				return nil, err
			}
			continue
		}
		if err := st.add(kind, kv); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *State) add(kind string, kv store.KV) error {
	switch kind {
	case "gen":
		st.gen = kv.ModRevision
	case "roles":
		v, err := storeutil.Decode[roleRec](kv)
		if err != nil {
			return err
		}
		d := iam.Role(*v)
		st.Roles[d.Name] = &d
	case "users":
		v, err := storeutil.Decode[userRec](kv)
		if err != nil {
			return err
		}
		d := iam.User(*v)
		st.Users[d.Name] = &d
	case "policies":
		v, err := storeutil.Decode[policyRec](kv)
		if err != nil {
			return err
		}
		d := iam.Policy(*v)
		st.Policies[d.ARN] = &d
	case "profiles":
		v, err := storeutil.Decode[profileRec](kv)
		if err != nil {
			return err
		}
		d := iam.InstanceProfile(*v)
		st.Profiles[d.Name] = &d
	case "oidc":
		v, err := storeutil.Decode[oidcRec](kv)
		if err != nil {
			return err
		}
		d := iam.OIDCProvider(*v)
		st.OIDC[d.ARN] = &d
	case "keys":
		v, err := storeutil.Decode[keyRec](kv)
		if err != nil {
			return err
		}
		d := iam.AccessKey(*v)
		st.Keys[d.ID] = &d
	}
	return nil
}

// Tx collects the writes of one Update.
type Tx struct {
	st     *State
	ops    []store.Op
	sealer *secretstore.Sealer
}

func (tx *Tx) put(kind, name string, v any) {
	tx.ops = append(tx.ops, store.Op{Key: accountPrefix(tx.st.Account) + kind + "/" + name, Value: storeutil.MustJSON(v)})
}

func (tx *Tx) del(kind, name string) {
	tx.ops = append(tx.ops, store.Op{Key: accountPrefix(tx.st.Account) + kind + "/" + name, Delete: true})
}

// PutRole and its siblings write or delete one object.
func (tx *Tx) PutRole(r *iam.Role)        { tx.put("roles", r.Name, roleRec(*r)) }
func (tx *Tx) DeleteRole(name string)     { tx.del("roles", name) }
func (tx *Tx) PutUser(u *iam.User)        { tx.put("users", u.Name, userRec(*u)) }
func (tx *Tx) DeleteUser(name string)     { tx.del("users", name) }
func (tx *Tx) PutPolicy(p *iam.Policy)    { tx.put("policies", p.ID, policyRec(*p)) }
func (tx *Tx) DeletePolicy(p *iam.Policy) { tx.del("policies", p.ID) }
func (tx *Tx) PutProfile(p *iam.InstanceProfile) {
	tx.put("profiles", p.Name, profileRec(*p))
}
func (tx *Tx) DeleteProfile(name string)      { tx.del("profiles", name) }
func (tx *Tx) PutOIDC(p *iam.OIDCProvider)    { tx.put("oidc", url.PathEscape(p.URL), oidcRec(*p)) }
func (tx *Tx) DeleteOIDC(p *iam.OIDCProvider) { tx.del("oidc", url.PathEscape(p.URL)) }

// PutKey writes a user's access key and its host-wide index.
func (tx *Tx) PutKey(k *iam.AccessKey) {
	tx.put("keys", k.ID, keyRec(*k))
	tx.ops = append(tx.ops, store.Op{Key: KeyPrefix + k.ID, Value: []byte(tx.st.Account)})
}

// DeleteKey deletes an access key; its index entry stays as a tombstone
// ("-" and the account), so that the SigV4 verifier keeps refusing the
// key instead of taking it for an unknown one (which a non-strict server
// accepts).
func (tx *Tx) DeleteKey(id string) {
	tx.del("keys", id)
	tx.ops = append(tx.ops, store.Op{Key: KeyPrefix + id, Value: []byte("-" + tx.st.Account)})
}

// Update reads the account, runs fn on it and commits fn's writes in one
// transaction that fails if anything in the account changed meanwhile; it
// retries on such conflicts. fn must not keep st.
func (r *Repo) Update(ctx context.Context, account string, fn func(st *State, tx *Tx) error) error {
	return storeutil.Retry(ctx, func() error {
		st, err := r.Read(ctx, account)
		if err != nil {
			return err
		}
		tx := &Tx{st: st, sealer: r.sealer}
		if err := fn(st, tx); err != nil {
			return err
		}
		return storeutil.CommitGen(ctx, r.s, accountPrefix(account)+"gen", st.gen, nil, tx.ops)
	})
}

// KeyOwner returns the account and the key of an IAM user's access key
// ID, or found=false. A deleted key is found with a nil key.
func (r *Repo) KeyOwner(ctx context.Context, id string) (account string, key *iam.AccessKey, found bool, err error) {
	kv, err := r.s.Get(ctx, KeyPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, storeutil.Err(err)
	}
	account = string(kv.Value)
	if deleted, ok := strings.CutPrefix(account, "-"); ok {
		return deleted, nil, true, nil
	}
	kv, err = r.s.Get(ctx, accountPrefix(account)+"keys/"+id)
	if errors.Is(err, store.ErrNotFound) {
		return account, nil, true, nil
	}
	if err != nil {
		return "", nil, false, storeutil.Err(err)
	}
	v, err := storeutil.Decode[keyRec](kv)
	if err != nil {
		return "", nil, false, err
	}
	k := iam.AccessKey(*v)
	return account, &k, true, nil
}

// PutSession stores temporary credentials (a new access key ID).
func (r *Repo) PutSession(ctx context.Context, s *iam.Session) error {
	key := SessionPrefix + s.AccessKeyID
	_, err := r.s.Txn(ctx, []store.Compare{{Key: key}}, []store.Op{{Key: key, Value: storeutil.MustJSON(sessionRec(*s))}})
	return storeutil.Err(err)
}

// Session returns the temporary credentials of an access key ID.
func (r *Repo) Session(ctx context.Context, id string) (*iam.Session, bool, error) {
	kv, err := r.s.Get(ctx, SessionPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeutil.Err(err)
	}
	v, err := storeutil.Decode[sessionRec](kv)
	if err != nil {
		return nil, false, err
	}
	s := iam.Session(*v)
	return &s, true, nil
}

// Sessions returns every stored session (for the expiry sweep).
func (r *Repo) Sessions(ctx context.Context) ([]*iam.Session, error) {
	kvs, _, err := r.s.List(ctx, SessionPrefix, store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]*iam.Session, 0, len(kvs))
	for _, kv := range kvs {
		v, err := storeutil.Decode[sessionRec](kv)
		if err != nil {
			return nil, err
		}
		s := iam.Session(*v)
		out = append(out, &s)
	}
	return out, nil
}

// DeleteSession removes temporary credentials.
func (r *Repo) DeleteSession(ctx context.Context, id string) error {
	_, err := r.s.Txn(ctx, nil, []store.Op{{Key: SessionPrefix + id, Delete: true}})
	return storeutil.Err(err)
}
