package e2e

import (
	"strings"
	"testing"
)

// TestEnforceIAM runs `berth server --enforce-iam` and signs calls with an
// IAM user's access key and with an assumed role's temporary credentials:
// per service (ECS, ECR, CloudWatch Logs, Secrets Manager, SSM, STS,
// ELBv2, IAM) one call the identity policies allow succeeds and one they
// do not allow is refused with the service's AccessDenied spelling and
// AWS's message naming the principal, the action and the resource; an
// explicit Deny wins over an Allow; the default credentials may still do
// anything.
func TestEnforceIAM(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake", "--enforce-iam")
	const acct = "123456789012"
	// Set-up with the default (root) credentials.
	mustAWS(t, p, nil, "iam", "create-user", "--user-name", "dev")
	mustAWS(t, p, nil, "iam", "put-user-policy", "--user-name", "dev", "--policy-name", "dev", "--policy-document", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecs:ListClusters","ecr:DescribeRepositories","logs:DescribeLogGroups","elasticloadbalancing:Describe*","iam:GetUser"],"Resource":"*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:app/config-??????"},
		{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:eu-west-1:`+acct+`:parameter/app/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}},
		{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::`+acct+`:role/deployer"}]}`)
	key := mustAWS(t, p, nil, "iam", "create-access-key", "--user-name", "dev")
	dev := &creds{id: str(key, "AccessKey", "AccessKeyId"), secret: str(key, "AccessKey", "SecretAccessKey")}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
	for _, r := range []string{"deployer", "admin"} {
		mustAWS(t, p, nil, "iam", "create-role", "--role-name", r, "--assume-role-policy-document", trust)
	}
	mustAWS(t, p, nil, "iam", "put-role-policy", "--role-name", "deployer", "--policy-name", "ecs", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]}`)
	mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "app/config", "--secret-string", "ok")
	prodDB := str(mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "prod/db", "--secret-string", "no"), "ARN")
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/app/flag", "--type", "String", "--value", "on")
	mustAWS(t, p, nil, "ssm", "put-parameter", "--name", "/prod/flag", "--type", "String", "--value", "off")
	mustAWS(t, p, nil, "ecs", "create-cluster", "--cluster-name", "prod-cluster")

	userARN := "arn:aws:iam::" + acct + ":user/dev"
	allowed := func(c *creds, args ...string) map[string]any {
		t.Helper()
		v, err := p.awsAs(t, c, args...)
		if err != nil {
			t.Fatalf("allowed call refused: %v", err)
		}
		return v
	}
	denied := func(c *creds, code, principal, action, resource string, args ...string) {
		t.Helper()
		_, err := p.awsAs(t, c, args...)
		want := "(" + code + ") when calling"
		msg := "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource +
			" because no identity-based policy allows the " + action + " action"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("aws %s: want %s with %q, got %v", strings.Join(args, " "), code, msg, err)
		}
	}

	allowed(dev, "ecs", "list-clusters")
	denied(dev, "AccessDeniedException", userARN, "ecs:CreateCluster", "arn:aws:ecs:eu-west-1:"+acct+":cluster/x", "ecs", "create-cluster", "--cluster-name", "x")
	allowed(dev, "ecr", "describe-repositories")
	denied(dev, "AccessDeniedException", userARN, "ecr:CreateRepository", "arn:aws:ecr:eu-west-1:"+acct+":repository/web", "ecr", "create-repository", "--repository-name", "web")
	allowed(dev, "logs", "describe-log-groups")
	denied(dev, "AccessDeniedException", userARN, "logs:CreateLogGroup", "arn:aws:logs:eu-west-1:"+acct+":log-group:/ecs/web", "logs", "create-log-group", "--log-group-name", "/ecs/web")
	if v := allowed(dev, "secretsmanager", "get-secret-value", "--secret-id", "app/config"); str(v, "SecretString") != "ok" {
		t.Fatalf("get-secret-value: %v", v)
	}
	// Policies name secrets with AWS's random suffix ("-??????"): a call
	// by name is authorized on the secret's full ARN.
	denied(dev, "AccessDeniedException", userARN, "secretsmanager:GetSecretValue", prodDB,
		"secretsmanager", "get-secret-value", "--secret-id", "prod/db")
	allowed(dev, "ssm", "get-parameter", "--name", "/app/flag")
	denied(dev, "AccessDeniedException", userARN, "ssm:GetParameter", "arn:aws:ssm:eu-west-1:"+acct+":parameter/prod/flag", "ssm", "get-parameter", "--name", "/prod/flag")
	allowed(dev, "elbv2", "describe-load-balancers")
	denied(dev, "AccessDenied", userARN, "elasticloadbalancing:CreateTargetGroup", "*", "elbv2", "create-target-group", "--name", "tg", "--protocol", "HTTP", "--port", "80", "--vpc-id", "vpc-1")
	allowed(dev, "iam", "get-user")
	denied(dev, "AccessDenied", userARN, "iam:CreateUser", "arn:aws:iam::"+acct+":user/eve", "iam", "create-user", "--user-name", "eve")
	if me := allowed(dev, "sts", "get-caller-identity"); str(me, "Arn") != userARN {
		t.Fatalf("get-caller-identity: %v", me)
	}
	denied(dev, "AccessDenied", userARN, "sts:AssumeRole", "arn:aws:iam::"+acct+":role/admin", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/admin", "--role-session-name", "s1")
	out := allowed(dev, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/deployer", "--role-session-name", "ci")

	// The session has the role's policies, not the user's.
	role := &creds{id: str(out, "Credentials", "AccessKeyId"), secret: str(out, "Credentials", "SecretAccessKey"), token: str(out, "Credentials", "SessionToken")}
	sessionARN := "arn:aws:sts::" + acct + ":assumed-role/deployer/ci"
	allowed(role, "ecs", "create-cluster", "--cluster-name", "ci-cluster")
	_, err := p.awsAs(t, role, "ecs", "delete-cluster", "--cluster", "ci-cluster")
	if err == nil || !strings.Contains(err.Error(), "User: "+sessionARN+" is not authorized to perform: ecs:DeleteCluster on resource: arn:aws:ecs:eu-west-1:"+acct+":cluster/ci-cluster with an explicit deny in an identity-based policy") {
		t.Fatalf("explicit deny: %v", err)
	}
	denied(role, "AccessDeniedException", sessionARN, "ecr:DescribeRepositories", "*", "ecr", "describe-repositories")

	// The default credentials are the account's root: anything goes.
	mustAWS(t, p, nil, "ecs", "delete-cluster", "--cluster", "ci-cluster")
	mustAWS(t, p, nil, "ecr", "create-repository", "--repository-name", "web")
}
