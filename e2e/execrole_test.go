package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestExecutionRoleForECRAndAwslogs runs Fargate tasks with an image of
// berth's ECR and the awslogs driver under --enforce-iam: the agent gets
// the registry token and writes the logs as each task's execution role,
// so a role ECS cannot assume, or whose policies lack
// ecr:GetAuthorizationToken, ecr:BatchGetImage or logs:CreateLogStream,
// stops the task with ECS's reason, and a role with
// AmazonECSTaskExecutionRolePolicy runs it and ships its output.
func TestExecutionRoleForECRAndAwslogs(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	dd := dockertest.New(t)
	image := dockertest.Busybox(t, dd)
	p := startBerth(t, t.TempDir(), "--enforce-iam")
	c := ecsClient(p.URL)
	ctx := t.Context()

	ecrImage := pushToECR(t, p, image, "exec-app")

	mustAWS(t, p, nil, "ecs", "create-cluster", "--cluster-name", "prod-cluster")
	mustAWS(t, p, nil, "logs", "create-log-group", "--log-group-name", "/ecs/exec")
	for _, role := range []string{"fullRole", "bareRole", "tokenOnlyRole"} {
		mustAWS(t, p, nil, "iam", "create-role", "--role-name", role, "--assume-role-policy-document", execRoleTrust)
	}
	mustAWS(t, p, nil, "iam", "attach-role-policy", "--role-name", "fullRole", "--policy-arn",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	mustAWS(t, p, nil, "iam", "put-role-policy", "--role-name", "tokenOnlyRole", "--policy-name", "token", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:*"],"Resource":"*"}]}`)

	def := func(family, image, role string, awslogs bool) {
		t.Helper()
		cd := types.ContainerDefinition{Name: aws.String("web"), Image: aws.String(image), StopTimeout: aws.Int32(2),
			Command: []string{"sh", "-c", "echo started as planned; exec sleep 3600"}}
		if awslogs {
			cd.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "/ecs/exec", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}}
		}
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/" + role),
			ContainerDefinitions:    []types.ContainerDefinition{cd},
		}); err != nil {
			t.Fatal(err)
		}
	}
	assumed := "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/"
	cases := []struct {
		family, image, role string
		awslogs             bool
		prefix, contains    string
	}{
		{"ecr-missing-role", ecrImage, "neverCreated", false,
			"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ECS was unable to assume the role 'arn:aws:iam::123456789012:role/neverCreated' that was provided for this task.", ""},
		{"ecr-bare-role", ecrImage, "bareRole", false,
			"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time(s): " + assumed + "bareRole/",
			"is not authorized to perform: ecr:GetAuthorizationToken on resource: *"},
		{"ecr-token-only", ecrImage, "tokenOnlyRole", false, "CannotPullContainerError: ",
			"assumed-role/tokenOnlyRole/"},
		{"logs-bare-role", image, "bareRole", true,
			"ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: " + assumed + "bareRole/",
			"is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/exec:log-stream:app/web/"},
		{"full", ecrImage, "fullRole", true, "", ""},
	}
	arns := map[string]string{}
	for _, tc := range cases {
		def(tc.family, tc.image, tc.role, tc.awslogs)
		arns[tc.family] = runAwslogsTask(t, c, tc.family)
		arn := arns[tc.family]
		t.Cleanup(func() { cleanupTask(dd, arn) })
	}
	for _, tc := range cases {
		if tc.prefix == "" {
			continue
		}
		st := waitStatus(t, c, "prod-cluster", arns[tc.family], "STOPPED", p.log.String)
		r := aws.ToString(st.StoppedReason)
		if !strings.HasPrefix(r, tc.prefix) || !strings.Contains(r, tc.contains) {
			t.Errorf("%s: stopped reason %q, want it to begin %q and hold %q", tc.family, r, tc.prefix, tc.contains)
		}
	}
	// The registry refuses the pull by the role's policies (docker's
	// message carries the registry's DENIED text).
	if r := aws.ToString(describeTask(t, c, "prod-cluster", arns["ecr-token-only"]).StoppedReason); !strings.Contains(r, "ecr:BatchGetImage") {
		t.Errorf("ecr-token-only: stopped reason %q does not name ecr:BatchGetImage", r)
	}

	full := arns["full"]
	waitStatus(t, c, "prod-cluster", full, "RUNNING", p.log.String)
	stream := "app/web/" + full[strings.LastIndexByte(full, '/')+1:]
	eventually(t, 30*time.Second, func() (bool, string) {
		msgs := streamMessages(t, p, "/ecs/exec", stream)
		return slices.Contains(msgs, "started as planned"), "the task's output is not in its stream: " + strings.Join(msgs, "|")
	})
}

