package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

type tagResourceIn struct {
	ResourceARN string    `json:"resourceArn"`
	Tags        []ecs.Tag `json:"tags"`
}

type untagResourceIn struct {
	ResourceARN string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

type resourceIn struct {
	ResourceARN string `json:"resourceArn"`
}

type tagsOut struct {
	Tags []ecs.Tag `json:"tags"`
}

// missingAs maps the plane's missing resource to the exception an
// operation's model declares (missing), leaving other errors as they are.
func missingAs(err error, missing func(kind, arn string) error) error {
	if m, ok := ecscp.AsMissingResource(err); ok {
		return missing(m.Kind, m.ARN)
	}
	return err
}

// resourceNotFound is TagResource's and UntagResource's missing resource:
// ResourceNotFoundException.
func resourceNotFound(_, arn string) error {
	return fault.NotFoundf("resource", "The specified resource %s was not found.", arn)
}

// listTagsNotFound is ListTagsForResource's missing resource: its model
// declares ClusterNotFoundException and InvalidParameterException but not
// ResourceNotFoundException.
func listTagsNotFound(kind, arn string) error {
	if kind == "cluster" {
		return fault.NotFoundf("cluster", "Cluster not found.")
	}
	return fault.New(fault.InvalidParameter, "The specified resource %s was not found.", arn)
}

func (a *API) tagResource(ctx context.Context, c *awsproto.Call, in *tagResourceIn) (any, error) {
	if err := a.plane.TagResource(ctx, a.scope(c), in.ResourceARN, in.Tags); err != nil {
		return nil, missingAs(err, resourceNotFound)
	}
	return struct{}{}, nil
}

func (a *API) untagResource(ctx context.Context, c *awsproto.Call, in *untagResourceIn) (any, error) {
	if err := a.plane.UntagResource(ctx, a.scope(c), in.ResourceARN, in.TagKeys); err != nil {
		return nil, missingAs(err, resourceNotFound)
	}
	return struct{}{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *awsproto.Call, in *resourceIn) (any, error) {
	tags, err := a.plane.ResourceTags(ctx, a.scope(c), in.ResourceARN)
	if err != nil {
		return nil, missingAs(err, listTagsNotFound)
	}
	return &tagsOut{Tags: tags}, nil
}
