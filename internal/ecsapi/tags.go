package ecsapi

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
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

// checkTaggable verifies that arn names an existing ECS resource of this
// account and region. A missing resource is the error missing returns for
// the resource's kind: each operation answers with an exception its AWS
// model declares.
func (a *API) checkTaggable(ctx context.Context, sc ecs.Scope, arn string, missing func(kind, arn string) error) error {
	p, ok := ecs.ParseARN(arn)
	if !ok || p.Service != "ecs" {
		return fault.New(fault.InvalidParameter, "The ARN %q is not a valid ECS resource ARN.", arn)
	}
	if p.Account != sc.Account || p.Region != sc.Region {
		return fault.New(fault.InvalidParameter, "The resource %s is not in this account and region (%s, %s).", arn, sc.Account, sc.Region)
	}
	kind, rest, _ := strings.Cut(p.Resource, "/")
	var err error
	switch kind {
	case "cluster":
		_, err = a.repo.ActiveCluster(ctx, sc, rest)
	case "task-definition":
		var ref ecs.TaskDefinitionRef
		if ref, err = ecs.ParseTaskDefinitionRef(arn); err == nil {
			if ref.Revision == 0 {
				return fault.New(fault.InvalidParameter, "The task definition ARN %q must include a revision.", arn)
			}
			_, err = a.repo.TaskDefinition(ctx, sc, ref)
		}
	case "task", "container-instance":
		err = a.checkTaskOrInstance(ctx, sc, kind, rest)
	default:
		return fault.New(fault.InvalidParameter, "Tagging resources of type %q is not supported yet.", kind)
	}
	if fault.Is(err, fault.NotFound) {
		return missing(kind, arn)
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
	sc := a.scope(c)
	if err := a.checkTaggable(ctx, sc, in.ResourceARN, resourceNotFound); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, fault.New(fault.InvalidParameter, "tags must not be empty.")
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	err := a.repo.UpdateTags(ctx, in.ResourceARN, func(cur []ecs.Tag) ([]ecs.Tag, error) {
		next := ecs.MergeTags(cur, in.Tags)
		return next, ecs.ValidateTags(next)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (a *API) untagResource(ctx context.Context, c *awsproto.Call, in *untagResourceIn) (any, error) {
	sc := a.scope(c)
	if err := a.checkTaggable(ctx, sc, in.ResourceARN, resourceNotFound); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTagKeys(in.TagKeys); err != nil {
		return nil, err
	}
	err := a.repo.UpdateTags(ctx, in.ResourceARN, func(cur []ecs.Tag) ([]ecs.Tag, error) {
		return ecs.RemoveTags(cur, in.TagKeys), nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *awsproto.Call, in *resourceIn) (any, error) {
	sc := a.scope(c)
	if err := a.checkTaggable(ctx, sc, in.ResourceARN, listTagsNotFound); err != nil {
		return nil, err
	}
	tags, err := a.repo.Tags(ctx, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return &tagsOut{Tags: tags}, nil
}
