package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/moby/moby/client"
)

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitUp waits until the berth server at url answers its health endpoint,
// for at most 30 seconds.
func WaitUp(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := http.Get(url + "/_berth/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // poll interval
		}
	}
	return errors.New("not up within 30s")
}

// StopProcess stops a process the program started: SIGTERM, then SIGKILL
// if it has not exited 20 seconds later; it returns once the process was
// waited for.
func StopProcess(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	_ = c.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.Process.Kill()
		<-done
	}
}

// RemoveByLabel force-removes every container that carries label
// ("key=value"), best effort.
func RemoveByLabel(ctx context.Context, cli *client.Client, label string) {
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", label)})
	if err != nil {
		return
	}
	for _, c := range res.Items {
		_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
}

// BuildBerth builds berth's binary (./cmd/berth, from the repository
// root) at path.
func BuildBerth(ctx context.Context, path string) error {
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/berth").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	return nil
}

// Docker opens the local Docker daemon through berth's driver and makes
// sure the busybox image the benchmarks run exists; the caller closes it.
func Docker(ctx context.Context, image string) (*docker.Driver, error) {
	d, err := docker.New(docker.Options{})
	if err != nil {
		return nil, err
	}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("docker: %w", err)
	}
	if err := d.EnsureBusyboxImage(ctx, image, []string{"sh"}); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
