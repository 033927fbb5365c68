package drivertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

func (s *suite) testTaskNetwork(t *testing.T) {
	ctx := s.ctx(t)
	const port = 8080
	labels := s.labels(t, "")
	delete(labels, driver.LabelContainerName)
	spec := driver.TaskNetworkSpec{
		Name:         s.name(t, "sandbox"),
		Labels:       labels,
		PortMappings: []driver.PortMapping{{ContainerPort: port, Protocol: driver.ProtocolTCP}},
		Hostname:     "task-host",
	}
	tn, err := s.d.CreateTaskNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.d.RemoveTaskNetwork(ctx, tn.ID); err != nil {
			t.Errorf("cleanup: RemoveTaskNetwork: %v", err)
		}
	})
	if net.ParseIP(tn.IPv4Address).To4() == nil || tn.ID == "" || !tn.Running || tn.Name != spec.Name {
		t.Fatalf("task network = %+v; want an ID, a name, an IPv4 address and running", tn)
	}
	if _, subnet, err := net.ParseCIDR(tn.IPv4Subnet); err != nil || !subnet.Contains(net.ParseIP(tn.IPv4Address)) {
		t.Errorf("task network subnet %q does not contain %s", tn.IPv4Subnet, tn.IPv4Address)
	}
	// Publishing the ports on 127.0.0.1 is the driver's choice (for hosts
	// that do not route to the task's address); if it does, all of them.
	lb := findBinding(tn.Bindings, port)
	if len(tn.Bindings) > 0 && (lb == nil || lb.BindIP != "127.0.0.1" || lb.HostPort == 0) {
		t.Fatalf("task network bindings %+v; want none, or %d/tcp on 127.0.0.1 with a dynamic host port", tn.Bindings, port)
	}
	if again, err := s.d.CreateTaskNetwork(ctx, spec); err != nil || again.ID != tn.ID {
		t.Errorf("CreateTaskNetwork retry = %+v, %v; want the same sandbox %s", again, err, tn.ID)
	}
	if got, err := s.d.InspectTaskNetwork(ctx, tn.ID); err != nil || got.IPv4Address != tn.IPv4Address {
		t.Errorf("InspectTaskNetwork = %+v, %v; want IP %s", got, err, tn.IPv4Address)
	}
	if list, err := s.d.ListTaskNetworks(ctx, map[string]string{driver.LabelTaskARN: labels[driver.LabelTaskARN]}); err != nil || len(list) != 1 || list[0].ID != tn.ID {
		t.Errorf("ListTaskNetworks = %+v, %v; want just %s", list, err, tn.ID)
	}

	attach := driver.NetworkAttachment{
		Mode:          driver.NetworkModeAWSVPC,
		TaskNetworkID: tn.ID,
		PortMappings:  []driver.PortMapping{{ContainerPort: port}},
	}
	web := s.spec(t, "web", fmt.Sprintf(httpCmd, "hello-from-task", port))
	web.Network = attach
	idWeb := s.run(t, ctx, web)
	client := s.spec(t, "client", fmt.Sprintf(`for i in $(seq 100); do
  if [ "$(wget -q -O - http://127.0.0.1:%d/)" = hello-from-task ]; then exit 0; fi
  sleep 0.1
done
exit 1`, port))
	client.Network = driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: tn.ID}
	idClient := s.run(t, ctx, client)

	st := s.waitFor(t, ctx, idWeb, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	if st.NetworkMode != driver.NetworkModeAWSVPC || st.TaskNetworkID != tn.ID || st.IPv4Address != tn.IPv4Address {
		t.Errorf("web container network: mode %q, task network %q, IP %q; want awsvpc, %s, %s", st.NetworkMode, st.TaskNetworkID, st.IPv4Address, tn.ID, tn.IPv4Address)
	}
	if b := findBinding(st.NetworkBindings, port); lb != nil && (b == nil || b.HostPort != lb.HostPort) || lb == nil && len(st.NetworkBindings) > 0 {
		t.Errorf("web container bindings %+v; want the task network's %+v", st.NetworkBindings, tn.Bindings)
	}
	if cst, err := s.d.InspectContainer(ctx, idClient); err != nil || len(cst.NetworkBindings) != 0 {
		t.Errorf("client container (no ports) bindings %+v, %v; want none", cst.NetworkBindings, err)
	}
	if list, err := s.d.ListContainers(ctx, map[string]string{driver.LabelTaskARN: labels[driver.LabelTaskARN]}); err != nil || len(list) != 2 {
		t.Errorf("ListContainers(task) = %d containers, %v; want 2 (the sandbox is not listed)", len(list), err)
	}
	if !s.env.Network {
		return
	}
	if st := s.waitExit(t, ctx, idClient); st.ExitCode != 0 {
		t.Errorf("client could not reach the web container on 127.0.0.1:%d (exit %d)%s", port, st.ExitCode, s.logs(idClient))
	}
	urls := []string{fmt.Sprintf("http://%s/", net.JoinHostPort(tn.IPv4Address, strconv.Itoa(port)))}
	if lb != nil {
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d/", lb.HostPort))
	}
	for _, url := range urls {
		if body, err := httpGet(ctx, url); err != nil || body != "hello-from-task" {
			t.Errorf("GET %s from the host = %q, %v; want hello-from-task", url, body, err)
		}
	}
}

