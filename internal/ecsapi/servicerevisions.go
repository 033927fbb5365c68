package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// toDeploymentConfigurationOut is ECS's DeploymentConfiguration shape
// (lifecycle hooks are refused, so never described).
func toDeploymentConfigurationOut(dc ecs.DeploymentConfiguration) deploymentConfigurationOut {
	return deploymentConfigurationOut{
		DeploymentCircuitBreaker: dc.DeploymentCircuitBreaker, MaximumPercent: dc.MaximumPercent,
		MinimumHealthyPercent: dc.MinimumHealthyPercent, Alarms: dc.Alarms, Strategy: dc.Strategy,
		BakeTimeInMinutes: dc.BakeTimeInMinutes, LinearConfiguration: dc.LinearConfiguration,
		CanaryConfiguration: dc.CanaryConfiguration,
	}
}

// shiftStage is the lifecycle stage of a service deployment: the stage
// of the service's shift in flight when it is this deployment's (or its
// rollback's), else what the status implies for a rolling one.
func shiftStage(s *ecs.Service, d ecs.ServiceDeployment) string {
	t := s.Traffic
	switch d.Status {
	case ecs.SDInProgress:
		if t != nil && t.Green == d.DeploymentID {
			return t.Stage
		}
		return ecs.StageScaleUp
	case ecs.SDRollbackInProgress:
		if t != nil {
			return t.Stage
		}
		return ecs.StageScaleUp
	case ecs.SDSuccessful, ecs.SDStopped, ecs.SDRollbackSuccessful:
		return ecs.StageCleanUp
	}
	return ""
}

// trafficWeights returns the production and test traffic percent a
// revision (by deployment ID) is asked to get; nil for a rolling service.
func trafficWeights(s *ecs.Service, depID string) (prod, test *float64) {
	t := s.Traffic
	if t == nil {
		if !ecs.IsShiftStrategy(s.DeploymentConfiguration.Strategy) {
			return nil, nil
		}
		v := 0.0
		if p := s.Primary(); p != nil && p.ID == depID {
			v = 100
		}
		return &v, &v
	}
	g, b := t.Weights(false)
	gt, bt := t.Weights(true)
	switch depID {
	case t.Green:
		return &g, &gt
	case t.Blue:
		return &b, &bt
	}
	z := 0.0
	return &z, &z
}

type describeServiceRevisionsIn struct {
	ServiceRevisionARNs []string `json:"serviceRevisionArns"`
}

type containerImageOut struct {
	ContainerName string `json:"containerName"`
	ImageDigest   string `json:"imageDigest,omitempty"`
	Image         string `json:"image"`
}

type revisionLoadBalancerOut struct {
	TargetGroupARN         string `json:"targetGroupArn,omitempty"`
	ProductionListenerRule string `json:"productionListenerRule,omitempty"`
}

type resolvedConfigurationOut struct {
	LoadBalancers []revisionLoadBalancerOut `json:"loadBalancers"`
}

