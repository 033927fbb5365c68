package ecscp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// ClusterCounts are a cluster's statistics: its instances, tasks and
// services.
type ClusterCounts = ecsstore.ClusterCounts

// ClusterSpec is a cluster to create.
type ClusterSpec struct {
	Name                            string
	Tags                            []ecs.Tag
	Settings                        []ecs.ClusterSetting
	Configuration                   *ecs.ClusterConfiguration
	CapacityProviders               []string
	DefaultCapacityProviderStrategy []ecs.CapacityProviderStrategy
	ServiceConnectDefaults          *ecs.ServiceConnectDefaults
}

// CreateCluster validates and creates a cluster; creating one that exists
// and is ACTIVE returns it as it is.
func (p *Plane) CreateCluster(ctx context.Context, sc ecs.Scope, in ClusterSpec) (*ecs.Cluster, error) {
	if err := ecs.ValidateClusterName(in.Name); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := ecs.ValidateSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := ecs.ValidateCapacityProviders(in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
		return nil, err
	}
	cl := ecs.NewCluster(sc, in.Name, p.now())
	if len(in.Settings) > 0 {
		cl.Settings = in.Settings
	}
	cl.Configuration = in.Configuration
	cl.CapacityProviders = in.CapacityProviders
	cl.DefaultCapacityProviderStrategy = in.DefaultCapacityProviderStrategy
	cl.ServiceConnectDefaults = in.ServiceConnectDefaults
	got, _, err := p.repo.CreateCluster(ctx, sc, cl, in.Tags)
	return got, err
}

// ClusterCounts returns the statistics of an ACTIVE cluster (zero for
// another).
func (p *Plane) ClusterCounts(ctx context.Context, sc ecs.Scope, cl *ecs.Cluster) (ClusterCounts, error) {
	if cl.Status != ecs.ClusterActive {
		return ClusterCounts{}, nil
	}
	return p.repo.Counts(ctx, sc, cl.Name)
}

// Tags returns the tags of a resource by ARN.
func (p *Plane) Tags(ctx context.Context, arn string) ([]ecs.Tag, error) {
	return p.repo.Tags(ctx, arn)
}

// Cluster returns a cluster by name or ARN, of any status.
func (p *Plane) Cluster(ctx context.Context, sc ecs.Scope, ref string) (*ecs.Cluster, error) {
	name, err := ecs.ClusterName(ref)
	if err != nil {
		return nil, err
	}
	return p.repo.Cluster(ctx, sc, name)
}

// Clusters returns the clusters of the scope, ordered by ARN.
func (p *Plane) Clusters(ctx context.Context, sc ecs.Scope) ([]*ecs.Cluster, error) {
	return p.repo.Clusters(ctx, sc)
}

// ClusterUpdate is a change to a cluster: settings merged by name, the
// configuration and Service Connect defaults replaced when set.
type ClusterUpdate struct {
	Settings               []ecs.ClusterSetting
	Configuration          *ecs.ClusterConfiguration
	ServiceConnectDefaults *ecs.ServiceConnectDefaults
}

// UpdateCluster applies u to cluster ref (a name or ARN).
func (p *Plane) UpdateCluster(ctx context.Context, sc ecs.Scope, ref string, u ClusterUpdate) (*ecs.Cluster, error) {
	name, err := requireCluster(ref)
	if err != nil {
		return nil, err
	}
	if err := ecs.ValidateSettings(u.Settings); err != nil {
		return nil, err
	}
	return p.repo.UpdateCluster(ctx, sc, name, func(cl *ecs.Cluster) error {
		cl.Settings = mergeSettings(cl.Settings, u.Settings)
		if u.Configuration != nil {
			cl.Configuration = u.Configuration
		}
		if u.ServiceConnectDefaults != nil {
			cl.ServiceConnectDefaults = u.ServiceConnectDefaults
		}
		return nil
	})
}

// PutClusterCapacityProviders replaces a cluster's capacity providers and
// default strategy (both required, possibly empty).
func (p *Plane) PutClusterCapacityProviders(ctx context.Context, sc ecs.Scope, ref string, providers []string, strategy []ecs.CapacityProviderStrategy) (*ecs.Cluster, error) {
	name, err := requireCluster(ref)
	if err != nil {
		return nil, err
	}
	if providers == nil {
		return nil, fault.New(fault.InvalidParameter, "capacityProviders is required.")
	}
	if strategy == nil {
		return nil, fault.New(fault.InvalidParameter, "defaultCapacityProviderStrategy is required.")
	}
	if err := ecs.ValidateCapacityProviders(providers, strategy); err != nil {
		return nil, err
	}
	return p.repo.UpdateCluster(ctx, sc, name, func(cl *ecs.Cluster) error {
		cl.CapacityProviders = providers
		cl.DefaultCapacityProviderStrategy = strategy
		return nil
	})
}

// DeleteCluster marks cluster ref INACTIVE, refusing while it has active
// services, tasks or registered instances.
func (p *Plane) DeleteCluster(ctx context.Context, sc ecs.Scope, ref string) (*ecs.Cluster, error) {
	name, err := requireCluster(ref)
	if err != nil {
		return nil, err
	}
	return p.repo.DeleteCluster(ctx, sc, name, func(cc ecsstore.ClusterCounts) error {
		switch {
		case cc.ActiveServices > 0:
			return fault.New(fault.InUse, "The Cluster cannot be deleted while Services are active.").WithCode("ClusterContainsServicesException")
		case cc.RunningTasks+cc.PendingTasks > 0:
			return fault.New(fault.InUse, "The Cluster cannot be deleted while Tasks are active.").WithCode("ClusterContainsTasksException")
		case cc.RegisteredContainerInstances > 0:
			return fault.New(fault.InUse, "The Cluster cannot be deleted while Container Instances are active or draining.").WithCode("ClusterContainsContainerInstancesException")
		}
		return nil
	})
}

func mergeSettings(cur, add []ecs.ClusterSetting) []ecs.ClusterSetting {
	out := slices.Clone(cur)
	for _, s := range add {
		i := slices.IndexFunc(out, func(o ecs.ClusterSetting) bool { return o.Name == s.Name })
		if i >= 0 {
			out[i] = s
		} else {
			out = append(out, s)
		}
	}
	return out
}

func requireCluster(ref string) (string, error) {
	if ref == "" {
		return "", fault.New(fault.InvalidParameter, "cluster is required.")
	}
	return ecs.ClusterName(ref)
}
