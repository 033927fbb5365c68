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

// TestAppScalingBoto3WireShapes drives every Application Auto Scaling
// operation berth serves with boto3 (testdata/appscalingwire.py), with
// error paths, paging and a scheduled action that fires, and checks every
// raw JSON answer against botocore's application-autoscaling model.
func TestAppScalingBoto3WireShapes(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/appscalingwire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "appscaling wire ok") {
		t.Fatalf("application-autoscaling with boto3 (%v):\n%s", err, out)
	}
}

// TestAppScalingCLIAndRestart runs the application-autoscaling
// commands with the aws CLI v1 on a service (fake driver): the seed's
// register-scalable-target and target tracking put-scaling-policy, a
// scheduled action whose new minimum raises the service's desired count
// at its time (tasks RUNNING), the activities in AWS's words, AWS's
// errors; then a restart keeps the target, policy and range.
func TestAppScalingCLIAndRestart(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir, "--driver", "fake")
	work := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := p.aws(t, work, args...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		return v
	}
	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	run("ecs", "register-task-definition", "--family", "web-app", "--requires-compatibilities", "FARGATE",
		"--network-mode", "awsvpc", "--cpu", "256", "--memory", "512",
		"--container-definitions", `[{"name":"web","image":"busybox","essential":true}]`)
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service", "--task-definition", "web-app",
		"--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1]}")

	key := []string{"--service-namespace", "ecs", "--resource-id", "service/prod-cluster/web-service", "--scalable-dimension", "ecs:service:DesiredCount"}
	aas := func(op string, args ...string) map[string]any {
		t.Helper()
		return run(append([]string{"application-autoscaling", op}, args...)...)
	}
	r := aas("register-scalable-target", append(key, "--min-capacity", "2", "--max-capacity", "20")...)
	if arn, _ := r["ScalableTargetARN"].(string); !strings.HasPrefix(arn, "arn:aws:application-autoscaling:eu-west-1:") {
		t.Fatalf("register-scalable-target: %v", r)
	}
	r = aas("put-scaling-policy", append(key, "--policy-name", "cpu-target-tracking", "--policy-type", "TargetTrackingScaling",
		"--target-tracking-scaling-policy-configuration", `{"TargetValue": 60.0,
          "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
          "ScaleOutCooldown": 60, "ScaleInCooldown": 120}`)...)
	if arn, _ := r["PolicyARN"].(string); !strings.HasSuffix(arn, ":resource/ecs/service/prod-cluster/web-service:policyName/cpu-target-tracking") {
		t.Fatalf("put-scaling-policy: %v", r)
	}
	at := time.Now().UTC().Add(4 * time.Second).Format("2006-01-02T15:04:05")
	aas("put-scheduled-action", append(key, "--scheduled-action-name", "scale-up", "--schedule", "at("+at+")",
		"--scalable-target-action", "MinCapacity=3,MaxCapacity=6")...)
	eventually(t, 30*time.Second, func() (bool, string) {
		out, _ := p.aws(t, work, "ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
			"--query", "services[0].[desiredCount,runningCount]", "--output", "text")
		return strings.Join(strings.Fields(out), " ") == "3 3", "desired and running: " + out
	})
	acts := aas("describe-scaling-activities", "--service-namespace", "ecs")["ScalingActivities"].([]any)
	if len(acts) != 2 {
		t.Fatalf("activities: %v", acts)
	}
	first, second := acts[0].(map[string]any), acts[1].(map[string]any)
	if first["Description"] != "Setting desired count to 3." || first["Cause"] != "minimum capacity was set to 3" ||
		second["Description"] != "Setting min capacity to 3 and max capacity to 6" || second["Cause"] != "scheduled action name scale-up was triggered" {
		t.Fatalf("activities: %v", acts)
	}
	if _, err := p.aws(t, work, append([]string{"application-autoscaling", "register-scalable-target"},
		append(key, "--min-capacity", "9", "--max-capacity", "1")...)...); err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("min > max: %v", err)
	}
	if _, err := p.aws(t, work, "application-autoscaling", "deregister-scalable-target", "--service-namespace", "ecs",
		"--resource-id", "service/prod-cluster/nope", "--scalable-dimension", "ecs:service:DesiredCount"); err == nil || !strings.Contains(err.Error(), "ObjectNotFoundException") {
		t.Fatalf("deregister of nothing: %v", err)
	}

	p.stop()
	p = startBerthAt(t, p.Addr, dir, "--driver", "fake")
	tg := aas("describe-scalable-targets", "--service-namespace", "ecs")["ScalableTargets"].([]any)
	if len(tg) != 1 || tg[0].(map[string]any)["MinCapacity"] != 3.0 || tg[0].(map[string]any)["MaxCapacity"] != 6.0 {
		t.Fatalf("after restart describe-scalable-targets: %v", tg)
	}
	pol := aas("describe-scaling-policies", "--service-namespace", "ecs")["ScalingPolicies"].([]any)
	if len(pol) != 1 || pol[0].(map[string]any)["PolicyName"] != "cpu-target-tracking" {
		t.Fatalf("after restart describe-scaling-policies: %v", pol)
	}
	aas("deregister-scalable-target", key...)
}

