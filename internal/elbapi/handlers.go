package elbapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
)

// missing is AWS's error for a required member left out.
func missing(member string) error {
	return elb.Validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// --- load balancers

type createLoadBalancerIn struct {
	Name           string
	Subnets        []string
	SubnetMappings []struct{ SubnetId string }
	SecurityGroups []string
	Scheme         string
	Tags           []wTagIn
	Type           string
	IpAddressType  string
}

type loadBalancersOut struct {
	LoadBalancers []wLoadBalancer
	NextMarker    string `json:",omitempty"`
}

func (a *API) createLoadBalancer(ctx context.Context, c *awsproto.Call, in *createLoadBalancerIn) (any, error) {
	if in.Name == "" {
		return nil, missing("name")
	}
	subnets := in.Subnets
	for _, m := range in.SubnetMappings {
		subnets = append(subnets, m.SubnetId)
	}
	lb, err := a.plane.CreateLoadBalancer(ctx, a.scope(c), elb.CreateLoadBalancer{Name: in.Name, Type: in.Type, Scheme: in.Scheme,
		IPAddressType: in.IpAddressType, Subnets: subnets, SecurityGroups: in.SecurityGroups, Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &loadBalancersOut{LoadBalancers: []wLoadBalancer{lbOut(lb, c.Region)}}, nil
}

type describeLoadBalancersIn struct {
	LoadBalancerArns []string
	Names            []string
	Marker           string
	PageSize         *int
}

func (a *API) describeLoadBalancers(ctx context.Context, c *awsproto.Call, in *describeLoadBalancersIn) (any, error) {
	lbs, err := a.plane.LoadBalancers(ctx, a.scope(c), in.LoadBalancerArns, in.Names)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(lbs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &loadBalancersOut{LoadBalancers: []wLoadBalancer{}, NextMarker: next}
	for _, lb := range pg {
		out.LoadBalancers = append(out.LoadBalancers, lbOut(lb, c.Region))
	}
	return out, nil
}

type lbArnIn struct{ LoadBalancerArn string }

type empty struct{}

func (a *API) deleteLoadBalancer(ctx context.Context, c *awsproto.Call, in *lbArnIn) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, missing("loadBalancerArn")
	}
	return &empty{}, a.plane.DeleteLoadBalancer(ctx, a.scope(c), in.LoadBalancerArn)
}

type attributesOut struct{ Attributes []wAttribute }

func (a *API) describeLoadBalancerAttributes(ctx context.Context, c *awsproto.Call, in *lbArnIn) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, missing("loadBalancerArn")
	}
	attrs, err := a.plane.LoadBalancerAttributes(ctx, a.scope(c), in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	return &attributesOut{attrsOut(attrs)}, nil
}

type modifyLBAttributesIn struct {
	LoadBalancerArn string
	Attributes      []wAttribute
}

func (a *API) modifyLoadBalancerAttributes(ctx context.Context, c *awsproto.Call, in *modifyLBAttributesIn) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, missing("loadBalancerArn")
	}
	attrs, err := a.plane.ModifyLoadBalancerAttributes(ctx, a.scope(c), in.LoadBalancerArn, attrsIn(in.Attributes))
	if err != nil {
		return nil, err
	}
	return &attributesOut{attrsOut(attrs)}, nil
}

// --- target groups

type healthCheckIn struct {
	HealthCheckProtocol        *string
	HealthCheckPort            *string
	HealthCheckEnabled         *bool
	HealthCheckPath            *string
	HealthCheckIntervalSeconds *int
	HealthCheckTimeoutSeconds  *int
	HealthyThresholdCount      *int
	UnhealthyThresholdCount    *int
	Matcher                    *struct {
		HttpCode *string
		GrpcCode *string
	}
}

func (h healthCheckIn) dom() (elb.HealthCheckInput, error) {
	out := elb.HealthCheckInput{Enabled: h.HealthCheckEnabled, Protocol: h.HealthCheckProtocol, Port: h.HealthCheckPort,
		Path: h.HealthCheckPath, IntervalSeconds: h.HealthCheckIntervalSeconds, TimeoutSeconds: h.HealthCheckTimeoutSeconds,
		HealthyThreshold: h.HealthyThresholdCount, UnhealthyThreshold: h.UnhealthyThresholdCount}
	if m := h.Matcher; m != nil {
		if m.GrpcCode != nil {
			return out, elb.Validationf("gRPC matchers are not supported by berth; use HttpCode")
		}
		out.Matcher = m.HttpCode
	}
	return out, nil
}

