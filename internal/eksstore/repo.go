package eksstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// Prefix is the key prefix of every EKS record.
const Prefix = "/eks/"

const maxRetries = 64

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
		return nil, 0, storeErr(err)
	}
	c, err := decode(kv)
	return c, kv.ModRevision, err
}

// List returns the clusters of a scope, by name.
func (r *Repo) List(ctx context.Context, sc eks.Scope) ([]*eks.Cluster, error) {
	kvs, _, err := r.s.List(ctx, Prefix+sc.Account+"/"+sc.Region+"/", store.ListOptions{})
	if err != nil {
		return nil, storeErr(err)
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
		return nil, 0, storeErr(err)
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
	return storeErr(err)
}

// Update reads a cluster, lets fn change its copy and writes it back with
// a compare-and-swap, retrying on conflict. fn returning an error writes
// nothing; fn returning (nil, nil) deletes the cluster.
func (r *Repo) Update(ctx context.Context, sc eks.Scope, name string, fn func(c *eks.Cluster) (*eks.Cluster, error)) (*eks.Cluster, error) {
	for range maxRetries {
		c, rev, err := r.get(ctx, sc, name)
		if err != nil {
			return nil, err
		}
		next, err := fn(c)
		if err != nil {
			return nil, err
		}
		op := store.Op{Key: key(sc, name), Delete: true}
		if next != nil {
			op = store.Op{Key: key(sc, name), Value: encode(next)}
		}
		_, err = r.s.Txn(ctx, []store.Compare{{Key: key(sc, name), ModRevision: rev}}, []store.Op{op})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeErr(err)
		}
		return next, nil
	}
	return nil, fault.New(fault.Unavailable, "too much contention on the state store")
}

func encode(c *eks.Cluster) []byte {
	r := toRec(c)
	slices.SortFunc(r.Access, func(a, b accessRec) int { return strings.Compare(a.PrincipalARN, b.PrincipalARN) })
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("eksstore: encode: %v", err)) // only plain data types are stored
	}
	return b
}

func decode(kv store.KV) (*eks.Cluster, error) {
	var r clusterRec
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	return r.dom(), nil
}

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fault.Wrap(err, fault.Internal, "state store")
}
