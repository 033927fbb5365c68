package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// burnCGI is the test image's CPU endpoint: busybox httpd runs it as a
// CGI script for GET /cgi-bin/burn, and each request spends a fixed
// amount of CPU in a shell loop (about 0.2 s of one core here).
const burnCGI = "#!/bin/sh\ni=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\nprintf 'Content-Type: text/plain\\r\\n\\r\\nburnt %s\\n' $i\n"

// scaleLoop is a service on Docker behind a berth ALB whose tasks the
// scheduler registers as the target group's targets, with a scalable
// target of range [min, max], on a server with metric time scaled by 30
// (a one-minute period lasts two seconds: the agent samples Docker's
// stats about every second on a busy host, so each period gets a sample).
type scaleLoop struct {
	t        *testing.T
	p        *proc
	work     string
	ecs      *ecs.Client
	cw       *cloudwatch.Client
	dns      string
	port     int
	lbARN    string
	tgARN    string
	min, max int32
	// The smallest and largest desired counts seen once the target was
	// registered, and every count an activity set.
	lo, hi int32
}

// newScaleLoop starts berth, creates the ALB (listener on a free port,
// health check /health every 5 s), the service of desired count min
// whose tasks serve busybox httpd with the burn CGI on port 8080, and
// registers the scalable target; it returns once every task is RUNNING
// and healthy in the target group.
func newScaleLoop(t *testing.T, min, max int32) *scaleLoop {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	s := &scaleLoop{t: t, p: startBerth(t, t.TempDir(), "--metric-time-scale", "30"), work: t.TempDir(), min: min, max: max, lo: min, hi: min}
	s.ecs, s.cw = ecsClient(s.p.URL), cloudwatchClient(s.p.URL)
	t.Cleanup(func() {
		if t.Failed() {
			for line := range strings.Lines(s.p.log.String()) {
				if strings.Contains(line, "alarm") || strings.Contains(line, "scal") || strings.Contains(line, "tcs") || strings.Contains(line, "telemetry") || strings.Contains(line, "metric") {
					t.Log(strings.TrimSpace(line))
				}
			}
		}
	})
	ctx := t.Context()
	if _, err := s.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("burn"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), StopTimeout: aws.Int32(1),
			Environment: []types.KeyValuePair{{Name: aws.String("BURN"), Value: aws.String(burnCGI)}},
			Command: []string{"sh", "-c", `mkdir -p /www/cgi-bin && echo ok > /www/health && echo ok > /www/index.html && ` +
				`printf '%s' "$BURN" > /www/cgi-bin/burn && chmod +x /www/cgi-bin/burn && exec httpd -f -p 8080 -h /www`},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.port = freeListenerPort(t)
	lb := s.cli("elbv2", "create-load-balancer", "--name", "web-alb", "--type", "application", "--subnets", "subnet-a", "subnet-b")
	s.lbARN, s.dns = field(t, lb, "LoadBalancers", "LoadBalancerArn"), field(t, lb, "LoadBalancers", "DNSName")
	s.tgARN = field(t, s.cli("elbv2", "create-target-group", "--name", "web-tg", "--protocol", "HTTP", "--port", "8080",
		"--target-type", "ip", "--vpc-id", "vpc-1", "--health-check-path", "/health", "--health-check-interval-seconds", "5",
		"--healthy-threshold-count", "2"), "TargetGroups", "TargetGroupArn")
	s.cli("elbv2", "modify-target-group-attributes", "--target-group-arn", s.tgARN, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=2")
	s.cli("elbv2", "create-listener", "--load-balancer-arn", s.lbARN, "--protocol", "HTTP", "--port", strconv.Itoa(s.port),
		"--default-actions", "Type=forward,TargetGroupArn="+s.tgARN)
	_, err = s.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod-cluster"), ServiceName: aws.String("web-service"), TaskDefinition: aws.String("burn"),
		DesiredCount: aws.Int32(min), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(s.tgARN), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.cli(append([]string{"application-autoscaling", "register-scalable-target"}, append(s.key(),
		"--min-capacity", strconv.Itoa(int(min)), "--max-capacity", strconv.Itoa(int(max)))...)...)
	s.waitCount(min, 90*time.Second)
	return s
}

func (s *scaleLoop) key() []string {
	return []string{"--service-namespace", "ecs", "--resource-id", "service/prod-cluster/web-service", "--scalable-dimension", "ecs:service:DesiredCount"}
}

// cli runs the aws CLI and decodes its JSON output.
func (s *scaleLoop) cli(args ...string) map[string]any {
	s.t.Helper()
	out, err := s.p.aws(s.t, s.work, args...)
	if err != nil {
		s.t.Fatalf("%v\nserver log:\n%s", err, s.p.log.String())
	}
	var v map[string]any
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			s.t.Fatalf("%v: %s", err, out)
		}
	}
	return v
}

