package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// RegisterTaskDefinition validates td and registers it as the next
// revision of its family, with tags; the fields a caller cannot set
// (revision, ARN, status, compatibilities, requiresAttributes,
// registeredBy) are reset first. It returns the registered revision.
func (p *Plane) RegisterTaskDefinition(ctx context.Context, sc ecs.Scope, td ecs.TaskDefinition, tags []ecs.Tag) (*ecs.TaskDefinition, error) {
	td.Revision, td.ARN, td.Status, td.Compatibilities, td.RequiresAttributes = 0, "", "", nil, nil
	td.RegisteredBy = ""
	if err := ecs.PrepareTaskDefinition(&td); err != nil {
		return nil, err
	}
	if err := ecs.ValidateTags(tags); err != nil {
		return nil, err
	}
	now := p.now()
	principal := "arn:aws:iam::" + sc.Account + ":root"
	err := p.repo.RegisterTaskDefinition(ctx, sc, &td, tags, func(rev int) {
		ecs.NewRevision(sc, &td, rev, principal, now)
	})
	if err != nil {
		return nil, err
	}
	return &td, nil
}

// TaskDefinitionStatus parses the status filter of ListTaskDefinitions
// (allowAll false: empty means ACTIVE; DELETE_IN_PROGRESS allowed) or of
// ListTaskDefinitionFamilies (allowAll true: ALL means any, returned as
// "").
func TaskDefinitionStatus(s string, allowAll bool) (string, error) {
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

// ListTaskDefinitions returns the ARNs of the task definitions whose
// family starts with prefix, of status (as TaskDefinitionStatus reads it),
// ordered by family and revision, descending when sort is DESC.
func (p *Plane) ListTaskDefinitions(ctx context.Context, sc ecs.Scope, prefix, status, sort string) ([]string, error) {
	st, err := TaskDefinitionStatus(status, false)
	if err != nil {
		return nil, err
	}
	if sort != "" && sort != "ASC" && sort != "DESC" {
		return nil, fault.New(fault.InvalidParameter, "Invalid sort %q. Valid values: ASC, DESC.", sort)
	}
	return p.repo.TaskDefinitionARNs(ctx, sc, prefix, st, sort == "DESC")
}

// ListTaskDefinitionFamilies returns the families starting with prefix
// that have a revision of status (ACTIVE, INACTIVE or ALL; empty means
// ACTIVE).
func (p *Plane) ListTaskDefinitionFamilies(ctx context.Context, sc ecs.Scope, prefix, status string) ([]string, error) {
	st, err := TaskDefinitionStatus(status, true)
	if err != nil {
		return nil, err
	}
	return p.repo.Families(ctx, sc, prefix, st)
}

// DeregisterTaskDefinition marks a revision (family:revision or ARN)
// INACTIVE.
func (p *Plane) DeregisterTaskDefinition(ctx context.Context, sc ecs.Scope, ref string) (*ecs.TaskDefinition, error) {
	r, err := ecs.ParseTaskDefinitionRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Revision == 0 {
		return nil, fault.New(fault.Invalid, "Invalid revision number. A revision is required to deregister a task definition (family:revision or full ARN).")
	}
	return p.repo.DeregisterTaskDefinition(ctx, sc, r.Family, r.Revision, p.now())
}

// DeleteTaskDefinitions marks up to ten INACTIVE revisions
// DELETE_IN_PROGRESS; an invalid reference, a missing revision or one
// still ACTIVE is a failure next to the revisions marked.
func (p *Plane) DeleteTaskDefinitions(ctx context.Context, sc ecs.Scope, refs []string) ([]*ecs.TaskDefinition, []Failure, error) {
	if len(refs) == 0 || len(refs) > 10 {
		return nil, nil, fault.New(fault.InvalidParameter, "taskDefinitions must list between 1 and 10 task definitions.")
	}
	var out []*ecs.TaskDefinition
	var failures []Failure
	for _, s := range refs {
		ref, err := ecs.ParseTaskDefinitionRef(s)
		if err != nil || ref.Revision == 0 {
			failures = append(failures, Failure{ARN: s, Reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."})
			continue
		}
		td, err := p.repo.UpdateTaskDefinition(ctx, sc, ref.Family, ref.Revision, func(td *ecs.TaskDefinition) error {
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
				failures = append(failures, Failure{ARN: sc.TaskDefinitionARN(ref.Family, ref.Revision), Reason: reason})
				continue
			}
			return nil, nil, err
		}
		out = append(out, td)
	}
	return out, failures, nil
}
