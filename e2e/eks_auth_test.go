package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

type tokenReviewStatus struct {
	Status struct {
		Authenticated bool
		Error         string
		User          struct {
			Username string
			Groups   []string
			Extra    map[string][]string
		}
	}
}

// TestEKSTokenAuthenticator checks berth's EKS webhook token authenticator
// with tokens from the real `aws eks get-token`: the creator (root) is
// mapped through its bootstrap access entry, an IAM user through the
// access entry made for it, and refused before; a token for another
// cluster and one signed with an unknown key are refused.
func TestEKSTokenAuthenticator(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake", "--eks-control-plane", "none")
	work := t.TempDir()
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_DEFAULT_REGION=eu-west-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	ep := "--endpoint-url=" + p.URL
	run(nil, ep, "eks", "create-cluster", "--name", "c1", "--role-arn", "arn:aws:iam::123456789012:role/eks",
		"--resources-vpc-config", "subnetIds=subnet-a,subnet-b", "--access-config", "authenticationMode=API")
	review := func(cluster, token string) tokenReviewStatus {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": map[string]string{"token": token}})
		resp, err := http.Post(p.URL+"/_berth/eks/123456789012/eu-west-1/"+cluster+"/authenticate", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("token review: %s", resp.Status)
		}
		var tr tokenReviewStatus
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	token := func(env []string, cluster string) string {
		t.Helper()
		tok := run(env, "eks", "get-token", "--cluster-name", cluster, "--query", "status.token", "--output", "text")
		if !strings.HasPrefix(tok, "k8s-aws-v1.") {
			t.Fatalf("get-token: %q", tok)
		}
		return tok
	}

	root := review("c1", token(nil, "c1"))
	if !root.Status.Authenticated || root.Status.User.Username != "arn:aws:iam::123456789012:root" {
		t.Fatalf("creator: %+v", root.Status)
	}
	// Without AWS_ENDPOINT_URL the CLI presigns for AWS's STS host; the
	// signature is berth's to check all the same.
	if r := review("c1", token([]string{"AWS_ENDPOINT_URL="}, "c1")); !r.Status.Authenticated {
		t.Fatalf("token presigned for sts.amazonaws.com: %+v", r.Status)
	}
	if r := review("c1", token(nil, "other")); r.Status.Authenticated || !strings.Contains(r.Status.Error, "signature") {
		t.Fatalf("token for another cluster: %+v", r.Status)
	}
	if r := review("c1", token([]string{"AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000"}, "c1")); r.Status.Authenticated {
		t.Fatalf("unknown key: %+v", r.Status)
	}
	if r := review("c1", "not-a-token"); r.Status.Authenticated {
		t.Fatalf("garbage: %+v", r.Status)
	}

	run(nil, ep, "iam", "create-user", "--user-name", "dev")
	keys := strings.Fields(run(nil, ep, "iam", "create-access-key", "--user-name", "dev",
		"--query", "AccessKey.[AccessKeyId,SecretAccessKey]", "--output", "text"))
	dev := []string{"AWS_ACCESS_KEY_ID=" + keys[0], "AWS_SECRET_ACCESS_KEY=" + keys[1]}
	devToken := token(dev, "c1")
	if r := review("c1", devToken); r.Status.Authenticated || !strings.Contains(r.Status.Error, "no access entry") {
		t.Fatalf("user without an access entry: %+v", r.Status)
	}
	run(nil, ep, "eks", "create-access-entry", "--cluster-name", "c1", "--principal-arn", "arn:aws:iam::123456789012:user/dev",
		"--kubernetes-groups", "devs")
	r := review("c1", devToken)
	if !r.Status.Authenticated || r.Status.User.Username != "arn:aws:iam::123456789012:user/dev" ||
		len(r.Status.User.Groups) != 1 || r.Status.User.Groups[0] != "devs" {
		t.Fatalf("user with an access entry: %+v", r.Status)
	}

	// The access policies decide through the authorizer webhook: none yet
	// (no opinion: RBAC decides), then the view policy in one namespace.
	authorize := func(verb, ns string) bool {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
			"spec": map[string]any{"user": r.Status.User.Username, "groups": r.Status.User.Groups, "extra": r.Status.User.Extra,
				"resourceAttributes": map[string]string{"verb": verb, "resource": "pods", "namespace": ns}}})
		resp, err := http.Post(p.URL+"/_berth/eks/123456789012/eu-west-1/c1/authorize", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sar struct{ Status struct{ Allowed bool } }
		if err := json.NewDecoder(resp.Body).Decode(&sar); err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	if authorize("list", "web") {
		t.Fatal("allowed without an access policy")
	}
	run(nil, ep, "eks", "associate-access-policy", "--cluster-name", "c1", "--principal-arn", "arn:aws:iam::123456789012:user/dev",
		"--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "--access-scope", "type=namespace,namespaces=web")
	if !authorize("list", "web") || authorize("create", "web") || authorize("list", "db") {
		t.Fatal("the view policy in namespace web is not applied as scoped")
	}
}