// testTaskNetworkJoinByName creates a container joining a task network by
// name before the network exists (the runner does this while the sandbox
// starts), then the network, then starts the container.
func (s *suite) testTaskNetworkJoinByName(t *testing.T) {
	ctx := s.ctx(t)
	labels := s.labels(t, "")
	delete(labels, driver.LabelContainerName)
	spec := driver.TaskNetworkSpec{Name: s.name(t, "sandbox"), Labels: labels}
	app := s.spec(t, "app", cmdServe)
	app.Network = driver.NetworkAttachment{Mode: driver.NetworkModeAWSVPC, TaskNetworkID: spec.Name}
	id := s.create(t, ctx, app)
	tn, err := s.d.CreateTaskNetwork(ctx, spec)
	if err != nil {
		t.Fatalf("CreateTaskNetwork: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.d.RemoveTaskNetwork(ctx, tn.ID); err != nil {
			t.Errorf("cleanup: RemoveTaskNetwork: %v", err)
		}
	})
	if err := s.d.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer joining the task network by name: %v", err)
	}
	st := s.waitFor(t, ctx, id, "running", func(st driver.ContainerState) bool { return st.Status == driver.StatusRunning })
	if st.NetworkMode != driver.NetworkModeAWSVPC || st.TaskNetworkID != tn.ID || st.IPv4Address != tn.IPv4Address || tn.IPv4Address == "" {
		t.Errorf("container network: mode %q, task network %q, IP %q; want awsvpc, %s, %s", st.NetworkMode, st.TaskNetworkID, st.IPv4Address, tn.ID, tn.IPv4Address)
	}
}

func (s *suite) testBridgePorts(t *testing.T) {
	ctx := s.ctx(t)
	const port = 8081
	spec := s.spec(t, "web", fmt.Sprintf(httpCmd, "hello-from-bridge", port))
	spec.Network = driver.NetworkAttachment{
		Mode:         driver.NetworkModeBridge,
		PortMappings: []driver.PortMapping{{ContainerPort: port, HostPort: 0, Protocol: driver.ProtocolTCP}},
	}
	spec.Hostname = "bridge-host"
	id := s.run(t, ctx, spec)
	st := s.waitFor(t, ctx, id, "running with a bound port", func(st driver.ContainerState) bool {
		return st.Status == driver.StatusRunning && findBinding(st.NetworkBindings, port) != nil
	})
	b := findBinding(st.NetworkBindings, port)
	if b.HostPort == 0 || b.Protocol != driver.ProtocolTCP || st.NetworkMode != driver.NetworkModeBridge {
		t.Fatalf("binding %+v, mode %q; want a dynamic tcp host port in bridge mode", b, st.NetworkMode)
	}
	if net.ParseIP(st.IPv4Address) == nil {
		t.Errorf("bridge container IPv4Address %q; want an address", st.IPv4Address)
	}
	if !s.env.Network {
		return
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", b.HostPort)
	if body, err := httpGet(ctx, url); err != nil || body != "hello-from-bridge" {
		t.Errorf("GET %s = %q, %v; want hello-from-bridge", url, body, err)
	}
}

func findBinding(bs []driver.NetworkBinding, port int) *driver.NetworkBinding {
	i := slices.IndexFunc(bs, func(b driver.NetworkBinding) bool {
		return b.ContainerPort == port && (b.BindIP == "127.0.0.1" || b.BindIP == "0.0.0.0" || b.BindIP == "")
	})
	if i < 0 {
		return nil
	}
	return &bs[i]
}

// httpGet fetches url, retrying while the server starts.
func httpGet(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return strings.TrimSpace(string(body)), nil
			}
			err = fmt.Errorf("status %s, %v", resp.Status, rerr)
		}
		lastErr = err
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
}
