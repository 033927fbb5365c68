package ecscp_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// TestTagsAndSettings: a missing resource is a *MissingResourceError of
// its kind; tags merge and go; a setting deleted falls back to the
// account default.
func TestTagsAndSettings(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	setup(t, plane, repo)

	err := plane.TagResource(ctx, sc, sc.ClusterARN("nope"), []ecs.Tag{{Key: "a", Value: "1"}})
	if m, ok := ecscp.AsMissingResource(err); !ok || m.Kind != "cluster" {
		t.Fatalf("tag a missing cluster: %v", err)
	}
	arn := sc.ClusterARN("c")
	if err := plane.TagResource(ctx, sc, arn, []ecs.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := plane.UntagResource(ctx, sc, arn, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if tags, err := plane.ResourceTags(ctx, sc, arn); err != nil || len(tags) != 1 || tags[0].Key != "b" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if err := plane.TagResource(ctx, sc, "arn:aws:s3:::bucket", []ecs.Tag{{Key: "a"}}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("non-ECS ARN: %v", err)
	}

	name := ecs.AccountSettingNames()[0]
	def := ecs.DefaultSettingValue(name)
	other := "enabled"
	if def == other {
		other = "disabled"
	}
	if _, err := plane.PutAccountSettingDefault(ctx, sc, "", name, other); err != nil {
		t.Fatal(err)
	}
	if _, err := plane.PutAccountSetting(ctx, sc, "", name, def); err != nil {
		t.Fatal(err)
	}
	eff, err := plane.DeleteAccountSetting(ctx, sc, "", name)
	if err != nil || eff.Value != other || eff.Type != "user" {
		t.Fatalf("after delete, the account default: %+v %v", eff, err)
	}
	all, err := plane.ListAccountSettings(ctx, sc, ecscp.SettingFilter{Effective: true})
	if err != nil || len(all) != len(ecs.AccountSettingNames()) {
		t.Fatalf("effective settings: %d %v", len(all), err)
	}
}

// TestInstanceReads: describe with counts and failures, list by status
// and by a cluster query.
func TestInstanceReads(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)
	if _, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web"}); err != nil {
		t.Fatal(err)
	}
	views, failures, err := plane.DescribeContainerInstances(ctx, sc, "c", []string{ci.ID, "0123456789abcdef0123456789abcdef"}, []string{ecscp.IncludeInstanceTags})
	if err != nil || len(views) != 1 || len(failures) != 1 {
		t.Fatalf("describe: %+v %+v %v", views, failures, err)
	}
	if got := views[0].Instance; got.RunningTasksCount+got.PendingTasksCount != 1 {
		t.Fatalf("counts: running %d pending %d", got.RunningTasksCount, got.PendingTasksCount)
	}
	if _, _, err := plane.DescribeContainerInstances(ctx, sc, "c", []string{ci.ID}, []string{"NOPE"}); !fault.Is(err, fault.InvalidParameter) {
		t.Fatalf("bad include: %v", err)
	}
	if arns, err := plane.ListContainerInstances(ctx, sc, "c", ecs.InstanceDraining, ""); err != nil || len(arns) != 0 {
		t.Fatalf("draining: %v %v", arns, err)
	}
	if arns, err := plane.ListContainerInstances(ctx, sc, "c", "", "runningTasksCount > 5"); err != nil || len(arns) != 0 {
		t.Fatalf("query: %v %v", arns, err)
	}
	if arns, err := plane.ListContainerInstances(ctx, sc, "c", ecs.InstanceActive, ""); err != nil || len(arns) != 1 || arns[0] != ci.ARN {
		t.Fatalf("active: %v %v", arns, err)
	}
}