type serviceRevisionOut struct {
	ServiceRevisionARN       string                         `json:"serviceRevisionArn"`
	ServiceARN               string                         `json:"serviceArn"`
	ClusterARN               string                         `json:"clusterArn"`
	TaskDefinition           string                         `json:"taskDefinition"`
	CapacityProviderStrategy []ecs.CapacityProviderStrategy `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	PlatformFamily           string                         `json:"platformFamily,omitempty"`
	LoadBalancers            []ecs.LoadBalancer             `json:"loadBalancers"`
	ServiceRegistries        []ecs.ServiceRegistry          `json:"serviceRegistries"`
	NetworkConfiguration     *ecs.NetworkConfiguration      `json:"networkConfiguration,omitempty"`
	ContainerImages          []containerImageOut            `json:"containerImages"`
	GuardDutyEnabled         bool                           `json:"guardDutyEnabled"`
	CreatedAt                *awsproto.EpochTime            `json:"createdAt,omitempty"`
	ResolvedConfiguration    *resolvedConfigurationOut      `json:"resolvedConfiguration,omitempty"`
}

type describeServiceRevisionsOut struct {
	ServiceRevisions []serviceRevisionOut `json:"serviceRevisions"`
	Failures         []failure            `json:"failures"`
}

func (a *API) describeServiceRevisions(ctx context.Context, c *awsproto.Call, in *describeServiceRevisionsIn) (any, error) {
	views, failures, err := a.plane.DescribeServiceRevisions(ctx, a.scope(c), in.ServiceRevisionARNs)
	if err != nil {
		return nil, err
	}
	out := &describeServiceRevisionsOut{ServiceRevisions: make([]serviceRevisionOut, 0, len(views)), Failures: toFailures(failures)}
	for _, v := range views {
		out.ServiceRevisions = append(out.ServiceRevisions, toServiceRevisionOut(v))
	}
	return out, nil
}

func toServiceRevisionOut(v ecscp.ServiceRevisionView) serviceRevisionOut {
	_, _, _, rev := sdNames(ecscp.ServiceDeploymentView{Service: v.Service, Deployment: v.Deployment})
	s, d := v.Service, v.Deployment
	out := serviceRevisionOut{
		ServiceRevisionARN: rev, ServiceARN: s.ARN, ClusterARN: s.ClusterARN, TaskDefinition: d.TargetTaskDefinition,
		LoadBalancers: []ecs.LoadBalancer{}, ServiceRegistries: []ecs.ServiceRegistry{}, ContainerImages: []containerImageOut{},
		CreatedAt: awsproto.Epoch(d.CreatedAt),
	}
	if r := d.Revision; r != nil {
		out.CapacityProviderStrategy, out.LaunchType = r.CapacityProviderStrategy, r.LaunchType
		out.PlatformVersion, out.PlatformFamily = r.PlatformVersion, r.PlatformFamily
		out.LoadBalancers, out.ServiceRegistries = nonNil(r.LoadBalancers), nonNil(r.ServiceRegistries)
		out.NetworkConfiguration = r.NetworkConfiguration
		if len(r.LoadBalancers) > 0 {
			rc := &resolvedConfigurationOut{LoadBalancers: []revisionLoadBalancerOut{}}
			for i, lb := range r.LoadBalancers {
				tg := lb.TargetGroupARN
				if i < len(r.TargetGroups) && r.TargetGroups[i] != "" {
					tg = r.TargetGroups[i]
				}
				rl := revisionLoadBalancerOut{TargetGroupARN: tg}
				if lb.AdvancedConfiguration != nil {
					rl.ProductionListenerRule = lb.AdvancedConfiguration.ProductionListenerRule
				}
				rc.LoadBalancers = append(rc.LoadBalancers, rl)
			}
			out.ResolvedConfiguration = rc
		}
	}
	if r := d.Revision; r != nil && len(r.ContainerImages) > 0 {
		// The images as the deployment resolved them.
		for _, ci := range r.ContainerImages {
			out.ContainerImages = append(out.ContainerImages, containerImageOut{ContainerName: ci.ContainerName, Image: ci.Image, ImageDigest: ci.ImageDigest})
		}
	} else if td := v.TaskDefinition; td != nil {
		for _, cd := range td.ContainerDefinitions {
			out.ContainerImages = append(out.ContainerImages, containerImageOut{ContainerName: cd.Name, Image: cd.Image})
		}
	}
	return out
}

// currentRevisionOut is ECS's ServiceCurrentRevisionSummary.
type currentRevisionOut struct {
	ARN                string `json:"arn"`
	RequestedTaskCount int    `json:"requestedTaskCount"`
	RunningTaskCount   int    `json:"runningTaskCount"`
	PendingTaskCount   int    `json:"pendingTaskCount"`
}

// currentRevisions returns a service's current service deployment (its
// newest) and the revisions of its deployments[] (those with tasks).
func currentRevisions(s *ecs.Service) (string, []currentRevisionOut) {
	p, ok := ecs.ParseARN(s.ARN)
	if !ok || len(s.ServiceDeployments) == 0 {
		return "", nil
	}
	sc, cl := ecs.Scope{Account: p.Account, Region: p.Region}, s.ClusterName()
	cur := sc.ServiceDeploymentARN(cl, s.Name, s.ServiceDeployments[0].ID())
	var revs []currentRevisionOut
	for _, d := range s.Deployments {
		revs = append(revs, currentRevisionOut{
			ARN:                sc.ServiceRevisionARN(cl, s.Name, (&ecs.ServiceDeployment{DeploymentID: d.ID}).ID()),
			RequestedTaskCount: d.DesiredCount, RunningTaskCount: d.RunningCount, PendingTaskCount: d.PendingCount,
		})
	}
	return cur, revs
}
