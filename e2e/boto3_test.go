package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const boto3Script = `
import json, os, sys, boto3
from botocore.exceptions import ClientError
ecs = boto3.client("ecs", endpoint_url=os.environ["BERTH_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
ecs.create_cluster(clusterName="prod-cluster")
with open("../testdata/seed/task-def.json") as f:
    td = json.load(f)
out = ecs.register_task_definition(**td)["taskDefinition"]
assert out["revision"] == 1 and out["status"] == "ACTIVE", out
assert out["registeredAt"].year >= 2024, out["registeredAt"]
arns = ecs.list_task_definitions(familyPrefix="web-app")["taskDefinitionArns"]
assert len(arns) == 1, arns
try:
    ecs.describe_task_definition(taskDefinition="missing:1")
    sys.exit("expected ClientException")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ClientException", e.response
print("boto3 ok")
`

// TestBoto3 drives berth with boto3, the Python SDK, as a separate client.
func TestBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir())
	cmd := exec.Command("python3", "-c", boto3Script)
	cmd.Env = append(os.Environ(), "BERTH_URL="+p.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
