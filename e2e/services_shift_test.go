package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver"
)

// TestServiceLinearSplitAndCanaryAfterKill9 runs a blue/green pair of
// target groups behind a berth ALB's production listener rule, on
// Docker, with --deployment-time-scale 20 (a minute lasts 3 seconds):
//
//  1. LINEAR v1 → v2 in two steps (stepPercent 50) under a bounded load
//     through the ALB: the split is measured at each step (about half
//     on v2 during the first, all during the bake), no request fails.
//  2. CANARY v2 → v3 (canaryPercent 20): the server is killed with
//     SIGKILL during the canary bake and restarted on the same data. The
//     deployment carries on from its stored stage: the rule still holds
//     the canary's weights, the same tasks run (none lost, none started
//     twice) but for a v2 (blue) task whose container was docker-killed
//     while the server was down, which is replaced by a v2 task with
//     ECS's event; and it finishes: the rule sends everything to v3,
//     v2's tasks are gone, v3's two are the only ones ever started.
func TestServiceLinearSplitAndCanaryAfterKill9(t *testing.T) {
	f := newWebFixture(t, []string{"v1", "v2", "v3"}, "--deployment-time-scale", "20")
	d, c, ctx, run, query := f.d, f.c, f.ctx, f.run, f.query

	pair := f.blueGreenPair()
	blueTG, greenTG, prodRule, prodPort := pair.blueTG, pair.greenTG, pair.prodRule, pair.prodPort

	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod-cluster"), ServiceName: aws.String("web-service"), TaskDefinition: aws.String("web-app:1"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		LoadBalancers: []types.LoadBalancer{{
			TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
			AdvancedConfiguration: &types.AdvancedConfiguration{
				AlternateTargetGroupArn: aws.String(greenTG), ProductionListenerRule: aws.String(prodRule),
				RoleArn: aws.String("arn:aws:iam::000000000000:role/ecsInfrastructureRoleForLoadBalancers"),
			},
		}},
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-private-1a"}, SecurityGroups: []string{"sg-ecs-tasks"}}},
		HealthCheckGracePeriodSeconds: aws.Int32(30),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			Strategy: types.DeploymentStrategyLinear, BakeTimeInMinutes: aws.Int32(1),
			LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(50), StepBakeTimeInMinutes: aws.Int32(2)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.waitStable()
	get := func(client *http.Client) (string, error) { return f.get(client, prodPort) }
	client := &http.Client{Timeout: 5 * time.Second}
	eventually(t, 60*time.Second, func() (bool, string) {
		body, err := get(client)
		return err == nil && body == "v1", fmt.Sprintf("the load balancer answers %q %v", body, err)
	})
	// label files an answer under the newest deployment's status, stage
	// and requested production weight (each linear step apart); tag adds
	// the deployment's digits.
	label := func(sd types.ServiceDeployment) string {
		w := -1.0
		if sd.TargetServiceRevision != nil && sd.TargetServiceRevision.RequestedProductionTrafficWeight != nil {
			w = *sd.TargetServiceRevision.RequestedProductionTrafficWeight
		}
		return fmt.Sprintf("%s %s %g", sd.Status, sd.LifecycleStage, w)
	}
	tag := func(sd types.ServiceDeployment) string {
		arn := aws.ToString(sd.ServiceDeploymentArn)
		return arn[strings.LastIndexByte(arn, '/')+1:] + " " + label(sd)
	}
	waitStage := func(within time.Duration, cond func(types.ServiceDeployment) bool) types.ServiceDeployment {
		t.Helper()
		var got types.ServiceDeployment
		eventually(t, within, func() (bool, string) {
			sd, ok := f.newestDeployment()
			got = sd
			return ok && cond(sd), "newest deployment " + label(sd)
		})
		return got
	}
	ruleWeights := func() map[string]string {
		t.Helper()
		out := query("Rules[0].Actions[0].ForwardConfig.TargetGroups[].[TargetGroupArn,Weight]", "elbv2", "describe-rules", "--rule-arns", prodRule)
		w := map[string]string{}
		for line := range strings.Lines(out) {
			if fs := strings.Fields(line); len(fs) == 2 {
				w[fs[0]] = fs[1]
			}
		}
		return w
	}

	// 1. LINEAR v1 → v2 under load.
	log := newSplitLog()
	halt := driveSplitLoad(ctx, log, func() (string, bool) {
		sd, ok := f.newestDeployment()
		return tag(sd), ok
	}, get, 50000, 2*time.Minute)
	defer halt()
	began := time.Now()
	run("ecs", "update-service", "--cluster", "prod-cluster", "--service", "web-service", "--task-definition", "web-app:2")
	linear := waitStage(90*time.Second, func(sd types.ServiceDeployment) bool {
		return sd.Status == types.ServiceDeploymentStatusSuccessful
	})
	id := strings.Fields(tag(linear))[0]
	// The bake's window closes once the poller has seen the stage after
	// it.
	eventually(t, 10*time.Second, func() (bool, string) {
		return log.hasEnded(id + " IN_PROGRESS BAKE_TIME 100"), "the load's poller has not seen the bake end"
	})
	halt()
	t.Logf("LINEAR deployment done after %v", time.Since(began))
	step1, n1 := log.share(id+" IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 50", "v2")
	bake, nb := log.share(id+" IN_PROGRESS BAKE_TIME 100", "v2")
	log.mu.Lock()
	t.Logf("LINEAR 50%% steps: v2 answered %.1f%% of %d settled requests in the first step, %.1f%% of %d in the bake (after the second step); %d requests, %d failed; by stage %v",
		100*step1, n1, 100*bake, nb, log.sent, len(log.failures), log.byStage)
	if len(log.failures) > 0 {
		t.Errorf("failed requests: %v", log.failures)
	}
	log.mu.Unlock()
	if n1 < 100 || step1 < 0.40 || step1 > 0.60 {
		t.Errorf("first linear step: v2 got %.3f of %d requests, want about 0.50", step1, n1)
	}
	if nb < 50 || bake < 0.98 {
		t.Errorf("bake: v2 got %.3f of %d requests, want all", bake, nb)
	}
	f.waitStable()
	if w := ruleWeights(); w[greenTG] != "1" || w[blueTG] != "0" {
		t.Fatalf("production rule after the LINEAR deployment: %v", w)
	}

	// 2. CANARY v2 → v3, the server killed during the canary bake.
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String("prod-cluster"), Service: aws.String("web-service"), TaskDefinition: aws.String("web-app:3"),
		DeploymentConfiguration: &types.DeploymentConfiguration{
			Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(1),
			CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(20), CanaryBakeTimeInMinutes: aws.Int32(5)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	canary := waitStage(90*time.Second, func(sd types.ServiceDeployment) bool {
		return label(sd) == "IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 20"
	})
	// The canary's weights: 200 per mille on v3's group (blue, this
	// time), the rest on v2's.
	if w := ruleWeights(); w[blueTG] != "200" || w[greenTG] != "800" {
		t.Fatalf("production rule during the canary: %v", w)
	}
	tasksBefore := listServiceTasks(t, c, types.DesiredStatusRunning)
	if len(tasksBefore) != 4 {
		t.Fatalf("%d tasks during the canary, want 4 (2 of each revision): %v", len(tasksBefore), tasksBefore)
	}
	// v2 serves 80% of production and waits for a rollback: one of its
	// tasks' container is killed while the server is down.
	revOf := func(c *ecs.Client, arns []string) map[string]string {
		t.Helper()
		desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: arns})
		if err != nil || len(desc.Tasks) != len(arns) {
			t.Fatalf("describe-tasks: %v %+v", err, desc)
		}
		out := map[string]string{}
		for _, tk := range desc.Tasks {
			arn := aws.ToString(tk.TaskDefinitionArn)
			out[aws.ToString(tk.TaskArn)] = arn[strings.LastIndexByte(arn, ':')+1:]
		}
		return out
	}
	revs := revOf(c, tasksBefore)
	var victim string
	for _, a := range tasksBefore {
		if revs[a] == "2" {
			victim = a
			break
		}
	}
	f.p.kill()
	killedAt := time.Now()
	cs, err := d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: victim, driver.LabelContainerName: "web"})
	if err != nil || len(cs) != 1 {
		t.Fatalf("containers of %s: %v %+v", victim, err, cs)
	}
	if b, err := exec.Command("docker", "kill", cs[0].ID).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v %s", err, b)
	}
	f.p = startBerth(t, f.dataDir, "--deployment-time-scale", "20")
	f.c = ecsClient(f.p.URL)
	c = f.c
	t.Logf("restarted %v after the kill", time.Since(killedAt))
	// Still the canary (5 scaled minutes = 15 s): the stored stage and
	// weights, the three tasks left, and a new task of v2 in place of
	// the killed one.
	sd, ok := f.newestDeployment()
	if !ok || aws.ToString(sd.ServiceDeploymentArn) != aws.ToString(canary.ServiceDeploymentArn) || label(sd) != "IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 20" {
		t.Fatalf("after the restart the newest deployment is %v (%s), want %s in the canary", aws.ToString(sd.ServiceDeploymentArn), label(sd), aws.ToString(canary.ServiceDeploymentArn))
	}
	if w := ruleWeights(); w[blueTG] != "200" || w[greenTG] != "800" {
		t.Fatalf("production rule after the restart, during the canary: %v", w)
	}
	victimID := victim[strings.LastIndexByte(victim, '/')+1:]
	stoppedMsg := "(service web-service) (task " + victimID + ") stopped: Essential container in task exited."
	eventually(t, 30*time.Second, func() (bool, string) {
		now := listServiceTasks(t, c, types.DesiredStatusRunning)
		kept := slices.DeleteFunc(slices.Clone(tasksBefore), func(a string) bool { return a == victim })
		var fresh []string
		for _, a := range now {
			if !slices.Contains(tasksBefore, a) {
				fresh = append(fresh, a)
			}
		}
		if sd, _ := f.newestDeployment(); label(sd) != "IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 20" {
			t.Fatalf("the canary ended (%s) before the killed v2 task was replaced: tasks %v", label(sd), now)
		}
		for _, a := range kept {
			if !slices.Contains(now, a) {
				t.Fatalf("task %s, untouched, is gone after the restart: %v", a, now)
			}
		}
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}})
		if err != nil || len(out.Services) != 1 {
			return false, fmt.Sprintf("describe-services: %v", err)
		}
		told := slices.ContainsFunc(out.Services[0].Events, func(e types.ServiceEvent) bool { return aws.ToString(e.Message) == stoppedMsg })
		return told && len(now) == 4 && len(fresh) == 1 && revOf(c, fresh)[fresh[0]] == "2",
			fmt.Sprintf("event told %v, running %v (new %v)", told, now, fresh)
	})
	waitStage(90*time.Second, func(sd types.ServiceDeployment) bool {
		return sd.Status == types.ServiceDeploymentStatusSuccessful
	})
	f.waitStable()
	t.Logf("CANARY deployment done %v after the kill", time.Since(killedAt))
	if w := ruleWeights(); w[blueTG] != "1" || w[greenTG] != "0" {
		t.Fatalf("production rule after the CANARY deployment: %v", w)
	}
	for range 20 {
		if body, err := get(client); err != nil || body != "v3" {
			t.Fatalf("after the deployments the load balancer answers %q %v", body, err)
		}
	}
	// No duplicate, none lost: v3's tasks are the two started before the
	// kill, and no other task of v3 was ever started.
	running := listServiceTasks(t, c, types.DesiredStatusRunning)
	var v3Before []string
	desc, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: tasksBefore})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range desc.Tasks {
		if strings.HasSuffix(aws.ToString(tk.TaskDefinitionArn), "web-app:3") {
			v3Before = append(v3Before, aws.ToString(tk.TaskArn))
		}
	}
	slices.Sort(v3Before)
	if !slices.Equal(running, v3Before) {
		t.Fatalf("running tasks %v, want v3's tasks started before the kill %v", running, v3Before)
	}
	all := append(running, listServiceTasks(t, c, types.DesiredStatusStopped)...)
	desc, err = c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: all})
	if err != nil {
		t.Fatal(err)
	}
	byRev := map[string]int{}
	for _, tk := range desc.Tasks {
		arn := aws.ToString(tk.TaskDefinitionArn)
		byRev[arn[strings.LastIndexByte(arn, ':')+1:]]++
	}
	if byRev["3"] != 2 || byRev["2"] != 3 || byRev["1"] != 2 {
		t.Fatalf("tasks ever started by revision: %v, want 2 of v1, 3 of v2 (one replaced), 2 of v3", byRev)
	}
	if n := runningServiceContainers(t, d, all); n != 2 {
		t.Fatalf("%d running containers for the service's tasks, want 2", n)
	}
}

// listServiceTasks lists web-service's task ARNs with a desired status,
// sorted.
func listServiceTasks(t *testing.T, c *ecs.Client, status types.DesiredStatus) []string {
	t.Helper()
	var out []string
	pg := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), ServiceName: aws.String("web-service"), DesiredStatus: status})
	for pg.HasMorePages() {
		page, err := pg.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.TaskArns...)
	}
	slices.Sort(out)
	return out
}