// TestScaleInRespectsTaskProtection protects two of a service's three
// tasks with the aws CLI (update-task-protection), then lets a scheduled
// action scale the service to one: only the unprotected task stops and
// the service stays at two; when one task's protection is removed, it
// stops too and the one still protected is left.
func TestScaleInRespectsTaskProtection(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	work := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := p.aws(t, work, args...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		return v
	}
	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	run("ecs", "register-task-definition", "--family", "web-app", "--requires-compatibilities", "FARGATE",
		"--network-mode", "awsvpc", "--cpu", "256", "--memory", "512",
		"--container-definitions", `[{"name":"web","image":"busybox","essential":true}]`)
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service", "--task-definition", "web-app",
		"--desired-count", "3", "--launch-type", "FARGATE", "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1]}")
	running := func() []string {
		out, _ := p.aws(t, work, "ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service",
			"--desired-status", "RUNNING", "--query", "taskArns", "--output", "text")
		return strings.Fields(out)
	}
	eventually(t, 30*time.Second, func() (bool, string) {
		n := running()
		return len(n) == 3, "running: " + strings.Join(n, " ")
	})
	tasks := running()
	protected, free := tasks[:2], tasks[2]
	r := run(append([]string{"ecs", "update-task-protection", "--cluster", "prod-cluster", "--protection-enabled",
		"--expires-in-minutes", "60", "--tasks"}, protected...)...)
	if pt := r["protectedTasks"].([]any); len(pt) != 2 || pt[0].(map[string]any)["protectionEnabled"] != true ||
		pt[0].(map[string]any)["expirationDate"] == nil {
		t.Fatalf("update-task-protection: %v", r)
	}
	r = run(append([]string{"ecs", "get-task-protection", "--cluster", "prod-cluster", "--tasks", free}, protected...)...)
	if pt := r["protectedTasks"].([]any); len(pt) != 3 || pt[0].(map[string]any)["protectionEnabled"] != false {
		t.Fatalf("get-task-protection: %v", r)
	}
	if _, err := p.aws(t, work, "ecs", "update-task-protection", "--cluster", "prod-cluster", "--protection-enabled",
		"--expires-in-minutes", "5000", "--tasks", free); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("expires-in-minutes 5000: %v", err)
	}

	key := []string{"--service-namespace", "ecs", "--resource-id", "service/prod-cluster/web-service", "--scalable-dimension", "ecs:service:DesiredCount"}
	run(append([]string{"application-autoscaling", "register-scalable-target"}, append(key, "--min-capacity", "1", "--max-capacity", "3")...)...)
	at := time.Now().UTC().Add(3 * time.Second).Format("2006-01-02T15:04:05")
	run(append([]string{"application-autoscaling", "put-scheduled-action"}, append(key, "--scheduled-action-name", "night",
		"--schedule", "at("+at+")", "--scalable-target-action", "MinCapacity=1,MaxCapacity=1")...)...)
	eventually(t, 30*time.Second, func() (bool, string) {
		n := running()
		return len(n) == 2, "running: " + strings.Join(n, " ")
	})
	if got := running(); !(strings.Contains(strings.Join(got, " "), protected[0]) && strings.Contains(strings.Join(got, " "), protected[1])) {
		t.Fatalf("scale-in to 1 stopped a protected task: running %v, protected %v", got, protected)
	}
	out, _ := p.aws(t, work, "ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
		"--query", "services[0].desiredCount", "--output", "text")
	if strings.TrimSpace(out) != "1" {
		t.Fatalf("desired count %q, want 1", out)
	}
	run("ecs", "update-task-protection", "--cluster", "prod-cluster", "--no-protection-enabled", "--tasks", protected[0])
	eventually(t, 30*time.Second, func() (bool, string) {
		n := running()
		return len(n) == 1 && n[0] == protected[1], "running: " + strings.Join(n, " ")
	})
}
