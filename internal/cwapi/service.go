package cwapi

import (
	"log/slog"
	"net/http"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/fault"
)

// Namespace is the XML namespace of awsQuery responses.
const Namespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"

// ServiceShape is the Smithy service name (awsJson target prefix and
// rpc-v2-cbor path segment).
const ServiceShape = "GraniteServiceVersion20100801"

var faults = awsproto.FaultTable{
	Client: cw.CodeInvalidParameterValue,
	Server: cw.CodeInternal,
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: cw.CodeInvalidParameterValue,
		fault.Invalid:          cw.CodeInvalidParameterValue,
		fault.NotFound:         cw.CodeResourceNotFound,
		fault.LimitExceeded:    cw.CodeLimitExceeded,
	},
}

// errorShapes maps awsQuery codes to the model's error shape names, sent
// as __type over JSON and CBOR.
var errorShapes = map[string]string{
	cw.CodeInvalidParameterValue:       "InvalidParameterValueException",
	cw.CodeMissingParameter:            "MissingRequiredParameterException",
	cw.CodeInvalidParameterCombination: "InvalidParameterCombinationException",
	cw.CodeResourceNotFound:            "ResourceNotFound",
	cw.CodeInvalidNextToken:            "InvalidNextToken",
	cw.CodeLimitExceeded:               "LimitExceededFault",
	cw.CodeInvalidFormat:               "InvalidFormatFault",
	cw.CodeInternal:                    "InternalServiceFault",
}

func mapError(err error) *awsproto.Error {
	e := faults.Map(err)
	switch e.Code {
	case cw.CodeResourceNotFound:
		e.Status = http.StatusNotFound
	case "InternalFailure":
		e.Code = cw.CodeInternal
	}
	return e
}

// Config configures the API.
type Config struct {
	Plane          *cwcp.Plane
	Logger         *slog.Logger
	DefaultAccount string
}

// API holds the CloudWatch handlers.
type API struct {
	plane          *cwcp.Plane
	log            *slog.Logger
	defaultAccount string
}

// New returns the API and its awsproto service (signing name
// "monitoring"; awsQuery, awsJson1.0 and smithy-rpc-v2-cbor).
func New(cfg Config) (*API, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger, defaultAccount: cfg.DefaultAccount}
	svc := &awsproto.Service{
		SigningName:  "monitoring",
		Protocol:     awsproto.Query,
		XMLNamespace: Namespace,
		TargetPrefix: ServiceShape,
		RPCv2Service: ServiceShape,
		ErrorShapes:  errorShapes,
		MapError:     mapError,
		Ops: map[string]awsproto.Op{
			"PutMetricData":           awsproto.Handle(a.putMetricData),
			"GetMetricStatistics":     awsproto.Handle(a.getMetricStatistics),
			"GetMetricData":           awsproto.Handle(a.getMetricData),
			"ListMetrics":             awsproto.Handle(a.listMetrics),
			"PutMetricAlarm":          awsproto.Handle(a.putMetricAlarm),
			"PutCompositeAlarm":       awsproto.Handle(a.putCompositeAlarm),
			"DescribeAlarms":          awsproto.Handle(a.describeAlarms),
			"DescribeAlarmsForMetric": awsproto.Handle(a.describeAlarmsForMetric),
			"DescribeAlarmHistory":    awsproto.Handle(a.describeAlarmHistory),
			"DeleteAlarms":            awsproto.Handle(a.deleteAlarms),
			"EnableAlarmActions":      awsproto.Handle(a.enableAlarmActions),
			"DisableAlarmActions":     awsproto.Handle(a.disableAlarmActions),
			"SetAlarmState":           awsproto.Handle(a.setAlarmState),
		},
	}
	return a, svc
}

func (a *API) scope(c *awsproto.Call) cw.Scope {
	return cw.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// page returns one page of items and the NextToken of the next.
func page[T any](items []T, token string, size int) ([]T, string, error) {
	out, next, ok := awsproto.Page(items, token, size)
	if !ok {
		return nil, "", fault.New(fault.InvalidParameter, "The NextToken %q is not valid; pass the NextToken of the previous page.", token).WithCode(cw.CodeInvalidNextToken)
	}
	return out, next, nil
}
