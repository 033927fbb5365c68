package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWireShapesMatchAWSModels checks berth's ECS and ECR answers against
// AWS's own service models, the service-2.json files botocore ships:
// testdata/wireshape.py drives a berth server (fake container driver, so
// RunTask really runs tasks without Docker) through a realistic sequence of
// calls and error paths with boto3 and validates every raw response body
// against the operation's output or error shapes: member names, value
// types, enum values, required members, declared error codes. Any
// violation fails the test, with the operation and JSON path.
func TestWireShapesMatchAWSModels(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/wireshape.py",
		"--endpoint", p.URL, "--seed", "../testdata/seed/task-def.json")
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"WIRESHAPE_DUMP=")
	out, err := cmd.CombinedOutput()
	var violations []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "VIOLATION ") {
			violations = append(violations, line)
		}
	}
	if err != nil || len(violations) > 0 || !strings.Contains(string(out), "wire shapes ok") {
		t.Fatalf("wire shapes differ from AWS's models (%v):\n%s", err, out)
	}
	t.Logf("%s", firstLine(string(out)))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
