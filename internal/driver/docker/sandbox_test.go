package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestSandboxFromPauseBinary builds the awsvpc sandbox image from a static
// Go binary implementing "pause", as happens on hosts without busybox.
func TestSandboxFromPauseBinary(t *testing.T) {
	probe := dockertest.New(t) // skips without Docker
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the pause binary")
	}
	bin := filepath.Join(t.TempDir(), "pausebin")
	build := exec.Command(goTool, "build", "-o", bin, "./testdata/pausebin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the pause binary: %v\n%s", err, out)
	}

	const image = "berth-test/sandbox-pausebin:latest"
	d, err := docker.New(docker.Options{
		Logger:       dockertest.Logger(t),
		Busybox:      "/nonexistent/busybox",
		SandboxImage: image,
		PauseBinary:  bin,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		_, _ = probe.Client().ImageRemove(context.Background(), image, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
	_, _ = probe.Client().ImageRemove(ctx, image, client.ImageRemoveOptions{Force: true, PruneChildren: true})

	tn, err := d.CreateTaskNetwork(ctx, driver.TaskNetworkSpec{
		Name:   "berth-test-sandbox-pausebin",
		Labels: map[string]string{"berth.conformance": "pausebin"},
	})
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	defer d.RemoveTaskNetwork(context.Background(), tn.ID)
	if !tn.Running || tn.IPv4Address == "" {
		t.Fatalf("task network %+v; want running with an IP", tn)
	}
	// The pause process exits promptly on SIGTERM.
	start := time.Now()
	if err := d.StopContainer(ctx, tn.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stopping the sandbox took %v: pause ignores SIGTERM", took)
	}
	if got, err := d.InspectTaskNetwork(ctx, tn.ID); err != nil || got.Running {
		t.Errorf("InspectTaskNetwork after stop = %+v, %v; want not running", got, err)
	}
}

func TestOpenByName(t *testing.T) {
	dockertest.New(t)
	r := driver.NewRegistry()
	r.Register("docker", docker.Open)
	d, err := r.Open("docker", driver.Config{Logger: dockertest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ListContainers(t.Context(), map[string]string{"berth.no-such-label": "x"}); err != nil {
		t.Errorf("ListContainers: %v", err)
	}
	if _, err := d.InspectContainer(t.Context(), "berth-no-such-container"); err == nil {
		t.Error("InspectContainer of a missing container succeeded")
	}
}
