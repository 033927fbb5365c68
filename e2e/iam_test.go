package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestIAMBoto3WireShapes drives every IAM and STS operation berth serves
// with boto3 (testdata/iamwire.py): roles, policies and versions, users
// and the access keys berth issues (then signs with them), instance
// profiles, OIDC providers, server certificates, AssumeRole with its trust policy check and
// the temporary credentials it returns, GetSessionToken, and their error
// paths; every raw XML answer is checked against botocore's models.
func TestIAMBoto3WireShapes(t *testing.T) {
	requireBoto3(t)
	if err := exec.Command("python3", "-c", "import cryptography").Run(); err != nil { // server certificates
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with cryptography is required in CI")
		}
		t.Skip("SKIP: python3 with cryptography is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/iamwire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "iam wire ok") {
		t.Fatalf("iam/sts with boto3 (%v):\n%s", err, out)
	}
	t.Logf("%s", firstLine(string(out)))
}

func requireBoto3(t *testing.T) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
}

// creds is a set of AWS credentials for the aws CLI.
type creds struct{ id, secret, token string }

// awsAs runs the aws CLI against p signed with c (the test/test pair
// when c is nil) and decodes its JSON output.
func (p *proc) awsAs(t *testing.T, c *creds, args ...string) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL, "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1",
		"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=")
	if c != nil {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+c.id, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_SESSION_TOKEN="+c.token)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &cliError{args: args, stderr: stderr.String(), err: err}
	}
	var v map[string]any
	if strings.TrimSpace(string(out)) != "" {
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return v, nil
}

type cliError struct {
	args   []string
	stderr string
	err    error
}

func (e *cliError) Error() string {
	return "aws " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

func mustAWS(t *testing.T, p *proc, c *creds, args ...string) map[string]any {
	t.Helper()
	v, err := p.awsAs(t, c, args...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func str(v map[string]any, path ...string) string {
	var cur any = v
	for _, k := range path {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// TestIAMWithAWSCLI runs the IAM commands with the aws CLI v1 (a
// trust policy from a file, an AWS-managed policy attached by ARN), then
// signs with what IAM and STS issue: a user's access key and an assumed
// role's temporary credentials, each answered by GetCallerIdentity with
// the real identity.
func TestIAMWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	dir := t.TempDir()
	trust := dir + "/trust.json"
	if err := os.WriteFile(trust, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},`+
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/deployer"},"Action":"sts:AssumeRole"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	role := mustAWS(t, p, nil, "iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document", "file://"+trust)
	if got := str(role, "Role", "Arn"); got != "arn:aws:iam::123456789012:role/ecsTaskExecutionRole" {
		t.Fatalf("role ARN %q", got)
	}
	mustAWS(t, p, nil, "iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole",
		"--policy-arn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
	att := mustAWS(t, p, nil, "iam", "list-attached-role-policies", "--role-name", "ecsTaskExecutionRole")
	if b, _ := json.Marshal(att); !strings.Contains(string(b), "AmazonECSTaskExecutionRolePolicy") {
		t.Fatalf("attached: %s", b)
	}

	mustAWS(t, p, nil, "iam", "create-user", "--user-name", "deployer")
	key := mustAWS(t, p, nil, "iam", "create-access-key", "--user-name", "deployer")
	user := &creds{id: str(key, "AccessKey", "AccessKeyId"), secret: str(key, "AccessKey", "SecretAccessKey")}
	if me := mustAWS(t, p, user, "sts", "get-caller-identity"); str(me, "Arn") != "arn:aws:iam::123456789012:user/deployer" {
		t.Fatalf("caller with the user's key: %v", me)
	}
	out := mustAWS(t, p, user, "sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
		"--role-session-name", "ci", "--duration-seconds", "900")
	session := &creds{id: str(out, "Credentials", "AccessKeyId"), secret: str(out, "Credentials", "SecretAccessKey"), token: str(out, "Credentials", "SessionToken")}
	exp, err := time.Parse(time.RFC3339, str(out, "Credentials", "Expiration"))
	if err != nil || exp.Sub(time.Now()) > 15*time.Minute+time.Minute || exp.Sub(time.Now()) < 13*time.Minute {
		t.Fatalf("expiration %q (%v): want about 15 minutes from now", str(out, "Credentials", "Expiration"), err)
	}
	if me := mustAWS(t, p, session, "sts", "get-caller-identity"); str(me, "Arn") != "arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/ci" {
		t.Fatalf("caller with the session: %v", me)
	}
	// The root of the account is not in the trust policy.
	if _, err := p.awsAs(t, nil, "sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
		"--role-session-name", "ci"); err == nil || !strings.Contains(err.Error(), "(AccessDenied)") {
		t.Fatalf("assume-role by a principal the trust policy does not name: %v", err)
	}
	// A deleted key stops working.
	mustAWS(t, p, nil, "iam", "delete-access-key", "--user-name", "deployer", "--access-key-id", user.id)
	if _, err := p.awsAs(t, user, "sts", "get-caller-identity"); err == nil {
		t.Fatal("a deleted access key was accepted")
	}
}
