package ecscp_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// fakeExec records the sessions the plane opens.
type fakeExec struct{ opened []ecscp.ExecTarget }

func (f *fakeExec) OpenExec(_ context.Context, t ecscp.ExecTarget) (ecscp.ExecSession, error) {
	f.opened = append(f.opened, t)
	return ecscp.ExecSession{ID: "s1", StreamURL: t.StreamBase + "/v1/data-channel/s1", Token: "tok"}, nil
}

func newExecPlane(t *testing.T, ex ecscp.ExecSessions) (*ecscp.Plane, *ecsstore.Repo) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo := ecsstore.New(st)
	cache := ecscache.New(st, nil)
	placer := placement.New(repo, cache, nil)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	plane := ecscp.New(ecscp.Config{Repo: repo, Cache: cache, Placer: placer, Exec: ex, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cache.Run(ctx) })
	wg.Go(func() { _ = placer.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() })
	return plane, repo
}

// TestExecuteCommand: a session is opened only for a running container of
// a running task started with enableExecuteCommand; everything else is
// ECS's InvalidParameterException, and nothing is opened.
func TestExecuteCommand(t *testing.T) {
	ctx := t.Context()
	ex := &fakeExec{}
	plane, repo := newExecPlane(t, ex)
	ci := setup(t, plane, repo)
	run := func(enable bool) *ecs.Task {
		res, err := plane.RunTask(ctx, sc, ecscp.RunInput{Cluster: "c", TaskDefinition: "web", EnableExecuteCommand: enable})
		if err != nil || len(res.Tasks) != 1 {
			t.Fatalf("run: %+v %v", res, err)
		}
		return res.Tasks[0].Task
	}
	enabled, disabled := run(true), run(false)
	call := func(task, container, command string, interactive bool) (ecscp.ExecuteCommandResult, error) {
		return plane.ExecuteCommand(ctx, sc, ecscp.ExecuteCommandInput{
			Cluster: "c", Task: task, Container: container, Command: command, Interactive: interactive, StreamBase: "ws://h",
		})
	}
	refused := func(what string, err error, msg string) {
		t.Helper()
		var fe *fault.Error
		if !fault.Is(err, fault.InvalidParameter) || !errors.As(err, &fe) || (msg != "" && fe.Msg != msg) {
			t.Fatalf("%s: %v, want InvalidParameter %q", what, err, msg)
		}
	}
	// Not yet running.
	_, err := call(enabled.ARN, "app", "/bin/sh", true)
	refused("pending task", err, ecs.ExecNotEnabledMessage)
	for _, tk := range []*ecs.Task{enabled, disabled} {
		if err := plane.SubmitTaskStateChange(ctx, sc, "c", tk.ARN, ecscp.TaskChange{
			Status: ecs.TaskRunning, Containers: []ecscp.ContainerChange{{Name: "app", Status: ecs.TaskRunning, RuntimeID: "r"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = call(disabled.ARN, "app", "/bin/sh", true)
	refused("task without exec", err, ecs.ExecNotEnabledMessage)
	_, err = call(enabled.ARN, "app", "/bin/sh", false)
	refused("not interactive", err, "Interactive is the only mode supported currently.")
	_, err = call(enabled.ARN, "nope", "/bin/sh", true)
	refused("unknown container", err, "")
	_, err = call(enabled.ARN, "app", "sh -c 'unterminated", true)
	refused("bad quoting", err, "")
	_, err = call("0123456789abcdef0123456789abcdef", "app", "/bin/sh", true)
	refused("unknown task", err, "")
	if len(ex.opened) != 0 {
		t.Fatalf("sessions opened by refused calls: %+v", ex.opened)
	}

	// One container: the container may be left out.
	res, err := call(enabled.ID, "", `/bin/sh -c 'echo hi'`, true)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Target
	if got.TaskARN != enabled.ARN || got.ContainerName != "app" || got.InstanceARN != ci.ARN ||
		got.ContainerARN != enabled.Containers[0].ContainerARN || !slices.Equal(got.Command, []string{"/bin/sh", "-c", "echo hi"}) ||
		res.Session.StreamURL != "ws://h/v1/data-channel/s1" || len(ex.opened) != 1 {
		t.Fatalf("opened %+v, session %+v", got, res.Session)
	}
}