type createTargetGroupIn struct {
	Name            string
	Protocol        string
	ProtocolVersion string
	Port            *int
	VpcId           string
	TargetType      string
	IpAddressType   string
	Tags            []wTagIn
	healthCheckIn
}

type targetGroupsOut struct {
	TargetGroups []wTargetGroup
	NextMarker   string `json:",omitempty"`
}

func (a *API) createTargetGroup(ctx context.Context, c *awsproto.Call, in *createTargetGroupIn) (any, error) {
	if in.Name == "" {
		return nil, missing("name")
	}
	hc, err := in.healthCheckIn.dom()
	if err != nil {
		return nil, err
	}
	tg, err := a.plane.CreateTargetGroup(ctx, a.scope(c), elb.CreateTargetGroup{Name: in.Name, Protocol: in.Protocol,
		ProtocolVersion: in.ProtocolVersion, Port: in.Port, VpcID: in.VpcId, TargetType: in.TargetType,
		IPAddressType: in.IpAddressType, HealthCheck: hc, Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &targetGroupsOut{TargetGroups: []wTargetGroup{tgOut(tg.TargetGroup, tg.LoadBalancerARNs)}}, nil
}

type describeTargetGroupsIn struct {
	LoadBalancerArn string
	TargetGroupArns []string
	Names           []string
	Marker          string
	PageSize        *int
}

func (a *API) describeTargetGroups(ctx context.Context, c *awsproto.Call, in *describeTargetGroupsIn) (any, error) {
	tgs, err := a.plane.TargetGroups(ctx, a.scope(c), in.LoadBalancerArn, in.TargetGroupArns, in.Names)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(tgs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &targetGroupsOut{TargetGroups: []wTargetGroup{}, NextMarker: next}
	for _, tg := range pg {
		out.TargetGroups = append(out.TargetGroups, tgOut(tg.TargetGroup, tg.LoadBalancerARNs))
	}
	return out, nil
}

type modifyTargetGroupIn struct {
	TargetGroupArn string
	healthCheckIn
}

func (a *API) modifyTargetGroup(ctx context.Context, c *awsproto.Call, in *modifyTargetGroupIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	hc, err := in.healthCheckIn.dom()
	if err != nil {
		return nil, err
	}
	tg, err := a.plane.ModifyTargetGroup(ctx, a.scope(c), in.TargetGroupArn, hc)
	if err != nil {
		return nil, err
	}
	return &targetGroupsOut{TargetGroups: []wTargetGroup{tgOut(tg.TargetGroup, tg.LoadBalancerARNs)}}, nil
}

type tgArnIn struct{ TargetGroupArn string }

func (a *API) deleteTargetGroup(ctx context.Context, c *awsproto.Call, in *tgArnIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	return &empty{}, a.plane.DeleteTargetGroup(ctx, a.scope(c), in.TargetGroupArn)
}

func (a *API) describeTargetGroupAttributes(ctx context.Context, c *awsproto.Call, in *tgArnIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	attrs, err := a.plane.TargetGroupAttributes(ctx, a.scope(c), in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	return &attributesOut{attrsOut(attrs)}, nil
}

type modifyTGAttributesIn struct {
	TargetGroupArn string
	Attributes     []wAttribute
}

func (a *API) modifyTargetGroupAttributes(ctx context.Context, c *awsproto.Call, in *modifyTGAttributesIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	attrs, err := a.plane.ModifyTargetGroupAttributes(ctx, a.scope(c), in.TargetGroupArn, attrsIn(in.Attributes))
	if err != nil {
		return nil, err
	}
	return &attributesOut{attrsOut(attrs)}, nil
}

// --- targets

type targetsIn struct {
	TargetGroupArn string
	Targets        []wTargetDescription
}

func (a *API) registerTargets(ctx context.Context, c *awsproto.Call, in *targetsIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	return &empty{}, a.plane.RegisterTargets(ctx, a.scope(c), in.TargetGroupArn, targetRefs(in.Targets))
}

func (a *API) deregisterTargets(ctx context.Context, c *awsproto.Call, in *targetsIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	return &empty{}, a.plane.DeregisterTargets(ctx, a.scope(c), in.TargetGroupArn, targetRefs(in.Targets))
}

type targetHealthOut struct {
	TargetHealthDescriptions []wTargetHealthDescription
}

type describeTargetHealthIn struct {
	TargetGroupArn string
	Targets        []wTargetDescription
	Include        []string
}

func (a *API) describeTargetHealth(ctx context.Context, c *awsproto.Call, in *describeTargetHealthIn) (any, error) {
	if in.TargetGroupArn == "" {
		return nil, missing("targetGroupArn")
	}
	rows, err := a.plane.TargetHealth(ctx, a.scope(c), in.TargetGroupArn, targetRefs(in.Targets))
	if err != nil {
		return nil, err
	}
	out := &targetHealthOut{TargetHealthDescriptions: []wTargetHealthDescription{}}
	for _, r := range rows {
		port := r.Target.Port
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, wTargetHealthDescription{
			Target:          wTargetDescription{Id: r.Target.ID, Port: &port, AvailabilityZone: r.Target.AvailabilityZone},
			HealthCheckPort: r.HealthCheckPort,
			TargetHealth:    wTargetHealth{State: r.Health.State, Reason: r.Health.Reason, Description: r.Health.Description},
		})
	}
	return out, nil
}

// --- listeners

type listenerIn struct {
	Port           *int
	Protocol       string
	DefaultActions []wActionIn
	Certificates   []wCertificateIn
	SslPolicy      string
	Tags           []wTagIn
}

func (l listenerIn) dom() elb.ListenerInput {
	return elb.ListenerInput{Port: l.Port, Protocol: l.Protocol, DefaultActions: actionsIn(l.DefaultActions),
		Certificates: certARNs(l.Certificates), SslPolicy: l.SslPolicy, Tags: tagsIn(l.Tags)}
}

type createListenerIn struct {
	LoadBalancerArn string
	listenerIn
}

type listenersOut struct {
	Listeners  []wListener
	NextMarker string `json:",omitempty"`
}

func (a *API) createListener(ctx context.Context, c *awsproto.Call, in *createListenerIn) (any, error) {
	if in.LoadBalancerArn == "" {
		return nil, missing("loadBalancerArn")
	}
	if len(in.DefaultActions) == 0 {
		return nil, missing("defaultActions")
	}
	l, err := a.plane.CreateListener(ctx, a.scope(c), in.LoadBalancerArn, in.listenerIn.dom())
	if err != nil {
		return nil, err
	}
	return &listenersOut{Listeners: []wListener{listenerOut(l)}}, nil
}

type describeListenersIn struct {
	LoadBalancerArn string
	ListenerArns    []string
	Marker          string
	PageSize        *int
}

func (a *API) describeListeners(ctx context.Context, c *awsproto.Call, in *describeListenersIn) (any, error) {
	ls, err := a.plane.Listeners(ctx, a.scope(c), in.LoadBalancerArn, in.ListenerArns)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ls, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &listenersOut{Listeners: []wListener{}, NextMarker: next}
	for _, l := range pg {
		out.Listeners = append(out.Listeners, listenerOut(l))
	}
	return out, nil
}

type modifyListenerIn struct {
	ListenerArn string
	listenerIn
}

func (a *API) modifyListener(ctx context.Context, c *awsproto.Call, in *modifyListenerIn) (any, error) {
	if in.ListenerArn == "" {
		return nil, missing("listenerArn")
	}
	l, err := a.plane.ModifyListener(ctx, a.scope(c), in.ListenerArn, in.listenerIn.dom())
	if err != nil {
		return nil, err
	}
	return &listenersOut{Listeners: []wListener{listenerOut(l)}}, nil
}

type listenerArnIn struct{ ListenerArn string }

func (a *API) deleteListener(ctx context.Context, c *awsproto.Call, in *listenerArnIn) (any, error) {
	if in.ListenerArn == "" {
		return nil, missing("listenerArn")
	}
	return &empty{}, a.plane.DeleteListener(ctx, a.scope(c), in.ListenerArn)
}

// --- rules

type createRuleIn struct {
	ListenerArn string
	Conditions  []wConditionIn
	Priority    *int
	Actions     []wActionIn
	Tags        []wTagIn
}

type rulesOut struct {
	Rules      []wRule
	NextMarker string `json:",omitempty"`
}

func rulesOutOf(rs []*elb.Rule) *rulesOut {
	out := &rulesOut{Rules: []wRule{}}
	for _, r := range rs {
		out.Rules = append(out.Rules, ruleOut(r))
	}
	return out
}

func (a *API) createRule(ctx context.Context, c *awsproto.Call, in *createRuleIn) (any, error) {
	switch {
	case in.ListenerArn == "":
		return nil, missing("listenerArn")
	case in.Priority == nil:
		return nil, missing("priority")
	case len(in.Actions) == 0:
		return nil, missing("actions")
	}
	conds, err := conditionsIn(in.Conditions)
	if err != nil {
		return nil, err
	}
	r, err := a.plane.CreateRule(ctx, a.scope(c), in.ListenerArn, elbcp.RuleInput{Priority: *in.Priority, Conditions: &conds,
		Actions: actionsIn(in.Actions), Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return rulesOutOf([]*elb.Rule{r}), nil
}

type describeRulesIn struct {
	ListenerArn string
	RuleArns    []string
	Marker      string
	PageSize    *int
}

func (a *API) describeRules(ctx context.Context, c *awsproto.Call, in *describeRulesIn) (any, error) {
	rs, err := a.plane.Rules(ctx, a.scope(c), in.ListenerArn, in.RuleArns)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(rs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := rulesOutOf(pg)
	out.NextMarker = next
	return out, nil
}

type modifyRuleIn struct {
	RuleArn    string
	Conditions []wConditionIn
	Actions    []wActionIn
}

func (a *API) modifyRule(ctx context.Context, c *awsproto.Call, in *modifyRuleIn) (any, error) {
	if in.RuleArn == "" {
		return nil, missing("ruleArn")
	}
	ri := elbcp.RuleInput{Actions: actionsIn(in.Actions)}
	if len(in.Conditions) > 0 {
		conds, err := conditionsIn(in.Conditions)
		if err != nil {
			return nil, err
		}
		ri.Conditions = &conds
	}
	r, err := a.plane.ModifyRule(ctx, a.scope(c), in.RuleArn, ri)
	if err != nil {
		return nil, err
	}
	return rulesOutOf([]*elb.Rule{r}), nil
}

type ruleArnIn struct{ RuleArn string }

func (a *API) deleteRule(ctx context.Context, c *awsproto.Call, in *ruleArnIn) (any, error) {
	if in.RuleArn == "" {
		return nil, missing("ruleArn")
	}
	return &empty{}, a.plane.DeleteRule(ctx, a.scope(c), in.RuleArn)
}

type setRulePrioritiesIn struct {
	RulePriorities []struct {
		RuleArn  string
		Priority *int
	}
}

func (a *API) setRulePriorities(ctx context.Context, c *awsproto.Call, in *setRulePrioritiesIn) (any, error) {
	pairs := make([]elbcp.RulePriority, 0, len(in.RulePriorities))
	for _, p := range in.RulePriorities {
		if p.RuleArn == "" || p.Priority == nil {
			return nil, elb.Validationf("Each rule priority pair needs a RuleArn and a Priority")
		}
		pairs = append(pairs, elbcp.RulePriority{RuleARN: p.RuleArn, Priority: *p.Priority})
	}
	rs, err := a.plane.SetRulePriorities(ctx, a.scope(c), pairs)
	if err != nil {
		return nil, err
	}
	return rulesOutOf(rs), nil
}

// --- tags

type addTagsIn struct {
	ResourceArns []string
	Tags         []wTagIn
}

func (a *API) addTags(ctx context.Context, c *awsproto.Call, in *addTagsIn) (any, error) {
	return &empty{}, a.plane.AddTags(ctx, a.scope(c), in.ResourceArns, tagsIn(in.Tags))
}

type removeTagsIn struct {
	ResourceArns []string
	TagKeys      []string
}

func (a *API) removeTags(ctx context.Context, c *awsproto.Call, in *removeTagsIn) (any, error) {
	return &empty{}, a.plane.RemoveTags(ctx, a.scope(c), in.ResourceArns, in.TagKeys)
}

type describeTagsIn struct{ ResourceArns []string }

type describeTagsOut struct{ TagDescriptions []wTagDescription }

func (a *API) describeTags(ctx context.Context, c *awsproto.Call, in *describeTagsIn) (any, error) {
	rts, err := a.plane.Tags(ctx, a.scope(c), in.ResourceArns)
	if err != nil {
		return nil, err
	}
	out := &describeTagsOut{TagDescriptions: []wTagDescription{}}
	for _, rt := range rts {
		out.TagDescriptions = append(out.TagDescriptions, wTagDescription{ResourceArn: rt.ARN, Tags: tagsOut(rt.Tags)})
	}
	return out, nil
}
