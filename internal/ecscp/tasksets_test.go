package ecscp_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	return ""
}

// TestTaskSetRules: the EXTERNAL deployment controller's rules as the
// plane enforces them: CreateService refuses task set parameters;
// CreateTaskSet on another controller's service, out-of-range scales
// and a sixth task set are refused, a client token returns the first
// task set; UpdateService changes only the desired count (and the task
// sets' computed counts follow) and the few other fields ECS allows;
// DeleteTaskSet needs a scale of 0 or force; task set references are
// checked; a namespace is known only as a cluster's default.
func TestTaskSetRules(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	setup(t, plane, repo)
	ext := &ecs.DeploymentController{Type: ecs.DeploymentControllerExternal}
	four := 4
	if _, err := plane.CreateService(ctx, sc, ecscp.CreateServiceInput{Cluster: "c", TaskDefinition: "web",
		Spec: ecs.ServiceSpec{Name: "bad", DesiredCount: &four, DeploymentController: ext}}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("EXTERNAL service with a task definition: %v", err)
	}
	if _, err := plane.CreateService(ctx, sc, ecscp.CreateServiceInput{Cluster: "c", TaskDefinition: "web",
		Spec: ecs.ServiceSpec{Name: "cd", DesiredCount: &four, DeploymentController: &ecs.DeploymentController{Type: ecs.DeploymentControllerCodeDeploy}}}); !fault.Is(err, fault.Unsupported) {
		t.Fatalf("CODE_DEPLOY: %v", err)
	}
	st, err := plane.CreateService(ctx, sc, ecscp.CreateServiceInput{Cluster: "c", Spec: ecs.ServiceSpec{Name: "web", DesiredCount: &four, DeploymentController: ext}})
	if err != nil || st.Service.TaskDefinition != "" || len(st.Service.Deployments) != 0 {
		t.Fatalf("EXTERNAL service: %+v %v", st, err)
	}
	zero := 0
	if _, err := plane.CreateService(ctx, sc, ecscp.CreateServiceInput{Cluster: "c", TaskDefinition: "web", Spec: ecs.ServiceSpec{Name: "rolling", DesiredCount: &zero}}); err != nil {
		t.Fatal(err)
	}
	svc := ecscp.TaskSetInput{Cluster: "c", Service: "web"}
	create := func(token string, scale float64) (*ecs.TaskSet, error) {
		return plane.CreateTaskSet(ctx, sc, ecscp.CreateTaskSetInput{TaskSetInput: svc, TaskDefinition: "web",
			Spec: ecs.TaskSetSpec{ClientToken: token, Scale: &ecs.Scale{Value: scale, Unit: ecs.ScalePercent}}})
	}
	a, err := create("tok-a", 30)
	if err != nil || a.ComputedDesiredCount != 2 || a.Status != ecs.TaskSetActive || a.LaunchType != ecs.LaunchEC2 || !strings.HasPrefix(a.ID, "ecs-svc/") ||
		a.ARN != sc.TaskSetARN("c", "web", a.ID) {
		t.Fatalf("create-task-set at 30%% of 4: %+v %v; want ACTIVE, computed 2 (1.2 rounded up)", a, err)
	}
	if again, err := create("tok-a", 30); err != nil || again.ID != a.ID {
		t.Fatalf("the same client token: %+v %v; want task set %s", again, err, a.ID)
	}
	for _, v := range []float64{-1, 100.5} {
		if _, err := create("", v); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("scale %v: %v", v, err)
		}
	}
	if _, err := plane.CreateTaskSet(ctx, sc, ecscp.CreateTaskSetInput{TaskSetInput: ecscp.TaskSetInput{Cluster: "c", Service: "rolling"}, TaskDefinition: "web"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("task set on an ECS-controlled service: %v", err)
	}
	for range ecs.MaxTaskSets - 1 {
		if _, err := create("", 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := create("", 0); !fault.Is(err, fault.InvalidParameter) || !strings.Contains(err.Error(), "exceeds the maximum limit") {
		t.Fatalf("a sixth task set: %v", err)
	}

	// UpdateService: the desired count moves the task sets.
	if _, err := plane.UpdateService(ctx, sc, ecscp.UpdateServiceInput{Cluster: "c", Service: "web", TaskDefinition: "web"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("update-service --task-definition: %v", err)
	}
	if _, err := plane.UpdateService(ctx, sc, ecscp.UpdateServiceInput{Cluster: "c", Service: "web", ForceNewDeployment: true}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("update-service --force-new-deployment: %v", err)
	}
	ten, grace := 10, 30
	s, err := plane.UpdateService(ctx, sc, ecscp.UpdateServiceInput{Cluster: "c", Service: "web", DesiredCount: &ten, HealthCheckGracePeriodSeconds: &grace})
	if err != nil || s.TaskSet(a.ID).ComputedDesiredCount != 3 || *s.HealthCheckGracePeriodSeconds != 30 {
		t.Fatalf("desired 10: %+v %v; want task set at 3", s, err)
	}

	// Primary, scale, delete.
	if ts, err := plane.UpdateServicePrimaryTaskSet(ctx, sc, svc, a.ARN); err != nil || ts.Status != ecs.TaskSetPrimary {
		t.Fatalf("primary: %+v %v", ts, err)
	}
	if s, _, _ := plane.DescribeServices(ctx, sc, "c", []string{"web"}, false); s[0].Service.TaskDefinition != a.TaskDefinition {
		t.Fatalf("service definition %q after the primary changed", s[0].Service.TaskDefinition)
	}
	if _, err := plane.DeleteTaskSet(ctx, sc, svc, a.ID, false); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("delete a scaled task set without force: %v", err)
	}
	if ts, err := plane.UpdateTaskSet(ctx, sc, svc, a.ID, &ecs.Scale{Value: 0, Unit: ecs.ScalePercent}); err != nil || ts.ComputedDesiredCount != 0 {
		t.Fatalf("scale to 0: %+v %v", ts, err)
	}
	if ts, err := plane.DeleteTaskSet(ctx, sc, svc, a.ID, false); err != nil || ts.Status != ecs.TaskSetDraining {
		t.Fatalf("delete at 0: %+v %v", ts, err)
	}
	if _, err := plane.UpdateServicePrimaryTaskSet(ctx, sc, svc, a.ID); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("a DRAINING task set made primary: %v", err)
	}
	if _, err := plane.UpdateTaskSet(ctx, sc, svc, "ecs-svc/1234567890123456789", &ecs.Scale{Value: 1, Unit: ecs.ScalePercent}); code(err) != "TaskSetNotFoundException" {
		t.Fatalf("a missing task set: %v", err)
	}
	if _, err := plane.UpdateTaskSet(ctx, sc, svc, "abc", &ecs.Scale{Value: 1, Unit: ecs.ScalePercent}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("a malformed task set ID: %v", err)
	}
	if _, err := plane.UpdateTaskSet(ctx, sc, svc, sc.TaskSetARN("c", "other", a.ID), &ecs.Scale{Value: 1, Unit: ecs.ScalePercent}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("another service's task set ARN: %v", err)
	}
	sets, failures, err := plane.DescribeTaskSets(ctx, sc, svc, []string{a.ID, "ecs-svc/1234567890123456789"})
	if err != nil || len(sets) != 1 || len(failures) != 1 || failures[0].Reason != "MISSING" {
		t.Fatalf("describe: %+v %+v %v", sets, failures, err)
	}

	// A task set's tags: TagResource, ListTagsForResource, UntagResource.
	if err := plane.TagResource(ctx, sc, a.ARN, []ecs.Tag{{Key: "color", Value: "blue"}}); err != nil {
		t.Fatal(err)
	}
	if err := plane.UntagResource(ctx, sc, a.ARN, []string{"nope"}); err != nil {
		t.Fatal(err)
	}
	if tags, err := plane.ResourceTags(ctx, sc, a.ARN); err != nil || len(tags) != 1 || tags[0].Value != "blue" {
		t.Fatalf("task set tags: %+v %v", tags, err)
	}
	if err := plane.TagResource(ctx, sc, sc.TaskSetARN("c", "web", "ecs-svc/1234567890123456789"), []ecs.Tag{{Key: "a"}}); err == nil {
		t.Fatal("tagged a missing task set")
	} else if m, ok := ecscp.AsMissingResource(err); !ok || m.Kind != "task-set" {
		t.Fatalf("tag a missing task set: %v", err)
	}

	// Namespaces: only a cluster's default one exists, without services.
	if _, err := plane.ListServicesByNamespace(ctx, sc, "ns"); code(err) != "NamespaceNotFoundException" {
		t.Fatalf("an unknown namespace: %v", err)
	}
	if _, err := plane.UpdateCluster(ctx, sc, "c", ecscp.ClusterUpdate{ServiceConnectDefaults: &ecs.ServiceConnectDefaults{Namespace: "ns"}}); err != nil {
		t.Fatal(err)
	}
	if arns, err := plane.ListServicesByNamespace(ctx, sc, "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns"); err != nil || len(arns) != 0 {
		t.Fatalf("the cluster's default namespace: %v %v", arns, err)
	}
}
