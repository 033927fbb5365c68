package ecscp_test

import (
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

// TestExpireTask: only a STOPPED task is deleted; a running one, and one
// that is gone already, are left alone without an error.
func TestExpireTask(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	setup(t, plane, repo)
	res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", Count: 2})
	if err != nil || len(res.Tasks) != 2 {
		t.Fatalf("run: %+v %v", res, err)
	}
	running, stopped := res.Tasks[0].Task, res.Tasks[1].Task
	if _, err := plane.StopTask(ctx, sc, "c", stopped.ARN, "done"); err != nil {
		t.Fatal(err)
	}
	if err := plane.SubmitTaskStateChange(ctx, sc, "c", stopped.ARN, ecscp.TaskChange{Status: ecs.TaskStopped}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{running.ID, stopped.ID, stopped.ID} {
		if err := plane.ExpireTask(ctx, sc, "c", id); err != nil {
			t.Fatalf("expire %s: %v", id, err)
		}
	}
	got, failures, err := plane.DescribeTasks(ctx, sc, "c", []string{running.ID, stopped.ID}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Task.ID != running.ID {
		t.Errorf("tasks left: %+v; want the running one only", got)
	}
	if len(failures) != 1 || failures[0].Reason != ecs.ReasonMissing {
		t.Errorf("failures: %+v; want the expired task MISSING", failures)
	}
}

// TestForgetRunTokens: a token recorded at or after the cutoff still
// makes RunTask idempotent; once forgotten, the same token runs a new
// task.
func TestForgetRunTokens(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	setup(t, plane, repo)
	run := func() string {
		t.Helper()
		res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", ClientToken: "tok"})
		if err != nil || len(res.Tasks) != 1 {
			t.Fatalf("run: %+v %v", res, err)
		}
		return res.Tasks[0].Task.ARN
	}
	first := run()
	if err := plane.ForgetRunTokens(ctx, sc, "c", plane.Now()); err != nil {
		t.Fatal(err)
	}
	if again := run(); again != first {
		t.Fatalf("a token recorded at the cutoff was forgotten: %s, then %s", first, again)
	}
	if err := plane.ForgetRunTokens(ctx, sc, "c", plane.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if again := run(); again == first {
		t.Fatalf("a forgotten token still returned %s", first)
	}
}

// TestAgentSessionReads: the checks an ACS session is accepted on, and
// agentConnected written once per change, not when a newer session
// decided otherwise, and never for an instance that is gone.
func TestAgentSessionReads(t *testing.T) {
	ctx := t.Context()
	plane, repo := newPlane(t)
	ci := setup(t, plane, repo)
	if cl, err := plane.ActiveCluster(ctx, sc, "c"); err != nil || cl.Name != "c" {
		t.Fatalf("active cluster: %+v %v", cl, err)
	}
	if _, err := plane.ActiveCluster(ctx, sc, "nope"); !fault.Is(err, fault.NotFound) {
		t.Errorf("missing cluster: %v, want NotFound", err)
	}
	ref := ecs.InstanceRef{Cluster: "c", ID: ci.ID}
	if got, err := plane.ContainerInstance(ctx, sc, ref); err != nil || got.ARN != ci.ARN || !got.AgentConnected {
		t.Fatalf("instance: %+v %v", got, err)
	}
	if _, err := plane.ContainerInstance(ctx, sc, ecs.InstanceRef{Cluster: "c", ID: "0123456789abcdef0123456789abcdef"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown instance: %v, want NotFound", err)
	}

	read := func() *ecs.ContainerInstance {
		t.Helper()
		got, err := plane.ContainerInstance(ctx, sc, ref)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	v0 := read().Version
	skipped := false
	if err := plane.SetAgentConnected(ctx, ci.ARN, false, func() bool { skipped = true; return true }); err != nil {
		t.Fatal(err)
	}
	if got := read(); !skipped || !got.AgentConnected || got.Version != v0 {
		t.Fatalf("skip asked (%v): connected %v version %d; want it unchanged (true, %d)", skipped, got.AgentConnected, got.Version, v0)
	}
	if err := plane.SetAgentConnected(ctx, ci.ARN, false, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.AgentConnected || got.Version != v0+1 || !got.AgentDisconnectedAt.Equal(plane.Now()) {
		t.Fatalf("after disconnect: connected %v version %d at %v; want false, %d, recorded at %v", got.AgentConnected, got.Version, got.AgentDisconnectedAt, v0+1, plane.Now())
	}
	if err := plane.SetAgentConnected(ctx, ci.ARN, false, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Version != v0+1 {
		t.Errorf("no change bumped the version to %d", got.Version)
	}
	if err := plane.SetAgentConnected(ctx, ci.ARN, true, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.AgentConnected || !got.AgentDisconnectedAt.IsZero() {
		t.Fatalf("after reconnect: connected %v, disconnected at %v; want true and no time", got.AgentConnected, got.AgentDisconnectedAt)
	}
	for _, arn := range []string{"not-an-arn", sc.ContainerInstanceARN("c", "0123456789abcdef0123456789abcdef")} {
		if err := plane.SetAgentConnected(ctx, arn, true, nil); err != nil {
			t.Errorf("SetAgentConnected(%s): %v, want nothing to record", arn, err)
		}
	}
}
