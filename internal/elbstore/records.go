package elbstore

import (
	"time"

	"github.com/berth-dev/berth/internal/elb"
)

// The stored shapes. They are elbstore's own: renaming a domain field
// never changes what is on disk.

type tagRec struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type lbRec struct {
	ARN            string            `json:"arn"`
	Name           string            `json:"name"`
	ID             string            `json:"id"`
	Type           string            `json:"type"`
	Scheme         string            `json:"scheme"`
	IPAddressType  string            `json:"ipAddressType"`
	VpcID          string            `json:"vpcId"`
	Subnets        []string          `json:"subnets"`
	SecurityGroups []string          `json:"securityGroups,omitempty"`
	DNSName        string            `json:"dnsName"`
	Address        string            `json:"address"`
	State          string            `json:"state"`
	CreatedTime    time.Time         `json:"created"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Tags           []tagRec          `json:"tags,omitempty"`
}

type healthCheckRec struct {
	Enabled            bool   `json:"enabled"`
	Protocol           string `json:"protocol"`
	Port               string `json:"port"`
	Path               string `json:"path,omitempty"`
	IntervalSeconds    int    `json:"interval"`
	TimeoutSeconds     int    `json:"timeout"`
	HealthyThreshold   int    `json:"healthy"`
	UnhealthyThreshold int    `json:"unhealthy"`
	Matcher            string `json:"matcher,omitempty"`
}

type tgRec struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	ID              string            `json:"id"`
	Protocol        string            `json:"protocol"`
	ProtocolVersion string            `json:"protocolVersion,omitempty"`
	Port            int               `json:"port"`
	VpcID           string            `json:"vpcId"`
	TargetType      string            `json:"targetType"`
	IPAddressType   string            `json:"ipAddressType"`
	HealthCheck     healthCheckRec    `json:"healthCheck"`
	CreatedTime     time.Time         `json:"created"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Tags            []tagRec          `json:"tags,omitempty"`
}

type weightedRec struct {
	ARN    string `json:"arn"`
	Weight int    `json:"weight"`
}

type actionRec struct {
	Type  string `json:"type"`
	Order int    `json:"order,omitempty"`
	// forward
	TargetGroups  []weightedRec `json:"targetGroups,omitempty"`
	Single        bool          `json:"single,omitempty"`
	Sticky        bool          `json:"sticky,omitempty"`
	StickySeconds int           `json:"stickySeconds,omitempty"`
	Redirect      *redirectRec  `json:"redirect,omitempty"`
	FixedResponse *fixedRec     `json:"fixed,omitempty"`
}

