package eksapi

import (
	"log/slog"
	"net/http"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/ekscp"
	"github.com/berth-dev/berth/internal/fault"
)

// faults maps berth's error model to EKS exceptions; the domain names
// most of them itself (fault.Error.Code).
var faults = awsproto.FaultTable{
	Client: "InvalidParameterException",
	Server: "ServerException",
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: eks.CodeInvalidParameter,
		fault.Invalid:          eks.CodeInvalidRequest,
		fault.NotFound:         eks.CodeNotFound,
		fault.InUse:            eks.CodeResourceInUse,
		fault.AlreadyExists:    eks.CodeResourceInUse,
		fault.LimitExceeded:    eks.CodeLimitExceeded,
		fault.AccessDenied:     "AccessDeniedException",
		fault.Unsupported:      eks.CodeInvalidRequest,
	},
}

// statuses are the HTTP statuses of EKS's exceptions (from its model).
var statuses = map[string]int{
	eks.CodeResourceInUse:   http.StatusConflict,
	eks.CodeNotFound:        http.StatusNotFound,
	eks.CodeTagNotFound:     http.StatusNotFound,
	"AccessDeniedException": http.StatusForbidden,
}

func mapError(err error) *awsproto.Error {
	e := faults.Map(err)
	if s, ok := statuses[e.Code]; ok {
		e.Status = s
	}
	return e
}

// Config configures the API.
type Config struct {
	Plane          *ekscp.Plane
	Logger         *slog.Logger
	DefaultAccount string
}

// API holds the EKS handlers.
type API struct {
	plane          *ekscp.Plane
	log            *slog.Logger
	defaultAccount string
}

// New returns the API and its awsproto service (signing name "eks",
// restJson1).
func New(cfg Config) (*API, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger, defaultAccount: cfg.DefaultAccount}
	ops := map[string]awsproto.Op{}
	var routes []awsproto.Route
	add := func(method, path, op string, fn awsproto.Op) {
		ops[op] = fn
		routes = append(routes, awsproto.Route{Method: method, Path: path, Operation: op})
	}
	const entry = "/clusters/{name}/access-entries/{principalArn}"
	add("POST", "/clusters", "CreateCluster", awsproto.Handle(a.createCluster))
	add("GET", "/clusters", "ListClusters", awsproto.Handle(a.listClusters))
	add("GET", "/clusters/{name}", "DescribeCluster", awsproto.Handle(a.describeCluster))
	add("DELETE", "/clusters/{name}", "DeleteCluster", awsproto.Handle(a.deleteCluster))
	add("POST", "/clusters/{name}/update-config", "UpdateClusterConfig", awsproto.Handle(a.updateClusterConfig))
	add("POST", "/clusters/{name}/updates", "UpdateClusterVersion", awsproto.Handle(a.updateClusterVersion))
	add("GET", "/clusters/{name}/updates", "ListUpdates", awsproto.Handle(a.listUpdates))
	add("GET", "/clusters/{name}/updates/{updateId}", "DescribeUpdate", awsproto.Handle(a.describeUpdate))
	add("GET", "/cluster-versions", "DescribeClusterVersions", awsproto.Handle(a.describeClusterVersions))
	add("POST", "/tags/{resourceArn...}", "TagResource", awsproto.Handle(a.tagResource))
	add("DELETE", "/tags/{resourceArn...}", "UntagResource", awsproto.Handle(a.untagResource))
	add("GET", "/tags/{resourceArn...}", "ListTagsForResource", awsproto.Handle(a.listTags))
	add("POST", "/clusters/{name}/access-entries", "CreateAccessEntry", awsproto.Handle(a.createAccessEntry))
	add("GET", "/clusters/{name}/access-entries", "ListAccessEntries", awsproto.Handle(a.listAccessEntries))
	add("GET", entry, "DescribeAccessEntry", awsproto.Handle(a.describeAccessEntry))
	add("POST", entry, "UpdateAccessEntry", awsproto.Handle(a.updateAccessEntry))
	add("DELETE", entry, "DeleteAccessEntry", awsproto.Handle(a.deleteAccessEntry))
	add("POST", entry+"/access-policies", "AssociateAccessPolicy", awsproto.Handle(a.associateAccessPolicy))
	add("GET", entry+"/access-policies", "ListAssociatedAccessPolicies", awsproto.Handle(a.listAssociatedAccessPolicies))
	add("DELETE", entry+"/access-policies/{policyArn}", "DisassociateAccessPolicy", awsproto.Handle(a.disassociateAccessPolicy))
	add("GET", "/access-policies", "ListAccessPolicies", awsproto.Handle(a.listAccessPolicies))
	svc := &awsproto.Service{
		SigningName: "eks",
		Protocol:    awsproto.RestJSON,
		MapError:    mapError,
		Ops:         ops,
		Routes:      routes,
	}
	return a, svc
}

func (a *API) scope(c *awsproto.Call) eks.Scope {
	return eks.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// page returns one page of items (maxResults 1-100, default 100) and the
// nextToken of the next, nil after the last.
func page[T any](items []T, token string, maxResults *int) ([]T, *string, error) {
	n, ok := awsproto.PageSize(maxResults, 100, 100)
	if !ok {
		return nil, nil, eks.InvalidParameterf("maxResults %d is not valid; it must be from 1 to 100", *maxResults)
	}
	out, next, ok := awsproto.Page(items, token, n)
	if !ok {
		return nil, nil, eks.InvalidParameterf("The nextToken %q is not valid; pass the nextToken of the previous page", token)
	}
	if next == "" {
		return out, nil, nil
	}
	return out, &next, nil
}
