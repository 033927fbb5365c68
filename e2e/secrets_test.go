package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestSecretsBoto3WireShapes drives every Secrets Manager and SSM
// Parameter Store operation berth serves with boto3
// (testdata/secretswire.py) and checks every raw JSON answer against
// botocore's models.
func TestSecretsBoto3WireShapes(t *testing.T) {
	requireBoto3(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/secretswire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "WIRESHAPE_DUMP=")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "secrets wire ok") {
		t.Fatalf("secretsmanager/ssm with boto3 (%v):\n%s", err, out)
	}
	t.Logf("%s", firstLine(string(out)))
}

// TestSecretsWithAWSCLIEncryptedAtRest runs the commands with the
// aws CLI v1, then stops the server and reads every file of its data
// directory: neither value appears in clear. After a restart both values
// read back.
func TestSecretsWithAWSCLIEncryptedAtRest(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir, "--driver", "fake")
	const secret, key = "s3cr3t-Zq81-value", "k3y-Xw55-value"
	mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "prod/db-password", "--secret-string", secret)
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/prod/api-key", "--type", "SecureString", "--value", key)
	if v := mustAWS(t, p, nil, "secretsmanager", "get-secret-value", "--secret-id", "prod/db-password"); str(v, "SecretString") != secret {
		t.Fatalf("get-secret-value: %v", v)
	}
	if _, err := p.awsAs(t, nil, "ssm", "put-parameter", "--name", "/prod/api-key", "--type", "SecureString", "--value", "x"); err == nil ||
		!strings.Contains(err.Error(), "(ParameterAlreadyExists)") {
		t.Fatalf("put-parameter over an existing one: %v", err)
	}
	p.stop()
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range []string{secret, key} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds the value %q in clear", path, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p2 := startBerth(t, dir, "--driver", "fake")
	if v := mustAWS(t, p2, nil, "ssm", "get-parameter", "--name", "/prod/api-key", "--with-decryption"); str(v, "Parameter", "Value") != key {
		t.Fatalf("after a restart: %v", v)
	}
	if v := mustAWS(t, p2, nil, "secretsmanager", "get-secret-value", "--secret-id", "prod/db-password"); str(v, "SecretString") != secret {
		t.Fatalf("after a restart: %v", v)
	}
}

