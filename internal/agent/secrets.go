package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/secrets"
)

// apiSecrets resolves a task's `secrets[].valueFrom` through the server's
// Secrets Manager and SSM APIs, signed with the task's execution role
// credentials (GetExecutionRoleCredentials: the role assumed as
// ecs-tasks.amazonaws.com) in the task's region, as the ECS agent does.
type apiSecrets struct {
	roles *execRoles
	api   *apiClient // the role's, in one call of resolve
}

// resolve implements runner.Config.Secrets.
func (s apiSecrets) resolve(ctx context.Context, task *ecs.Task, _ string, refs []ecs.Secret) (map[string]string, error) {
	sc, ok := taskScope(task.ARN)
	if !ok {
		return nil, fmt.Errorf("task ARN %q names no account and region", task.ARN)
	}
	role, err := s.roles.client(ctx, task.ARN)
	if err != nil {
		return nil, err
	}
	s.api = role
	env := make(map[string]string, len(refs))
	for _, r := range refs {
		v, err := s.one(ctx, sc, r.ValueFrom)
		if err != nil {
			return nil, err
		}
		env[r.Name] = v
	}
	return env, nil
}

func (s apiSecrets) one(ctx context.Context, sc secrets.Scope, valueFrom string) (string, error) {
	ref, ok := secrets.ParseValueFrom(sc, valueFrom)
	if !ok {
		return "", fmt.Errorf("invalid valueFrom %q: it must be a Secrets Manager secret or SSM parameter ARN, or a name", valueFrom)
	}
	switch ref.Kind {
	case "parameter":
		return s.parameter(ctx, ref)
	case "secret":
		return s.secret(ctx, ref, valueFrom)
	}
	v, err := s.parameter(ctx, ref)
	var nf *notFound
	if err == nil || !errors.As(err, &nf) {
		return v, err
	}
	return s.secret(ctx, ref, valueFrom)
}

type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

func (s apiSecrets) parameter(ctx context.Context, ref secrets.Ref) (string, error) {
	for _, name := range secrets.ParameterNames(ref.ID) {
		var out struct{ Parameter struct{ Value string } }
		err := s.api.callServiceIn(ctx, ref.Scope.Region, "ssm", "AmazonSSM", "GetParameter", map[string]any{"Name": name, "WithDecryption": true}, &out)
		if err == nil {
			return out.Parameter.Value, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "ParameterNotFound" {
			return "", fmt.Errorf("fetching ssm parameter %s: %w", ref.ID, err)
		}
	}
	return "", &notFound{msg: fmt.Sprintf("ssm parameter %s not found in %s: invalid parameters: %s", ref.ID, ref.Scope.Region, ref.ID)}
}

func (s apiSecrets) secret(ctx context.Context, ref secrets.Ref, valueFrom string) (string, error) {
	in := map[string]any{"SecretId": ref.ID}
	if ref.VersionID != "" {
		in["VersionId"] = ref.VersionID
	}
	if ref.VersionStage != "" {
		in["VersionStage"] = ref.VersionStage
	}
	var out struct {
		SecretString *string
		SecretBinary []byte
	}
	if err := s.api.callServiceIn(ctx, ref.Scope.Region, "secretsmanager", "secretsmanager", "GetSecretValue", in, &out); err != nil {
		return "", fmt.Errorf("retrieving secret from secrets manager %s: %w", valueFrom, err)
	}
	if ref.JSONKey == "" {
		if out.SecretString != nil {
			return *out.SecretString, nil
		}
		return string(out.SecretBinary), nil
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s: the json key %s cannot be read from a binary secret", valueFrom, ref.JSONKey)
	}
	v, err := secrets.JSONKey(*out.SecretString, ref.JSONKey)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", valueFrom, err)
	}
	return v, nil
}

// taskScope reads the account and region of a task ARN.
func taskScope(arn string) (secrets.Scope, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[3] == "" || parts[4] == "" {
		return secrets.Scope{}, false
	}
	return secrets.Scope{Region: parts[3], Account: parts[4]}, true
}
