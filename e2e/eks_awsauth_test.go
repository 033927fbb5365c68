package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsAuthRole checks the aws-auth ConfigMap on a cluster whose
// authenticationMode is CONFIG_MAP: a session of an IAM role that mapRoles
// maps to a group is authenticated with the username template filled in
// and may do what a RoleBinding of that group allows, nothing else. It
// returns a kubectl client with the session's credentials.
func awsAuthRole(t *testing.T, p *proc, admin kubeClient, work string) kubeClient {
	t.Helper()
	mustAWS(t, p, nil, "iam", "create-role", "--role-name", "eks-dev", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)
	sess := mustAWS(t, p, nil, "sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/eks-dev", "--role-session-name", "alice")
	role := kubeClient{p: p, kubeconfig: admin.kubeconfig, env: []string{
		"AWS_ACCESS_KEY_ID=" + str(sess, "Credentials", "AccessKeyId"), "AWS_SECRET_ACCESS_KEY=" + str(sess, "Credentials", "SecretAccessKey"),
		"AWS_SESSION_TOKEN=" + str(sess, "Credentials", "SessionToken")}}
	if out, err := role.run(t, "get", "pods"); err == nil || !strings.Contains(out, "Unauthorized") {
		t.Fatalf("role before aws-auth maps it: %v %s", err, out)
	}
	manifest := filepath.Join(work, "aws-auth.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/eks-dev
      username: dev:{{SessionName}}
      groups:
        - pod-readers
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pod-readers, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: pod-readers}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	admin.must(t, "apply", "-f", manifest)
	eventually(t, 30*time.Second, func() (bool, string) {
		out, err := role.run(t, "get", "pods", "-n", "default")
		return err == nil && strings.Contains(out, "web-"), "role mapped by aws-auth: " + out
	})
	if out := role.must(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"); !strings.HasPrefix(out, "dev:alice ") || !strings.Contains(out, "pod-readers") {
		t.Fatalf("auth whoami of the mapped role: %q", out)
	}
	for _, args := range [][]string{{"get", "pods", "-n", "kube-system"}, {"get", "configmaps", "-n", "default"}} {
		if out, err := role.run(t, args...); err == nil || !strings.Contains(strings.ToLower(out), "forbidden") {
			t.Fatalf("mapped role: kubectl %v: %v %s", args, err, out)
		}
	}
	return role
}

// kubectlWithCLIv2 writes a kubeconfig with the aws CLI v2's
// update-kubeconfig (Debian's /usr/bin/aws, which takes --endpoint-url and
// not AWS_ENDPOINT_URL) and runs kubectl with it, the exec plugin's `aws`
// being v2 (a wrapper on PATH that records its calls): v2 presigns its
// token for AWS's STS host, which berth verifies all the same.
func kubectlWithCLIv2(t *testing.T, p *proc, admin kubeClient, work string) {
	t.Helper()
	const v2 = "/usr/bin/aws"
	if _, err := os.Stat(v2); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the aws CLI v2 is not at %s (required in CI)", v2)
		}
		t.Log("SKIP (aws CLI v2 step): no aws CLI v2 at " + v2)
		return
	}
	bin := filepath.Join(work, "cliv2")
	calls := filepath.Join(work, "cliv2-calls")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte("#!/bin/sh\necho \"$@\" >> "+calls+"\nexec "+v2+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(work, "kubeconfig-v2")
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	v2Client := kubeClient{p: p, kubeconfig: kc, env: env}
	out, err := runCmd(append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER="), v2, "--version")
	if err != nil || !strings.HasPrefix(out, "aws-cli/2.") {
		t.Fatalf("%s --version: %v %s", v2, err, out)
	}
	if out, err := runCmd(append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER="), v2, "--endpoint-url", p.URL, "eks", "update-kubeconfig",
		"--name", "prod-cluster", "--region", "eu-west-1", "--kubeconfig", kc); err != nil {
		t.Fatalf("aws v2 eks update-kubeconfig: %v %s", err, out)
	}
	if out := v2Client.must(t, "get", "pods", "-n", "default"); !strings.Contains(out, "web-") {
		t.Fatalf("kubectl with the v2 kubeconfig: %s", out)
	}
	b, err := os.ReadFile(calls)
	if err != nil || !strings.Contains(string(b), "eks get-token --cluster-name prod-cluster") {
		t.Fatalf("the kubeconfig's exec plugin did not run the aws CLI v2: %v %q", err, b)
	}
}

// runCmd runs a command with env for at most a minute and returns its
// combined output.
func runCmd(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}
