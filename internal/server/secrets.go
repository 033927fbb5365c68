package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/iamcp"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretscp"
	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store"
)

// secretsKeyKey is where servers sharing an etcd store keep the key that
// seals secret values (a server alone keeps it in its data directory).
const secretsKeyKey = "/secrets-key"

// loadSecretsSealer returns the sealer of secret values: its key is
// <data-dir>/secrets.key for a server alone on its store, or a key in the
// shared store that the first server makes, so that every server reads
// what another sealed.
func loadSecretsSealer(ctx context.Context, st store.Store, sole bool, dataDir string) (*secretstore.Sealer, error) {
	var key []byte
	var err error
	if sole {
		key, err = secretstore.LoadKeyFile(filepath.Join(dataDir, "secrets.key"))
	} else {
		key, err = sharedSecretsKey(ctx, st)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return secretstore.NewSealer(key)
}

func sharedSecretsKey(ctx context.Context, st store.Store) ([]byte, error) {
	for range 3 {
		kv, err := st.Get(ctx, secretsKeyKey)
		if err == nil {
			if len(kv.Value) != 32 {
				return nil, fmt.Errorf("%s holds %d bytes, want 32", secretsKeyKey, len(kv.Value))
			}
			return kv.Value, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		_, err = st.Txn(ctx, []store.Compare{{Key: secretsKeyKey}}, []store.Op{{Key: secretsKeyKey, Value: key}})
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("could not create or read the shared secrets key")
}

// SecretsResolver gives a task's containers the values of their
// `secrets[].valueFrom`: the one place where a task's secrets are read,
// so that checks around it (the execution role) wrap one function.
type SecretsResolver interface {
	ResolveSecrets(ctx context.Context, task *ecs.Task, container string, refs []ecs.Secret) (map[string]string, error)
}

// planeSecrets resolves through the Secrets Manager and SSM plane, in the
// task's account and region, after assuming the task's execution role as
// ecs-tasks.amazonaws.com (as the ECS agent fetches secrets with that
// role's credentials): a task without one, or whose role does not trust
// ECS tasks, stops with ECS's reason.
type planeSecrets struct {
	plane *secretscp.Plane
	ecs   *ecscp.Plane
	iam   *iamcp.Plane
}

// ResolveSecrets implements SecretsResolver. The error names the first
// reference that could not be read; the runner prefixes ECS's reason.
func (p planeSecrets) ResolveSecrets(ctx context.Context, task *ecs.Task, _ string, refs []ecs.Secret) (map[string]string, error) {
	sc, ok := taskScope(task.ARN)
	if !ok {
		return nil, fmt.Errorf("task ARN %q names no account and region", task.ARN)
	}
	if err := p.assumeExecutionRole(ctx, task, sc); err != nil {
		return nil, err
	}
	env := make(map[string]string, len(refs))
	for _, r := range refs {
		v, err := p.plane.Resolve(ctx, sc, r.ValueFrom)
		if err != nil {
			return nil, err
		}
		env[r.Name] = v
	}
	return env, nil
}

// assumeExecutionRole assumes the task's execution role as ECS tasks do,
// or says in ECS's words why not.
func (p planeSecrets) assumeExecutionRole(ctx context.Context, task *ecs.Task, _ secrets.Scope) error {
	if p.iam == nil || p.ecs == nil {
		return nil
	}
	_, _, err := assumeExecutionRole(ctx, p.ecs, p.iam, task.ARN)
	if err != nil {
		return fmt.Errorf("execution resource retrieval failed: %w", err)
	}
	return nil
}

// taskScope reads the account and region of a task ARN.
func taskScope(arn string) (secrets.Scope, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[3] == "" || parts[4] == "" {
		return secrets.Scope{}, false
	}
	return secrets.Scope{Region: parts[3], Account: parts[4]}, true
}
