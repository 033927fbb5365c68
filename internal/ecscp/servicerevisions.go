package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// ServiceRevisionView is one service revision: the deployment history
// entry that deployed it, its service, and its task definition (nil when
// it has been deleted since).
type ServiceRevisionView struct {
	Service        *ecs.Service
	Deployment     ecs.ServiceDeployment
	TaskDefinition *ecs.TaskDefinition
}

// DescribeServiceRevisions returns the service revisions arns name (1 to
// 20; berth names a revision by the deployment that introduced it, as
// ListServiceDeployments's targetServiceRevisionArn shows); missing ones
// are failures with reason MISSING.
func (p *Plane) DescribeServiceRevisions(ctx context.Context, sc ecs.Scope, arns []string) ([]ServiceRevisionView, []Failure, error) {
	if len(arns) == 0 || len(arns) > 20 {
		return nil, nil, fault.New(fault.InvalidParameter, "serviceRevisionArns must have between 1 and 20 items.")
	}
	var out []ServiceRevisionView
	failures, err := p.describeHistory(ctx, sc, arns, "service-revision", "service revision", func(s *ecs.Service, d ecs.ServiceDeployment) {
		v := ServiceRevisionView{Service: s, Deployment: d}
		if td, err := p.LookupTaskDefinition(ctx, sc, d.TargetTaskDefinition); err == nil {
			v.TaskDefinition = td
		}
		out = append(out, v)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, failures, nil
}
