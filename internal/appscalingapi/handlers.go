package appscalingapi

import (
	"context"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingcp"
	"github.com/berth-dev/berth/internal/awsproto"
)

type empty struct{}

// --- scalable targets

type registerIn struct {
	wKey
	MinCapacity    *int
	MaxCapacity    *int
	RoleARN        string
	SuspendedState *wSuspended
	Tags           map[string]string
}

type registerOut struct{ ScalableTargetARN string }

func (a *API) registerScalableTarget(ctx context.Context, c *awsproto.Call, in *registerIn) (any, error) {
	r := appscaling.Register{Key: in.dom(), MinCapacity: in.MinCapacity, MaxCapacity: in.MaxCapacity, RoleARN: in.RoleARN, Tags: in.Tags}
	sc := a.scope(c)
	if s := in.SuspendedState; s != nil {
		// An omitted member keeps its value; read the current state first.
		cur, err := a.plane.Targets(ctx, sc, in.ServiceNamespace, []string{in.ResourceId}, in.ScalableDimension)
		if err != nil {
			return nil, err
		}
		st := appscaling.SuspendedState{}
		if len(cur) == 1 {
			st = cur[0].Suspended
		}
		set := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		set(&st.DynamicScalingInSuspended, s.DynamicScalingInSuspended)
		set(&st.DynamicScalingOutSuspended, s.DynamicScalingOutSuspended)
		set(&st.ScheduledScalingSuspended, s.ScheduledScalingSuspended)
		r.Suspended = &st
	}
	t, err := a.plane.Register(ctx, sc, r)
	if err != nil {
		return nil, err
	}
	return &registerOut{ScalableTargetARN: t.ARN(sc)}, nil
}

func (a *API) deregisterScalableTarget(ctx context.Context, c *awsproto.Call, in *wKey) (any, error) {
	return empty{}, a.plane.Deregister(ctx, a.scope(c), in.dom())
}

type describeTargetsIn struct {
	ServiceNamespace  string
	ResourceIds       []string
	ScalableDimension string
	MaxResults        *int
	NextToken         string
}

type describeTargetsOut struct {
	ScalableTargets []wTarget
	NextToken       string `json:",omitempty"`
}

