package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestServiceRollingDeployThroughLoadBalancer is the rolling
// deployment under load: a service of 3 busybox httpd tasks behind a berth
// ALB; update-service to a new revision while a bounded load generator
// sends requests through the load balancer for the whole deployment. No
// request may fail; the deployment completes with every task on the new
// revision, and the load balancer answers from it.
func TestServiceRollingDeployThroughLoadBalancer(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	work := t.TempDir()
	var mu sync.Mutex
	var seen []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, arn := range seen {
			cleanupTask(d, arn)
		}
	})
	run := func(args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, args...)
		if err != nil {
			t.Fatalf("%v\nserver log:\n%s", err, p.log.String())
		}
		return out
	}
	field := func(out string, path ...string) string {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, k := range path {
			switch x := v.(type) {
			case map[string]any:
				v = x[k]
			case []any:
				i, _ := strconv.Atoi(k)
				v = x[i]
			}
		}
		s, _ := v.(string)
		return s
	}
	tasks := func() []string {
		t.Helper()
		var out struct{ TaskArns []string }
		if err := json.Unmarshal([]byte(run("ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service")), &out); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for _, a := range out.TaskArns {
			if !slices.Contains(seen, a) {
				seen = append(seen, a)
			}
		}
		mu.Unlock()
		return out.TaskArns
	}

	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	def := ec2AndFargateDefinition(image)
	for _, v := range []string{"v1", "v2"} {
		def.ContainerDefinitions[0].Command = []string{"sh", "-c", "mkdir -p /www && echo ok > /www/health && echo " + v + " > /www/index.html && exec httpd -f -p 8080 -h /www"}
		if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	_, portStr, _ := net.SplitHostPort(freeAddr(t))
	lb := run("elbv2", "create-load-balancer", "--name", "web-alb", "--type", "application", "--subnets", "subnet-private-1a", "subnet-private-1b")
	lbARN, dns := field(lb, "LoadBalancers", "0", "LoadBalancerArn"), field(lb, "LoadBalancers", "0", "DNSName")
	tg := field(run("elbv2", "create-target-group", "--name", "web-tg", "--protocol", "HTTP", "--port", "8080", "--target-type", "ip",
		"--vpc-id", "vpc-1", "--health-check-path", "/health", "--health-check-interval-seconds", "5",
		"--healthy-threshold-count", "2"), "TargetGroups", "0", "TargetGroupArn")
	run("elbv2", "modify-target-group-attributes", "--target-group-arn", tg, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=3")
	run("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", portStr,
		"--default-actions", "Type=forward,TargetGroupArn="+tg)

	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service",
		"--task-definition", "web-app:1", "--desired-count", "3", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-private-1a],securityGroups=[sg-ecs-tasks]}",
		"--load-balancers", "targetGroupArn="+tg+",containerName=web,containerPort=8080",
		"--health-check-grace-period-seconds", "30",
		"--deployment-configuration", "deploymentCircuitBreaker={enable=true,rollback=true}")
	start := time.Now()
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	t.Logf("stable behind the load balancer after %v", time.Since(start))
	if n := len(tasks()); n != 3 {
		t.Fatalf("%d tasks", n)
	}
	// The waiter, as on AWS, does not wait for the targets' health: the
	// test does, before it starts the load.
	var th string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		th = run("elbv2", "describe-target-health", "--target-group-arn", tg, "--query", "TargetHealthDescriptions[].TargetHealth.State", "--output", "text")
		f := strings.Fields(th)
		if len(f) == 3 && !slices.ContainsFunc(f, func(s string) bool { return s != "healthy" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target health: %q", th)
		}
	}

	// The load: one request at a time through the load balancer's
	// listener (by its DNS name, as the shared front routes by Host),
	// bounded in count and time.
	get := func(client *http.Client) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+portStr+"/", nil)
		req.Host = dns + ":" + portStr
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", &statusError{resp.StatusCode, string(b)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	client := &http.Client{Timeout: 5 * time.Second}
	if body, err := get(client); err != nil || body != "v1" {
		t.Fatalf("through the load balancer before the deployment: %q %v", body, err)
	}
	var sent, failed atomic.Int64
	var failMu sync.Mutex
	var failures []string
	versions := map[string]int{}
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		deadline := time.Now().Add(4 * time.Minute)
		for i := 0; i < 100000 && loadCtx.Err() == nil && time.Now().Before(deadline); i++ {
			body, err := get(client)
			sent.Add(1)
			failMu.Lock()
			if err != nil && loadCtx.Err() == nil {
				failed.Add(1)
				if len(failures) < 10 {
					failures = append(failures, err.Error())
				}
			} else if err == nil {
				versions[body]++
			}
			failMu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()

	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	start = time.Now()
	run("ecs", "wait", "services-stable", "--cluster", "prod-cluster", "--services", "web-service")
	took := time.Since(start)
	// Fifty more requests of load, now on the new revision only.
	after := sent.Load() + 50
	eventually(t, 30*time.Second, func() (bool, string) {
		n := sent.Load()
		return n >= after, fmt.Sprintf("%d of %d requests sent", n, after)
	})
	stopLoad()
	<-loadDone
	failMu.Lock()
	t.Logf("deployment to revision 2 took %v; %d requests through the load balancer, %d failed; answers by version %v",
		took, sent.Load(), failed.Load(), versions)
	if failed.Load() != 0 {
		t.Errorf("failed requests during the deployment: %v", failures)
	}
	failMu.Unlock()
	if sent.Load() < 100 {
		t.Errorf("only %d requests sent", sent.Load())
	}
	out := run("ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
		"--query", "services[0].[runningCount,length(deployments),deployments[0].rolloutState]", "--output", "text")
	if f := strings.Fields(out); len(f) != 3 || f[0] != "3" || f[1] != "1" || f[2] != "COMPLETED" {
		t.Fatalf("after the deployment: %q", out)
	}
	arns := tasks()
	desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: arns})
	if err != nil || len(desc.Tasks) != 3 {
		t.Fatalf("describe-tasks: %v %+v", err, desc)
	}
	for _, tk := range desc.Tasks {
		if !strings.HasSuffix(aws.ToString(tk.TaskDefinitionArn), "web-app:2") {
			t.Errorf("task %s on %s", aws.ToString(tk.TaskArn), aws.ToString(tk.TaskDefinitionArn))
		}
	}
	for range 10 {
		if body, err := get(client); err != nil || body != "v2" {
			t.Fatalf("after the deployment the load balancer answers %q %v", body, err)
		}
	}
	th = run("elbv2", "describe-target-health", "--target-group-arn", tg, "--query", "TargetHealthDescriptions[].TargetHealth.State", "--output", "text")
	if f := strings.Fields(th); len(f) != 3 {
		t.Fatalf("targets after the deployment: %q", th)
	}
	// Delete: the targets leave with the tasks.
	run("ecs", "delete-service", "--cluster", "prod-cluster", "--service", "web-service", "--force")
	run("ecs", "wait", "services-inactive", "--cluster", "prod-cluster", "--services", "web-service")
	th = run("elbv2", "describe-target-health", "--target-group-arn", tg, "--query", "TargetHealthDescriptions[].TargetHealth.State", "--output", "text")
	if strings.TrimSpace(th) != "" {
		t.Fatalf("targets after the delete: %q", th)
	}
}

type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return "HTTP " + strconv.Itoa(e.code) + ": " + e.body }
