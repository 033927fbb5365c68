package eksstore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Prefix is the key prefix of every EKS record.
const Prefix = "/eks/"

// Repo reads and writes EKS clusters.
type Repo struct{ s store.Store }

// New returns a Repo over s.
func New(s store.Store) *Repo { return &Repo{s: s} }

// Store returns the underlying store (for watches).
func (r *Repo) Store() store.Store { return r.s }

func key(sc eks.Scope, name string) string { return Prefix + sc.Account + "/" + sc.Region + "/" + name }

// Get returns a cluster, or ResourceNotFoundException.
func (r *Repo) Get(ctx context.Context, sc eks.Scope, name string) (*eks.Cluster, error) {
	c, _, err := r.get(ctx, sc, name)
	return c, err
}

func (r *Repo) get(ctx context.Context, sc eks.Scope, name string) (*eks.Cluster, int64, error) {
	kv, err := r.s.Get(ctx, key(sc, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, eks.ClusterNotFound(name)
	}
	if err != nil {
		return nil, 0, storeutil.Err(err)
	}
	c, err := decode(kv)
	return c, kv.ModRevision, err
}

// List returns the clusters of a scope, by name.
func (r *Repo) List(ctx context.Context, sc eks.Scope) ([]*eks.Cluster, error) {
	kvs, _, err := r.s.List(ctx, Prefix+sc.Account+"/"+sc.Region+"/", store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]*eks.Cluster, 0, len(kvs))
	for _, kv := range kvs {
		c, err := decode(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Stored is a cluster with its scope.
type Stored struct {
	Scope   eks.Scope
	Cluster *eks.Cluster
}

// All returns every cluster of every scope and the store revision read.
func (r *Repo) All(ctx context.Context) ([]Stored, int64, error) {
	kvs, rev, err := r.s.List(ctx, Prefix, store.ListOptions{})
	if err != nil {
		return nil, 0, storeutil.Err(err)
	}
	var out []Stored
	for _, kv := range kvs {
		parts := strings.SplitN(strings.TrimPrefix(kv.Key, Prefix), "/", 3)
		if len(parts) != 3 {
			continue
		}
		c, err := decode(kv)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Stored{Scope: eks.Scope{Account: parts[0], Region: parts[1]}, Cluster: c})
	}
	return out, rev, nil
}

// Create stores a new cluster; ResourceInUseException if one of that
// name exists.
func (r *Repo) Create(ctx context.Context, sc eks.Scope, c *eks.Cluster) error {
	_, err := r.s.Txn(ctx, []store.Compare{{Key: key(sc, c.Name), ModRevision: 0}},
		[]store.Op{{Key: key(sc, c.Name), Value: encode(c)}})
	if errors.Is(err, store.ErrConflict) {
		return eks.InUsef("Cluster already exists with name: %s", c.Name)
	}
	return storeutil.Err(err)
}

// Update reads a cluster, lets fn change its copy and writes it back with
// a compare-and-swap, retrying on conflict. fn returning an error writes
// nothing; fn returning (nil, nil) deletes the cluster.
func (r *Repo) Update(ctx context.Context, sc eks.Scope, name string, fn func(c *eks.Cluster) (*eks.Cluster, error)) (*eks.Cluster, error) {
	var out *eks.Cluster
	err := storeutil.Retry(ctx, func() error {
		c, rev, err := r.get(ctx, sc, name)
		if err != nil {
			return err
		}
		next, err := fn(c)
		if err != nil {
			return err
		}
		op := store.Op{Key: key(sc, name), Delete: true}
		if next != nil {
			op = store.Op{Key: key(sc, name), Value: encode(next)}
		}
		if _, err := r.s.Txn(ctx, []store.Compare{{Key: key(sc, name), ModRevision: rev}}, []store.Op{op}); err != nil {
			return storeutil.Err(err)
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func encode(c *eks.Cluster) []byte {
	r := toRec(c)
	slices.SortFunc(r.Access, func(a, b accessRec) int { return strings.Compare(a.PrincipalARN, b.PrincipalARN) })
	return storeutil.MustJSON(r)
}

func decode(kv store.KV) (*eks.Cluster, error) {
	r, err := storeutil.Decode[clusterRec](kv)
	if err != nil {
		return nil, err
	}
	return r.dom(), nil
}
