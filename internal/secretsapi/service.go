package secretsapi

import (
	"log/slog"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretscp"
)

var smFaults = awsproto.FaultTable{
	Client: secrets.CodeInvalidParameter,
	Server: "InternalServiceError",
	Codes: map[fault.Kind]string{
		fault.NotFound:         secrets.CodeResourceNotFound,
		fault.AlreadyExists:    secrets.CodeResourceExists,
		fault.InvalidParameter: secrets.CodeInvalidParameter,
		fault.Invalid:          secrets.CodeInvalidRequest,
		fault.LimitExceeded:    secrets.CodeLimitExceeded,
		fault.AccessDenied:     "AccessDeniedException",
	},
}

var ssmFaults = awsproto.FaultTable{
	Client: secrets.CodeValidation,
	Server: "InternalServerError",
	Codes: map[fault.Kind]string{
		fault.NotFound:         secrets.CodeParameterNotFound,
		fault.AlreadyExists:    secrets.CodeParameterExists,
		fault.InvalidParameter: secrets.CodeValidation,
		fault.AccessDenied:     "AccessDeniedException",
	},
}

// Config configures the APIs.
type Config struct {
	Plane  *secretscp.Plane
	Logger *slog.Logger
}

// API holds the handlers.
type API struct {
	plane *secretscp.Plane
	log   *slog.Logger
}

// New returns the API and its two services: Secrets Manager (signing name
// "secretsmanager") and SSM ("ssm").
func New(cfg Config) (*API, *awsproto.Service, *awsproto.Service) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger}
	sm := &awsproto.Service{SigningName: "secretsmanager", Protocol: awsproto.JSON11, TargetPrefix: "secretsmanager", MapError: smFaults.Map,
		ErrorMessageKey: func(string) string { return "Message" },
		Ops: map[string]awsproto.Op{
			"CreateSecret":             awsproto.Handle(a.createSecret),
			"GetSecretValue":           awsproto.Handle(a.getSecretValue),
			"BatchGetSecretValue":      awsproto.Handle(a.batchGetSecretValue),
			"PutSecretValue":           awsproto.Handle(a.putSecretValue),
			"UpdateSecret":             awsproto.Handle(a.updateSecret),
			"DescribeSecret":           awsproto.Handle(a.describeSecret),
			"ListSecrets":              awsproto.Handle(a.listSecrets),
			"ListSecretVersionIds":     awsproto.Handle(a.listSecretVersionIds),
			"DeleteSecret":             awsproto.Handle(a.deleteSecret),
			"RestoreSecret":            awsproto.Handle(a.restoreSecret),
			"TagResource":              awsproto.Handle(a.tagSecret),
			"UntagResource":            awsproto.Handle(a.untagSecret),
			"PutResourcePolicy":        awsproto.Handle(a.putResourcePolicy),
			"GetResourcePolicy":        awsproto.Handle(a.getResourcePolicy),
			"DeleteResourcePolicy":     awsproto.Handle(a.deleteResourcePolicy),
			"ValidateResourcePolicy":   awsproto.Handle(a.validateResourcePolicy),
			"UpdateSecretVersionStage": awsproto.Handle(a.updateSecretVersionStage),
		}}
	ssm := &awsproto.Service{SigningName: "ssm", Protocol: awsproto.JSON11, TargetPrefix: "AmazonSSM", MapError: ssmFaults.Map,
		ErrorMessageKey: ssmMessageKey,
		Ops: map[string]awsproto.Op{
			"PutParameter":            awsproto.Handle(a.putParameter),
			"GetParameter":            awsproto.Handle(a.getParameter),
			"GetParameters":           awsproto.Handle(a.getParameters),
			"GetParametersByPath":     awsproto.Handle(a.getParametersByPath),
			"GetParameterHistory":     awsproto.Handle(a.getParameterHistory),
			"DescribeParameters":      awsproto.Handle(a.describeParameters),
			"DeleteParameter":         awsproto.Handle(a.deleteParameter),
			"DeleteParameters":        awsproto.Handle(a.deleteParameters),
			"LabelParameterVersion":   awsproto.Handle(a.labelParameterVersion),
			"UnlabelParameterVersion": awsproto.Handle(a.unlabelParameterVersion),
			"AddTagsToResource":       awsproto.Handle(a.addTagsToResource),
			"RemoveTagsFromResource":  awsproto.Handle(a.removeTagsFromResource),
			"ListTagsForResource":     awsproto.Handle(a.listTagsForResource),
		}}
	return a, sm, ssm
}

// ssmMessageKey: SSM's error shapes name their message "message", and a
// few (the filter errors) have none.
func ssmMessageKey(code string) string {
	switch code {
	case secrets.CodeInvalidFilterKey:
		return ""
	}
	return "message"
}

func scope(c *awsproto.Call) secrets.Scope {
	return secrets.Scope{Account: c.Account, Region: c.Region}
}

// secretScope is the account and region of the secret a call names: its
// ARN's (another account's secret, which its resource policy may share),
// else the caller's.
func secretScope(c *awsproto.Call, id string) secrets.Scope {
	if parts := strings.SplitN(id, ":", 7); len(parts) == 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[3] != "" && parts[4] != "" {
		return secrets.Scope{Account: parts[4], Region: parts[3]}
	}
	return scope(c)
}

type wTag struct {
	Key   string
	Value string
}

func tagsIn(in []wTag) []secrets.Tag {
	out := make([]secrets.Tag, len(in))
	for i, t := range in {
		out[i] = secrets.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func tagsOut(in []secrets.Tag) []wTag {
	if len(in) == 0 {
		return nil
	}
	out := make([]wTag, len(in))
	for i, t := range in {
		out[i] = wTag{Key: t.Key, Value: t.Value}
	}
	return out
}

// page returns one page and the token of the next; max is the
// operation's limit when maxResults is 0.
func page[T any](items []T, token string, maxResults, max int, invalidToken func() error) ([]T, string, error) {
	n := max
	if maxResults > 0 {
		n = min(maxResults, max)
	}
	out, next, ok := awsproto.Page(items, token, n)
	if !ok {
		return nil, "", invalidToken()
	}
	return out, next, nil
}
