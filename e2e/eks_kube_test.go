package e2e

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func requireKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kubectl is not on PATH (required in CI)")
		}
		t.Skip("SKIP: kubectl is not on PATH")
	}
}

type eksKubeCluster struct {
	Cluster struct {
		Name, Status, Endpoint string
		CertificateAuthority   struct{ Data string }
		Identity               struct{ OIDC struct{ Issuer string } }
		Health                 struct {
			Issues []struct{ Code, Message string }
		}
	}
}

// kubeClient runs kubectl against a kubeconfig from `aws eks
// update-kubeconfig`, whose exec plugin runs `aws eks get-token` with the
// credentials in env.
type kubeClient struct {
	p          *proc
	kubeconfig string
	env        []string // extra environment (other credentials)
}

func (k kubeClient) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.kubeconfig, "AWS_ENDPOINT_URL="+k.p.URL,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	cmd.Env = append(cmd.Env, k.env...)
	// stdout alone on success (kubectl 1.32 warns on stderr about its
	// version skew with the 1.37 server); both on failure.
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

func (k kubeClient) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := k.run(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// buildBerthKube builds cmd/berth-kube next to the test's berth binary,
// where berth server looks for it. Kubernetes' version string can only be
// set at link time (the compiler folds its placeholder into the code that
// reads it).
func buildBerthKube(t *testing.T) {
	t.Helper()
	bin := filepath.Join(filepath.Dir(berthBin), "berth-kube")
	if _, err := os.Stat(bin); err == nil {
		return
	}
	build := exec.Command("go", "build", "-ldflags", "-X k8s.io/component-base/version.gitVersion=v1.37.2", "-o", bin, "../cmd/berth-kube")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build berth-kube: %v\n%s", err, out)
	}
}

