package ecscp

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// AttributeTargetInstance is the one attribute target type ECS knows: a
// container instance.
const AttributeTargetInstance = "container-instance"

// UpdateContainerInstancesState sets the status of up to ten instances of
// cluster (a name or ARN; instances ARNs or IDs) to ACTIVE or DRAINING. An
// instance not in the cluster, Fargate's managed capacity, or one neither
// ACTIVE nor DRAINING is a failure next to the instances changed; an
// instance already in status is returned unchanged. The instances come
// with their task counts.
func (p *Plane) UpdateContainerInstancesState(ctx context.Context, sc ecs.Scope, cluster string, instances []string, status string) ([]*ecs.ContainerInstance, []Failure, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, nil, err
	}
	if status != ecs.InstanceActive && status != ecs.InstanceDraining {
		return nil, nil, fault.New(fault.InvalidParameter, "Invalid status %q. Valid values: ACTIVE, DRAINING.", status)
	}
	if len(instances) == 0 || len(instances) > 10 {
		return nil, nil, fault.New(fault.InvalidParameter, "containerInstances must list between 1 and 10 container instances.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, nil, err
	}
	counts, err := p.instanceTaskCounts(ctx, sc, name)
	if err != nil {
		return nil, nil, err
	}
	var out []*ecs.ContainerInstance
	var failures []Failure
	for _, s := range instances {
		ref, err := ecs.ParseInstanceRef(s, name)
		if err != nil {
			return nil, nil, err
		}
		arn := sc.ContainerInstanceARN(ref.Cluster, ref.ID)
		if ref.Cluster != name {
			failures = append(failures, Failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		}
		if managed, err := p.repo.IsManaged(ctx, sc, ref); err == nil && managed {
			failures = append(failures, Failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		}
		ci, err := p.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
			if ci.Status == status {
				return ecsstore.ErrNoChange
			}
			if ci.Status != ecs.InstanceActive && ci.Status != ecs.InstanceDraining {
				return fault.New(fault.InvalidParameter, "Container instance %s is %s; only ACTIVE and DRAINING instances can change state.", ci.ID, ci.Status)
			}
			ci.Status = status
			ci.Version++
			return nil
		})
		if fault.Is(err, fault.NotFound) {
			failures = append(failures, Failure{ARN: arn, Reason: ecs.ReasonMissing})
			continue
		}
		if err != nil {
			if fe, ok := fault.As(err); ok && fe.Kind == fault.InvalidParameter {
				failures = append(failures, Failure{ARN: arn, Reason: ecs.ReasonInactive, Detail: fe.Msg})
				continue
			}
			return nil, nil, err
		}
		out = append(out, withCounts(ci, counts))
	}
	return out, failures, nil
}

// PutAttributes sets up to ten custom attributes on instances of cluster
// (a name or ARN) and returns them, each naming its instance by ARN.
func (p *Plane) PutAttributes(ctx context.Context, sc ecs.Scope, cluster string, attrs []ecs.Attribute) ([]ecs.Attribute, error) {
	return p.changeAttributes(ctx, sc, cluster, attrs, true)
}

// DeleteAttributes removes up to ten custom attributes from instances of
// cluster (a name or ARN) and returns them, each naming its instance by
// ARN.
func (p *Plane) DeleteAttributes(ctx context.Context, sc ecs.Scope, cluster string, attrs []ecs.Attribute) ([]ecs.Attribute, error) {
	return p.changeAttributes(ctx, sc, cluster, attrs, false)
}

// attributeTarget resolves an attribute's target to an instance reference.
func attributeTarget(a ecs.Attribute, cluster string) (ecs.InstanceRef, error) {
	if a.TargetType != "" && a.TargetType != AttributeTargetInstance {
		return ecs.InstanceRef{}, fault.New(fault.InvalidParameter, "Invalid targetType %q. Valid values: container-instance.", a.TargetType)
	}
	if a.TargetID == "" {
		return ecs.InstanceRef{}, fault.New(fault.InvalidParameter, "targetId is required for attribute %s.", a.Name)
	}
	return ecs.ParseInstanceRef(a.TargetID, cluster)
}

func (p *Plane) changeAttributes(ctx context.Context, sc ecs.Scope, cluster string, attrs []ecs.Attribute, put bool) ([]ecs.Attribute, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, err
	}
	if len(attrs) == 0 || len(attrs) > 10 {
		return nil, fault.New(fault.InvalidParameter, "attributes must list between 1 and 10 attributes.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	out := make([]ecs.Attribute, 0, len(attrs))
	for _, attr := range attrs {
		ref, err := attributeTarget(attr, name)
		if err != nil {
			return nil, err
		}
		if ref.Cluster != name {
			return nil, fault.New(fault.NotFound, "Could not find %s.", attr.TargetID).WithCode("TargetNotFoundException")
		}
		ci, err := p.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
			if put {
				return ci.PutAttributes([]ecs.Attribute{{Name: attr.Name, Value: attr.Value}})
			}
			ci.DeleteAttributes([]string{attr.Name})
			return nil
		})
		if fault.Is(err, fault.NotFound) {
			return nil, fault.New(fault.NotFound, "Could not find %s.", attr.TargetID).WithCode("TargetNotFoundException")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ecs.Attribute{Name: attr.Name, Value: attr.Value, TargetType: AttributeTargetInstance, TargetID: ci.ARN})
	}
	return out, nil
}

// AttributeFilter selects the attributes ListAttributes returns: of
// TargetType (which must be container-instance), named Name if set, of
// Value if set (Value requires Name).
type AttributeFilter struct {
	TargetType string
	Name       string
	Value      string
}

// ListAttributes returns the attributes of the instances of cluster (a
// name or ARN) that match f, ordered by instance ARN, then by name.
func (p *Plane) ListAttributes(ctx context.Context, sc ecs.Scope, cluster string, f AttributeFilter) ([]ecs.Attribute, error) {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return nil, err
	}
	if f.TargetType != AttributeTargetInstance {
		return nil, fault.New(fault.InvalidParameter, "Invalid targetType %q. Valid values: container-instance.", f.TargetType)
	}
	if f.Value != "" && f.Name == "" {
		return nil, fault.New(fault.InvalidParameter, "attributeValue requires attributeName.")
	}
	if _, err := p.repo.ActiveCluster(ctx, sc, name); err != nil {
		return nil, err
	}
	cis, err := p.repo.Instances(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	var all []ecs.Attribute
	for _, ci := range cis {
		for _, attr := range ci.Attributes {
			if f.Name != "" && attr.Name != f.Name {
				continue
			}
			if f.Value != "" && attr.Value != f.Value {
				continue
			}
			all = append(all, ecs.Attribute{Name: attr.Name, Value: attr.Value, TargetType: AttributeTargetInstance, TargetID: ci.ARN})
		}
	}
	// Instances come in ID order and attributes by name, which is usually
	// the order of ARN then name already; the stable sort keeps it so.
	slices.SortStableFunc(all, func(x, y ecs.Attribute) int {
		return strings.Compare(AttributeKey(x), AttributeKey(y))
	})
	return all, nil
}

// AttributeKey is the key ListAttributes orders an attribute by, unique
// within a cluster: its instance's ARN and its name.
func AttributeKey(a ecs.Attribute) string { return a.TargetID + "\x00" + a.Name }
