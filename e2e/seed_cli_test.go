package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSeedECSCommandsWithAWSCLI runs the tutorial's ECS commands, with its
// JSON unchanged, through the real aws CLI.
func TestSeedECSCommandsWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir())
	seed := "../testdata/seed"
	run := func(args ...string) string {
		t.Helper()
		out, err := p.aws(t, seed, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	if !strings.Contains(out, `"clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod-cluster"`) {
		t.Errorf("create-cluster: %s", out)
	}
	out = run("ecs", "register-task-definition", "--cli-input-json", "file://task-def.json")
	var reg struct {
		TaskDefinition struct {
			TaskDefinitionArn string
			Revision          int
			Status            string
			RegisteredAt      float64
		} `json:"taskDefinition"`
	}
	if err := json.Unmarshal([]byte(out), &reg); err != nil {
		t.Fatalf("register output: %v\n%s", err, out)
	}
	if reg.TaskDefinition.Revision != 1 || reg.TaskDefinition.Status != "ACTIVE" || reg.TaskDefinition.RegisteredAt == 0 {
		t.Errorf("register: %+v", reg.TaskDefinition)
	}
	table := run("ecs", "list-task-definitions", "--family-prefix", "web-app", "--output", "table")
	if !strings.Contains(table, "ListTaskDefinitions") || !strings.Contains(table, "task-definition/web-app:1") {
		t.Errorf("table output:\n%s", table)
	}
	desc := run("ecs", "describe-task-definition", "--task-definition", "web-app:1", "--query", "taskDefinition.containerDefinitions[0].healthCheck.command[1]", "--output", "text")
	if strings.TrimSpace(desc) != "curl -f http://localhost:8080/health || exit 1" {
		t.Errorf("describe health check: %q", desc)
	}
	if out := run("ecs", "list-clusters", "--query", "clusterArns[0]", "--output", "text"); !strings.Contains(out, "cluster/prod-cluster") {
		t.Errorf("list-clusters: %s", out)
	}
	if out := run("ecs", "describe-clusters", "--clusters", "prod-cluster", "--query", "clusters[0].status", "--output", "text"); strings.TrimSpace(out) != "ACTIVE" {
		t.Errorf("describe-clusters: %s", out)
	}
	if out := run("ecs", "delete-cluster", "--cluster", "prod-cluster", "--query", "cluster.status", "--output", "text"); strings.TrimSpace(out) != "INACTIVE" {
		t.Errorf("delete-cluster: %s", out)
	}
	// An error reaches the CLI as an AWS exception.
	_, err := p.aws(t, seed, "ecs", "describe-task-definition", "--task-definition", "nope:7")
	if err == nil || !strings.Contains(err.Error(), "ClientException") {
		t.Errorf("missing definition: %v", err)
	}
}
