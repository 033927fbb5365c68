package ecscp

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// MissingResourceError is the error of a tag operation on a resource that
// does not exist. The API answers it with the exception each operation's
// model declares, hence a type of its own.
type MissingResourceError struct {
	Kind string // cluster, task-definition, task or container-instance
	ARN  string
	Err  error // the store's NotFound
}

func (e *MissingResourceError) Error() string { return "resource " + e.ARN + " not found" }
func (e *MissingResourceError) Unwrap() error { return e.Err }

// TagResource merges tags into those of the resource arn (a cluster, task
// definition revision, task, container instance, service or task set of
// the scope).
func (p *Plane) TagResource(ctx context.Context, sc ecs.Scope, arn string, tags []ecs.Tag) error {
	if _, _, _, ok := taskSetTagRef(arn); ok { // a task set's tags are in its service's record
		if len(tags) == 0 {
			return fault.New(fault.InvalidParameter, "tags must not be empty.")
		}
		_, err := p.taskSetTags(ctx, sc, arn, func(cur []ecs.Tag) ([]ecs.Tag, error) {
			next := ecs.MergeTags(cur, tags)
			return next, ecs.ValidateTags(next)
		})
		return err
	}
	if err := p.checkTaggable(ctx, sc, arn); err != nil {
		return err
	}
	if len(tags) == 0 {
		return fault.New(fault.InvalidParameter, "tags must not be empty.")
	}
	if err := ecs.ValidateTags(tags); err != nil {
		return err
	}
	return p.repo.UpdateTags(ctx, arn, func(cur []ecs.Tag) ([]ecs.Tag, error) {
		next := ecs.MergeTags(cur, tags)
		return next, ecs.ValidateTags(next)
	})
}

// UntagResource removes the tags with keys from the resource arn.
func (p *Plane) UntagResource(ctx context.Context, sc ecs.Scope, arn string, keys []string) error {
	if _, _, _, ok := taskSetTagRef(arn); ok {
		if err := ecs.ValidateTagKeys(keys); err != nil {
			return err
		}
		_, err := p.taskSetTags(ctx, sc, arn, func(cur []ecs.Tag) ([]ecs.Tag, error) { return ecs.RemoveTags(cur, keys), nil })
		return err
	}
	if err := p.checkTaggable(ctx, sc, arn); err != nil {
		return err
	}
	if err := ecs.ValidateTagKeys(keys); err != nil {
		return err
	}
	return p.repo.UpdateTags(ctx, arn, func(cur []ecs.Tag) ([]ecs.Tag, error) {
		return ecs.RemoveTags(cur, keys), nil
	})
}

// ResourceTags returns the tags of the resource arn, which must exist.
func (p *Plane) ResourceTags(ctx context.Context, sc ecs.Scope, arn string) ([]ecs.Tag, error) {
	if _, _, _, ok := taskSetTagRef(arn); ok {
		return p.taskSetTags(ctx, sc, arn, nil)
	}
	if err := p.checkTaggable(ctx, sc, arn); err != nil {
		return nil, err
	}
	return p.repo.Tags(ctx, arn)
}

// checkTaggable verifies that arn names an existing ECS resource of this
// account and region; a missing one is a *MissingResourceError.
func (p *Plane) checkTaggable(ctx context.Context, sc ecs.Scope, arn string) error {
	pa, ok := ecs.ParseARN(arn)
	if !ok || pa.Service != "ecs" {
		return fault.New(fault.InvalidParameter, "The ARN %q is not a valid ECS resource ARN.", arn)
	}
	if pa.Account != sc.Account || pa.Region != sc.Region {
		return fault.New(fault.InvalidParameter, "The resource %s is not in this account and region (%s, %s).", arn, sc.Account, sc.Region)
	}
	kind, rest, _ := strings.Cut(pa.Resource, "/")
	var err error
	switch kind {
	case "cluster":
		_, err = p.repo.ActiveCluster(ctx, sc, rest)
	case "task-definition":
		var ref ecs.TaskDefinitionRef
		if ref, err = ecs.ParseTaskDefinitionRef(arn); err == nil {
			if ref.Revision == 0 {
				return fault.New(fault.InvalidParameter, "The task definition ARN %q must include a revision.", arn)
			}
			_, err = p.repo.TaskDefinition(ctx, sc, ref)
		}
	case "task", "container-instance":
		err = p.checkTaskOrInstance(ctx, sc, kind, rest)
	case "service":
		err = p.checkService(ctx, sc, rest)
	default:
		return fault.New(fault.InvalidParameter, "Tagging resources of type %q is not supported yet.", kind)
	}
	if fault.Is(err, fault.NotFound) {
		return &MissingResourceError{Kind: kind, ARN: arn, Err: err}
	}
	return err
}

// checkTaskOrInstance verifies that a task or container instance exists;
// rest is "<cluster>/<id>".
func (p *Plane) checkTaskOrInstance(ctx context.Context, sc ecs.Scope, kind, rest string) error {
	cluster, id, ok := strings.Cut(rest, "/")
	if !ok || cluster == "" || id == "" {
		return fault.New(fault.InvalidParameter, "The %s ARN must be in the long format (%s/<cluster>/<id>).", kind, kind)
	}
	if kind == "task" {
		_, err := p.repo.Task(ctx, sc, cluster, id)
		return err
	}
	managed, err := p.repo.IsManaged(ctx, sc, ecs.InstanceRef{Cluster: cluster, ID: id})
	if err == nil && managed {
		return fault.NotFoundf("resource", "not found")
	}
	return err
}

// AsMissingResource returns err's *MissingResourceError, if any.
func AsMissingResource(err error) (*MissingResourceError, bool) {
	var m *MissingResourceError
	ok := errors.As(err, &m)
	return m, ok
}