// TestEKSKubernetes runs the seed's EKS commands against a real
// Kubernetes control plane with the aws CLI v1 and kubectl: create-cluster
// until ACTIVE, update-kubeconfig, kubectl authenticated by `aws eks
// get-token`, the API server's own health checks and discovery, a
// deployment whose ReplicaSet and Pending pods the controller manager
// makes, RBAC through the aws-auth ConfigMap (a mapped role's group bound
// by a RoleBinding) and access entries (401 unmapped, 403 without access,
// an access policy's allow and deny), the aws CLI v2's update-kubeconfig,
// the cluster's objects surviving a berth restart, and delete-cluster
// removing its data.
func TestEKSKubernetes(t *testing.T) {
	requireAWSCLI(t)
	requireKubectl(t)
	buildBerthKube(t)
	dir := t.TempDir()
	p := startBerth(t, dir, "--driver", "fake")
	work := t.TempDir()
	eksRun := func(p *proc, args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, append([]string{"eks"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	describe := func(p *proc) eksKubeCluster {
		t.Helper()
		var c eksKubeCluster
		if err := json.Unmarshal([]byte(eksRun(p, "describe-cluster", "--name", "prod-cluster")), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	waitActive := func(p *proc) eksKubeCluster {
		t.Helper()
		var c eksKubeCluster
		eventually(t, 3*time.Minute, func() (bool, string) {
			c = describe(p)
			if c.Cluster.Status == "FAILED" {
				t.Fatalf("cluster FAILED: %+v\nberth log:\n%s", c.Cluster.Health, p.log.String())
			}
			return c.Cluster.Status == "ACTIVE", "cluster is " + c.Cluster.Status
		})
		return c
	}

	start := time.Now()
	eksRun(p, "create-cluster", "--name", "prod-cluster", "--region", "eu-west-1", "--kubernetes-version", "1.29",
		"--role-arn", "arn:aws:iam::123456789012:role/eks-cluster-role",
		"--resources-vpc-config", "subnetIds=subnet-a,subnet-b")
	c := waitActive(p)
	toActive := time.Since(start)
	eksRun(p, "wait", "cluster-active", "--name", "prod-cluster")
	if !strings.HasPrefix(c.Cluster.Endpoint, "https://127.0.0.1:") || c.Cluster.CertificateAuthority.Data == "" ||
		!strings.HasPrefix(c.Cluster.Identity.OIDC.Issuer, "https://oidc.eks.eu-west-1.amazonaws.com/id/") {
		t.Fatalf("ACTIVE cluster: %+v", c.Cluster)
	}
	kubeconfig := filepath.Join(work, "kubeconfig")
	eksRun(p, "update-kubeconfig", "--name", "prod-cluster", "--region", "eu-west-1", "--kubeconfig", kubeconfig)
	admin := kubeClient{p: p, kubeconfig: kubeconfig}
	admin.must(t, "get", "nodes")
	t.Logf("CreateCluster to ACTIVE %v, to the first kubectl get nodes %v", toActive.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	// The upstream API server's own checks, its version and discovery.
	if out := admin.must(t, "get", "--raw", "/readyz?verbose"); !strings.Contains(out, "readyz check passed") {
		t.Fatalf("/readyz: %s", out)
	}
	if out := admin.must(t, "get", "--raw", "/livez?verbose"); !strings.Contains(out, "livez check passed") {
		t.Fatalf("/livez: %s", out)
	}
	var ver struct{ ServerVersion struct{ GitVersion string } }
	if err := json.Unmarshal([]byte(admin.must(t, "version", "-o", "json")), &ver); err != nil || !strings.HasPrefix(ver.ServerVersion.GitVersion, "v1.") {
		t.Fatalf("kubectl version: %+v %v", ver, err)
	}
	groups := admin.must(t, "api-versions")
	for _, g := range []string{"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1",
		"policy/v1", "autoscaling/v2", "storage.k8s.io/v1", "coordination.k8s.io/v1", "apiextensions.k8s.io/v1",
		"admissionregistration.k8s.io/v1", "certificates.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1"} {
		if !strings.Contains("\n"+groups, "\n"+g+"\n") {
			t.Fatalf("discovery lacks %s:\n%s", g, groups)
		}
	}
	admin.must(t, "get", "pods", "--all-namespaces")

	// The OIDC issuer berth serves: a service-account token the API server
	// signs names the issuer and verifies with a key of its JWKS.
	id := c.Cluster.Identity.OIDC.Issuer[strings.LastIndex(c.Cluster.Identity.OIDC.Issuer, "/")+1:]
	checkOIDC(t, p.URL+"/_berth/eks-oidc/eu-west-1/id/"+id, c.Cluster.Identity.OIDC.Issuer,
		strings.TrimSpace(admin.must(t, "create", "token", "default")))

	// The seed's workload: the controller manager makes the ReplicaSet
	// and its pods, which stay Pending (no nodes yet).
	admin.must(t, "create", "deployment", "web", "--image=localhost:4566/web-app:latest", "--replicas=3")
	eventually(t, time.Minute, func() (bool, string) {
		out, _ := admin.run(t, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}")
		return out == "Pending Pending Pending", "pods: " + out
	})
	if out := admin.must(t, "get", "deployments,replicasets,pods"); !strings.Contains(out, "deployment.apps/web") || !strings.Contains(out, "replicaset.apps/web-") {
		t.Fatalf("get deployments,replicasets,pods:\n%s", out)
	}
	manifests := filepath.Join(work, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manifests, "app.yaml"), []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {mode: prod}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	admin.must(t, "apply", "-f", manifests)
	eventually(t, time.Minute, func() (bool, string) {
		out, _ := admin.run(t, "get", "events")
		return strings.Contains(out, "ScalingReplicaSet"), "events: " + out
	})

	// RBAC: an IAM user no aws-auth mapping names gets 401; with an
	// access entry (authenticationMode API_AND_CONFIG_MAP) but no policy,
	// 403; with AmazonEKSViewPolicy on namespace default, reads there and
	// nothing else.
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if _, err := p.aws(t, work, "iam", "create-user", "--user-name", "dev"); err != nil {
		t.Fatal(err)
	}
	out, err := p.aws(t, work, "iam", "create-access-key", "--user-name", "dev")
	if err != nil || json.Unmarshal([]byte(out), &key) != nil {
		t.Fatalf("create-access-key: %v %s", err, out)
	}
	dev := kubeClient{p: p, kubeconfig: kubeconfig, env: []string{"AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey}}
	if out, err := dev.run(t, "get", "pods"); err == nil || !strings.Contains(out, "Unauthorized") {
		t.Fatalf("unmapped user: %v %s", err, out)
	}
	roleUser := awsAuthRole(t, p, admin, work)
	eksRun(p, "update-cluster-config", "--name", "prod-cluster", "--access-config", "authenticationMode=API_AND_CONFIG_MAP")
	waitActive(p)
	// aws-auth still maps the role under API_AND_CONFIG_MAP.
	roleUser.must(t, "get", "pods", "-n", "default")
	devARN := "arn:aws:iam::123456789012:user/dev"
	eksRun(p, "create-access-entry", "--cluster-name", "prod-cluster", "--principal-arn", devARN)
	eventually(t, 30*time.Second, func() (bool, string) {
		out, err := dev.run(t, "get", "pods")
		return err != nil && strings.Contains(out, "Forbidden"), "user without access: " + out
	})
	eksRun(p, "associate-access-policy", "--cluster-name", "prod-cluster", "--principal-arn", devARN,
		"--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "--access-scope", "type=namespace,namespaces=default")
	eventually(t, 30*time.Second, func() (bool, string) {
		out, err := dev.run(t, "get", "pods", "-n", "default")
		return err == nil && strings.Contains(out, "web-"), "viewer in default: " + out
	})
	for _, args := range [][]string{{"create", "configmap", "x", "-n", "default"}, {"get", "pods", "-n", "kube-system"}, {"get", "secrets", "-n", "default"}} {
		if out, err := dev.run(t, args...); err == nil || !strings.Contains(strings.ToLower(out), "forbidden") {
			t.Fatalf("viewer: kubectl %v: %v %s", args, err, out)
		}
	}

	// The aws CLI v2's update-kubeconfig: kubectl runs v2's get-token.
	kubectlWithCLIv2(t, p, admin, work)

	// A berth restart: the control plane comes back with its objects.
	admin.must(t, "create", "configmap", "survivor", "--from-literal=k=v")
	p.stop()
	p = startBerth(t, dir, "--driver", "fake")
	admin.p = p
	eventually(t, 2*time.Minute, func() (bool, string) {
		out, err := admin.run(t, "get", "configmap", "survivor", "-o", "jsonpath={.data.k}")
		return err == nil && out == "v", "after a restart: " + out
	})
	if out := admin.must(t, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"); out != "3" {
		t.Fatalf("deployment after a restart: %q", out)
	}

	// delete-cluster stops the control plane and removes its data.
	clusterDir := filepath.Join(dir, "eks", "clusters", id)
	if _, err := os.Stat(clusterDir); err != nil {
		t.Fatalf("cluster directory: %v", err)
	}
	eksRun(p, "delete-cluster", "--name", "prod-cluster")
	eventually(t, time.Minute, func() (bool, string) {
		out := eksRun(p, "list-clusters")
		return !strings.Contains(out, "prod-cluster"), "clusters: " + out
	})
	if _, err := os.Stat(clusterDir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory after delete: %v", err)
	}
	if out, err := admin.run(t, "get", "nodes", "--request-timeout=5s"); err == nil {
		t.Fatalf("API server still serves after delete-cluster: %s", out)
	}
}

// checkOIDC fetches an issuer's discovery document and JWKS from base and
// verifies token (RS256) with the key its header names.
func checkOIDC(t *testing.T, base, issuer, token string) {
	t.Helper()
	get := func(url string, v any) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	get(base+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != issuer || disc.JWKSURI != issuer+"/keys" {
		t.Fatalf("discovery: %+v, want issuer %s", disc, issuer)
	}
	var jwks struct {
		Keys []struct{ Kid, Kty, Alg, N, E string }
	}
	get(base+"/keys", &jwks)
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", token)
	}
	var hdr struct{ Alg, Kid string }
	var claims struct {
		Iss string `json:"iss"`
	}
	for i, v := range []any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	if claims.Iss != issuer || hdr.Alg != "RS256" {
		t.Fatalf("token header %+v, issuer %q", hdr, claims.Iss)
	}
	for _, k := range jwks.Keys {
		if k.Kid != hdr.Kid {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("token signature with the JWKS key: %v", err)
		}
		return
	}
	t.Fatalf("no JWKS key has the token's kid %q: %+v", hdr.Kid, jwks)
}
