package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestTaskSetsWithAWSCLI is a third-party (EXTERNAL) deployment driven
// with the aws CLI on Docker: an EXTERNAL service, a blue task set behind
// a berth ALB's target group, a green task set of a new revision in a
// second target group, the listener moved to green and green made
// primary, blue scaled to 0 and deleted, the service scaled (green
// follows its scale), then green force-deleted and the service deleted.
// Each step is checked in the task sets' counts and stability, the tasks
// (startedBy = the task set ID), the target groups and the answers that
// come through the load balancer.
func TestTaskSetsWithAWSCLI(t *testing.T) {
	f := newWebFixture(t, []string{"v1", "v2"})
	c, ctx, run := f.c, f.ctx, f.run
	decode := func(out string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	type taskSet struct {
		ID, TaskSetArn, Status, StabilityStatus, TaskDefinition string
		ComputedDesiredCount, RunningCount, PendingCount        int
	}
	// The polls go through the SDK (an aws CLI start costs seconds on a
	// loaded host); the steps themselves through the CLI.
	describe := func(ids ...string) []taskSet {
		t.Helper()
		out, err := c.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("prod-cluster"), Service: aws.String("web"), TaskSets: ids})
		if err != nil {
			t.Fatal(err)
		}
		var sets []taskSet
		for _, ts := range out.TaskSets {
			sets = append(sets, taskSet{ID: aws.ToString(ts.Id), TaskSetArn: aws.ToString(ts.TaskSetArn), Status: aws.ToString(ts.Status),
				StabilityStatus: string(ts.StabilityStatus), TaskDefinition: aws.ToString(ts.TaskDefinition),
				ComputedDesiredCount: int(ts.ComputedDesiredCount), RunningCount: int(ts.RunningCount), PendingCount: int(ts.PendingCount)})
		}
		return sets
	}
	tasksOf := func(id string) []string {
		t.Helper()
		out, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), StartedBy: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		f.track(out.TaskArns)
		return out.TaskArns
	}
	// steady waits for a task set to run n tasks in STEADY_STATE.
	steady := func(id string, n int) {
		t.Helper()
		eventually(t, 2*time.Minute, func() (bool, string) {
			ts := describe(id)
			if len(ts) != 1 {
				return false, "task set missing"
			}
			live := tasksOf(id)
			return ts[0].RunningCount == n && ts[0].PendingCount == 0 && ts[0].ComputedDesiredCount == n &&
					ts[0].StabilityStatus == "STEADY_STATE" && len(live) == n,
				"task set " + id + ": " + mustJSON(ts[0]) + ", tasks " + strings.Join(live, " ")
		})
	}
	healthy := func(tg string, n int) { t.Helper(); f.waitHealthy(tg, n, time.Minute) }

	blueTG, greenTG := f.targetGroup("blue-tg", "2"), f.targetGroup("green-tg", "2")
	listenerARN, portStr := f.listener("Type=forward,TargetGroupArn=" + blueTG)
	// A test listener on green's target group, as a blue/green
	// controller sets one up (a target group no listener uses has its
	// targets "unused", not checked).
	_, testPort := f.listener("Type=forward,TargetGroupArn=" + greenTG)
	getOn := func(port string) string {
		t.Helper()
		body, err := f.get(&http.Client{Timeout: 5 * time.Second}, port)
		if err != nil {
			t.Fatalf("through the load balancer: %v", err)
		}
		return body
	}
	get := func() string { t.Helper(); return getOn(portStr) }

	// CODE_DEPLOY is refused; EXTERNAL refuses what task sets carry.
	if out, err := f.try("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "cd",
		"--task-definition", "web-app:1", "--desired-count", "1", "--deployment-controller", "type=CODE_DEPLOY"); err == nil || !strings.Contains(out+err.Error(), "UnsupportedFeatureException") {
		t.Fatalf("CODE_DEPLOY: %s %v", out, err)
	}
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web", "--desired-count", "2",
		"--deployment-controller", "type=EXTERNAL")
	nc := "awsvpcConfiguration={subnets=[subnet-private-1a],securityGroups=[sg-ecs-tasks]}"
	var blue, green struct{ TaskSet taskSet }
	decode(run("ecs", "create-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-definition", "web-app:1",
		"--launch-type", "FARGATE", "--network-configuration", nc, "--external-id", "blue",
		"--load-balancers", "targetGroupArn="+blueTG+",containerName=web,containerPort=8080",
		"--scale", "value=100,unit=PERCENT", "--tags", "key=color,value=blue"), &blue)
	run("ecs", "update-service-primary-task-set", "--cluster", "prod-cluster", "--service", "web", "--primary-task-set", blue.TaskSet.ID)
	begin := time.Now()
	steady(blue.TaskSet.ID, 2)
	healthy(blueTG, 2)
	t.Logf("blue steady and healthy after %v", time.Since(begin))
	if body := get(); body != "v1" {
		t.Fatalf("blue answers %q", body)
	}

	// Green: the new revision next to blue, in its own target group.
	decode(run("ecs", "create-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-definition", "web-app:2",
		"--launch-type", "FARGATE", "--network-configuration", nc,
		"--load-balancers", "targetGroupArn="+greenTG+",containerName=web,containerPort=8080"), &green)
	steady(green.TaskSet.ID, 2)
	healthy(greenTG, 2)
	t.Logf("green steady and healthy after %v", time.Since(begin))
	if body := getOn(testPort); body != "v2" {
		t.Fatalf("green through the test listener answers %q", body)
	}
	if body := get(); body != "v1" {
		t.Fatalf("production answers %q before the shift", body)
	}
	run("elbv2", "modify-listener", "--listener-arn", listenerARN, "--default-actions", "Type=forward,TargetGroupArn="+greenTG)
	run("ecs", "update-service-primary-task-set", "--cluster", "prod-cluster", "--service", "web", "--primary-task-set", green.TaskSet.TaskSetArn)
	if body := get(); body != "v2" {
		t.Fatalf("after the shift the load balancer answers %q", body)
	}
	var svc struct {
		Services []struct {
			TaskDefinition             string
			RunningCount, DesiredCount int
			TaskSets                   []taskSet
			Deployments                []any
		}
	}
	decode(run("ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web"), &svc)
	if s := svc.Services[0]; !strings.HasSuffix(s.TaskDefinition, "web-app:2") || len(s.TaskSets) != 2 || s.RunningCount != 4 || len(s.Deployments) != 0 {
		t.Fatalf("service after the shift: %s", mustJSON(s))
	}
	for _, ts := range describe() {
		if want := map[string]string{blue.TaskSet.ID: "ACTIVE", green.TaskSet.ID: "PRIMARY"}[ts.ID]; ts.Status != want {
			t.Fatalf("task set %s is %s, want %s", ts.ID, ts.Status, want)
		}
	}

	// Blue scaled to 0: its tasks leave its target group and stop.
	run("ecs", "update-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-set", blue.TaskSet.ID, "--scale", "value=0,unit=PERCENT")
	steady(blue.TaskSet.ID, 0)
	eventually(t, time.Minute, func() (bool, string) {
		th := f.targetStates(blueTG)
		return len(th) == 0, "blue targets: " + strings.Join(th, " ")
	})
	// The service scaled: green follows (ceil(3 × 100%)).
	if out, err := f.try("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web", "--task-definition", "web-app:1"); err == nil || !strings.Contains(out+err.Error(), "InvalidParameterException") {
		t.Fatalf("update-service --task-definition on an EXTERNAL service: %s %v", out, err)
	}
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web", "--desired-count", "3")
	steady(green.TaskSet.ID, 3)
	healthy(greenTG, 3)
	for range 6 {
		if body := get(); body != "v2" {
			t.Fatalf("green at 3 answers %q", body)
		}
	}
	// Blue deleted (it is at 0); green only with --force.
	if out, err := f.try("ecs", "delete-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-set", green.TaskSet.ID); err == nil || !strings.Contains(out+err.Error(), "InvalidParameterException") {
		t.Fatalf("delete-task-set of a scaled task set without --force: %s %v", out, err)
	}
	run("ecs", "delete-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-set", blue.TaskSet.ID)
	eventually(t, time.Minute, func() (bool, string) {
		ts := describe()
		return len(ts) == 1 && ts[0].ID == green.TaskSet.ID, "task sets: " + mustJSON(ts)
	})
	run("ecs", "delete-task-set", "--cluster", "prod-cluster", "--service", "web", "--task-set", green.TaskSet.ID, "--force")
	eventually(t, time.Minute, func() (bool, string) {
		ts, live := describe(), tasksOf(green.TaskSet.ID)
		return len(ts) == 0 && len(live) == 0, "task sets: " + mustJSON(ts) + ", green tasks " + strings.Join(live, " ")
	})
	t.Logf("both task sets deleted after %v", time.Since(begin))
	run("ecs", "delete-service", "--cluster", "prod-cluster", "--service", "web", "--force")
	run("ecs", "wait", "services-inactive", "--cluster", "prod-cluster", "--services", "web")
	for _, tg := range []string{blueTG, greenTG} {
		if th := f.targetStates(tg); len(th) != 0 {
			t.Fatalf("targets left in %s: %q", tg, th)
		}
	}
}

// mustJSON is v as JSON, for failure messages.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
