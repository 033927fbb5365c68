package appscalingcp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingstore"
)

func noPolicy(k appscaling.Key, name string) error {
	return appscaling.NotFoundf("No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
		k.Namespace, k.ResourceID, k.Dimension, name)
}

// ownedAlarms are the alarms a policy created (target tracking's).
func ownedAlarms(p *appscaling.Policy) []string {
	if p.Type != appscaling.TargetTracking {
		return nil
	}
	var out []string
	for _, a := range p.Alarms {
		out = append(out, a.Name)
	}
	return out
}

func (p *Plane) deleteAlarms(ctx context.Context, sc appscaling.Scope, names []string) error {
	if p.alarms == nil || len(names) == 0 {
		return nil
	}
	return p.alarms.DeleteAlarms(ctx, sc, names)
}

// PutPolicy creates or replaces a scaling policy. A target tracking
// policy (re)creates its high and low alarms when an alarm backend is
// configured; the alarms of the policy it replaces are deleted.
func (p *Plane) PutPolicy(ctx context.Context, sc appscaling.Scope, in appscaling.Policy) (*appscaling.Policy, error) {
	pol := in
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	var old *appscaling.Policy
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	if st.Target(pol.Key) == nil {
		return nil, noTarget(pol.Key)
	}
	if cur := st.Policies[appscalingstore.TargetKey(pol.Key)][pol.Name]; cur != nil {
		old = cur
		pol.ID, pol.Created = cur.ID, cur.Created
	} else {
		pol.ID, pol.Created = newUUID(), p.now()
	}
	pol.Alarms = nil
	if pol.Type == appscaling.TargetTracking && p.alarms != nil {
		high, low := appscaling.AlarmNames(pol.ResourceID, newUUID(), newUUID())
		refs, err := p.alarms.PutTrackingAlarms(ctx, sc, &pol, high, low)
		if err != nil {
			return nil, err
		}
		pol.Alarms = refs
	}
	err = p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		if st.Target(pol.Key) == nil {
			return noTarget(pol.Key)
		}
		tx.PutPolicy(&pol)
		return nil
	})
	if err != nil {
		_ = p.deleteAlarms(ctx, sc, ownedAlarms(&pol))
		return nil, err
	}
	if old != nil {
		var stale []string
		for _, n := range ownedAlarms(old) {
			if !slices.ContainsFunc(pol.Alarms, func(a appscaling.AlarmRef) bool { return a.Name == n }) {
				stale = append(stale, n)
			}
		}
		if err := p.deleteAlarms(ctx, sc, stale); err != nil {
			p.log.Warn("delete the alarms of a replaced policy", "policy", pol.Name, "err", err)
		}
	}
	return &pol, nil
}

// DeletePolicy deletes a policy and the alarms it owns.
func (p *Plane) DeletePolicy(ctx context.Context, sc appscaling.Scope, k appscaling.Key, name string) error {
	if err := appscaling.ValidateKey(k); err != nil {
		return err
	}
	var gone *appscaling.Policy
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		gone = st.Policies[appscalingstore.TargetKey(k)][name]
		if gone == nil {
			return noPolicy(k, name)
		}
		tx.DeletePolicy(gone)
		return nil
	})
	if err != nil {
		return err
	}
	return p.deleteAlarms(ctx, sc, ownedAlarms(gone))
}

// PolicyFilter selects policies.
type PolicyFilter struct {
	Namespace  string
	Names      []string
	ResourceID string
	Dimension  string
}

// Policies returns the policies the filter selects, in creation order.
func (p *Plane) Policies(ctx context.Context, sc appscaling.Scope, f PolicyFilter) ([]*appscaling.Policy, error) {
	if err := checkNamespace(f.Namespace); err != nil {
		return nil, err
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*appscaling.Policy
	for _, m := range st.Policies {
		for _, pol := range m {
			if (f.ResourceID == "" || pol.ResourceID == f.ResourceID) && (f.Dimension == "" || pol.Dimension == f.Dimension) &&
				(len(f.Names) == 0 || slices.Contains(f.Names, pol.Name)) {
				out = append(out, pol)
			}
		}
	}
	slices.SortFunc(out, func(a, b *appscaling.Policy) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// PolicyByARN returns the policy with the ARN, or an ObjectNotFoundException.
func (p *Plane) PolicyByARN(ctx context.Context, sc appscaling.Scope, arn string) (*appscaling.Policy, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	for _, m := range st.Policies {
		for _, pol := range m {
			if pol.ARN(sc) == arn {
				return pol, nil
			}
		}
	}
	return nil, appscaling.NotFoundf("No scaling policy found with ARN %s", arn)
}
