package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestServiceRollingDeployThroughLoadBalancer is the rolling
// deployment under load: a service of 3 busybox httpd tasks behind a berth
// ALB; update-service to a new revision while a bounded load generator
// sends requests through the load balancer for the whole deployment. No
// request may fail; the deployment completes with every task on the new
// revision, and the load balancer answers from it.
func TestServiceRollingDeployThroughLoadBalancer(t *testing.T) {
	f := newWebFixture(t, []string{"v1", "v2"})
	c, ctx, run := f.c, f.ctx, f.run
	tasks := func() []string {
		t.Helper()
		var out struct{ TaskArns []string }
		if err := json.Unmarshal([]byte(run("ecs", "list-tasks", "--cluster", "prod-cluster", "--service-name", "web-service")), &out); err != nil {
			t.Fatal(err)
		}
		f.track(out.TaskArns)
		return out.TaskArns
	}

	tg := f.targetGroup("web-tg", "3")
	_, portStr := f.listener("Type=forward,TargetGroupArn=" + tg)

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
	f.waitHealthy(tg, 3, 60*time.Second)

	// The load: one request at a time through the load balancer's
	// listener, bounded in count and time.
	get := func(client *http.Client) (string, error) { return f.get(client, portStr) }
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
	if fs := strings.Fields(out); len(fs) != 3 || fs[0] != "3" || fs[1] != "1" || fs[2] != "COMPLETED" {
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
	if th := f.targetStates(tg); len(th) != 3 {
		t.Fatalf("targets after the deployment: %q", th)
	}
	// Delete: the targets leave with the tasks.
	run("ecs", "delete-service", "--cluster", "prod-cluster", "--service", "web-service", "--force")
	run("ecs", "wait", "services-inactive", "--cluster", "prod-cluster", "--services", "web-service")
	if th := f.targetStates(tg); len(th) != 0 {
		t.Fatalf("targets after the delete: %q", th)
	}
}