// counts reads the service's desired and running counts, and records
// the desired count's range.
func (s *scaleLoop) counts() (desired, running int32, err error) {
	out, err := s.ecs.DescribeServices(s.t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}})
	if err != nil || len(out.Services) != 1 {
		return 0, 0, fmt.Errorf("describe-services: %v", err)
	}
	sv := out.Services[0]
	s.lo, s.hi = min(s.lo, sv.DesiredCount), max(s.hi, sv.DesiredCount)
	return sv.DesiredCount, sv.RunningCount, nil
}

// healthy counts the target group's healthy targets (aws CLI).
func (s *scaleLoop) healthy() int32 {
	out, err := s.p.aws(s.t, s.work, "elbv2", "describe-target-health", "--target-group-arn", s.tgARN,
		"--query", "TargetHealthDescriptions[?TargetHealth.State=='healthy'] | length(@)", "--output", "text")
	if err != nil {
		return -1
	}
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return int32(n)
}

// waitCount waits until the service has n desired and RUNNING tasks, all
// n healthy behind the load balancer.
func (s *scaleLoop) waitCount(n int32, within time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	eventually(s.t, within, func() (bool, string) {
		d, r, err := s.counts()
		if err != nil {
			return false, err.Error()
		}
		if d != n || r != n {
			return false, fmt.Sprintf("want %d: desired %d running %d", n, d, r)
		}
		// The target group's view (the aws CLI, seconds a call on a busy
		// host): only once the service's counts are there.
		h := s.healthy()
		return h == n, fmt.Sprintf("want %d: desired %d running %d healthy targets %d", n, d, r, h)
	})
	return time.Since(start)
}

// load sends requests for path through the load balancer from workers
// goroutines, each pausing gap between requests, until stop is called,
// at most limit requests or for at most 3 minutes. stop waits for the
// workers and returns the requests answered and those failed.
func (s *scaleLoop) load(path string, workers int, gap time.Duration, limit int64) (stop func() (ok, failed int64)) {
	ctx, cancel := context.WithTimeout(s.t.Context(), 3*time.Minute)
	var sent, ok, failed atomic.Int64
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && sent.Add(1) <= limit {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(s.port)+path, nil)
				req.Host = net.JoinHostPort(s.dns, strconv.Itoa(s.port))
				resp, err := c.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				switch {
				case err == nil && resp.StatusCode == http.StatusOK:
					ok.Add(1)
				case ctx.Err() == nil:
					failed.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(gap):
				}
			}
		})
	}
	return func() (int64, int64) {
		cancel()
		wg.Wait()
		return ok.Load(), failed.Load()
	}
}

