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

// TestEKSBoto3WireShapes drives every EKS operation berth serves with
// boto3 (testdata/ekswire.py), with error paths and paging, and checks
// every raw JSON answer against botocore's eks model.
func TestEKSBoto3WireShapes(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake", "--eks-control-plane", "none")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/ekswire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "eks wire ok") {
		t.Fatalf("eks with boto3 (%v):\n%s", err, out)
	}
}

type eksCluster struct {
	Cluster struct {
		Name, Status, Endpoint, Version string
		Health                          struct {
			Issues []struct{ Code, Message string }
		}
		AccessConfig struct{ AuthenticationMode string }
	}
}

// TestEKSCLILifecycle runs the seed's EKS commands with the aws CLI v1:
// create-cluster, wait cluster-active, describe-cluster, access entries;
// this berth runs no Kubernetes control plane (--eks-control-plane none;
// TestEKSKubernetes runs one), so the cluster must end
// FAILED with a health issue (and the waiter must fail), never ACTIVE
// without an endpoint. The cluster and its access entries survive a
// restart; delete-cluster removes them.
func TestEKSCLILifecycle(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir, "--driver", "fake", "--eks-control-plane", "none")
	work := t.TempDir()
	run := func(p *proc, args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, append([]string{"eks"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	describe := func(p *proc) eksCluster {
		t.Helper()
		var c eksCluster
		if err := json.Unmarshal([]byte(run(p, "describe-cluster", "--name", "prod-cluster")), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	run(p, "create-cluster", "--name", "prod-cluster", "--region", "eu-west-1", "--kubernetes-version", "1.29",
		"--role-arn", "arn:aws:iam::123456789012:role/eks-cluster-role",
		"--resources-vpc-config", "subnetIds=subnet-a,subnet-b", "--access-config", "authenticationMode=API_AND_CONFIG_MAP")
	out, err := p.aws(t, work, "eks", "wait", "cluster-active", "--name", "prod-cluster")
	if err == nil || !strings.Contains(out+err.Error(), "FAILED") {
		t.Fatalf("wait cluster-active on a berth without a control plane: %v %s", err, out)
	}
	c := describe(p)
	if c.Cluster.Status != "FAILED" || c.Cluster.Endpoint != "" || len(c.Cluster.Health.Issues) != 1 ||
		!strings.Contains(c.Cluster.Health.Issues[0].Message, "no Kubernetes control plane") {
		t.Fatalf("cluster without a control plane: %+v", c.Cluster)
	}
	role := "arn:aws:iam::123456789012:role/dev/admin"
	run(p, "create-access-entry", "--cluster-name", "prod-cluster", "--principal-arn", role, "--kubernetes-groups", "admins")
	run(p, "associate-access-policy", "--cluster-name", "prod-cluster", "--principal-arn", role,
		"--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "--access-scope", "type=cluster")

	p.stop()
	p = startBerth(t, dir, "--driver", "fake", "--eks-control-plane", "none")
	if c := describe(p); c.Cluster.Status != "FAILED" || c.Cluster.Version != "1.29" || c.Cluster.AccessConfig.AuthenticationMode != "API_AND_CONFIG_MAP" {
		t.Fatalf("after a restart: %+v", c.Cluster)
	}
	if out := run(p, "list-associated-access-policies", "--cluster-name", "prod-cluster", "--principal-arn", role); !strings.Contains(out, "AmazonEKSClusterAdminPolicy") {
		t.Fatalf("access policy lost across a restart: %s", out)
	}
	if out := run(p, "delete-cluster", "--name", "prod-cluster"); !strings.Contains(out, "DELETING") {
		t.Fatalf("delete-cluster: %s", out)
	}
	run(p, "wait", "cluster-deleted", "--name", "prod-cluster")
	if out := run(p, "list-clusters"); strings.Contains(out, "prod-cluster") {
		t.Fatalf("deleted cluster still listed: %s", out)
	}
}