// TestTaskSecretsInjected runs a Fargate task (a real Docker container)
// whose definition takes secrets from Secrets Manager (by name, by ARN and
// a JSON key of a secret) and from SSM (a SecureString by name and a
// parameter by ARN): the container checks its environment and keeps
// running only if every value is right. The values appear neither in
// DescribeTasks nor in the labels of the container. A task naming a
// secret that does not exist stops with ECS's reason.
func TestTaskSecretsInjected(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "prod/db-password", "--secret-string", "s3cr3t-inject")
	js := mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "prod/db", "--secret-string", `{"user":"admin-inject","port":5432}`)
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/prod/api-key", "--type", "SecureString", "--value", "k3y-inject")
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/prod/region", "--type", "String", "--value", "eu-inject")

	mustAWS(t, p, nil, "iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	mustAWS(t, p, nil, "iam", "put-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-name", "secrets", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"}]}`)
	mustAWS(t, p, nil, "iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-arn",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	check := `[ "$DB_PASSWORD" = s3cr3t-inject ] && [ "$DB_USER" = admin-inject ] && [ "$DB_PORT" = 5432 ] && [ "$API_KEY" = k3y-inject ] && [ "$REGION_NAME" = eu-inject ] || exit 3; exec sleep 3600`
	execRole := "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
	def := func(family string, secrets []types.Secret) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ExecutionRoleArn:        aws.String(execRole),
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String(image), StopTimeout: aws.Int32(2),
				Command: []string{"sh", "-c", check}, Secrets: secrets,
			}},
		}
	}
	dbARN := str(js, "ARN")
	good := []types.Secret{
		{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("prod/db-password")},
		{Name: aws.String("DB_USER"), ValueFrom: aws.String(dbARN + ":user::")},
		{Name: aws.String("DB_PORT"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db:port:AWSCURRENT:")},
		{Name: aws.String("API_KEY"), ValueFrom: aws.String("/prod/api-key")},
		{Name: aws.String("REGION_NAME"), ValueFrom: aws.String("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/region")},
	}
	run := func(family string) string {
		t.Helper()
		out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String(family), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask %s: %+v %v", family, out, err)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		t.Cleanup(func() { cleanupTask(d, arn) })
		return arn
	}
	if _, err := c.RegisterTaskDefinition(ctx, def("with-secrets", good)); err != nil {
		t.Fatal(err)
	}
	arn := run("with-secrets")
	task := waitStatus(t, c, "prod-cluster", arn, "RUNNING", p.log.String)
	raw, _ := json.Marshal(task)
	for _, v := range []string{"s3cr3t-inject", "admin-inject", "k3y-inject", "eu-inject"} {
		if strings.Contains(string(raw), v) {
			t.Errorf("DescribeTasks shows the secret value %q", v)
		}
		if strings.Contains(p.log.String(), v) {
			t.Errorf("the server log shows the secret value %q", v)
		}
	}
	cs := containersOf(t, d, arn)
	if len(cs) != 1 {
		t.Fatalf("containers: %+v", cs)
	}
	labels, err := exec.Command("docker", "inspect", "--format", "{{json .Config.Labels}}", cs[0].ID).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(labels), "inject") {
		t.Errorf("docker labels show a secret value: %s", labels)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod-cluster"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	// The check exits 3 when a value is wrong; stopped by StopTask, the
	// sleep it execs ends by signal instead.
	stopped := waitStatus(t, c, "prod-cluster", arn, "STOPPED", p.log.String)
	if ec := stopped.Containers[0].ExitCode; ec == nil || *ec == 3 {
		t.Fatalf("the container's check of its secrets: exit code %d (nil: %v), reason %q", aws.ToInt32(ec), ec == nil, aws.ToString(stopped.StoppedReason))
	}

	missing := append([]types.Secret{}, good...)
	missing[0] = types.Secret{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/nope")}
	if _, err := c.RegisterTaskDefinition(ctx, def("missing-secret", missing)); err != nil {
		t.Fatal(err)
	}
	bad := waitStatus(t, c, "prod-cluster", run("missing-secret"), "STOPPED", p.log.String)
	if r := aws.ToString(bad.StoppedReason); !strings.HasPrefix(r, "ResourceInitializationError: unable to pull secrets or registry auth: ") || !strings.Contains(r, "prod/nope") {
		t.Fatalf("stopped reason %q", r)
	}

	// The secrets are fetched as the execution role: a role that does
	// not exist, or that does not trust ecs-tasks.amazonaws.com, stops
	// the task with ECS's reason.
	mustAWS(t, p, nil, "iam", "create-role", "--role-name", "ec2OnlyRole", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	for family, role := range map[string]string{
		"no-such-role":   "arn:aws:iam::123456789012:role/neverCreated",
		"untrusted-role": "arn:aws:iam::123456789012:role/ec2OnlyRole",
	} {
		execRole = role
		if _, err := c.RegisterTaskDefinition(ctx, def(family, good)); err != nil {
			t.Fatal(err)
		}
		st := waitStatus(t, c, "prod-cluster", run(family), "STOPPED", p.log.String)
		want := "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ECS was unable to assume the role '" + role + "' that was provided for this task."
		if r := aws.ToString(st.StoppedReason); !strings.HasPrefix(r, want) {
			t.Errorf("%s: stopped reason %q, want it to begin %q", family, r, want)
		}
	}
}

// TestAgentTaskSecretsInjected runs an EC2 task on a `berth agent`
// process: the agent reads the task's secrets through the server's
// Secrets Manager and SSM APIs (signed with its own credentials) and the
// container finds them in its environment.
func TestAgentTaskSecretsInjected(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "prod/db", "--secret-string", `{"password":"pw-agent"}`)
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/prod/api-key", "--type", "SecureString", "--value", "k3y-agent")
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ec2-cluster")}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, p.URL, "ec2-cluster", t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	waitInstance(t, c, "ec2-cluster", true, logs)
	mustAWS(t, p, nil, "iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	def := func(family, role string) *ecs.RegisterTaskDefinitionInput {
		in := &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: types.NetworkModeBridge,
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(128), StopTimeout: aws.Int32(2),
				Command: []string{"sh", "-c", `[ "$DB_PASSWORD" = pw-agent ] && [ "$API_KEY" = k3y-agent ] || exit 3; exec sleep 3600`},
				Secrets: []types.Secret{
					{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db:password::")},
					{Name: aws.String("API_KEY"), ValueFrom: aws.String("/prod/api-key")},
				},
			}},
		}
		if role != "" {
			in.ExecutionRoleArn = aws.String(role)
		}
		return in
	}
	// A task whose definition names no execution role cannot read its
	// secrets: the agent fetches them as that role.
	if _, err := c.RegisterTaskDefinition(ctx, def("ec2-no-role", "")); err != nil {
		t.Fatal(err)
	}
	norole, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: aws.String("ec2-no-role"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(norole.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", norole, err)
	}
	t.Cleanup(func() { cleanupTask(d, aws.ToString(norole.Tasks[0].TaskArn)) })
	st := waitStatus(t, c, "ec2-cluster", aws.ToString(norole.Tasks[0].TaskArn), "STOPPED", logs)
	if r, want := aws.ToString(st.StoppedReason), "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: the task has no execution role"; !strings.HasPrefix(r, want) {
		t.Fatalf("stopped reason %q, want it to begin %q", r, want)
	}
	if _, err := c.RegisterTaskDefinition(ctx, def("ec2-secrets", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole")); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: aws.String("ec2-secrets"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitStatus(t, c, "ec2-cluster", arn, "RUNNING", logs)
	if strings.Contains(a.log.String(), "k3y-agent") || strings.Contains(a.log.String(), "pw-agent") {
		t.Error("the agent's log shows a secret value")
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("ec2-cluster"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	stopped := waitStatus(t, c, "ec2-cluster", arn, "STOPPED", logs)
	if ec := stopped.Containers[0].ExitCode; ec == nil || *ec == 3 {
		t.Fatalf("the container's check of its secrets: exit code %d (nil: %v), reason %q", aws.ToInt32(ec), ec == nil, aws.ToString(stopped.StoppedReason))
	}
}
