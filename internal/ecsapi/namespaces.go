package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
)

type listServicesByNamespaceIn struct {
	Namespace  string `json:"namespace"`
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

func (a *API) listServicesByNamespace(ctx context.Context, c *awsproto.Call, in *listServicesByNamespaceIn) (any, error) {
	arns, err := a.plane.ListServicesByNamespace(ctx, a.scope(c), in.Namespace)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	return &listServicesOut{ServiceARNs: nonNil(page), NextToken: next}, nil
}