func (a *API) describeScalableTargets(ctx context.Context, c *awsproto.Call, in *describeTargetsIn) (any, error) {
	sc := a.scope(c)
	ts, err := a.plane.Targets(ctx, sc, in.ServiceNamespace, in.ResourceIds, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &describeTargetsOut{ScalableTargets: []wTarget{}, NextToken: next}
	for _, t := range pg {
		out.ScalableTargets = append(out.ScalableTargets, targetOut(t, sc))
	}
	return out, nil
}

// --- scaling policies

type putPolicyIn struct {
	PolicyName string
	wKey
	PolicyType                               string
	StepScalingPolicyConfiguration           *wStepConfig
	TargetTrackingScalingPolicyConfiguration *wTracking
	PredictiveScalingPolicyConfiguration     any
}

type putPolicyOut struct {
	PolicyARN string
	Alarms    []wAlarm
}

func (a *API) putScalingPolicy(ctx context.Context, c *awsproto.Call, in *putPolicyIn) (any, error) {
	if in.PolicyName == "" {
		return nil, appscaling.Validationf("1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
	}
	if in.PredictiveScalingPolicyConfiguration != nil || in.PolicyType == "PredictiveScaling" {
		return nil, appscaling.Validationf("Predictive scaling is not supported for service namespace ecs in berth")
	}
	sc := a.scope(c)
	p, err := a.plane.PutPolicy(ctx, sc, appscaling.Policy{Key: in.dom(), Name: in.PolicyName, Type: in.PolicyType,
		Step: stepIn(in.StepScalingPolicyConfiguration), TargetTracking: trackingIn(in.TargetTrackingScalingPolicyConfiguration)})
	if err != nil {
		return nil, err
	}
	return &putPolicyOut{PolicyARN: p.ARN(sc), Alarms: alarmsOut(p.Alarms)}, nil
}

type deletePolicyIn struct {
	PolicyName string
	wKey
}

func (a *API) deleteScalingPolicy(ctx context.Context, c *awsproto.Call, in *deletePolicyIn) (any, error) {
	if in.PolicyName == "" {
		return nil, appscaling.Validationf("1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
	}
	return empty{}, a.plane.DeletePolicy(ctx, a.scope(c), in.dom(), in.PolicyName)
}

type describePoliciesIn struct {
	PolicyNames       []string
	ServiceNamespace  string
	ResourceId        string
	ScalableDimension string
	MaxResults        *int
	NextToken         string
}

type describePoliciesOut struct {
	ScalingPolicies []wPolicy
	NextToken       string `json:",omitempty"`
}

func (a *API) describeScalingPolicies(ctx context.Context, c *awsproto.Call, in *describePoliciesIn) (any, error) {
	sc := a.scope(c)
	ps, err := a.plane.Policies(ctx, sc, appscalingcp.PolicyFilter{Namespace: in.ServiceNamespace, Names: in.PolicyNames,
		ResourceID: in.ResourceId, Dimension: in.ScalableDimension})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &describePoliciesOut{ScalingPolicies: []wPolicy{}, NextToken: next}
	for _, p := range pg {
		out.ScalingPolicies = append(out.ScalingPolicies, policyOut(p, sc))
	}
	return out, nil
}

// --- activities

type describeActivitiesIn struct {
	ServiceNamespace           string
	ResourceId                 string
	ScalableDimension          string
	MaxResults                 *int
	NextToken                  string
	IncludeNotScaledActivities bool
}

type describeActivitiesOut struct {
	ScalingActivities []wActivity
	NextToken         string `json:",omitempty"`
}

func (a *API) describeScalingActivities(ctx context.Context, c *awsproto.Call, in *describeActivitiesIn) (any, error) {
	acts, err := a.plane.Activities(ctx, a.scope(c), in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(acts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &describeActivitiesOut{ScalingActivities: []wActivity{}, NextToken: next}
	for _, act := range pg {
		out.ScalingActivities = append(out.ScalingActivities, activityOut(act))
	}
	return out, nil
}

// --- scheduled actions

type putScheduledIn struct {
	wKey
	Schedule             string
	Timezone             string
	ScheduledActionName  string
	StartTime            *awsproto.EpochTime
	EndTime              *awsproto.EpochTime
	ScalableTargetAction *wRange
}

func (a *API) putScheduledAction(ctx context.Context, c *awsproto.Call, in *putScheduledIn) (any, error) {
	if in.ScheduledActionName == "" {
		return nil, appscaling.Validationf("1 validation error detected: Value null at 'scheduledActionName' failed to satisfy constraint: Member must not be null")
	}
	act := appscaling.ScheduledAction{Key: in.dom(), Name: in.ScheduledActionName, Schedule: in.Schedule, Timezone: in.Timezone}
	if in.StartTime != nil {
		act.Start = in.StartTime.Time
	}
	if in.EndTime != nil {
		act.End = in.EndTime.Time
	}
	if r := in.ScalableTargetAction; r != nil {
		act.MinCapacity, act.MaxCapacity = r.MinCapacity, r.MaxCapacity
	}
	return empty{}, a.plane.PutScheduled(ctx, a.scope(c), act)
}

type deleteScheduledIn struct {
	wKey
	ScheduledActionName string
}

func (a *API) deleteScheduledAction(ctx context.Context, c *awsproto.Call, in *deleteScheduledIn) (any, error) {
	if in.ScheduledActionName == "" {
		return nil, appscaling.Validationf("1 validation error detected: Value null at 'scheduledActionName' failed to satisfy constraint: Member must not be null")
	}
	return empty{}, a.plane.DeleteScheduled(ctx, a.scope(c), in.dom(), in.ScheduledActionName)
}

type describeScheduledIn struct {
	ScheduledActionNames []string
	ServiceNamespace     string
	ResourceId           string
	ScalableDimension    string
	MaxResults           *int
	NextToken            string
}

type describeScheduledOut struct {
	ScheduledActions []wScheduled
	NextToken        string `json:",omitempty"`
}

func (a *API) describeScheduledActions(ctx context.Context, c *awsproto.Call, in *describeScheduledIn) (any, error) {
	sc := a.scope(c)
	as, err := a.plane.Scheduled(ctx, sc, appscalingcp.ScheduledFilter{Namespace: in.ServiceNamespace, Names: in.ScheduledActionNames,
		ResourceID: in.ResourceId, Dimension: in.ScalableDimension})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(as, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &describeScheduledOut{ScheduledActions: []wScheduled{}, NextToken: next}
	for _, s := range pg {
		out.ScheduledActions = append(out.ScheduledActions, scheduledOut(s, sc))
	}
	return out, nil
}

// --- tags

type tagIn struct {
	ResourceARN string
	Tags        map[string]string
	TagKeys     []string
}

type tagsOut struct{ Tags map[string]string }

func (a *API) tagResource(ctx context.Context, c *awsproto.Call, in *tagIn) (any, error) {
	return empty{}, a.plane.Tag(ctx, a.scope(c), in.ResourceARN, in.Tags)
}

func (a *API) untagResource(ctx context.Context, c *awsproto.Call, in *tagIn) (any, error) {
	return empty{}, a.plane.Untag(ctx, a.scope(c), in.ResourceARN, in.TagKeys)
}

func (a *API) listTagsForResource(ctx context.Context, c *awsproto.Call, in *tagIn) (any, error) {
	tags, err := a.plane.Tags(ctx, a.scope(c), in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return &tagsOut{Tags: tags}, nil
}
