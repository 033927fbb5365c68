package elbapi

import (
	"github.com/berth-dev/berth/internal/elb"
)

type wActionIn struct {
	Type                string
	TargetGroupArn      string
	Order               *int
	RedirectConfig      *wRedirectConfig
	FixedResponseConfig *wFixedResponseConfig
	ForwardConfig       *struct {
		TargetGroups []struct {
			TargetGroupArn string
			Weight         *int
		}
		TargetGroupStickinessConfig *struct {
			Enabled         *bool
			DurationSeconds *int
		}
	}
}

type wConditionIn struct {
	Field                   string
	Values                  []string
	HostHeaderConfig        *wValues
	PathPatternConfig       *wValues
	HttpHeaderConfig        *wHTTPHeaderConfig
	QueryStringConfig       *wQueryStringConfig
	HttpRequestMethodConfig *wValues
	SourceIpConfig          *wValues
}

type wTagIn struct {
	Key   string
	Value string
}

func tagsIn(in []wTagIn) []elb.Tag {
	out := make([]elb.Tag, len(in))
	for i, t := range in {
		out[i] = elb.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func tagsOut(in []elb.Tag) []wTag {
	out := make([]wTag, len(in))
	for i, t := range in {
		v := t.Value
		out[i] = wTag{Key: t.Key, Value: &v}
	}
	return out
}

func actionsIn(in []wActionIn) []elb.ActionInput {
	out := make([]elb.ActionInput, len(in))
	for i, a := range in {
		x := elb.ActionInput{Type: a.Type, TargetGroupARN: a.TargetGroupArn}
		if a.Order != nil {
			x.Order = *a.Order
		}
		if r := a.RedirectConfig; r != nil {
			q := ""
			if r.Query != nil {
				q = *r.Query
			}
			x.Redirect = &elb.Redirect{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: q, StatusCode: r.StatusCode}
		}
		if f := a.FixedResponseConfig; f != nil {
			x.FixedResponse = &elb.FixedResponse{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
		}
		if f := a.ForwardConfig; f != nil {
			fi := &elb.ForwardInput{}
			for _, t := range f.TargetGroups {
				fi.TargetGroups = append(fi.TargetGroups, elb.WeightedTargetGroupInput{ARN: t.TargetGroupArn, Weight: t.Weight})
			}
			if s := f.TargetGroupStickinessConfig; s != nil {
				fi.Stickiness = &elb.StickinessInput{Enabled: s.Enabled, DurationSeconds: s.DurationSeconds}
			}
			x.Forward = fi
		}
		out[i] = x
	}
	return out
}

func actionsOut(in []elb.Action) []wAction {
	out := make([]wAction, len(in))
	for i, a := range in {
		w := wAction{Type: a.Type}
		if a.Order != 0 {
			o := a.Order
			w.Order = &o
		}
		if f := a.Forward; f != nil {
			fc := &wForwardConfig{}
			for _, t := range f.TargetGroups {
				wt := t.Weight
				fc.TargetGroups = append(fc.TargetGroups, wTargetGroupTuple{TargetGroupArn: t.ARN, Weight: &wt})
			}
			en := f.Stickiness.Enabled
			fc.TargetGroupStickinessConfig = &wStickiness{Enabled: &en}
			if en {
				d := f.Stickiness.DurationSeconds
				fc.TargetGroupStickinessConfig.DurationSeconds = &d
			}
			if f.Single {
				w.TargetGroupArn = f.TargetGroups[0].ARN
			}
			w.ForwardConfig = fc
		}
		if r := a.Redirect; r != nil {
			q := r.Query
			w.RedirectConfig = &wRedirectConfig{Protocol: r.Protocol, Port: r.Port, Host: r.Host, Path: r.Path, Query: &q, StatusCode: r.StatusCode}
		}
		if f := a.FixedResponse; f != nil {
			w.FixedResponseConfig = &wFixedResponseConfig{MessageBody: f.MessageBody, StatusCode: f.StatusCode, ContentType: f.ContentType}
		}
		out[i] = w
	}
	return out
}

// conditionsIn maps wire conditions to the domain's; a condition's values
// come from its Values or from the config of its field.
func conditionsIn(in []wConditionIn) ([]elb.Condition, error) {
	out := make([]elb.Condition, 0, len(in))
	for _, c := range in {
		d := elb.Condition{Field: c.Field}
		var cfg *wValues
		switch c.Field {
		case elb.FieldHostHeader:
			cfg = c.HostHeaderConfig
		case elb.FieldPathPattern:
			cfg = c.PathPatternConfig
		case elb.FieldRequestMethod:
			cfg = c.HttpRequestMethodConfig
		case elb.FieldSourceIP:
			cfg = c.SourceIpConfig
		case elb.FieldHTTPHeader:
			if c.HttpHeaderConfig == nil {
				return nil, elb.Validationf("An http-header condition needs an HttpHeaderConfig")
			}
			d.HeaderName, d.Values = c.HttpHeaderConfig.HttpHeaderName, c.HttpHeaderConfig.Values
		case elb.FieldQueryString:
			if c.QueryStringConfig == nil {
				return nil, elb.Validationf("A query-string condition needs a QueryStringConfig")
			}
			for _, q := range c.QueryStringConfig.Values {
				d.Query = append(d.Query, elb.QueryPair{Key: q.Key, Value: q.Value})
			}
		}
		switch {
		case cfg != nil && len(c.Values) > 0:
			return nil, elb.Validationf("Condition '%s' cannot have both Values and a config", c.Field)
		case cfg != nil:
			d.Values = cfg.Values
		case c.Field == elb.FieldHostHeader || c.Field == elb.FieldPathPattern:
			d.Values = c.Values
		case c.Field == elb.FieldRequestMethod || c.Field == elb.FieldSourceIP:
			if len(c.Values) > 0 {
				return nil, elb.Validationf("Condition '%s' takes its values in its config, not in Values", c.Field)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func conditionsOut(in []elb.Condition) []wCondition {
	out := make([]wCondition, len(in))
	for i, c := range in {
		w := wCondition{Field: c.Field}
		vals := &wValues{Values: c.Values}
		switch c.Field {
		case elb.FieldHostHeader:
			w.Values, w.HostHeaderConfig = c.Values, vals
		case elb.FieldPathPattern:
			w.Values, w.PathPatternConfig = c.Values, vals
		case elb.FieldRequestMethod:
			w.HttpRequestMethodConfig = vals
		case elb.FieldSourceIP:
			w.SourceIpConfig = vals
		case elb.FieldHTTPHeader:
			w.HttpHeaderConfig = &wHTTPHeaderConfig{HttpHeaderName: c.HeaderName, Values: c.Values}
		case elb.FieldQueryString:
			q := &wQueryStringConfig{}
			for _, p := range c.Query {
				q.Values = append(q.Values, wQueryPair{Key: p.Key, Value: p.Value})
			}
			w.QueryStringConfig = q
		}
		out[i] = w
	}
	return out
}

func lbOut(lb *elb.LoadBalancer, region string) wLoadBalancer {
	w := wLoadBalancer{LoadBalancerArn: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneId: elb.CanonicalHostedZoneID(lb.Type),
		CreatedTime: lb.CreatedTime, LoadBalancerName: lb.Name, Scheme: lb.Scheme, VpcId: lb.VpcID,
		State: wLoadBalancerState{Code: lb.State}, Type: lb.Type, IpAddressType: lb.IPAddressType, SecurityGroups: lb.SecurityGroups,
		AvailabilityZones: []wAvailabilityZone{}}
	for _, z := range lb.Zones(region) {
		az := wAvailabilityZone{ZoneName: z.ZoneName, SubnetId: z.SubnetID}
		if lb.Type == elb.TypeNetwork {
			az.LoadBalancerAddresses = []wLoadBalancerAddress{{IpAddress: lb.Address}}
		}
		w.AvailabilityZones = append(w.AvailabilityZones, az)
	}
	return w
}

func tgOut(tg *elb.TargetGroup, lbs []string) wTargetGroup {
	h := tg.HealthCheck
	w := wTargetGroup{TargetGroupArn: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcId: tg.VpcID,
		HealthCheckProtocol: h.Protocol, HealthCheckPort: h.Port, HealthCheckEnabled: h.Enabled,
		HealthCheckIntervalSeconds: h.IntervalSeconds, HealthCheckTimeoutSeconds: h.TimeoutSeconds,
		HealthyThresholdCount: h.HealthyThreshold, UnhealthyThresholdCount: h.UnhealthyThreshold, HealthCheckPath: h.Path,
		LoadBalancerArns: append([]string{}, lbs...), TargetType: tg.TargetType, ProtocolVersion: tg.ProtocolVersion,
		IpAddressType: tg.IPAddressType}
	if h.Matcher != "" {
		w.Matcher = &wMatcher{HttpCode: h.Matcher}
	}
	return w
}

func listenerOut(l *elb.Listener) wListener {
	w := wListener{ListenerArn: l.ARN, LoadBalancerArn: l.LoadBalancerARN, Port: l.Port, Protocol: l.Protocol,
		DefaultActions: actionsOut(l.DefaultActions), SslPolicy: l.SslPolicy}
	for _, c := range l.Certificates {
		w.Certificates = append(w.Certificates, wCertificate{CertificateArn: c})
	}
	return w
}

func ruleOut(r *elb.Rule) wRule {
	return wRule{RuleArn: r.ARN, Priority: r.PriorityText(), Conditions: conditionsOut(r.Conditions), Actions: actionsOut(r.Actions), IsDefault: r.IsDefault}
}

func attrsOut(in []elb.Attribute) []wAttribute {
	out := make([]wAttribute, len(in))
	for i, a := range in {
		out[i] = wAttribute{a.Key, a.Value}
	}
	return out
}

func attrsIn(in []wAttribute) []elb.Attribute {
	out := make([]elb.Attribute, len(in))
	for i, a := range in {
		out[i] = elb.Attribute{Key: a.Key, Value: a.Value}
	}
	return out
}

func targetRefs(in []wTargetDescription) []elb.TargetRef {
	out := make([]elb.TargetRef, len(in))
	for i, t := range in {
		r := elb.TargetRef{ID: t.Id, AvailabilityZone: t.AvailabilityZone}
		if t.Port != nil {
			r.Port = *t.Port
		}
		out[i] = r
	}
	return out
}
