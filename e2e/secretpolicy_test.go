package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsResourcePolicyEnforced runs berth with --enforce-iam and a
// second account's key and drives Secrets Manager with the aws CLI: a
// secret's resource policy shares it with the other account (which is
// refused without it), lets a user of the same account without identity
// policies read it, and its explicit Deny binds a user whose identity
// policy allows everything; BlockPublicPolicy and ValidateResourcePolicy
// refuse and report a policy open to everyone.
func TestSecretsResourcePolicyEnforced(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	credFile := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credFile, []byte("[other]\naws_access_key_id = AKIAOTHERACCOUNT0001\naws_secret_access_key = other-secret\naccount_id = 222222222222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBerth(t, filepath.Join(dir, "data"), "--enforce-iam", "--credentials-file", credFile)
	other := &creds{id: "AKIAOTHERACCOUNT0001", secret: "other-secret"}

	arn := str(mustAWS(t, p, nil, "secretsmanager", "create-secret", "--name", "shared/db", "--secret-string", "s3cr3t"), "ARN")
	user := func(name, policy string) *creds {
		t.Helper()
		mustAWS(t, p, nil, "iam", "create-user", "--user-name", name)
		if policy != "" {
			mustAWS(t, p, nil, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", policy)
		}
		k := mustAWS(t, p, nil, "iam", "create-access-key", "--user-name", name)
		return &creds{id: str(k, "AccessKey", "AccessKeyId"), secret: str(k, "AccessKey", "SecretAccessKey")}
	}
	reader := user("reader", "")
	admin := user("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

	get := func(c *creds) (string, error) {
		v, err := p.awsAs(t, c, "secretsmanager", "get-secret-value", "--secret-id", arn)
		return str(v, "SecretString"), err
	}
	denied := func(what string, c *creds, why string) {
		t.Helper()
		_, err := get(c)
		if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: get-secret-value = %v, want AccessDeniedException ... %s", what, err, why)
		}
	}
	allowed := func(what string, c *creds) {
		t.Helper()
		if v, err := get(c); err != nil || v != "s3cr3t" {
			t.Errorf("%s: get-secret-value = %q, %v", what, v, err)
		}
	}
	denied("another account, no resource policy", other, "because no resource-based policy allows the secretsmanager:GetSecretValue action")
	denied("a user without policies", reader, "because no identity-based policy allows the secretsmanager:GetSecretValue action")
	allowed("a user whose identity policy allows", admin)

	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if v := mustAWS(t, p, nil, "secretsmanager", "validate-resource-policy", "--secret-id", arn, "--resource-policy", public); v["PolicyValidationPassed"] != false {
		t.Errorf("validate-resource-policy of a public policy: %v", v)
	}
	if _, err := p.awsAs(t, nil, "secretsmanager", "put-resource-policy", "--secret-id", arn, "--resource-policy", public, "--block-public-policy"); err == nil ||
		!strings.Contains(err.Error(), "PublicPolicyException") {
		t.Errorf("put-resource-policy --block-public-policy of a public policy: %v", err)
	}

	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::123456789012:user/reader"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"secretsmanager:*","Resource":"*"}]}`
	if v := mustAWS(t, p, nil, "secretsmanager", "validate-resource-policy", "--secret-id", arn, "--resource-policy", policy); v["PolicyValidationPassed"] != true {
		t.Errorf("validate-resource-policy: %v", v)
	}
	mustAWS(t, p, nil, "secretsmanager", "put-resource-policy", "--secret-id", arn, "--resource-policy", policy, "--block-public-policy")
	allowed("another account the policy names", other)
	allowed("a user the policy names", reader)
	denied("a user the policy denies", admin, "with an explicit deny in a resource-based policy")
	if got := str(mustAWS(t, p, nil, "secretsmanager", "get-resource-policy", "--secret-id", arn), "ResourcePolicy"); got != policy {
		t.Errorf("get-resource-policy = %q", got)
	}

	mustAWS(t, p, nil, "secretsmanager", "delete-resource-policy", "--secret-id", arn)
	denied("another account after delete-resource-policy", other, "because no resource-based policy allows")
	allowed("admin after delete-resource-policy", admin)
}
