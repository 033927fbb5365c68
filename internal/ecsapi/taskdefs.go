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
	sc := a.scope(c)
	td := in.TaskDefinition
	td.Revision, td.ARN, td.Status, td.Compatibilities, td.RequiresAttributes = 0, "", "", nil, nil
	td.RegisteredBy = ""
	if err := ecs.PrepareTaskDefinition(&td); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	now := a.now()
	principal := "arn:aws:iam::" + sc.Account + ":root"
	err := a.repo.RegisterTaskDefinition(ctx, sc, &td, in.Tags, func(rev int) {
		ecs.NewRevision(sc, &td, rev, principal, now)
	})
	if err != nil {
		return nil, err
	}
	return &taskDefinitionResult{TaskDefinition: toTaskDefinitionOut(&td), Tags: nonNil(in.Tags)}, nil
}

type describeTaskDefinitionIn struct {
	TaskDefinition string   `json:"taskDefinition"`
	Include        []string `json:"include"`
}

func (a *API) describeTaskDefinition(ctx context.Context, c *awsproto.Call, in *describeTaskDefinitionIn) (any, error) {
	sc := a.scope(c)
	td, err := a.lookupTaskDefinition(ctx, sc, in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	out := &taskDefinitionResult{TaskDefinition: toTaskDefinitionOut(td)}
	for _, i := range in.Include {
		if i != "TAGS" {
			return nil, fault.New(fault.InvalidParameter, "Invalid include value %q. Valid values: TAGS.", i)
		}
		if out.Tags, err = a.repo.Tags(ctx, td.ARN); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (a *API) lookupTaskDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error) {
	if ref == "" {
		return nil, fault.New(fault.InvalidParameter, "taskDefinition is required.")
	}
	r, err := ecs.ParseTaskDefinitionRef(ref)
	if err != nil {
		return nil, err
	}
	return a.repo.TaskDefinition(ctx, sc, r)
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

func statusFilter(s string, allowAll bool) (string, error) {
	switch s {
	case "":
		return ecs.TaskDefActive, nil
	case ecs.TaskDefActive, ecs.TaskDefInactive:
		return s, nil
	case ecs.TaskDefDeleteProgress:
		if !allowAll {
			return s, nil
		}
	case "ALL":
		if allowAll {
			return "", nil
		}
	}
	valid := "ACTIVE, INACTIVE, DELETE_IN_PROGRESS"
	if allowAll {
		valid = "ACTIVE, INACTIVE, ALL"
	}
	return "", fault.New(fault.InvalidParameter, "Invalid status %q. Valid values: %s.", s, valid)
}

func (a *API) listTaskDefinitions(ctx context.Context, c *awsproto.Call, in *listTaskDefinitionsIn) (any, error) {
	sc := a.scope(c)
	status, err := statusFilter(in.Status, false)
	if err != nil {
		return nil, err
	}
	if in.Sort != "" && in.Sort != "ASC" && in.Sort != "DESC" {
		return nil, fault.New(fault.InvalidParameter, "Invalid sort %q. Valid values: ASC, DESC.", in.Sort)
	}
	arns, err := a.repo.TaskDefinitionARNs(ctx, sc, in.FamilyPrefix, status, in.Sort == "DESC")
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
	sc := a.scope(c)
	status, err := statusFilter(in.Status, true)
	if err != nil {
		return nil, err
	}
	fams, err := a.repo.Families(ctx, sc, in.FamilyPrefix, status)
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
	sc := a.scope(c)
	ref, err := ecs.ParseTaskDefinitionRef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if ref.Revision == 0 {
		return nil, fault.New(fault.Invalid, "Invalid revision number. A revision is required to deregister a task definition (family:revision or full ARN).")
	}
	td, err := a.repo.DeregisterTaskDefinition(ctx, sc, ref.Family, ref.Revision, a.now())
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
	sc := a.scope(c)
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, fault.New(fault.InvalidParameter, "taskDefinitions must list between 1 and 10 task definitions.")
	}
	out := &deleteTaskDefinitionsOut{TaskDefinitions: []*taskDefinitionOut{}, Failures: []failure{}}
	for _, s := range in.TaskDefinitions {
		ref, err := ecs.ParseTaskDefinitionRef(s)
		if err != nil || ref.Revision == 0 {
			out.Failures = append(out.Failures, failure{ARN: s, Reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."})
			continue
		}
		td, err := a.repo.UpdateTaskDefinition(ctx, sc, ref.Family, ref.Revision, func(td *ecs.TaskDefinition) error {
			if td.Status == ecs.TaskDefActive {
				return fault.New(fault.Invalid, "The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
			}
			td.Status = ecs.TaskDefDeleteProgress
			return nil
		})
		if err != nil {
			if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
				reason := fe.Msg
				if fe.Kind == fault.NotFound {
					reason = "The specified task definition does not exist. Specify a valid account, family, revision and try again."
				}
				out.Failures = append(out.Failures, failure{ARN: sc.TaskDefinitionARN(ref.Family, ref.Revision), Reason: reason})
				continue
			}
			return nil, err
		}
		out.TaskDefinitions = append(out.TaskDefinitions, toTaskDefinitionOut(td))
	}
	return out, nil
}
