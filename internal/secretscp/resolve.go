package secretscp

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
)

// Resolve returns the value a task definition's `secrets[].valueFrom`
// names, as the ECS agent injects it: a Secrets Manager secret (its
// AWSCURRENT value, or the version stage or ID of the
// arn:...:secret:name:json-key:version-stage:version-id form, and the
// JSON key of it), or an SSM parameter (SecureString decrypted), by ARN
// or name. task is the scope of the task (its account and region). The
// error says what could not be read, as ECS's reason does after
// "ResourceInitializationError: unable to pull secrets or registry auth: ".
func (p *Plane) Resolve(ctx context.Context, task secrets.Scope, valueFrom string) (string, error) {
	ref, ok := secrets.ParseValueFrom(task, valueFrom)
	if !ok {
		return "", fault.New(fault.InvalidParameter, "invalid valueFrom %q: it must be a Secrets Manager secret or SSM parameter ARN, or a name", valueFrom)
	}
	switch ref.Kind {
	case "parameter":
		return p.resolveParam(ctx, ref)
	case "secret":
		return p.resolveSecret(ctx, ref, valueFrom)
	}
	// A bare name: a parameter if there is one, else a secret.
	v, err := p.resolveParam(ctx, ref)
	if err == nil || !fault.Is(err, fault.NotFound) {
		return v, err
	}
	return p.resolveSecret(ctx, ref, valueFrom)
}

func (p *Plane) resolveParam(ctx context.Context, ref secrets.Ref) (string, error) {
	var err error
	for _, name := range secrets.ParameterNames(ref.ID) {
		var sel Selected
		if sel, err = p.GetParameter(ctx, ref.Scope, name); err == nil {
			return sel.Version.Value, nil
		}
		if !fault.Is(err, fault.NotFound) {
			return "", err
		}
	}
	return "", fault.NotFoundf("parameter", "ssm parameter %s not found in %s: invalid parameters: %s", ref.ID, ref.Scope.Region, ref.ID)
}

func (p *Plane) resolveSecret(ctx context.Context, ref secrets.Ref, valueFrom string) (string, error) {
	_, v, err := p.GetSecretValue(ctx, ref.Scope, ref.ID, ref.VersionID, ref.VersionStage)
	if err != nil {
		return "", fmt.Errorf("retrieving secret from secrets manager %s: %w", valueFrom, err)
	}
	if ref.JSONKey == "" {
		if v.String != nil {
			return *v.String, nil
		}
		return string(v.Binary), nil
	}
	if v.String == nil {
		return "", fault.New(fault.Invalid, "secret %s: the json key %s cannot be read from a binary secret", valueFrom, ref.JSONKey)
	}
	val, err := secrets.JSONKey(*v.String, ref.JSONKey)
	if err != nil {
		return "", fault.New(fault.Invalid, "secret %s: %v", valueFrom, err)
	}
	return val, nil
}
