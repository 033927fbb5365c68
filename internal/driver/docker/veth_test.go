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

// TestPlumbedSandbox: a sandbox is plumbed by berth (network "none", a veth
// onto the awsvpc bridge), port mappings (the seed's 8080/tcp) or not: the
// task's address and port are reachable from the host and nothing is
// published, its hostname resolves to it inside the task, a retry adopts
// the sandbox with its address, so does a new driver (berth restarted), and
// removing it frees the address.
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
		Name:         "berth-test-plumbed-sandbox",
		Labels:       map[string]string{"berth.conformance": "plumbed"},
		Hostname:     "plumbed-host",
		PortMappings: []driver.PortMapping{{ContainerPort: 8080, Protocol: driver.ProtocolTCP}},
	}
	_ = d.RemoveTaskNetwork(ctx, spec.Name)
	tn, err := d.CreateTaskNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	t.Cleanup(func() { _ = d.RemoveTaskNetwork(context.Background(), tn.ID) })
	ip := net.ParseIP(tn.IPv4Address).To4()
	if ip == nil || ip[2] < 128 || tn.Gateway == "" || !tn.Running || len(tn.Bindings) != 0 {
		t.Fatalf("task network %+v; want running, with an address in the upper half of the subnet and a gateway, no bindings", tn)
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
		Network: driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: tn.ID,
			PortMappings: []driver.PortMapping{{ContainerPort: 8080}}},
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
	if st, err := d.InspectContainer(ctx, id); err != nil || st.IPv4Address != tn.IPv4Address || len(st.NetworkBindings) != 0 {
		t.Errorf("web container IP %q, bindings %+v, %v; want %s and no bindings", st.IPv4Address, st.NetworkBindings, err, tn.IPv4Address)
	}

	// berth restarts: a new driver adopts the sandbox as it is.
	d2 := dockertest.New(t, func(o *docker.Options) { o.IPAMDir = ipam })
	if got, err := d2.InspectTaskNetwork(ctx, tn.Name); err != nil || got.IPv4Address != tn.IPv4Address || !got.Running {
		t.Errorf("InspectTaskNetwork after a restart = %+v, %v; want %s running", got, err, tn.IPv4Address)
	}
	if got, err := d2.CreateTaskNetwork(ctx, spec); err != nil || got.ID != tn.ID || got.IPv4Address != tn.IPv4Address {
		t.Errorf("CreateTaskNetwork after a restart = %+v, %v; want %s with %s", got, err, tn.ID, tn.IPv4Address)
	}
	if res, err := client.Get(url); err != nil {
		t.Errorf("GET %s after a restart: %v", url, err)
	} else {
		res.Body.Close()
	}

	if err := d2.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d2.RemoveTaskNetwork(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reservation); !os.IsNotExist(err) {
		t.Errorf("address reservation after RemoveTaskNetwork: %v; want it gone", err)
	}
}

// TestDockerNetworkSandbox: with awsvpc-plumbing=docker the sandbox joins
// the awsvpc Docker network (an address in the lower half) and Docker
// publishes its port mappings on 127.0.0.1: the task answers at its
// address and at the published port, and removing the sandbox closes the
// port.
func TestDockerNetworkSandbox(t *testing.T) {
	d := dockertest.New(t, func(o *docker.Options) { o.DockerSandboxNetwork = true; o.IPAMDir = t.TempDir() })
	image := dockertest.Busybox(t, d)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	spec := driver.TaskNetworkSpec{
		Name:         "berth-test-docker-sandbox",
		Labels:       map[string]string{"berth.conformance": "docker-sandbox"},
		PortMappings: []driver.PortMapping{{ContainerPort: 8080, Protocol: driver.ProtocolTCP}},
	}
	_ = d.RemoveTaskNetwork(ctx, spec.Name)
	tn, err := d.CreateTaskNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	t.Cleanup(func() { _ = d.RemoveTaskNetwork(context.Background(), tn.ID) })
	ip := net.ParseIP(tn.IPv4Address).To4()
	if ip == nil || ip[2] >= 128 || len(tn.Bindings) != 1 || tn.Bindings[0].BindIP != "127.0.0.1" || tn.Bindings[0].HostPort == 0 {
		t.Fatalf("task network %+v; want an address from Docker's IPAM (lower half) and 8080/tcp on 127.0.0.1", tn)
	}
	web := driver.ContainerSpec{
		Name:    "berth-test-docker-sandbox-web",
		Image:   image,
		Command: []string{"sh", "-c", "mkdir -p /tmp/w && echo joined > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"},
		Labels:  map[string]string{"berth.conformance": "docker-sandbox"},
		Network: driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: tn.ID,
			PortMappings: []driver.PortMapping{{ContainerPort: 8080}}},
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
	client := &http.Client{Timeout: 2 * time.Second}
	published := net.JoinHostPort("127.0.0.1", fmt.Sprint(tn.Bindings[0].HostPort))
	for _, addr := range []string{net.JoinHostPort(tn.IPv4Address, "8080"), published} {
		url := "http://" + addr + "/"
		// The event: the task's httpd answers there (polled).
		testwait.Until(t, 30*time.Second, func() (bool, string) {
			res, err := client.Get(url)
			if err != nil {
				return false, fmt.Sprintf("GET %s from the host: %v", url, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body := strings.TrimSpace(string(b))
			return body == "joined", fmt.Sprintf("GET %s from the host = %q; want joined", url, body)
		})
	}
	if err := d.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveTaskNetwork(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", published, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after RemoveTaskNetwork", published)
	}
}
