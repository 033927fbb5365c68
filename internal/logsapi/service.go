package logsapi

import (
	"log/slog"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logscp"
)

// TargetPrefix is the X-Amz-Target prefix of CloudWatch Logs.
const TargetPrefix = "Logs_20140328"

// faults maps berth's error model to CloudWatch Logs exceptions; the
// domain sets most codes itself.
var faults = awsproto.FaultTable{
	Client: "InvalidParameterException",
	Server: "ServiceUnavailableException",
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: logs.CodeInvalidParameter,
		fault.Invalid:          logs.CodeInvalidParameter,
		fault.NotFound:         logs.CodeResourceNotFound,
		fault.AlreadyExists:    logs.CodeResourceAlreadyExists,
		fault.LimitExceeded:    logs.CodeLimitExceeded,
		fault.AccessDenied:     "AccessDeniedException",
		fault.Unsupported:      logs.CodeInvalidOperation,
	},
}

// Config configures the API.
type Config struct {
	Plane          *logscp.Plane
	Logger         *slog.Logger
	DefaultAccount string
}

// API holds the Logs handlers.
type API struct {
	plane          *logscp.Plane
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
		SigningName:  "logs",
		Protocol:     awsproto.JSON11,
		TargetPrefix: TargetPrefix,
		MapError:     faults.Map,
		Ops: map[string]awsproto.Op{
			"CreateLogGroup":        awsproto.Handle(a.createLogGroup),
			"DeleteLogGroup":        awsproto.Handle(a.deleteLogGroup),
			"DescribeLogGroups":     awsproto.Handle(a.describeLogGroups),
			"PutRetentionPolicy":    awsproto.Handle(a.putRetentionPolicy),
			"DeleteRetentionPolicy": awsproto.Handle(a.deleteRetentionPolicy),
			"TagLogGroup":           awsproto.Handle(a.tagLogGroup),
			"UntagLogGroup":         awsproto.Handle(a.untagLogGroup),
			"ListTagsLogGroup":      awsproto.Handle(a.listTagsLogGroup),
			"TagResource":           awsproto.Handle(a.tagResource),
			"UntagResource":         awsproto.Handle(a.untagResource),
			"ListTagsForResource":   awsproto.Handle(a.listTagsForResource),
			"CreateLogStream":       awsproto.Handle(a.createLogStream),
			"DeleteLogStream":       awsproto.Handle(a.deleteLogStream),
			"DescribeLogStreams":    awsproto.Handle(a.describeLogStreams),
			"PutLogEvents":          awsproto.Handle(a.putLogEvents),
			"GetLogEvents":          awsproto.Handle(a.getLogEvents),
			"FilterLogEvents":       awsproto.Handle(a.filterLogEvents),
			"StartLiveTail":         awsproto.Handle(a.startLiveTail),
		},
	}
	return a, svc
}

func (a *API) scope(c *awsproto.Call) logs.Scope {
	return logs.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// missing is AWS's error for a required member left out.
func missing(member string) error {
	return logs.Invalidf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// groupOf resolves logGroupName / logGroupIdentifier (a name or an ARN).
func groupOf(name, ident string) (string, error) {
	if name != "" && ident != "" {
		return "", logs.Invalidf("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	}
	if ident != "" {
		return groupFromARN(ident), nil
	}
	if name == "" {
		return "", missing("logGroupName")
	}
	return name, nil
}

// groupFromARN returns the group name of a log group ARN (with or without
// the trailing ":*"), or s itself if it is not an ARN.
func groupFromARN(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	parts := strings.SplitN(s, ":", 7)
	if len(parts) < 7 || parts[5] != "log-group" {
		return s
	}
	return strings.TrimSuffix(parts[6], ":*")
}

// page returns one page of a list (limit 1-50, default 50) and the
// nextToken of the next, nil after the last.
func page[T any](items []T, token string, limit *int) ([]T, *string, error) {
	n, ok := awsproto.PageSize(limit, 50, 50)
	if !ok {
		return nil, nil, logs.Invalidf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50", *limit)
	}
	out, next, ok := awsproto.Page(items, token, n)
	if !ok {
		return nil, nil, logs.Invalidf("The specified nextToken is invalid.")
	}
	if next == "" {
		return out, nil, nil
	}
	return out, &next, nil
}
