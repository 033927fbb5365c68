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
// IAM plane, so the role's trust policy decides. Both calls name the
// agent's container instance, and only the instance that hosts the task
// (in the caller's account) is answered: on AWS a task's credentials go
// only to the ACS session of its instance (ecs:Poll on it); an agent
// asking for another instance's task gets AccessDeniedException.

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
	TaskArn              string `json:"taskArn"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
}

type taskCredsOut struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyId     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func (tc *taskCreds) get(ctx context.Context, c *awsproto.Call, in *taskCredsIn) (any, error) {
	t, sc, taskID, err := hostedTask(ctx, tc.plane, c, in)
	if err != nil {
		return nil, err
	}
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
	sess, _, err := tc.iam.AssumeRoleForService(ctx, ecsTasksPrincipal, role, taskID, taskRoleSessionDuration)
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
func (tc *taskCreds) getExecution(ctx context.Context, c *awsproto.Call, in *taskCredsIn) (any, error) {
	t, sc, taskID, err := hostedTask(ctx, tc.plane, c, in)
	if err != nil {
		return nil, err
	}
	sess, role, err := assumeExecutionRole(ctx, tc.plane, tc.iam, sc, t, taskID)
	if err != nil {
		return nil, err
	}
	return &taskCredsOut{RoleArn: role, AccessKeyId: sess.AccessKeyID, SecretAccessKey: sess.Secret, Token: sess.Token,
		Expiration: sess.Expires.UTC().Format(time.RFC3339)}, nil
}

// hostedTask returns the task a credentials call names, once it knows the
// call comes from the agent of the instance that hosts it: the caller's
// account owns the task and the task runs on the instance the call names.
func hostedTask(ctx context.Context, plane *ecscp.Plane, c *awsproto.Call, in *taskCredsIn) (*ecs.Task, ecs.Scope, string, error) {
	p, ok := ecs.ParseARN(in.TaskArn)
	parts := strings.Split(p.Resource, "/")
	if !ok || len(parts) != 3 || parts[0] != "task" {
		return nil, ecs.Scope{}, "", fault.New(fault.InvalidParameter, "taskArn %q is not a task ARN", in.TaskArn)
	}
	if in.ContainerInstanceArn == "" {
		return nil, ecs.Scope{}, "", fault.New(fault.InvalidParameter, "containerInstanceArn is required: task credentials go only to the agent of the instance that hosts the task")
	}
	denied := func() error {
		return fault.New(fault.AccessDenied, "Container instance %s does not host task %s: a task's credentials go only to the agent of the instance that runs it.",
			in.ContainerInstanceArn, in.TaskArn)
	}
	if c != nil && c.Account != "" && c.Account != p.Account {
		return nil, ecs.Scope{}, "", denied()
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	tasks, _, err := plane.DescribeTasks(ctx, sc, parts[1], []string{in.TaskArn}, false)
	if err != nil {
		return nil, ecs.Scope{}, "", err
	}
	if len(tasks) != 1 {
		return nil, ecs.Scope{}, "", fault.New(fault.NotFound, "task %s not found", in.TaskArn)
	}
	t := tasks[0].Task
	if t.ContainerInstanceARN == "" || t.ContainerInstanceARN != in.ContainerInstanceArn {
		return nil, ecs.Scope{}, "", denied()
	}
	return t, sc, parts[2], nil
}

// assumeExecutionRole assumes task t's execution role (its override, else
// its definition's) as ecs-tasks.amazonaws.com. Its errors carry ECS's
// words for a task without one or whose role cannot be assumed.
func assumeExecutionRole(ctx context.Context, plane *ecscp.Plane, ip *iamcp.Plane, sc ecs.Scope, t *ecs.Task, taskID string) (*iam.Session, string, error) {
	// A stopped task's execution role is still issued: its agent ships
	// the containers' last log lines as that role.
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
	sess, _, err := ip.AssumeRoleForService(ctx, ecsTasksPrincipal, role, taskID, executionRoleSessionDuration)
	if err != nil {
		if fault.Is(err, fault.AccessDenied) || fault.Is(err, fault.InvalidParameter) {
			return nil, "", fault.New(fault.AccessDenied, "ECS was unable to assume the role '%s' that was provided for this task. "+
				"Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", role)
		}
		return nil, "", err
	}
	return sess, role, nil
}
