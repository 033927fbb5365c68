package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestALBMetrics sends counted requests through a berth ALB to two real
// loopback HTTP targets and reads the AWS/ApplicationELB metrics back
// with GetMetricStatistics (metric time scaled by 60: a period a second).
func TestALBMetrics(t *testing.T) {
	requireAWSCLI(t)
	e := &elbEnv{t: t, p: startBerth(t, t.TempDir(), "--driver", "fake", "--metric-time-scale", "60"), work: t.TempDir()}
	a, b := startBackend(t, "A", "127.0.0.71"), startBackend(t, "B", "127.0.0.72")
	dns, port, lbARN, tgs := e.albSetup("metrics", [][]*backend{{a, b}})
	e.waitHealth(tgs[0], a.ip, "healthy", 40*time.Second)
	e.waitHealth(tgs[0], b.ip, "healthy", 40*time.Second)
	c := &http.Client{Timeout: 10 * time.Second}

	// Every answered request is counted: the ALB's own 503s too.
	var requests, ok2xx int
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := albGet(t, c, dns, port, "/ping")
		if code != 0 {
			requests++
		}
		if code == http.StatusOK {
			ok2xx++
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("load balancer not serving (last status %d)", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	const n = 120
	for i := range n {
		if code, body := albGet(t, c, dns, port, fmt.Sprintf("/r%d", i)); code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
		if i%40 == 39 {
			time.Sleep(1200 * time.Millisecond) // spread over several periods
		}
	}
	requests += n
	ok2xx += n

	lbDim := lbARN[strings.Index(lbARN, ":loadbalancer/")+len(":loadbalancer/"):]
	tgDim := tgs[0][strings.LastIndex(tgs[0], ":")+1:]
	cwc := cloudwatchClient(e.p.URL)
	lbDims := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)}}
	tgDims := []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}}
	bothDims := append(append([]cwtypes.Dimension{}, lbDims...), tgDims...)
	checks := []struct {
		name string
		dims []cwtypes.Dimension
		stat cwtypes.Statistic
		want float64
	}{
		{"RequestCount", lbDims, cwtypes.StatisticSum, float64(requests)},
		{"HTTPCode_Target_2XX_Count", lbDims, cwtypes.StatisticSum, float64(ok2xx)},
		{"RequestCount", bothDims, cwtypes.StatisticSum, float64(requests)},
		{"HTTPCode_Target_2XX_Count", tgDims, cwtypes.StatisticSum, float64(ok2xx)},
		// Two healthy targets throughout: each period's count over two.
		{"RequestCountPerTarget", tgDims, cwtypes.StatisticSum, float64(requests) / 2},
		{"HealthyHostCount", bothDims, cwtypes.StatisticMaximum, 2},
		{"UnHealthyHostCount", bothDims, cwtypes.StatisticMaximum, 0},
	}
	for _, ck := range checks {
		var got float64
		var last string
		until := time.Now().Add(30 * time.Second)
		for {
			got, last = albStat(t, cwc, ck.name, ck.dims, ck.stat)
			if got == ck.want || time.Now().After(until) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got != ck.want {
			t.Errorf("%s %v %s = %v, want %v (%s)", ck.name, dimString(ck.dims), ck.stat, got, ck.want, last)
		}
	}
	rt, _ := albStat(t, cwc, "TargetResponseTime", lbDims, cwtypes.StatisticAverage)
	if rt <= 0 || rt > 1 {
		t.Errorf("TargetResponseTime average %v s, want within (0, 1]", rt)
	}
	t.Logf("%d requests counted; TargetResponseTime average %.6fs", requests, rt)
	// Percentiles of the response times, from the data plane's histogram:
	// every period's p50 and p99 lie between its Minimum and Maximum.
	out, err := cwc.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("TargetResponseTime"), Dimensions: lbDims,
		StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticMinimum, cwtypes.StatisticMaximum}, ExtendedStatistics: []string{"p50", "p99"},
	})
	if err != nil || len(out.Datapoints) == 0 {
		t.Fatalf("TargetResponseTime percentiles: %v %+v", err, out)
	}
	for _, dp := range out.Datapoints {
		lo, hi := aws.ToFloat64(dp.Minimum), aws.ToFloat64(dp.Maximum)
		p50, ok50 := dp.ExtendedStatistics["p50"]
		p99, ok99 := dp.ExtendedStatistics["p99"]
		if !ok50 || !ok99 || p50 < lo || p50 > p99 || p99 > hi || hi > 1 {
			t.Errorf("TargetResponseTime datapoint: min %v p50 %v p99 %v max %v (%v)", lo, p50, p99, hi, dp.ExtendedStatistics)
		}
	}
	t.Logf("TargetResponseTime first period: p50 %.6fs p99 %.6fs", out.Datapoints[0].ExtendedStatistics["p50"], out.Datapoints[0].ExtendedStatistics["p99"])
}