// pushToECR pushes image to a new repository of berth's ECR, untags it
// locally (so that a task must pull it) and returns the image name tasks
// use.
func pushToECR(t *testing.T, p *proc, image, repo string) string {
	t.Helper()
	d := newDockerCLI(t)
	uri := str(mustAWS(t, p, nil, "ecr", "create-repository", "--repository-name", repo), "repository", "repositoryUri")
	host, _, _ := strings.Cut(uri, "/")
	password := strings.TrimSpace(p.awsOK(t, "ecr", "get-login-password", "--region", "eu-west-1"))
	if out, err := d.run(password, "login", "--username", "AWS", "--password-stdin", host); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.tag(image, uri+":latest")
	d.must("push", uri+":latest")
	d.must("rmi", uri+":latest")
	return "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + repo + ":latest"
}

// TestExecutionRoleForECROnEC2 is the ECR pull of an EC2 task on a
// `berth agent` host under --enforce-iam: the agent gets the registry
// token as the task's execution role, so a role without ECR permissions
// stops the task with ECS's reason, and one with
// AmazonECSTaskExecutionRolePolicy runs it.
func TestExecutionRoleForECROnEC2(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	dd := dockertest.New(t)
	image := dockertest.Busybox(t, dd)
	p := startBerth(t, t.TempDir(), "--enforce-iam")
	c := ecsClient(p.URL)
	ctx := t.Context()
	ecrImage := pushToECR(t, p, image, "ec2-app")

	mustAWS(t, p, nil, "ecs", "create-cluster", "--cluster-name", "ec2-cluster")
	a := startAgent(t, p.URL, "ec2-cluster", t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	waitInstance(t, c, "ec2-cluster", true, logs)
	for _, role := range []string{"fullRole", "bareRole"} {
		mustAWS(t, p, nil, "iam", "create-role", "--role-name", role, "--assume-role-policy-document", execRoleTrust)
	}
	mustAWS(t, p, nil, "iam", "attach-role-policy", "--role-name", "fullRole", "--policy-arn",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	arns := map[string]string{}
	for _, role := range []string{"bareRole", "fullRole"} {
		def := ec2Definition(ecrImage)
		def.Family = aws.String("ec2-" + role)
		def.ExecutionRoleArn = aws.String("arn:aws:iam::123456789012:role/" + role)
		if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
			t.Fatal(err)
		}
		out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: def.Family, LaunchType: types.LaunchTypeEc2})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask %s: %+v %v", role, out, err)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		arns[role] = arn
		t.Cleanup(func() { cleanupTask(dd, arn) })
	}
	st := waitStatus(t, c, "ec2-cluster", arns["bareRole"], "STOPPED", logs)
	want := "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time(s): " +
		"AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/bareRole/"
	if r := aws.ToString(st.StoppedReason); !strings.HasPrefix(r, want) || !strings.Contains(r, "is not authorized to perform: ecr:GetAuthorizationToken on resource: *") {
		t.Errorf("bareRole: stopped reason %q, want it to begin %q and name ecr:GetAuthorizationToken", r, want)
	}
	waitStatus(t, c, "ec2-cluster", arns["fullRole"], "RUNNING", logs)
}
