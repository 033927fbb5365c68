package ecscp

import (
	"context"
	"slices"
	"strings"

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
	var failures []Failure
	for _, arn := range arns {
		pa, ok := ecs.ParseARN(arn)
		rest, isRev := strings.CutPrefix(pa.Resource, "service-revision/")
		parts := strings.Split(rest, "/")
		if !ok || pa.Service != "ecs" || !isRev || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, nil, fault.New(fault.InvalidParameter, "Invalid service revision ARN %q.", arn)
		}
		if pa.Account != sc.Account || pa.Region != sc.Region {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		s, err := p.repo.Service(ctx, sc, parts[0], parts[1])
		if fault.Is(err, fault.NotFound) {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		i := slices.IndexFunc(s.ServiceDeployments, func(d ecs.ServiceDeployment) bool { return d.ID() == parts[2] })
		if i < 0 {
			failures = append(failures, Failure{ARN: arn, Reason: "MISSING"})
			continue
		}
		v := ServiceRevisionView{Service: s, Deployment: s.ServiceDeployments[i]}
		if td, err := p.LookupTaskDefinition(ctx, sc, v.Deployment.TargetTaskDefinition); err == nil {
			v.TaskDefinition = td
		}
		out = append(out, v)
	}
	return out, failures, nil
}
