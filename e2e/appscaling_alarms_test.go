package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestTargetTrackingScalesOnMetrics runs a target tracking policy on a
// customized metric end to end (fake driver, metric time scaled by 60: a
// one-minute period is a second): the policy creates its two alarms in
// CloudWatch (AWS's names, thresholds and datapoints); a load above the
// target puts the high alarm in ALARM, whose action scales the service
// out, step by step up to its maximum and never past it, with the
// activities in AWS's words; a load below 90% of the target puts the low
// alarm in ALARM and the service scales back in to its minimum; deleting
// the policy deletes the alarms. It logs the reaction time from the
// first breaching datapoint to the new tasks RUNNING.
func TestTargetTrackingScalesOnMetrics(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake", "--metric-time-scale", "60")
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
	run(append([]string{"application-autoscaling", "register-scalable-target"}, append(key, "--min-capacity", "2", "--max-capacity", "6")...)...)
	pol := run(append([]string{"application-autoscaling", "put-scaling-policy"}, append(key, "--policy-name", "load-target-tracking",
		"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", `{"TargetValue": 50.0,
		  "CustomizedMetricSpecification": {"Namespace": "MyApp", "MetricName": "Load",
		    "Dimensions": [{"Name": "Service", "Value": "web"}], "Statistic": "Average"},
		  "ScaleOutCooldown": 60, "ScaleInCooldown": 60}`)...)...)
	alarms, _ := pol["Alarms"].([]any)
	if len(alarms) != 2 {
		t.Fatalf("put-scaling-policy alarms: %v", pol)
	}
	high := alarms[0].(map[string]any)["AlarmName"].(string)
	low := alarms[1].(map[string]any)["AlarmName"].(string)
	if !strings.HasPrefix(high, "TargetTracking-service/prod-cluster/web-service-AlarmHigh-") ||
		!strings.HasPrefix(low, "TargetTracking-service/prod-cluster/web-service-AlarmLow-") {
		t.Fatalf("alarm names %s %s", high, low)
	}
	out, err := p.aws(t, work, "cloudwatch", "describe-alarms", "--alarm-names", high, low, "--query",
		"MetricAlarms[].[AlarmName,ComparisonOperator,Threshold,EvaluationPeriods,DatapointsToAlarm,Period]", "--output", "text")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "GreaterThanThreshold\t50\t3\t3\t60") || !strings.Contains(out, "LessThanThreshold\t45\t15\t15\t60") {
		t.Fatalf("describe-alarms:\n%s", out)
	}

	c := cloudwatchClient(p.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	put := func(v float64) {
		t.Helper()
		_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("MyApp"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Load"), Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
			Value: aws.Float64(v)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	ec := ecsClient(p.URL)
	counts := func() (desired, running int) {
		out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}})
		if err != nil || len(out.Services) != 1 {
			return 0, 0
		}
		return int(out.Services[0].DesiredCount), int(out.Services[0].RunningCount)
	}
	// pump puts v every 200 ms (a fifth of a scaled minute) until done
	// reports true; bounded by the context and 600 puts.
	pump := func(v float64, what string, done func() (bool, string)) {
		t.Helper()
		status := ""
		for i := 0; i < 600 && ctx.Err() == nil; i++ {
			put(v)
			if i%2 == 0 {
				var ok bool
				if ok, status = done(); ok {
					return
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: %s", what, status)
	}
	maxSeen := 0
	start := time.Now()
	var firstOut time.Duration
	pump(100, "scale-out to the maximum", func() (bool, string) {
		d, r := counts()
		maxSeen = max(maxSeen, d)
		if d > 2 && r == d && firstOut == 0 {
			firstOut = time.Since(start)
		}
		return d == 6 && r == 6, "desired " + strconv.Itoa(d) + " running " + strconv.Itoa(r)
	})
	// The high alarm needs 3 breaching datapoints of one (scaled) period:
	// 2 to 3 periods after the first put, depending on where it falls.
	period := time.Second
	t.Logf("reaction: first breaching datapoint to the first scale-out's tasks RUNNING %v (%.2fx the 3 periods the high alarm needs); to the maximum %v (periods of 1 s, cooldowns 1 s; fake driver)",
		firstOut, firstOut.Seconds()/(3*period).Seconds(), time.Since(start))
	if maxSeen > 6 {
		t.Fatalf("desired count reached %d, above the maximum 6", maxSeen)
	}
	acts := run("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs")["ScalingActivities"].([]any)
	last := acts[len(acts)-1].(map[string]any)
	if last["Description"] != "Setting desired count to 4." ||
		last["Cause"] != "monitor alarm "+high+" in state ALARM triggered policy load-target-tracking" || last["StatusCode"] != "Successful" {
		t.Fatalf("first activity: %v", last)
	}
	pump(10, "scale-in to the minimum", func() (bool, string) {
		d, r := counts()
		maxSeen = max(maxSeen, d)
		return d == 2 && r == 2, "desired " + strconv.Itoa(d) + " running " + strconv.Itoa(r)
	})
	acts = run("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs")["ScalingActivities"].([]any)
	if a := acts[0].(map[string]any); a["Description"] != "Setting desired count to 2." || !strings.Contains(a["Cause"].(string), "monitor alarm "+low+" in state ALARM") {
		t.Fatalf("scale-in activity: %v", a)
	}
	hist, err := p.aws(t, work, "cloudwatch", "describe-alarm-history", "--alarm-name", high, "--history-item-type", "Action",
		"--query", "AlarmHistoryItems[0].HistorySummary", "--output", "text")
	if err != nil || !strings.Contains(hist, "Successfully executed action arn:aws:autoscaling:") {
		t.Fatalf("alarm history: %q %v", hist, err)
	}
	run(append([]string{"application-autoscaling", "delete-scaling-policy"}, append(key, "--policy-name", "load-target-tracking")...)...)
	out, _ = p.aws(t, work, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "TargetTracking-", "--query", "length(MetricAlarms)", "--output", "text")
	if strings.TrimSpace(out) != "0" {
		t.Fatalf("alarms left after delete-scaling-policy: %s", out)
	}
}

// TestDeploymentAlarmRollsBack gives a service deploymentConfiguration
// alarms with rollback (aws CLI), puts the named alarm in ALARM
// (set-alarm-state) and deploys a new revision: the deployment fails
// saying which alarm, and the service rolls back to the first revision.
func TestDeploymentAlarmRollsBack(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	work := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	for range 2 {
		run("ecs", "register-task-definition", "--family", "web-app", "--requires-compatibilities", "FARGATE",
			"--network-mode", "awsvpc", "--cpu", "256", "--memory", "512",
			"--container-definitions", `[{"name":"web","image":"busybox","essential":true}]`)
	}
	run("cloudwatch", "put-metric-alarm", "--alarm-name", "deploy-guard", "--namespace", "MyApp", "--metric-name", "Errors",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold")
	run("ecs", "create-service", "--cluster", "prod-cluster", "--service-name", "web-service", "--task-definition", "web-app:1",
		"--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1]}",
		"--deployment-configuration", `{"alarms": {"alarmNames": ["deploy-guard"], "enable": true, "rollback": true}}`)
	state := func() string {
		out, _ := p.aws(t, work, "ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
			"--query", "services[0].[taskDefinition,deployments[0].rolloutState,runningCount]", "--output", "text")
		return strings.Join(strings.Fields(out), " ")
	}
	eventually(t, 30*time.Second, func() (bool, string) {
		s := state()
		return strings.HasSuffix(s, "web-app:1 COMPLETED 2"), "service: " + s
	})
	run("cloudwatch", "set-alarm-state", "--alarm-name", "deploy-guard", "--state-value", "ALARM", "--state-reason", "errors in the canary")
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	eventually(t, 30*time.Second, func() (bool, string) {
		out, _ := p.aws(t, work, "ecs", "describe-services", "--cluster", "prod-cluster", "--services", "web-service",
			"--query", "services[0].events[].message", "--output", "text")
		return strings.Contains(out, "deployment failed: alarm(s) detected: deploy-guard.") && strings.Contains(out, "rolling back to deployment"),
			"events: " + out + " service: " + state()
	})
	eventually(t, 30*time.Second, func() (bool, string) {
		s := state()
		return strings.Contains(s, "web-app:1 COMPLETED 2"), "service after the rollback: " + s
	})
}
