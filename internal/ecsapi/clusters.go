package ecsapi

import (
	"context"
	"encoding/json"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

type createClusterIn struct {
	// ClusterName is "default" when absent (nameGiven false); given, even
	// empty, it must be a valid name.
	ClusterName                     string                         `json:"clusterName"`
	Tags                            []ecs.Tag                      `json:"tags"`
	Settings                        []ecs.ClusterSetting           `json:"settings"`
	Configuration                   *ecs.ClusterConfiguration      `json:"configuration"`
	CapacityProviders               []string                       `json:"capacityProviders"`
	DefaultCapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"defaultCapacityProviderStrategy"`
	ServiceConnectDefaults          *ecs.ServiceConnectDefaults    `json:"serviceConnectDefaults"`
	nameGiven                       bool
}

// UnmarshalJSON decodes the input and notes whether clusterName was given.
func (in *createClusterIn) UnmarshalJSON(b []byte) error {
	type plain createClusterIn
	if err := json.Unmarshal(b, (*plain)(in)); err != nil {
		return err
	}
	var given struct {
		ClusterName *string `json:"clusterName"`
	}
	_ = json.Unmarshal(b, &given)
	in.nameGiven = given.ClusterName != nil
	return nil
}

type clusterResult struct {
	Cluster *clusterOut `json:"cluster"`
}

var allIncludes = clusterIncludes{configurations: true, settings: true, tags: true}

func (a *API) createCluster(ctx context.Context, c *awsproto.Call, in *createClusterIn) (any, error) {
	sc := a.scope(c)
	name := in.ClusterName
	if name == "" && !in.nameGiven {
		name = "default"
	}
	got, err := a.plane.CreateCluster(ctx, sc, ecscp.ClusterSpec{
		Name: name, Tags: in.Tags, Settings: in.Settings, Configuration: in.Configuration,
		CapacityProviders: in.CapacityProviders, DefaultCapacityProviderStrategy: in.DefaultCapacityProviderStrategy,
		ServiceConnectDefaults: in.ServiceConnectDefaults,
	})
	if err != nil {
		return nil, err
	}
	return a.clusterResult(ctx, sc, got, allIncludes)
}

func (a *API) clusterResult(ctx context.Context, sc ecs.Scope, cl *ecs.Cluster, inc clusterIncludes) (*clusterResult, error) {
	out, err := a.describeCluster(ctx, sc, cl, inc)
	if err != nil {
		return nil, err
	}
	return &clusterResult{Cluster: out}, nil
}

func (a *API) describeCluster(ctx context.Context, sc ecs.Scope, cl *ecs.Cluster, inc clusterIncludes) (*clusterOut, error) {
	cc, err := a.plane.ClusterCounts(ctx, sc, cl)
	if err != nil {
		return nil, err
	}
	var tags []ecs.Tag
	if inc.tags {
		if tags, err = a.plane.Tags(ctx, cl.ARN); err != nil {
			return nil, err
		}
	}
	return toClusterOut(cl, cc, tags, inc), nil
}

type describeClustersIn struct {
	Clusters []string `json:"clusters"`
	Include  []string `json:"include"`
}

type describeClustersOut struct {
	Clusters []*clusterOut `json:"clusters"`
	Failures []failure     `json:"failures"`
}

func (a *API) describeClusters(ctx context.Context, c *awsproto.Call, in *describeClustersIn) (any, error) {
	sc := a.scope(c)
	var inc clusterIncludes
	for _, i := range in.Include {
		switch i {
		case "CONFIGURATIONS":
			inc.configurations = true
		case "SETTINGS":
			inc.settings = true
		case "STATISTICS":
			inc.statistics = true
		case "TAGS":
			inc.tags = true
		case "ATTACHMENTS":
		default:
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS.", i)
		}
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	if len(refs) > 100 {
		return nil, fault.New(fault.InvalidParameter, "At most 100 clusters can be described at once.")
	}
	out := &describeClustersOut{Clusters: []*clusterOut{}, Failures: []failure{}}
	for _, ref := range refs {
		name, err := ecs.ClusterName(ref)
		if err != nil {
			return nil, err
		}
		cl, err := a.plane.Cluster(ctx, sc, name)
		if fault.Is(err, fault.NotFound) {
			out.Failures = append(out.Failures, failure{ARN: sc.ClusterARN(name), Reason: "MISSING"})
			continue
		}
		if err != nil {
			return nil, err
		}
		co, err := a.describeCluster(ctx, sc, cl, inc)
		if err != nil {
			return nil, err
		}
		out.Clusters = append(out.Clusters, co)
	}
	return out, nil
}

type listIn struct {
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

type listClustersOut struct {
	ClusterARNs []string `json:"clusterArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

func (a *API) listClusters(ctx context.Context, c *awsproto.Call, in *listIn) (any, error) {
	sc := a.scope(c)
	cls, err := a.plane.Clusters(ctx, sc)
	if err != nil {
		return nil, err
	}
	arns := make([]string, len(cls))
	for i, cl := range cls {
		arns[i] = cl.ARN
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listClustersOut{ClusterARNs: page, NextToken: next}, nil
}

type updateClusterIn struct {
	Cluster                string                      `json:"cluster"`
	Settings               []ecs.ClusterSetting        `json:"settings"`
	Configuration          *ecs.ClusterConfiguration   `json:"configuration"`
	ServiceConnectDefaults *ecs.ServiceConnectDefaults `json:"serviceConnectDefaults"`
}

func (a *API) updateCluster(ctx context.Context, c *awsproto.Call, in *updateClusterIn) (any, error) {
	sc := a.scope(c)
	cl, err := a.plane.UpdateCluster(ctx, sc, in.Cluster, ecscp.ClusterUpdate{
		Settings: in.Settings, Configuration: in.Configuration, ServiceConnectDefaults: in.ServiceConnectDefaults,
	})
	if err != nil {
		return nil, err
	}
	return a.clusterResult(ctx, sc, cl, allIncludes)
}

type updateClusterSettingsIn struct {
	Cluster  string               `json:"cluster"`
	Settings []ecs.ClusterSetting `json:"settings"`
}

func (a *API) updateClusterSettings(ctx context.Context, c *awsproto.Call, in *updateClusterSettingsIn) (any, error) {
	if len(in.Settings) == 0 {
		return nil, fault.New(fault.InvalidParameter, "settings is required.")
	}
	return a.updateCluster(ctx, c, &updateClusterIn{Cluster: in.Cluster, Settings: in.Settings})
}

type clusterRefIn struct {
	Cluster string `json:"cluster"`
}

func (a *API) deleteCluster(ctx context.Context, c *awsproto.Call, in *clusterRefIn) (any, error) {
	sc := a.scope(c)
	cl, err := a.plane.DeleteCluster(ctx, sc, in.Cluster)
	if err != nil {
		return nil, err
	}
	return a.clusterResult(ctx, sc, cl, allIncludes)
}

type putCapacityProvidersIn struct {
	Cluster                         string                         `json:"cluster"`
	CapacityProviders               []string                       `json:"capacityProviders"`
	DefaultCapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"defaultCapacityProviderStrategy"`
}

func (a *API) putClusterCapacityProviders(ctx context.Context, c *awsproto.Call, in *putCapacityProvidersIn) (any, error) {
	sc := a.scope(c)
	cl, err := a.plane.PutClusterCapacityProviders(ctx, sc, in.Cluster, in.CapacityProviders, in.DefaultCapacityProviderStrategy)
	if err != nil {
		return nil, err
	}
	return a.clusterResult(ctx, sc, cl, allIncludes)
}
