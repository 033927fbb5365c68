package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// registerTaskDefinitionIn is RegisterTaskDefinition's input: the domain
// document plus tags. Fields a caller cannot set (revision, status, ...) are
// reset before validation.
type registerTaskDefinitionIn struct {
	ecs.TaskDefinition
	Tags []ecs.Tag `json:"tags"`
}

type taskDefinitionResult struct {
	TaskDefinition *taskDefinitionOut `json:"taskDefinition"`
	Tags           []ecs.Tag          `json:"tags,omitempty"`
}

func (a *API) registerTaskDefinition(ctx context.Context, c *awsproto.Call, in *registerTaskDefinitionIn) (any, error) {
	td, err := a.plane.RegisterTaskDefinition(ctx, a.scope(c), in.TaskDefinition, in.Tags)
	if err != nil {
		return nil, err
	}
	return &taskDefinitionResult{TaskDefinition: toTaskDefinitionOut(td), Tags: nonNil(in.Tags)}, nil
}

type describeTaskDefinitionIn struct {
	TaskDefinition string   `json:"taskDefinition"`
	Include        []string `json:"include"`
}

func (a *API) describeTaskDefinition(ctx context.Context, c *awsproto.Call, in *describeTaskDefinitionIn) (any, error) {
	sc := a.scope(c)
	td, err := a.plane.LookupTaskDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	out := &taskDefinitionResult{TaskDefinition: toTaskDefinitionOut(td)}
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		if out.Tags, err = a.plane.Tags(ctx, td.ARN); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type listTaskDefinitionsIn struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	Sort         string `json:"sort"`
	NextToken    string `json:"nextToken"`
	MaxResults   *int   `json:"maxResults"`
}

type listTaskDefinitionsOut struct {
	TaskDefinitionARNs []string `json:"taskDefinitionArns"`
	NextToken          string   `json:"nextToken,omitempty"`
}

func (a *API) listTaskDefinitions(ctx context.Context, c *awsproto.Call, in *listTaskDefinitionsIn) (any, error) {
	arns, err := a.plane.ListTaskDefinitions(ctx, a.scope(c), in.FamilyPrefix, in.Status, in.Sort)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listTaskDefinitionsOut{TaskDefinitionARNs: page, NextToken: next}, nil
}

type listFamiliesIn struct {
	FamilyPrefix string `json:"familyPrefix"`
	Status       string `json:"status"`
	NextToken    string `json:"nextToken"`
	MaxResults   *int   `json:"maxResults"`
}

type listFamiliesOut struct {
	Families  []string `json:"families"`
	NextToken string   `json:"nextToken,omitempty"`
}

func (a *API) listTaskDefinitionFamilies(ctx context.Context, c *awsproto.Call, in *listFamiliesIn) (any, error) {
	fams, err := a.plane.ListTaskDefinitionFamilies(ctx, a.scope(c), in.FamilyPrefix, in.Status)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(fams, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return &listFamiliesOut{Families: page, NextToken: next}, nil
}

type taskDefinitionRefIn struct {
	TaskDefinition string `json:"taskDefinition"`
}

func (a *API) deregisterTaskDefinition(ctx context.Context, c *awsproto.Call, in *taskDefinitionRefIn) (any, error) {
	td, err := a.plane.DeregisterTaskDefinition(ctx, a.scope(c), in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	return &taskDefinitionResult{TaskDefinition: toTaskDefinitionOut(td)}, nil
}

type deleteTaskDefinitionsIn struct {
	TaskDefinitions []string `json:"taskDefinitions"`
}

type deleteTaskDefinitionsOut struct {
	TaskDefinitions []*taskDefinitionOut `json:"taskDefinitions"`
	Failures        []failure            `json:"failures"`
}

func (a *API) deleteTaskDefinitions(ctx context.Context, c *awsproto.Call, in *deleteTaskDefinitionsIn) (any, error) {
	tds, failures, err := a.plane.DeleteTaskDefinitions(ctx, a.scope(c), in.TaskDefinitions)
	if err != nil {
		return nil, err
	}
	out := &deleteTaskDefinitionsOut{TaskDefinitions: make([]*taskDefinitionOut, 0, len(tds)), Failures: toFailures(failures)}
	for _, td := range tds {
		out.TaskDefinitions = append(out.TaskDefinitions, toTaskDefinitionOut(td))
	}
	return out, nil
}
