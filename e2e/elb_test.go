package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestELBv2Boto3WireShapes drives every ELBv2 operation berth serves with
// boto3 (testdata/elbwire.py), including error paths and pagination, and
// checks every raw XML answer against botocore's elbv2 model.
func TestELBv2Boto3WireShapes(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/elbwire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "elb wire ok") {
		t.Fatalf("elbv2 with boto3 (%v):\n%s", err, out)
	}
	t.Logf("%s", firstLine(string(out)))
}

// TestELBv2CLIAndRestart runs the aws elbv2 commands with the aws
// CLI v1, then restarts the server and checks that everything is still
// there (load balancer, target group, listener, rule, target and its
// attributes), and that bad input gets ELBv2's own error codes.
func TestELBv2CLIAndRestart(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir)
	work := t.TempDir()
	run := func(p *proc, args ...string) map[string]any {
		t.Helper()
		out, err := p.aws(t, work, append([]string{"elbv2"}, args...)...)
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
	fails := func(p *proc, code string, args ...string) {
		t.Helper()
		_, err := p.aws(t, work, append([]string{"elbv2"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "("+code+")") {
			t.Fatalf("aws elbv2 %s: want %s, got %v", strings.Join(args, " "), code, err)
		}
	}
	first := func(v map[string]any, list, field string) string {
		t.Helper()
		items, _ := v[list].([]any)
		if len(items) == 0 {
			t.Fatalf("no %s in %v", list, v)
		}
		s, _ := items[0].(map[string]any)[field].(string)
		return s
	}

	// Listener ports free on this host now (another berth on the host may
	// hold fixed ones: load balancer addresses are per data directory).
	albPort := strconv.Itoa(freePortOn(t, "127.0.0.1"))
	nlbPort := strconv.Itoa(freePortOn(t, "127.0.0.1"))
	lb := first(run(p, "create-load-balancer", "--name", "web-alb", "--type", "application",
		"--subnets", "subnet-private-1a", "subnet-private-1b", "--security-groups", "sg-alb"), "LoadBalancers", "LoadBalancerArn")
	tg := first(run(p, "create-target-group", "--name", "web-tg", "--protocol", "HTTP", "--port", "8080", "--target-type", "ip",
		"--vpc-id", "vpc-1", "--health-check-path", "/health", "--health-check-interval-seconds", "5"), "TargetGroups", "TargetGroupArn")
	ln := first(run(p, "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", albPort,
		"--default-actions", "Type=forward,TargetGroupArn="+tg), "Listeners", "ListenerArn")
	run(p, "register-targets", "--target-group-arn", tg, "--targets", "Id=172.31.0.7,Port=8080")
	run(p, "create-rule", "--listener-arn", ln, "--priority", "5", "--conditions", "Field=path-pattern,Values=/api/*",
		"--actions", "Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=hi}")
	run(p, "modify-target-group-attributes", "--target-group-arn", tg, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=10")
	nlb := first(run(p, "create-load-balancer", "--name", "tcp-nlb", "--type", "network", "--subnets", "subnet-private-1a"),
		"LoadBalancers", "LoadBalancerArn")
	tcp := first(run(p, "create-target-group", "--name", "tcp-tg", "--protocol", "TCP", "--port", "9000", "--target-type", "ip",
		"--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	run(p, "create-listener", "--load-balancer-arn", nlb, "--protocol", "TCP", "--port", nlbPort, "--default-actions", "Type=forward,TargetGroupArn="+tcp)

	fails(p, "PriorityInUse", "create-rule", "--listener-arn", ln, "--priority", "5", "--conditions", "Field=path-pattern,Values=/x",
		"--actions", "Type=forward,TargetGroupArn="+tg)
	fails(p, "ResourceInUse", "delete-target-group", "--target-group-arn", tg)
	fails(p, "InvalidTarget", "register-targets", "--target-group-arn", tg, "--targets", "Id=8.8.8.8")
	fails(p, "DuplicateListener", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", albPort,
		"--default-actions", "Type=fixed-response,FixedResponseConfig={StatusCode=404}")

	p.stop()
	p2 := startBerthAt(t, p.Addr, dir)
	lbs := run(p2, "describe-load-balancers", "--names", "web-alb", "tcp-nlb")["LoadBalancers"].([]any)
	if len(lbs) != 2 || lbs[0].(map[string]any)["LoadBalancerArn"] != lb {
		t.Fatalf("after restart: %v", lbs)
	}
	if dns, _ := lbs[0].(map[string]any)["DNSName"].(string); !strings.HasSuffix(dns, ".eu-west-1.elb.localhost") {
		t.Fatalf("DNSName %q", dns)
	}
	if got := first(run(p2, "describe-listeners", "--load-balancer-arn", lb), "Listeners", "ListenerArn"); got != ln {
		t.Fatalf("listener after restart: %s", got)
	}
	rules := run(p2, "describe-rules", "--listener-arn", ln)["Rules"].([]any)
	if len(rules) != 2 || rules[0].(map[string]any)["Priority"] != "5" {
		t.Fatalf("rules after restart: %v", rules)
	}
	th := run(p2, "describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"].([]any)
	if len(th) != 1 || th[0].(map[string]any)["Target"].(map[string]any)["Id"] != "172.31.0.7" {
		t.Fatalf("targets after restart: %v", th)
	}
	attrs := run(p2, "describe-target-group-attributes", "--target-group-arn", tg)["Attributes"].([]any)
	found := false
	for _, a := range attrs {
		m := a.(map[string]any)
		found = found || m["Key"] == "deregistration_delay.timeout_seconds" && m["Value"] == "10"
	}
	if !found {
		t.Fatalf("attribute lost in restart: %v", attrs)
	}
	run(p2, "delete-load-balancer", "--load-balancer-arn", nlb)
	fails(p2, "LoadBalancerNotFound", "describe-load-balancers", "--names", "tcp-nlb")

	// The remaining operations, through the CLI too.
	lbAttrs := run(p2, "modify-load-balancer-attributes", "--load-balancer-arn", lb, "--attributes", "Key=idle_timeout.timeout_seconds,Value=45")
	if !hasAttr(lbAttrs, "idle_timeout.timeout_seconds", "45") || !hasAttr(run(p2, "describe-load-balancer-attributes", "--load-balancer-arn", lb), "idle_timeout.timeout_seconds", "45") {
		t.Fatalf("load balancer attributes: %v", lbAttrs)
	}
	if got := first(run(p2, "modify-target-group", "--target-group-arn", tg, "--health-check-path", "/ready", "--matcher", "HttpCode=200-299"),
		"TargetGroups", "HealthCheckPath"); got != "/ready" {
		t.Fatalf("modify-target-group: %s", got)
	}
	tg2 := first(run(p2, "create-target-group", "--name", "web-tg2", "--protocol", "HTTP", "--port", "8081", "--target-type", "ip", "--vpc-id", "vpc-1"),
		"TargetGroups", "TargetGroupArn")
	run(p2, "modify-listener", "--listener-arn", ln, "--default-actions",
		"Type=forward,ForwardConfig={TargetGroups=[{TargetGroupArn="+tg+",Weight=80},{TargetGroupArn="+tg2+",Weight=20}]}")
	r2 := first(run(p2, "create-rule", "--listener-arn", ln, "--priority", "6", "--conditions", "Field=host-header,Values=api.example.com",
		"--actions", "Type=forward,TargetGroupArn="+tg2), "Rules", "RuleArn")
	r1 := rules[0].(map[string]any)["RuleArn"].(string)
	run(p2, "modify-rule", "--rule-arn", r1, "--conditions", "Field=path-pattern,Values=/v2/*")
	prio := run(p2, "set-rule-priorities", "--rule-priorities", "RuleArn="+r1+",Priority=6", "RuleArn="+r2+",Priority=5")["Rules"].([]any)
	if len(prio) != 2 {
		t.Fatalf("set-rule-priorities: %v", prio)
	}
	run(p2, "add-tags", "--resource-arns", lb, tg, "--tags", "Key=team,Value=web")
	run(p2, "remove-tags", "--resource-arns", tg, "--tag-keys", "team")
	tags := run(p2, "describe-tags", "--resource-arns", lb, tg)["TagDescriptions"].([]any)
	if n := len(tags[0].(map[string]any)["Tags"].([]any)); n != 1 || len(tags[1].(map[string]any)["Tags"].([]any)) != 0 {
		t.Fatalf("tags: %v", tags)
	}
	run(p2, "deregister-targets", "--target-group-arn", tg, "--targets", "Id=172.31.0.7,Port=8080")
	run(p2, "delete-rule", "--rule-arn", r2)
	run(p2, "delete-listener", "--listener-arn", ln)
	run(p2, "delete-target-group", "--target-group-arn", tg2)
	fails(p2, "TargetGroupNotFound", "describe-target-groups", "--names", "web-tg2")
}

func hasAttr(v map[string]any, key, value string) bool {
	attrs, _ := v["Attributes"].([]any)
	for _, a := range attrs {
		m := a.(map[string]any)
		if m["Key"] == key && m["Value"] == value {
			return true
		}
	}
	return false
}