// albStat returns a statistic of an AWS/ApplicationELB metric over the
// last ten minutes: Sum and SampleCount add the datapoints, Maximum takes the
// largest, Average weighs by sample count.
func albStat(t *testing.T, c *cloudwatch.Client, name string, dims []cwtypes.Dimension, stat cwtypes.Statistic) (float64, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	stats := []cwtypes.Statistic{stat, cwtypes.StatisticSampleCount, cwtypes.StatisticSum}
	out, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(name), Dimensions: dims,
		StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: stats,
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics %s: %v", name, err)
	}
	var v, sum, count float64
	for i, dp := range out.Datapoints {
		sum += aws.ToFloat64(dp.Sum)
		count += aws.ToFloat64(dp.SampleCount)
		if stat == cwtypes.StatisticMaximum && (i == 0 || aws.ToFloat64(dp.Maximum) > v) {
			v = aws.ToFloat64(dp.Maximum)
		}
	}
	switch stat {
	case cwtypes.StatisticSum:
		v = sum
	case cwtypes.StatisticAverage:
		if count > 0 {
			v = sum / count
		}
	}
	return v, fmt.Sprintf("%d datapoints", len(out.Datapoints))
}

func dimString(dims []cwtypes.Dimension) string {
	var s []string
	for _, d := range dims {
		s = append(s, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return strings.Join(s, ",")
}

// TestALBRequestCountPerTargetScales runs an ALBRequestCountPerTarget
// target tracking policy on the metric berth's ALB publishes (fake
// driver, metric time scaled by 60). The target group's targets are two
// loopback HTTP servers of the test, not the service's tasks (fake tasks
// serve nothing), so the load per target does not fall as the service
// grows: bounded load above the target scales the service out to its
// maximum, no load scales it back in to its minimum.
func TestALBRequestCountPerTargetScales(t *testing.T) {
	requireAWSCLI(t)
	e := &elbEnv{t: t, p: startBerth(t, t.TempDir(), "--driver", "fake", "--metric-time-scale", "60"), work: t.TempDir()}
	a, b := startBackend(t, "A", "127.0.0.73"), startBackend(t, "B", "127.0.0.74")
	dns, port, lbARN, tgs := e.albSetup("rcpt", [][]*backend{{a, b}})
	e.waitHealth(tgs[0], a.ip, "healthy", 40*time.Second)
	e.waitHealth(tgs[0], b.ip, "healthy", 40*time.Second)
	label := lbARN[strings.Index(lbARN, ":loadbalancer/")+len(":loadbalancer/"):] + "/" + tgs[0][strings.LastIndex(tgs[0], ":")+1:]

	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := e.p.aws(t, e.work, args...)
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
	run("ecs", "create-cluster", "--cluster-name", "alb-cluster")
	run("ecs", "register-task-definition", "--family", "web-app", "--requires-compatibilities", "FARGATE",
		"--network-mode", "awsvpc", "--cpu", "256", "--memory", "512",
		"--container-definitions", `[{"name":"web","image":"busybox","essential":true}]`)
	run("ecs", "create-service", "--cluster", "alb-cluster", "--service-name", "web", "--task-definition", "web-app",
		"--desired-count", "1", "--launch-type", "FARGATE", "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1]}")
	key := []string{"--service-namespace", "ecs", "--resource-id", "service/alb-cluster/web", "--scalable-dimension", "ecs:service:DesiredCount"}
	run(append([]string{"application-autoscaling", "register-scalable-target"}, append(key, "--min-capacity", "1", "--max-capacity", "4")...)...)
	run(append([]string{"application-autoscaling", "put-scaling-policy"}, append(key, "--policy-name", "alb-requests",
		"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", `{"TargetValue": 10.0,
		  "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "`+label+`"},
		  "ScaleOutCooldown": 60, "ScaleInCooldown": 60}`)...)...)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ec := ecsClient(e.p.URL)
	counts := func() (desired, running int) {
		out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("alb-cluster"), Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			return 0, 0
		}
		return int(out.Services[0].DesiredCount), int(out.Services[0].RunningCount)
	}
	// About 40 requests a second (20 per target per scaled minute, twice
	// the target), bounded in count and time.
	c := &http.Client{Timeout: 10 * time.Second}
	maxSeen, sent := 0, 0
	start := time.Now()
	for d, r := counts(); !(d == 4 && r == 4); d, r = counts() {
		maxSeen = max(maxSeen, d)
		if sent >= 4000 || time.Since(start) > 90*time.Second {
			t.Fatalf("no scale-out to 4 after %d requests in %v: desired %d running %d", sent, time.Since(start), d, r)
		}
		for range 10 {
			if code, body := albGet(t, c, dns, port, "/load"); code != http.StatusOK {
				t.Fatalf("request: %d %s", code, body)
			}
			sent++
			time.Sleep(25 * time.Millisecond)
		}
	}
	t.Logf("scaled out to 4 after %d requests in %v", sent, time.Since(start))
	eventually(t, 90*time.Second, func() (bool, string) {
		d, r := counts()
		maxSeen = max(maxSeen, d)
		return d == 1 && r == 1, fmt.Sprintf("scale-in: desired %d running %d", d, r)
	})
	if maxSeen > 4 {
		t.Fatalf("desired count reached %d, above the maximum 4", maxSeen)
	}
	acts := run("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs")["ScalingActivities"].([]any)
	if len(acts) < 2 || !strings.Contains(acts[0].(map[string]any)["Cause"].(string), "AlarmLow") ||
		!strings.Contains(acts[len(acts)-1].(map[string]any)["Cause"].(string), "AlarmHigh") {
		t.Fatalf("activities: %v", acts)
	}
}
