package iamapi

import (
	"log/slog"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

// Namespaces of the response documents.
const (
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// faults maps berth's error model to IAM and STS exceptions; the plane
// names most codes itself.
var faults = awsproto.FaultTable{
	Client: "InvalidInput",
	Server: "ServiceFailure",
	Codes: map[fault.Kind]string{
		fault.NotFound:         iam.CodeNoSuchEntity,
		fault.AlreadyExists:    iam.CodeEntityAlreadyExists,
		fault.InvalidParameter: iam.CodeValidation,
		fault.InUse:            iam.CodeDeleteConflict,
		fault.LimitExceeded:    iam.CodeLimitExceeded,
		fault.AccessDenied:     iam.CodeAccessDenied,
	},
}

// Config configures the APIs.
type Config struct {
	Plane  *iamcp.Plane
	Logger *slog.Logger
}

// API holds the IAM and STS handlers.
type API struct {
	plane *iamcp.Plane
	log   *slog.Logger
}

// New returns the API and its two awsproto services: IAM (signing name
// "iam") and STS ("sts").
func New(cfg Config) (*API, *awsproto.Service, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger}
	iamSvc := &awsproto.Service{SigningName: "iam", Protocol: awsproto.Query, XMLNamespace: IAMNamespace, MapError: mapError, Ops: a.iamOps()}
	stsSvc := &awsproto.Service{SigningName: "sts", Protocol: awsproto.Query, XMLNamespace: STSNamespace, MapError: mapError, Ops: map[string]awsproto.Op{
		"GetCallerIdentity": awsproto.Handle(a.getCallerIdentity),
		"AssumeRole":        awsproto.Handle(a.assumeRole),
		"GetSessionToken":   awsproto.Handle(a.getSessionToken),
	}}
	return a, iamSvc, stsSvc
}

// mapError maps faults; a denied call is AccessDenied on awsQuery.
func mapError(err error) *awsproto.Error {
	e := faults.Map(err)
	if e.Code == iamcp.CodeAccessDeniedJSON || e.Code == iam.CodeAccessDenied {
		e.Code, e.Status = iam.CodeAccessDenied, 403
	}
	if e.Code == iam.CodeNoSuchEntity {
		e.Status = 404
	}
	if e.Code == iam.CodeEntityAlreadyExists || e.Code == iam.CodeDeleteConflict {
		e.Status = 409
	}
	return e
}

func caller(c *awsproto.Call) iamcp.Caller {
	return iamcp.Caller{Account: c.Account, Principal: c.Principal, PrincipalID: c.PrincipalID, AccessKey: c.AccessKey}
}

// page returns one page of items (MaxItems 1-1000, default 100) and the
// Marker of the next.
func page[T any](items []T, marker string, maxItems *int) ([]T, string, error) {
	n, ok := awsproto.PageSize(maxItems, 100, 1000)
	if !ok {
		return nil, "", iam.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *maxItems)
	}
	out, next, ok := awsproto.Page(items, marker, n)
	if !ok {
		return nil, "", iam.Validation("Invalid Marker %q: pass the Marker of the previous page.", marker)
	}
	return out, next, nil
}

type pageIn struct {
	Marker   string
	MaxItems *int
}

type empty struct{}
