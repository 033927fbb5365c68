package harness

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"

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
