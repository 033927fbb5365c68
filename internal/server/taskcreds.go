package server

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

// Task role credentials: agents call GetTaskRoleCredentials (awsJson1.1,
// signing name "berthagent", SigV4 with the agent's credentials, as ECS
// agents receive theirs over ACS); the server looks the task and its role
// up itself and assumes the role as ecs-tasks.amazonaws.com through the
// IAM plane, so the role's trust policy decides.

// AgentTargetPrefix is the X-Amz-Target prefix of berth's agent service.
const AgentTargetPrefix = "BerthAgent_20261207"

// ecsTasksPrincipal is the service principal tasks' roles trust.
const ecsTasksPrincipal = "ecs-tasks.amazonaws.com"

// taskRoleSessionDuration is how long issued task credentials last.
const taskRoleSessionDuration = time.Hour

type taskCreds struct {
	plane *ecscp.Plane
	iam   *iamcp.Plane
}

var agentFaults = awsproto.FaultTable{Client: "ClientException", Server: "ServerException",
	Codes: map[fault.Kind]string{fault.NotFound: "ClientException", fault.AccessDenied: "AccessDeniedException"}}

func newTaskCredsService(plane *ecscp.Plane, iam *iamcp.Plane) *awsproto.Service {
	tc := &taskCreds{plane: plane, iam: iam}
	return &awsproto.Service{
		SigningName: "berthagent", Protocol: awsproto.JSON11, TargetPrefix: AgentTargetPrefix, MapError: agentFaults.Map,
		Ops: map[string]awsproto.Op{"GetTaskRoleCredentials": awsproto.Handle(tc.get),
			"GetExecutionRoleCredentials": awsproto.Handle(tc.getExecution)},
	}
}

type taskCredsIn struct {
	TaskArn string `json:"taskArn"`
}

type taskCredsOut struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyId     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func (tc *taskCreds) get(ctx context.Context, _ *awsproto.Call, in *taskCredsIn) (any, error) {
	p, ok := ecs.ParseARN(in.TaskArn)
	if !ok || !strings.HasPrefix(p.Resource, "task/") {
		return nil, fault.New(fault.InvalidParameter, "taskArn %q is not a task ARN", in.TaskArn)
	}
	parts := strings.Split(p.Resource, "/")
	if len(parts) != 3 {
		return nil, fault.New(fault.InvalidParameter, "taskArn %q is not a task ARN", in.TaskArn)
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	tasks, _, err := tc.plane.DescribeTasks(ctx, sc, parts[1], []string{in.TaskArn}, false)
	if err != nil {
		return nil, err
	}
	if len(tasks) != 1 {
		return nil, fault.New(fault.NotFound, "task %s not found", in.TaskArn)
	}
	t := tasks[0].Task
	if t.LastStatus == ecs.TaskStopped {
		return nil, fault.New(fault.AccessDenied, "task %s has stopped: its credentials are no longer issued", in.TaskArn)
	}
	role := t.Overrides.TaskRoleARN
	if role == "" {
		td, err := tc.plane.LookupTaskDefinition(ctx, sc, t.TaskDefinitionARN)
		if err != nil {
			return nil, err
		}
		role = td.TaskRoleARN
	}
	if role == "" {
		return nil, fault.New(fault.InvalidParameter, "task %s has no task role", in.TaskArn)
	}
	sess, _, err := tc.iam.AssumeRoleForService(ctx, ecsTasksPrincipal, role, parts[2], taskRoleSessionDuration)
	if err != nil {
		return nil, err
	}
	return &taskCredsOut{RoleArn: role, AccessKeyId: sess.AccessKeyID, SecretAccessKey: sess.Secret, Token: sess.Token,
		Expiration: sess.Expires.UTC().Format(time.RFC3339)}, nil
}

// executionRoleSessionDuration is how long execution role sessions last.
const executionRoleSessionDuration = time.Hour

// getExecution issues a task's execution role credentials, with which an
// agent fetches the task's secrets, gets registry auth for its ECR images
// and writes its awslogs output.
func (tc *taskCreds) getExecution(ctx context.Context, _ *awsproto.Call, in *taskCredsIn) (any, error) {
	sess, role, err := assumeExecutionRole(ctx, tc.plane, tc.iam, in.TaskArn)
	if err != nil {
		return nil, err
	}
	return &taskCredsOut{RoleArn: role, AccessKeyId: sess.AccessKeyID, SecretAccessKey: sess.Secret, Token: sess.Token,
		Expiration: sess.Expires.UTC().Format(time.RFC3339)}, nil
}

// assumeExecutionRole assumes a task's execution role (its override, else
// its definition's) as ecs-tasks.amazonaws.com. Its errors carry ECS's
// words for a task without one or whose role cannot be assumed.
func assumeExecutionRole(ctx context.Context, plane *ecscp.Plane, ip *iamcp.Plane, taskARN string) (*iam.Session, string, error) {
	p, ok := ecs.ParseARN(taskARN)
	parts := strings.Split(p.Resource, "/")
	if !ok || len(parts) != 3 || parts[0] != "task" {
		return nil, "", fault.New(fault.InvalidParameter, "taskArn %q is not a task ARN", taskARN)
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	tasks, _, err := plane.DescribeTasks(ctx, sc, parts[1], []string{taskARN}, false)
	if err != nil {
		return nil, "", err
	}
	if len(tasks) != 1 {
		return nil, "", fault.New(fault.NotFound, "task %s not found", taskARN)
	}
	// A stopped task's execution role is still issued: its agent ships
	// the containers' last log lines as that role.
	t := tasks[0].Task
	role := t.Overrides.ExecutionRoleARN
	if role == "" {
		td, err := plane.LookupTaskDefinition(ctx, sc, t.TaskDefinitionARN)
		if err != nil {
			return nil, "", err
		}
		role = td.ExecutionRoleARN
	}
	if role == "" {
		return nil, "", fault.New(fault.InvalidParameter, "the task has no execution role: secrets, ECR images and the awslogs driver need the task definition's executionRoleArn")
	}
	sess, _, err := ip.AssumeRoleForService(ctx, ecsTasksPrincipal, role, parts[2], executionRoleSessionDuration)
	if err != nil {
		if fault.Is(err, fault.AccessDenied) || fault.Is(err, fault.InvalidParameter) {
			return nil, "", fault.New(fault.AccessDenied, "ECS was unable to assume the role '%s' that was provided for this task. "+
				"Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", role)
		}
		return nil, "", err
	}
	return sess, role, nil
}
