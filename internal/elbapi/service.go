package elbapi

import (
	"log/slog"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/fault"
)

// Namespace is the XML namespace of ELBv2 responses.
const Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// faults maps berth's error model to ELBv2 exceptions; the domain sets
// most codes itself (fault.Error.Code).
var faults = awsproto.FaultTable{
	Client: "ValidationError",
	Server: "InternalFailure",
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: "ValidationError",
		fault.Invalid:          "InvalidConfigurationRequest",
		fault.InUse:            "ResourceInUse",
		fault.AccessDenied:     "AccessDenied",
	},
}

// Config configures the API.
type Config struct {
	Plane          *elbcp.Plane
	Logger         *slog.Logger
	DefaultAccount string
}

// API holds the ELBv2 handlers.
type API struct {
	plane          *elbcp.Plane
	log            *slog.Logger
	defaultAccount string
}

// New returns the API and its awsproto service (signing name
// "elasticloadbalancing", awsQuery).
func New(cfg Config) (*API, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger, defaultAccount: cfg.DefaultAccount}
	svc := &awsproto.Service{
		SigningName:  "elasticloadbalancing",
		Protocol:     awsproto.Query,
		XMLNamespace: Namespace,
		MapError:     faults.Map,
		Ops: map[string]awsproto.Op{
			"CreateLoadBalancer":             awsproto.Handle(a.createLoadBalancer),
			"DescribeLoadBalancers":          awsproto.Handle(a.describeLoadBalancers),
			"DeleteLoadBalancer":             awsproto.Handle(a.deleteLoadBalancer),
			"DescribeLoadBalancerAttributes": awsproto.Handle(a.describeLoadBalancerAttributes),
			"ModifyLoadBalancerAttributes":   awsproto.Handle(a.modifyLoadBalancerAttributes),
			"CreateTargetGroup":              awsproto.Handle(a.createTargetGroup),
			"DescribeTargetGroups":           awsproto.Handle(a.describeTargetGroups),
			"ModifyTargetGroup":              awsproto.Handle(a.modifyTargetGroup),
			"DeleteTargetGroup":              awsproto.Handle(a.deleteTargetGroup),
			"DescribeTargetGroupAttributes":  awsproto.Handle(a.describeTargetGroupAttributes),
			"ModifyTargetGroupAttributes":    awsproto.Handle(a.modifyTargetGroupAttributes),
			"RegisterTargets":                awsproto.Handle(a.registerTargets),
			"DeregisterTargets":              awsproto.Handle(a.deregisterTargets),
			"DescribeTargetHealth":           awsproto.Handle(a.describeTargetHealth),
			"CreateListener":                 awsproto.Handle(a.createListener),
			"DescribeListeners":              awsproto.Handle(a.describeListeners),
			"ModifyListener":                 awsproto.Handle(a.modifyListener),
			"DeleteListener":                 awsproto.Handle(a.deleteListener),
			"CreateRule":                     awsproto.Handle(a.createRule),
			"DescribeRules":                  awsproto.Handle(a.describeRules),
			"ModifyRule":                     awsproto.Handle(a.modifyRule),
			"DeleteRule":                     awsproto.Handle(a.deleteRule),
			"SetRulePriorities":              awsproto.Handle(a.setRulePriorities),
			"AddTags":                        awsproto.Handle(a.addTags),
			"RemoveTags":                     awsproto.Handle(a.removeTags),
			"DescribeTags":                   awsproto.Handle(a.describeTags),
			"DescribeSSLPolicies":            awsproto.Handle(a.describeSSLPolicies),
			"AddListenerCertificates":        awsproto.Handle(a.addListenerCertificates),
			"RemoveListenerCertificates":     awsproto.Handle(a.removeListenerCertificates),
			"DescribeListenerCertificates":   awsproto.Handle(a.describeListenerCertificates),
		},
	}
	return a, svc
}

func (a *API) scope(c *awsproto.Call) elb.Scope {
	return elb.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// page returns the items of one Describe page (PageSize 1-400, default
// 400) and the NextMarker.
func page[T any](items []T, marker string, pageSize *int) ([]T, string, error) {
	n, ok := awsproto.PageSize(pageSize, 400, 400)
	if !ok {
		return nil, "", elb.Validationf("Page size %d is not valid; it must be from 1 to 400", *pageSize)
	}
	out, next, ok := awsproto.Page(items, marker, n)
	if !ok {
		return nil, "", elb.Validationf("The marker '%s' is not valid; pass the NextMarker of the previous page", marker)
	}
	return out, next, nil
}
