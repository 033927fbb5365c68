package ecsapi

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// The capacity providers every account has: FARGATE and FARGATE_SPOT, both
// run by berth's managed capacity. Auto Scaling group providers need EC2
// Auto Scaling, which berth does not have; CreateCapacityProvider is not
// offered.

type describeCapacityProvidersIn struct {
	CapacityProviders []string `json:"capacityProviders"`
	Include           []string `json:"include"`
	MaxResults        *int     `json:"maxResults"`
	NextToken         string   `json:"nextToken"`
}

type capacityProviderOut struct {
	CapacityProviderARN string    `json:"capacityProviderArn"`
	Name                string    `json:"name"`
	Status              string    `json:"status"`
	Type                string    `json:"type"`
	Tags                []ecs.Tag `json:"tags,omitempty"`
}

type describeCapacityProvidersOut struct {
	CapacityProviders []capacityProviderOut `json:"capacityProviders"`
	Failures          []failure             `json:"failures"`
	NextToken         string                `json:"nextToken,omitempty"`
}

var builtinCapacityProviders = []string{ecs.CapacityFargate, ecs.CapacityFargateSpot}

func (a *API) describeCapacityProviders(ctx context.Context, c *awsproto.Call, in *describeCapacityProvidersIn) (any, error) {
	sc := a.scope(c)
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
	}
	if len(in.CapacityProviders) > 100 {
		return nil, fault.New(fault.InvalidParameter, "At most 100 capacity providers can be described at once.")
	}
	out := &describeCapacityProvidersOut{CapacityProviders: []capacityProviderOut{}, Failures: []failure{}}
	names := builtinCapacityProviders
	if len(in.CapacityProviders) > 0 {
		names = nil
		for _, ref := range in.CapacityProviders {
			name := ref
			if p, ok := ecs.ParseARN(ref); ok {
				rest, found := strings.CutPrefix(p.Resource, "capacity-provider/")
				if !found {
					return nil, fault.New(fault.InvalidParameter, "Invalid capacity provider identifier %q: not a capacity provider ARN.", ref)
				}
				name = rest
			}
			if name != ecs.CapacityFargate && name != ecs.CapacityFargateSpot {
				out.Failures = append(out.Failures, failure{ARN: sc.ARN("capacity-provider/" + name), Reason: "MISSING"})
				continue
			}
			names = append(names, name)
		}
	} else {
		// Listing every provider pages, 10 per page by default.
		page, next, err := paginate(names, in.NextToken, in.MaxResults, 10, 10)
		if err != nil {
			return nil, err
		}
		names, out.NextToken = page, next
	}
	for _, name := range names {
		cp := capacityProviderOut{CapacityProviderARN: sc.ARN("capacity-provider/" + name), Name: name, Status: "ACTIVE", Type: name}
		if len(in.Include) > 0 {
			cp.Tags = []ecs.Tag{}
		}
		out.CapacityProviders = append(out.CapacityProviders, cp)
	}
	return out, nil
}
