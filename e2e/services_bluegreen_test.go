package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestServiceBlueGreenAndCanaryThroughLoadBalancer is the issue's
// BLUE_GREEN and CANARY deployments under load, on Docker behind a berth
// ALB whose production listener rule forwards to the service's target
// group and its alternate by weight. A bounded load generator sends
// requests through the ALB the whole time; no request may fail:
//
//  1. CANARY v1 → v2 (canaryPercent 20): green starts at full size in
//     the alternate group, 20% of the requests go to it through the
//     canary bake (measured), all of them through the bake, then blue
//     leaves; the deployment is SUCCESSFUL.
//  2. BLUE_GREEN v2 → v3, stopped (ROLLBACK) during the bake: every
//     request goes back to v2 at once, v3 leaves, ROLLBACK_SUCCESSFUL.
//
// (That the groups take turns deployment after deployment is a unit test
// of the domain, TestShiftTargetGroupsTakeTurns.)
//
// --deployment-time-scale 20 makes a minute of bake last 3 seconds.
func TestServiceBlueGreenAndCanaryThroughLoadBalancer(t *testing.T) {
	f := newWebFixture(t, []string{"v1", "v2", "v3"}, "--deployment-time-scale", "20")
	c, ctx, run, query := f.c, f.ctx, f.run, f.query

	pair := f.blueGreenPair()
	blueTG, greenTG, prodRule, prodPort := pair.blueTG, pair.greenTG, pair.prodRule, pair.prodPort
	testListener, testPort := f.listener(pair.forward)
	testRule := query("Rules[?IsDefault].RuleArn", "elbv2", "describe-rules", "--listener-arn", testListener)

	lbs := []types.LoadBalancer{{
		TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
		AdvancedConfiguration: &types.AdvancedConfiguration{
			AlternateTargetGroupArn: aws.String(greenTG), ProductionListenerRule: aws.String(prodRule),
			TestListenerRule: aws.String(testRule), RoleArn: aws.String("arn:aws:iam::000000000000:role/ecsInfrastructureRoleForLoadBalancers"),
		},
	}}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod-cluster"), ServiceName: aws.String("web-service"), TaskDefinition: aws.String("web-app:1"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate, LoadBalancers: lbs,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-private-1a"}, SecurityGroups: []string{"sg-ecs-tasks"}}},
		HealthCheckGracePeriodSeconds: aws.Int32(30),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			// A bake of 2 scaled minutes (6 s): a settled window long
			// enough for 50 answers on a loaded host (3 s had 24 here).
			Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(2),
			CanaryConfiguration:      &types.CanaryConfiguration{CanaryPercent: aws.Float64(20), CanaryBakeTimeInMinutes: aws.Int32(1)},
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stable := f.waitStable
	stable()
	healthyIn := func(tg string, n int) { t.Helper(); f.waitHealthy(tg, n, 60*time.Second) }
	healthyIn(blueTG, 2)

	get := f.get
	client := &http.Client{Timeout: 5 * time.Second}
	if body, err := get(client, prodPort); err != nil || body != "v1" {
		t.Fatalf("before the deployments the load balancer answers %q %v", body, err)
	}

	// The poller: the newest service deployment's lifecycle stage, for
	// the load generator to file its answers under.
	log := newSplitLog()
	latest := f.newestDeployment
	stopLoad := driveSplitLoad(ctx, log, func() (string, bool) {
		sd, ok := latest()
		arn := aws.ToString(sd.ServiceDeploymentArn)
		return arn[strings.LastIndexByte(arn, '/')+1:] + " " + string(sd.Status) + " " + string(sd.LifecycleStage), ok
	}, func(c *http.Client) (string, error) { return get(c, prodPort) }, 200000, 4*time.Minute)
	defer stopLoad()

	// waitStage waits for the newest deployment to reach a stage (and
	// status) and returns its digits.
	waitStage := func(status types.ServiceDeploymentStatus, stage types.ServiceDeploymentLifecycleStage, within time.Duration) types.ServiceDeployment {
		t.Helper()
		var got types.ServiceDeployment
		// Each poll is quick (SDK calls, no aws CLI start): a stage can
		// last three seconds.
		eventually(t, within, func() (bool, string) {
			sd, ok := latest()
			got = sd
			if ok && sd.Status == status && (stage == "" || sd.LifecycleStage == stage) {
				return true, ""
			}
			var events []string
			if out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}}); err == nil && len(out.Services) == 1 {
				for _, e := range out.Services[0].Events[:min(8, len(out.Services[0].Events))] {
					events = append(events, aws.ToString(e.Message))
				}
			}
			return false, fmt.Sprintf("newest deployment %s %s, want %s %s; events:\n%s", sd.Status, sd.LifecycleStage, status, stage, strings.Join(events, "\n"))
		})
		return got
	}
	digits := func(sd types.ServiceDeployment) string {
		arn := aws.ToString(sd.ServiceDeploymentArn)
		return arn[strings.LastIndexByte(arn, '/')+1:]
	}

	// 1. CANARY to v2.
	began := time.Now()
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	canary := waitStage(types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStageProductionTrafficShift, 90*time.Second)
	if w := canary.TargetServiceRevision.RequestedProductionTrafficWeight; w == nil || *w != 20 {
		t.Errorf("requested production weight during the canary: %v", w)
	}
	done := waitStage(types.ServiceDeploymentStatusSuccessful, "", 90*time.Second)
	id := digits(done)
	canaryShare, canaryN := log.share(id+" IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT", "v2")
	bakeShare, bakeN := log.share(id+" IN_PROGRESS BAKE_TIME", "v2")
	t.Logf("CANARY deployment done after %v", time.Since(began))
	t.Logf("CANARY 20%%: v2 answered %.1f%% of %d requests in the canary bake, %.1f%% of %d in the bake", 100*canaryShare, canaryN, 100*bakeShare, bakeN)
	if canaryN < 50 || canaryShare < 0.12 || canaryShare > 0.28 {
		t.Errorf("canary split: v2 got %.3f of %d requests, want about 0.20", canaryShare, canaryN)
	}
	if bakeN < 50 || bakeShare < 0.98 {
		t.Errorf("bake: v2 got %.3f of %d requests, want all", bakeShare, bakeN)
	}
	stable()
	rev := query("serviceRevisions[0].[taskDefinition,resolvedConfiguration.loadBalancers[0].targetGroupArn]", "ecs", "describe-service-revisions",
		"--service-revision-arns", aws.ToString(done.TargetServiceRevision.Arn))
	if fs := strings.Fields(rev); len(fs) != 2 || !strings.HasSuffix(fs[0], "web-app:2") || fs[1] != greenTG {
		t.Errorf("revision of the canary deployment: %q, want web-app:2 in %s", rev, greenTG)
	}
	healthyIn(greenTG, 2)

	// 2. BLUE_GREEN to v3, rolled back during the bake.
	began = time.Now()
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String("prod-cluster"), Service: aws.String("web-service"), TaskDefinition: aws.String("web-app:3"),
		DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(6)},
	})
	if err != nil {
		t.Fatal(err)
	}
	baking := waitStage(types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStageBakeTime, 90*time.Second)
	id = digits(baking)
	// Test traffic went to green before production did.
	if body, err := get(client, testPort); err != nil || body != "v3" {
		t.Errorf("the test listener answers %q %v during the bake, want v3", body, err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		_, n := log.share(id+" IN_PROGRESS BAKE_TIME", "v3")
		return n >= 200, fmt.Sprintf("%d requests in the bake", n)
	})
	run("ecs", "stop-service-deployment", "--service-deployment-arn", aws.ToString(baking.ServiceDeploymentArn), "--stop-type", "ROLLBACK")
	rolled := waitStage(types.ServiceDeploymentStatusRollbackSuccessful, "", 60*time.Second)
	bgShare, bgN := log.share(id+" IN_PROGRESS BAKE_TIME", "v3")
	var backShare float64
	var backN int
	for _, st := range []string{"ROLLBACK_IN_PROGRESS CLEAN_UP", "ROLLBACK_SUCCESSFUL CLEAN_UP"} {
		s, n := log.share(id+" "+st, "v2")
		backShare, backN = (backShare*float64(backN)+s*float64(n))/float64(max(backN+n, 1)), backN+n
	}
	t.Logf("BLUE_GREEN rolled back after %v", time.Since(began))
	t.Logf("BLUE_GREEN: v3 answered %.1f%% of %d requests in the bake; after the rollback v2 answered %.1f%% of %d",
		100*bgShare, bgN, 100*backShare, backN)
	if bgShare < 0.98 {
		t.Errorf("blue/green bake: v3 got %.3f of %d requests, want all", bgShare, bgN)
	}
	if backN < 20 || backShare < 0.98 {
		t.Errorf("after the rollback: v2 got %.3f of %d requests, want all", backShare, backN)
	}
	if rolled.Rollback == nil || !strings.Contains(aws.ToString(rolled.Rollback.Reason), "stopped by user request") {
		t.Errorf("rollback: %+v", rolled.Rollback)
	}
	stable()

	// Fifty more requests of load once the service is stable, on v2
	// alone: each of them must be answered by v2.
	log.mu.Lock()
	sentMark, answerMark := log.sent, len(log.answers)
	log.mu.Unlock()
	eventually(t, 30*time.Second, func() (bool, string) {
		log.mu.Lock()
		defer log.mu.Unlock()
		return log.sent >= sentMark+50, fmt.Sprintf("%d of %d requests sent", log.sent, sentMark+50)
	})
	stopLoad()

	log.mu.Lock()
	late := log.answers[answerMark:]
	if i := slices.IndexFunc(late, func(a answer) bool { return a.version != "v2" }); i >= 0 {
		t.Errorf("once the service was stable again, request %d of %d was answered by %s (stage %s), want v2",
			i+1, len(late), late[i].version, late[i].stage)
	}
	log.mu.Unlock()

	log.mu.Lock()
	t.Logf("%d requests through the load balancer, %d failed; answers by stage: %v", log.sent, len(log.failures), log.byStage)
	if len(log.failures) > 0 {
		t.Errorf("failed requests: %v", log.failures)
	}
	if log.sent < 1000 {
		t.Errorf("only %d requests sent", log.sent)
	}
	log.mu.Unlock()
	for range 10 {
		if body, err := get(client, prodPort); err != nil || body != "v2" {
			t.Fatalf("after the deployments the load balancer answers %q %v", body, err)
		}
	}
	out := query("services[0].[runningCount,length(deployments),deployments[0].rolloutState,taskDefinition]", "ecs", "describe-services",
		"--cluster", "prod-cluster", "--services", "web-service")
	if fs := strings.Fields(out); len(fs) != 4 || fs[0] != "2" || fs[1] != "1" || fs[2] != "COMPLETED" || !strings.HasSuffix(fs[3], "web-app:2") {
		t.Fatalf("after the deployments: %q", out)
	}
	var hist struct {
		ServiceDeployments []struct{ Status string }
	}
	if err := json.Unmarshal([]byte(run("ecs", "list-service-deployments", "--cluster", "prod-cluster", "--service", "web-service")), &hist); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, h := range hist.ServiceDeployments {
		statuses = append(statuses, h.Status)
	}
	if want := []string{"ROLLBACK_SUCCESSFUL", "SUCCESSFUL", "SUCCESSFUL"}; !slices.Equal(statuses, want) {
		t.Errorf("deployment history %v, want %v", statuses, want)
	}
	// v2 stays in the alternate group; the rule sends it everything.
	weights := query("Rules[0].Actions[0].ForwardConfig.TargetGroups[].[TargetGroupArn,Weight]", "elbv2", "describe-rules", "--rule-arns", prodRule)
	if !strings.Contains(weights, greenTG+"\t1") || !strings.Contains(weights, blueTG+"\t0") {
		t.Errorf("production rule after the deployments: %q", weights)
	}
}
