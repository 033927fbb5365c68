package docker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/testwait"
)

// TestPlumbedSandbox: a sandbox without port mappings is plumbed by berth
// (network "none", a veth onto the awsvpc bridge): the task's address is
// reachable from the host, its hostname resolves to it inside the task, a
// retry adopts the sandbox with its address, and removing it frees the
// address.
func TestPlumbedSandbox(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("berth plumbs sandboxes as root only")
	}
	ipam := t.TempDir()
	d := dockertest.New(t, func(o *docker.Options) { o.IPAMDir = ipam })
	image := dockertest.Busybox(t, d)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	spec := driver.TaskNetworkSpec{
		Name:     "berth-test-plumbed-sandbox",
		Labels:   map[string]string{"berth.conformance": "plumbed"},
		Hostname: "plumbed-host",
	}
	_ = d.RemoveTaskNetwork(ctx, spec.Name)
	tn, err := d.CreateTaskNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	t.Cleanup(func() { _ = d.RemoveTaskNetwork(context.Background(), tn.ID) })
	ip := net.ParseIP(tn.IPv4Address).To4()
	if ip == nil || ip[2] < 128 || tn.Gateway == "" || !tn.Running {
		t.Fatalf("task network %+v; want running, with an address in the upper half of the subnet and a gateway", tn)
	}
	reservation := filepath.Join(ipam, "172.31.0.0-16", tn.IPv4Address)
	if _, err := os.Stat(reservation); err != nil {
		t.Errorf("address reservation: %v", err)
	}
	again, err := d.CreateTaskNetwork(ctx, spec)
	if err != nil || again.ID != tn.ID || again.IPv4Address != tn.IPv4Address {
		t.Errorf("CreateTaskNetwork retry = %+v, %v; want %s with %s", again, err, tn.ID, tn.IPv4Address)
	}

	web := driver.ContainerSpec{
		Name:    "berth-test-plumbed-web",
		Image:   image,
		Command: []string{"sh", "-c", "grep -q '" + tn.IPv4Address + "[[:space:]]*plumbed-host' /etc/hosts && mkdir -p /tmp/w && echo plumbed > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"},
		Labels:  map[string]string{"berth.conformance": "plumbed"},
		Network: driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: tn.ID},
	}
	_ = d.RemoveContainer(ctx, web.Name)
	id, err := d.CreateContainer(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.RemoveContainer(context.Background(), id) })
	if err := d.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	url := "http://" + net.JoinHostPort(tn.IPv4Address, "8080") + "/"
	client := &http.Client{Timeout: 2 * time.Second}
	// The event: the task's httpd answers on its plumbed address (the
	// state of another process, so polled).
	testwait.Until(t, 30*time.Second, func() (bool, string) {
		if st, err := d.InspectContainer(ctx, id); err == nil && st.Status == driver.StatusExited {
			t.Fatalf("web container exited %d (its hostname does not resolve to %s?)", st.ExitCode, tn.IPv4Address)
		}
		res, err := client.Get(url)
		if err != nil {
			return false, fmt.Sprintf("GET %s from the host: %v", url, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := strings.TrimSpace(string(b))
		return body == "plumbed", fmt.Sprintf("GET %s from the host = %q; want plumbed", url, body)
	})
	if st, err := d.InspectContainer(ctx, id); err != nil || st.IPv4Address != tn.IPv4Address {
		t.Errorf("web container IP %q, %v; want %s", st.IPv4Address, err, tn.IPv4Address)
	}

	if err := d.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveTaskNetwork(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reservation); !os.IsNotExist(err) {
		t.Errorf("address reservation after RemoveTaskNetwork: %v; want it gone", err)
	}
}