// checkActivities checks the scaling activities, newest first: the
// newest sets the count back to min on the low alarm, the oldest sets
// it above min on the high alarm, and none leaves [min, max].
func (s *scaleLoop) checkActivities(policy string) {
	s.t.Helper()
	acts, _ := s.cli("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs")["ScalingActivities"].([]any)
	if len(acts) < 2 {
		s.t.Fatalf("want a scale-out and a scale-in activity, got %v", acts)
	}
	prefix := "monitor alarm TargetTracking-service/prod-cluster/web-service-"
	for i, a := range acts {
		m := a.(map[string]any)
		desc, cause, status := m["Description"].(string), m["Cause"].(string), m["StatusCode"]
		s.t.Logf("activity: %s | %s | %v", desc, cause, status)
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(desc, "Setting desired count to "), "."))
		if err != nil || int32(n) < s.min || int32(n) > s.max || status != "Successful" {
			s.t.Errorf("activity %q (%v) leaves [%d, %d] or failed", desc, status, s.min, s.max)
		}
		want := ""
		switch i {
		case 0:
			want = prefix + "AlarmLow-"
			if int32(n) != s.min {
				s.t.Errorf("the newest activity %q does not return to the minimum %d", desc, s.min)
			}
		case len(acts) - 1:
			want = prefix + "AlarmHigh-"
			if int32(n) <= s.min {
				s.t.Errorf("the first activity %q does not scale out", desc)
			}
		}
		if want != "" && (!strings.Contains(cause, want) || !strings.Contains(cause, "in state ALARM triggered policy "+policy)) {
			s.t.Errorf("activity cause %q: want %q ... in state ALARM triggered policy %s", cause, want, policy)
		}
	}
}

