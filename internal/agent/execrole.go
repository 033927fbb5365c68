package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-dev/berth/internal/runner"
)

// execRoles holds the tasks' execution role credentials, with which the
// agent does what ECS's agent does as that role: fetch the task's
// secrets, get ECR registry auth for its images and write its awslogs
// output. They come from the server (GetExecutionRoleCredentials: the
// role assumed as ecs-tasks.amazonaws.com, so the trust policy decides,
// and with --enforce-iam the role's policies decide each call) and are
// fetched again 15 minutes before they expire; credentials still valid
// are used when a new fetch fails (a stopped task's last log lines).
type execRoles struct {
	api *apiClient
	// instance is the agent's container instance ARN, which the server
	// checks hosts the task.
	instance func() string

	mu     sync.Mutex
	byTask map[string]aws.Credentials
}

func newExecRoles(api *apiClient, instance func() string) *execRoles {
	return &execRoles{api: api, instance: instance, byTask: map[string]aws.Credentials{}}
}

// client returns an API client that signs as the task's execution role.
// Its error wraps runner.ErrExecutionRole with the server's reason.
func (e *execRoles) client(ctx context.Context, taskARN string) (*apiClient, error) {
	now := time.Now()
	e.mu.Lock()
	c, ok := e.byTask[taskARN]
	e.mu.Unlock()
	if !ok || c.Expires.Sub(now) < credsRefreshAhead {
		fresh, err := e.fetch(ctx, taskARN)
		switch {
		case err == nil:
			c = fresh
			e.mu.Lock()
			for arn, old := range e.byTask {
				if !old.Expires.After(now) {
					delete(e.byTask, arn)
				}
			}
			e.byTask[taskARN] = c
			e.mu.Unlock()
		case !ok || !c.Expires.After(now.Add(time.Minute)):
			return nil, err
		}
	}
	role := *e.api
	role.creds = c
	return &role, nil
}

func (e *execRoles) fetch(ctx context.Context, taskARN string) (aws.Credentials, error) {
	var out roleCreds
	err := e.api.callService(ctx, "berthagent", agentTargetPrefix, "GetExecutionRoleCredentials",
		map[string]string{"taskArn": taskARN, "containerInstanceArn": e.instance()}, &out)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return aws.Credentials{}, fmt.Errorf("%w: %s", runner.ErrExecutionRole, ae.Message)
		}
		return aws.Credentials{}, fmt.Errorf("%w: %w", runner.ErrExecutionRole, err)
	}
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: the credentials' expiration %q: %w", runner.ErrExecutionRole, out.Expiration, err)
	}
	return aws.Credentials{AccessKeyID: out.AccessKeyId, SecretAccessKey: out.SecretAccessKey, SessionToken: out.Token,
		Source: "execution role " + out.RoleArn, CanExpire: true, Expires: exp}, nil
}
