package appscalingapi

import (
	"log/slog"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingcp"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// TargetPrefix is the X-Amz-Target prefix of Application Auto Scaling.
const TargetPrefix = "AnyScaleFrontendService"

// faults maps berth's error model to Application Auto Scaling
// exceptions; the domain sets most codes itself.
var faults = awsproto.FaultTable{
	Client: appscaling.CodeValidation,
	Server: appscaling.CodeInternal,
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: appscaling.CodeValidation,
		fault.Invalid:          appscaling.CodeValidation,
		fault.NotFound:         appscaling.CodeObjectNotFound,
		fault.LimitExceeded:    appscaling.CodeLimitExceeded,
		fault.Conflict:         appscaling.CodeConcurrentUpdate,
		fault.Unsupported:      appscaling.CodeValidation,
		fault.AccessDenied:     "AccessDeniedException",
	},
}

// Config configures the API.
type Config struct {
	Plane          *appscalingcp.Plane
	Logger         *slog.Logger
	DefaultAccount string
}

// API holds the handlers.
type API struct {
	plane          *appscalingcp.Plane
	log            *slog.Logger
	defaultAccount string
}

// New returns the API and its awsproto service.
func New(cfg Config) (*API, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger, defaultAccount: cfg.DefaultAccount}
	svc := &awsproto.Service{
		SigningName:  "application-autoscaling",
		Protocol:     awsproto.JSON11,
		TargetPrefix: TargetPrefix,
		MapError:     faults.Map,
		// The model's exceptions name their message "Message".
		ErrorMessageKey: func(string) string { return "Message" },
		Ops: map[string]awsproto.Op{
			"RegisterScalableTarget":    awsproto.Handle(a.registerScalableTarget),
			"DeregisterScalableTarget":  awsproto.Handle(a.deregisterScalableTarget),
			"DescribeScalableTargets":   awsproto.Handle(a.describeScalableTargets),
			"PutScalingPolicy":          awsproto.Handle(a.putScalingPolicy),
			"DeleteScalingPolicy":       awsproto.Handle(a.deleteScalingPolicy),
			"DescribeScalingPolicies":   awsproto.Handle(a.describeScalingPolicies),
			"DescribeScalingActivities": awsproto.Handle(a.describeScalingActivities),
			"PutScheduledAction":        awsproto.Handle(a.putScheduledAction),
			"DeleteScheduledAction":     awsproto.Handle(a.deleteScheduledAction),
			"DescribeScheduledActions":  awsproto.Handle(a.describeScheduledActions),
			"TagResource":               awsproto.Handle(a.tagResource),
			"UntagResource":             awsproto.Handle(a.untagResource),
			"ListTagsForResource":       awsproto.Handle(a.listTagsForResource),
		},
	}
	return a, svc
}

func (a *API) scope(c *awsproto.Call) appscaling.Scope {
	return appscaling.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// page returns one page of items (MaxResults 1-50, default 50) and the
// NextToken of the next.
func page[T any](items []T, token string, maxResults *int) ([]T, string, error) {
	n, ok := awsproto.PageSize(maxResults, 50, 50)
	if !ok {
		return nil, "", appscaling.Validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50", *maxResults)
	}
	out, next, ok := awsproto.Page(items, token, n)
	if !ok {
		return nil, "", appscaling.Validationf("Invalid NextToken %s; pass the NextToken of the previous page", token)
	}
	return out, next, nil
}
