package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestKill9LosesNoAcknowledgedWrite registers definitions, kills the server
// with SIGKILL right after the last acknowledgement, restarts it on the same
// data directory and finds every acknowledged write.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir)
	if _, err := p.aws(t, "../testdata/seed", "ecs", "create-cluster", "--cluster-name", "prod-cluster"); err != nil {
		t.Fatal(err)
	}
	const n = 5
	for range n {
		if _, err := p.aws(t, "../testdata/seed", "ecs", "register-task-definition", "--cli-input-json", "file://task-def.json"); err != nil {
			t.Fatal(err)
		}
	}
	p.kill()

	p2 := startBerth(t, dir)
	out, err := p2.aws(t, ".", "ecs", "describe-task-definition", "--task-definition", fmt.Sprintf("web-app:%d", n), "--query", "taskDefinition.status", "--output", "text")
	if err != nil || strings.TrimSpace(out) != "ACTIVE" {
		t.Fatalf("after restart: %q %v", out, err)
	}
	out, err = p2.aws(t, ".", "ecs", "list-task-definitions", "--query", "length(taskDefinitionArns)")
	if err != nil || strings.TrimSpace(out) != fmt.Sprint(n) {
		t.Fatalf("after restart, %s definitions (%v)", out, err)
	}
	out, err = p2.aws(t, ".", "ecs", "describe-clusters", "--clusters", "prod-cluster", "--query", "clusters[0].status", "--output", "text")
	if err != nil || strings.TrimSpace(out) != "ACTIVE" {
		t.Fatalf("cluster after restart: %q %v", out, err)
	}
	// The next revision continues the sequence.
	out, err = p2.aws(t, "../testdata/seed", "ecs", "register-task-definition", "--cli-input-json", "file://task-def.json", "--query", "taskDefinition.revision")
	if err != nil || strings.TrimSpace(out) != fmt.Sprint(n+1) {
		t.Fatalf("revision after restart: %q %v", out, err)
	}
}