type redirectRec struct {
	Protocol   string `json:"protocol"`
	Port       string `json:"port"`
	Host       string `json:"host"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	StatusCode string `json:"status"`
}

type fixedRec struct {
	StatusCode  string `json:"status"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"body,omitempty"`
}

type listenerRec struct {
	ARN             string      `json:"arn"`
	ID              string      `json:"id"`
	LoadBalancerARN string      `json:"lb"`
	Port            int         `json:"port"`
	Protocol        string      `json:"protocol"`
	DefaultActions  []actionRec `json:"actions"`
	DefaultRuleID   string      `json:"defaultRule"`
	Tags            []tagRec    `json:"tags,omitempty"`
	Certificates    []string    `json:"certs,omitempty"`
	ExtraCerts      []string    `json:"extraCerts,omitempty"`
	SslPolicy       string      `json:"sslPolicy,omitempty"`
}

type queryRec struct {
	Key   string `json:"k,omitempty"`
	Value string `json:"v"`
}

type conditionRec struct {
	Field      string     `json:"field"`
	HeaderName string     `json:"header,omitempty"`
	Values     []string   `json:"values,omitempty"`
	Query      []queryRec `json:"query,omitempty"`
}

type ruleRec struct {
	ARN         string         `json:"arn"`
	ID          string         `json:"id"`
	ListenerARN string         `json:"listener"`
	Priority    int            `json:"priority"`
	Conditions  []conditionRec `json:"conditions"`
	Actions     []actionRec    `json:"actions"`
	Tags        []tagRec       `json:"tags,omitempty"`
}

type targetRec struct {
	ID               string    `json:"id"`
	Port             int       `json:"port"`
	AvailabilityZone string    `json:"az,omitempty"`
	State            string    `json:"state,omitempty"`
	Reason           string    `json:"reason,omitempty"`
	Description      string    `json:"description,omitempty"`
	RegisteredAt     time.Time `json:"registered"`
	DrainingSince    time.Time `json:"drainingSince,omitzero"`
}

func tagsRec(in []elb.Tag) []tagRec {
	out := make([]tagRec, len(in))
	for i, t := range in {
		out[i] = tagRec{t.Key, t.Value}
	}
	return out
}

func tagsDom(in []tagRec) []elb.Tag {
	out := make([]elb.Tag, len(in))
	for i, t := range in {
		out[i] = elb.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func toLBRec(lb *elb.LoadBalancer) lbRec {
	return lbRec{ARN: lb.ARN, Name: lb.Name, ID: lb.ID, Type: lb.Type, Scheme: lb.Scheme, IPAddressType: lb.IPAddressType,
		VpcID: lb.VpcID, Subnets: lb.Subnets, SecurityGroups: lb.SecurityGroups, DNSName: lb.DNSName, Address: lb.Address,
		State: lb.State, CreatedTime: lb.CreatedTime, Attributes: lb.Attributes, Tags: tagsRec(lb.Tags)}
}

func (r lbRec) dom() *elb.LoadBalancer {
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &elb.LoadBalancer{ARN: r.ARN, Name: r.Name, ID: r.ID, Type: r.Type, Scheme: r.Scheme, IPAddressType: r.IPAddressType,
		VpcID: r.VpcID, Subnets: r.Subnets, SecurityGroups: r.SecurityGroups, DNSName: r.DNSName, Address: r.Address,
		State: r.State, CreatedTime: r.CreatedTime, Attributes: attrs, Tags: tagsDom(r.Tags)}
}

func toTGRec(tg *elb.TargetGroup) tgRec {
	h := tg.HealthCheck
	return tgRec{ARN: tg.ARN, Name: tg.Name, ID: tg.ID, Protocol: tg.Protocol, ProtocolVersion: tg.ProtocolVersion, Port: tg.Port,
		VpcID: tg.VpcID, TargetType: tg.TargetType, IPAddressType: tg.IPAddressType,
		HealthCheck: healthCheckRec{h.Enabled, h.Protocol, h.Port, h.Path, h.IntervalSeconds, h.TimeoutSeconds, h.HealthyThreshold, h.UnhealthyThreshold, h.Matcher},
		CreatedTime: tg.CreatedTime, Attributes: tg.Attributes, Tags: tagsRec(tg.Tags)}
}

func (r tgRec) dom() *elb.TargetGroup {
	h := r.HealthCheck
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &elb.TargetGroup{ARN: r.ARN, Name: r.Name, ID: r.ID, Protocol: r.Protocol, ProtocolVersion: r.ProtocolVersion, Port: r.Port,
		VpcID: r.VpcID, TargetType: r.TargetType, IPAddressType: r.IPAddressType,
		HealthCheck: elb.HealthCheck{Enabled: h.Enabled, Protocol: h.Protocol, Port: h.Port, Path: h.Path, IntervalSeconds: h.IntervalSeconds,
			TimeoutSeconds: h.TimeoutSeconds, HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold, Matcher: h.Matcher},
		CreatedTime: r.CreatedTime, Attributes: attrs, Tags: tagsDom(r.Tags)}
}

func actionsRec(in []elb.Action) []actionRec {
	out := make([]actionRec, len(in))
	for i, a := range in {
		r := actionRec{Type: a.Type, Order: a.Order}
		if f := a.Forward; f != nil {
			for _, t := range f.TargetGroups {
				r.TargetGroups = append(r.TargetGroups, weightedRec{t.ARN, t.Weight})
			}
			r.Single, r.Sticky, r.StickySeconds = f.Single, f.Stickiness.Enabled, f.Stickiness.DurationSeconds
		}
		if x := a.Redirect; x != nil {
			r.Redirect = &redirectRec{x.Protocol, x.Port, x.Host, x.Path, x.Query, x.StatusCode}
		}
		if x := a.FixedResponse; x != nil {
			r.FixedResponse = &fixedRec{x.StatusCode, x.ContentType, x.MessageBody}
		}
		out[i] = r
	}
	return out
}

func actionsDom(in []actionRec) []elb.Action {
	out := make([]elb.Action, len(in))
	for i, r := range in {
		a := elb.Action{Type: r.Type, Order: r.Order}
		if r.Type == elb.ActionForward {
			f := &elb.Forward{Single: r.Single, Stickiness: elb.Stickiness{Enabled: r.Sticky, DurationSeconds: r.StickySeconds}}
			for _, t := range r.TargetGroups {
				f.TargetGroups = append(f.TargetGroups, elb.WeightedTargetGroup{ARN: t.ARN, Weight: t.Weight})
			}
			a.Forward = f
		}
		if x := r.Redirect; x != nil {
			a.Redirect = &elb.Redirect{Protocol: x.Protocol, Port: x.Port, Host: x.Host, Path: x.Path, Query: x.Query, StatusCode: x.StatusCode}
		}
		if x := r.FixedResponse; x != nil {
			a.FixedResponse = &elb.FixedResponse{StatusCode: x.StatusCode, ContentType: x.ContentType, MessageBody: x.MessageBody}
		}
		out[i] = a
	}
	return out
}

func toListenerRec(l *elb.Listener) listenerRec {
	return listenerRec{ARN: l.ARN, ID: l.ID, LoadBalancerARN: l.LoadBalancerARN, Port: l.Port, Protocol: l.Protocol,
		DefaultActions: actionsRec(l.DefaultActions), DefaultRuleID: l.DefaultRuleID, Tags: tagsRec(l.Tags),
		Certificates: l.Certificates, ExtraCerts: l.ExtraCertificates, SslPolicy: l.SslPolicy}
}

func (r listenerRec) dom() *elb.Listener {
	return &elb.Listener{ARN: r.ARN, ID: r.ID, LoadBalancerARN: r.LoadBalancerARN, Port: r.Port, Protocol: r.Protocol,
		DefaultActions: actionsDom(r.DefaultActions), DefaultRuleID: r.DefaultRuleID, Tags: tagsDom(r.Tags),
		Certificates: r.Certificates, ExtraCertificates: r.ExtraCerts, SslPolicy: r.SslPolicy}
}

func toRuleRec(x *elb.Rule) ruleRec {
	r := ruleRec{ARN: x.ARN, ID: x.ID, ListenerARN: x.ListenerARN, Priority: x.Priority, Actions: actionsRec(x.Actions), Tags: tagsRec(x.Tags)}
	for _, c := range x.Conditions {
		cr := conditionRec{Field: c.Field, HeaderName: c.HeaderName, Values: c.Values}
		for _, q := range c.Query {
			cr.Query = append(cr.Query, queryRec{q.Key, q.Value})
		}
		r.Conditions = append(r.Conditions, cr)
	}
	return r
}

func (r ruleRec) dom() *elb.Rule {
	x := &elb.Rule{ARN: r.ARN, ID: r.ID, ListenerARN: r.ListenerARN, Priority: r.Priority, Actions: actionsDom(r.Actions), Tags: tagsDom(r.Tags)}
	for _, c := range r.Conditions {
		cd := elb.Condition{Field: c.Field, HeaderName: c.HeaderName, Values: c.Values}
		for _, q := range c.Query {
			cd.Query = append(cd.Query, elb.QueryPair{Key: q.Key, Value: q.Value})
		}
		x.Conditions = append(x.Conditions, cd)
	}
	return x
}

func toTargetRec(t *elb.Target) targetRec {
	return targetRec{ID: t.ID, Port: t.Port, AvailabilityZone: t.AvailabilityZone, State: t.Health.State, Reason: t.Health.Reason,
		Description: t.Health.Description, RegisteredAt: t.RegisteredAt, DrainingSince: t.DrainingSince}
}

func (r targetRec) dom() *elb.Target {
	return &elb.Target{ID: r.ID, Port: r.Port, AvailabilityZone: r.AvailabilityZone,
		Health: elb.Health{State: r.State, Reason: r.Reason, Description: r.Description}, RegisteredAt: r.RegisteredAt, DrainingSince: r.DrainingSince}
}
