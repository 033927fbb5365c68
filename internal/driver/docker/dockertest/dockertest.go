// Package dockertest helps tests across berth use the real Docker daemon:
// it connects (skipping the test when Docker is unreachable, unless CI=true)
// and builds small test images offline, without pulling from any registry.
//
//	func TestSomething(t *testing.T) {
//		d := dockertest.New(t)
//		image := dockertest.Busybox(t, d) // "berth-test/busybox:latest"
//		...
//	}
package dockertest

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/drivertest"
)

// BusyboxImage is the test image [Busybox] builds from the host's static
// busybox: sh, sleep, nc, httpd, wget, ... in /bin; CMD ["sh"].
const BusyboxImage = "berth-test/busybox:latest"

// MissingImage is an image whose pull fails at once: nothing listens on
// 127.0.0.1:1.
const MissingImage = "127.0.0.1:1/berth-test/missing:latest"

// New returns a Docker driver that logs to t, with options changed by
// mods. If the daemon is unreachable the test is skipped, or fails when the
// CI environment variable is "true".
func New(t testing.TB, mods ...func(*docker.Options)) *docker.Driver {
	t.Helper()
	opts := docker.Options{Logger: Logger(t)}
	for _, m := range mods {
		m(&opts)
	}
	d, err := docker.New(opts)
	if err != nil {
		t.Fatalf("docker.New: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Ping(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Docker is required in CI but unreachable: %v", err)
		}
		t.Skipf("SKIPPING: Docker is unreachable (%v); start dockerd, or set CI=true to make this a failure", err)
	}
	return d
}

var (
	buildMu sync.Mutex
	built   = map[string]bool{}
)

// Busybox builds [BusyboxImage] (once per process, and only if its content
// changed) and returns its reference. It fails the test if the host has no
// static busybox at /usr/bin/busybox (Debian: busybox-static).
func Busybox(t testing.TB, d *docker.Driver) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if built[BusyboxImage] {
		return BusyboxImage
	}
	if _, err := os.Stat(docker.DefaultBusybox); err != nil {
		t.Fatalf("a static busybox is needed to build %s: %v (apt-get install busybox-static)", BusyboxImage, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := d.EnsureBusyboxImage(ctx, BusyboxImage, []string{"sh"}); err != nil {
		t.Fatalf("building %s: %v", BusyboxImage, err)
	}
	built[BusyboxImage] = true
	return BusyboxImage
}

// Env returns the conformance suite environment of the Docker driver:
// every capability, with the busybox test image. Task-level limits are
// shared when the driver uses task cgroups on this host.
func Env(t testing.TB, d *docker.Driver) drivertest.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parent, err := d.TaskCgroupParent(ctx, "probe")
	if err != nil {
		t.Fatalf("TaskCgroupParent: %v", err)
	}
	return drivertest.Env{
		Image:            Busybox(t, d),
		MissingImage:     MissingImage,
		Exec:             true,
		OOM:              true,
		Network:          true,
		SharedTaskLimits: parent != "",
	}
}

// Logger returns a slog logger that writes to t's log while the test runs
// and discards records once it has finished (drivers log from background
// goroutines).
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
