package ecsstore

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Services are one record each:
//
//	services/<cluster>/<name>   the service (serviceRecord JSON, servicerecord.go; tags under /tags/)
//
// The record carries the scheduler's state too (deployments, counts,
// events): one compare-and-swap changes a service as a whole.

// KindService is the kind of services/ keys.
const KindService = "services"

func serviceKey(sc ecs.Scope, cluster, name string) string {
	return prefix(sc, KindService) + cluster + "/" + name
}

func encodeService(s *ecs.Service) []byte {
	rec := serviceRecordOf(s)
	return storeutil.MustJSON(&rec)
}

// DecodeService decodes a services/ record (servicerecord.go).
func DecodeService(kv store.KV) (*ecs.Service, error) {
	return decodeRecord(kv, (*serviceRecord).domain)
}

// ServiceNotFound is ECS's ServiceNotFoundException.
func ServiceNotFound() error {
	return fault.NotFoundf("service", "Service not found.").WithResource("service")
}

func init() { countFuncs = append(countFuncs, countServices) }

func countServices(ctx context.Context, r *Repo, sc ecs.Scope, cluster string, into *ClusterCounts) error {
	svcs, err := r.Services(ctx, sc, cluster)
	if err != nil {
		return err
	}
	for _, s := range svcs {
		if s.Status == ecs.ServiceActive || s.Status == ecs.ServiceDraining {
			into.ActiveServices++
		}
	}
	return nil
}

// CreateService stores s in its ACTIVE cluster with its tags. A service of
// the same name that is ACTIVE or DRAINING is an error, unless it was
// created with the same non-empty client token (then it is returned, and
// created is false); an INACTIVE one is replaced.
func (r *Repo) CreateService(ctx context.Context, sc ecs.Scope, s *ecs.Service, tags []ecs.Tag) (*ecs.Service, bool, error) {
	cluster := s.ClusterName()
	var out *ecs.Service
	created := false
	err := storeutil.Retry(ctx, func() error {
		ckey, _, crev, err := r.activeClusterRev(ctx, sc, cluster)
		if err != nil {
			return err
		}
		key := serviceKey(sc, cluster, s.Name)
		kv, err := r.s.Get(ctx, key)
		var rev int64
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			cur, err := DecodeService(kv)
			if err != nil {
				return err
			}
			rev = kv.ModRevision
			switch {
			case cur.Status == ecs.ServiceActive && s.ClientToken != "" && cur.ClientToken == s.ClientToken:
				out, created = cur, false
				return nil
			case cur.Status == ecs.ServiceActive:
				return fault.New(fault.InvalidParameter, "Creation of service was not idempotent.")
			case cur.Status == ecs.ServiceDraining:
				return fault.New(fault.InvalidParameter, "Unable to Start a service that is still Draining.")
			}
		}
		ops := append([]store.Op{{Key: key, Value: encodeService(s)}}, tagOps(s.ARN, tags)...)
		if rev != 0 && len(tags) == 0 {
			ops = append(ops, store.Op{Key: tagKey(s.ARN), Delete: true})
		}
		cmps := []store.Compare{{Key: ckey, ModRevision: crev}, {Key: key, ModRevision: rev}}
		if _, err := r.s.Txn(ctx, cmps, ops); err != nil {
			return err
		}
		out, created = s, true
		return nil
	})
	return out, created, storeutil.Err(err)
}

// Service returns a service (any status) or ServiceNotFound.
func (r *Repo) Service(ctx context.Context, sc ecs.Scope, cluster, name string) (*ecs.Service, error) {
	kv, err := r.s.Get(ctx, serviceKey(sc, cluster, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ServiceNotFound()
	}
	if err != nil {
		return nil, storeutil.Err(err)
	}
	return DecodeService(kv)
}

// UpdateService changes a service with fn, atomically; fn may return
// ErrNoChange to write nothing (the current service is returned).
func (r *Repo) UpdateService(ctx context.Context, sc ecs.Scope, cluster, name string, fn func(*ecs.Service) error) (*ecs.Service, int64, error) {
	var out *ecs.Service
	var outRev int64
	err := storeutil.Retry(ctx, func() error {
		key := serviceKey(sc, cluster, name)
		kv, err := r.s.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return ServiceNotFound()
		}
		if err != nil {
			return err
		}
		s, err := DecodeService(kv)
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			if errors.Is(err, ErrNoChange) {
				out, outRev = s, kv.ModRevision
				return nil
			}
			return err
		}
		rev, err := r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: kv.ModRevision}}, []store.Op{{Key: key, Value: encodeService(s)}})
		if err != nil {
			return err
		}
		out, outRev = s, rev
		return nil
	})
	return out, outRev, storeutil.Err(err)
}

// Services returns the services of a cluster (any status), by name.
func (r *Repo) Services(ctx context.Context, sc ecs.Scope, cluster string) ([]*ecs.Service, error) {
	kvs, _, err := r.s.List(ctx, prefix(sc, KindService)+cluster+"/", store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]*ecs.Service, 0, len(kvs))
	for _, kv := range kvs {
		s, err := DecodeService(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