// checkAlarmHistory checks that the policy's high and low alarms each
// went to ALARM with AWS's threshold-crossed reason for their datapoints.
func (s *scaleLoop) checkAlarmHistory(high, low string) {
	s.t.Helper()
	for _, side := range []struct{ name, prefix, want string }{
		{"AlarmHigh-", "Threshold Crossed: 3 out of the last 3 datapoints [",
			"] were greater than the threshold (" + high + ") (minimum 3 datapoints for OK -> ALARM transition)."},
		{"AlarmLow-", "Threshold Crossed: 15 out of the last 15 datapoints [",
			"] were less than the threshold (" + low + ") (minimum 15 datapoints for OK -> ALARM transition)."},
	} {
		out, err := s.cw.DescribeAlarmHistory(s.t.Context(), &cloudwatch.DescribeAlarmHistoryInput{
			AlarmName: aws.String(s.alarmName(side.name)), HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
		if err != nil {
			s.t.Fatal(err)
		}
		found := false
		for _, h := range out.AlarmHistoryItems {
			if strings.HasSuffix(aws.ToString(h.HistorySummary), " to ALARM") {
				var data struct{ NewState struct{ StateReason string } }
				_ = json.Unmarshal([]byte(aws.ToString(h.HistoryData)), &data)
				s.t.Logf("%s: %s: %s", aws.ToString(h.AlarmName), aws.ToString(h.HistorySummary), data.NewState.StateReason)
				found = found || strings.HasPrefix(data.NewState.StateReason, side.prefix) && strings.HasSuffix(data.NewState.StateReason, side.want)
			}
		}
		if !found {
			s.t.Errorf("no %s history item to ALARM with reason %q...%q", side.name, side.prefix, side.want)
		}
	}
}

// alarmName returns the name of the policy's alarm whose name has part.
func (s *scaleLoop) alarmName(part string) string {
	s.t.Helper()
	out, err := s.cw.DescribeAlarms(s.t.Context(), &cloudwatch.DescribeAlarmsInput{
		AlarmNamePrefix: aws.String("TargetTracking-service/prod-cluster/web-service-" + part)})
	if err != nil || len(out.MetricAlarms) != 1 {
		s.t.Fatalf("alarm %s: %v %+v", part, err, out)
	}
	return aws.ToString(out.MetricAlarms[0].AlarmName)
}

// TestTargetTrackingScalesOutAndInOnCPU is issue 12's end-to-end test on
// Docker: a service of a test image whose /cgi-bin/burn endpoint spends
// CPU on each request, behind a berth ALB; a bounded load through the
// load balancer pushes the tasks' real average CPU over the target
// tracking policy's target (25% of the task's 256 CPU units); the high
// alarm fires and the service scales out to its maximum, RUNNING and
// healthy; the load stops, the low alarm fires after its 15 datapoints
// and the service scales back in to its minimum. The desired count never
// leaves [1, 3]; the activities and the alarm history say why. Metric
// time is scaled by 30 (a one-minute period lasts two seconds).
func TestTargetTrackingScalesOutAndInOnCPU(t *testing.T) {
	s := newScaleLoop(t, 1, 3)
	s.cli(append([]string{"application-autoscaling", "put-scaling-policy"}, append(s.key(), "--policy-name", "cpu-target-tracking",
		"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
		`{"TargetValue": 25.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
		  "ScaleOutCooldown": 60, "ScaleInCooldown": 120}`)...)...)

	// Three clients back to back: more than the task's quarter of a CPU.
	stop := s.load("/cgi-bin/burn", 3, 0, 3000)
	took := s.waitCount(s.max, 120*time.Second)
	ok, failed := stop()
	t.Logf("scaled out to %d RUNNING, healthy tasks %v after the load started (%d burn requests answered, %d failed)", s.max, took, ok, failed)
	if ok == 0 {
		t.Fatal("no burn request was answered")
	}
	took = s.waitCount(s.min, 120*time.Second)
	t.Logf("scaled back in to %d %v after the load stopped", s.min, took)
	if s.lo < s.min || s.hi > s.max {
		t.Errorf("desired count went over [%d, %d]: seen %d to %d", s.min, s.max, s.lo, s.hi)
	}
	s.checkActivities("cpu-target-tracking")
	s.checkAlarmHistory("25.0", "22.5")
}

// TestTargetTrackingScalesOutAndInOnALBRequests is the same loop on
// ALBRequestCountPerTarget, whose targets are the service's own tasks as
// the scheduler registers them: a bounded load of about 40 requests a
// second through the load balancer is more than the target's 10 a
// (scaled) minute per target; the service scales out, the new tasks join
// the target group and share the requests; the load stops and it scales
// back in to the minimum.
func TestTargetTrackingScalesOutAndInOnALBRequests(t *testing.T) {
	s := newScaleLoop(t, 1, 3)
	label := s.lbARN[strings.Index(s.lbARN, ":loadbalancer/")+len(":loadbalancer/"):] + "/" + s.tgARN[strings.LastIndex(s.tgARN, ":")+1:]
	s.cli(append([]string{"application-autoscaling", "put-scaling-policy"}, append(s.key(), "--policy-name", "alb-requests",
		"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", `{"TargetValue": 10.0,
		  "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "`+label+`"},
		  "ScaleOutCooldown": 60, "ScaleInCooldown": 60}`)...)...)

	stop := s.load("/index.html", 2, 50*time.Millisecond, 6000)
	took := s.waitCount(s.max, 120*time.Second)
	// The load goes on while the host count of the period in which the
	// new targets turned healthy is published (one scaled minute later).
	most := 0.0
	var metricErr error
	eventually(t, 30*time.Second, func() (bool, string) {
		out, err := s.cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HealthyHostCount"),
			Dimensions: []cwtypes.Dimension{
				{Name: aws.String("LoadBalancer"), Value: aws.String(s.lbARN[strings.Index(s.lbARN, ":loadbalancer/")+len(":loadbalancer/"):])},
				{Name: aws.String("TargetGroup"), Value: aws.String(s.tgARN[strings.LastIndex(s.tgARN, ":")+1:])}},
			StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)),
			Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum},
		})
		if metricErr = err; err != nil {
			return true, ""
		}
		for _, dp := range out.Datapoints {
			most = max(most, aws.ToFloat64(dp.Maximum))
		}
		return most >= float64(s.max), fmt.Sprintf("HealthyHostCount never reached %d (max %v): the tasks were not the group's targets", s.max, most)
	})
	ok, failed := stop()
	t.Logf("scaled out to %d RUNNING, healthy tasks %v after the load started (%d requests answered, %d failed); HealthyHostCount %v", s.max, took, ok, failed, most)
	if metricErr != nil {
		t.Fatal(metricErr)
	}
	took = s.waitCount(s.min, 120*time.Second)
	t.Logf("scaled back in to %d %v after the load stopped", s.min, took)
	if s.lo < s.min || s.hi > s.max {
		t.Errorf("desired count went over [%d, %d]: seen %d to %d", s.min, s.max, s.lo, s.hi)
	}
	s.checkActivities("alb-requests")
	s.checkAlarmHistory("10.0", "9.0")
}
