package docker

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// loopback is where awsvpc task ports are published on the host.
var loopback = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// CreateTaskNetwork creates and starts an awsvpc task's sandbox container
// on the awsvpc bridge network, publishing spec.PortMappings on 127.0.0.1.
func (d *Driver) CreateTaskNetwork(ctx context.Context, spec driver.TaskNetworkSpec) (driver.TaskNetwork, error) {
	if spec.Name == "" {
		return driver.TaskNetwork{}, fmt.Errorf("docker: create task network: name is required")
	}
	if err := d.ensureAWSVPCNetwork(ctx); err != nil {
		return driver.TaskNetwork{}, err
	}
	if err := d.ensureSandboxImage(ctx); err != nil {
		return driver.TaskNetwork{}, err
	}

	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelManaged] = "true"
	labels[labelRole] = roleSandbox
	labels[labelNetworkMode] = string(driver.NetworkModeAWSVPC)
	if len(spec.PortMappings) > 0 {
		labels[labelPorts] = formatPorts(spec.PortMappings)
	}
	exposed, bindings, err := portBindings(spec.PortMappings, loopback, false)
	if err != nil {
		return driver.TaskNetwork{}, fmt.Errorf("docker: create task network %s: %w", spec.Name, err)
	}
	dns, err := parseAddrs(spec.DNSServers)
	if err != nil {
		return driver.TaskNetwork{}, fmt.Errorf("docker: create task network %s: %w", spec.Name, err)
	}
	res, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name,
		Config: &container.Config{
			Image:        d.opts.SandboxImage,
			Hostname:     spec.Hostname,
			Labels:       labels,
			ExposedPorts: exposed,
		},
		HostConfig: &container.HostConfig{
			NetworkMode:   container.NetworkMode(d.opts.AWSVPCNetwork),
			PortBindings:  bindings,
			DNS:           dns,
			ExtraHosts:    extraHosts(spec.ExtraHosts),
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		},
	})
	id := res.ID
	if err != nil {
		if !cerrdefs.IsConflict(err) {
			return driver.TaskNetwork{}, wrap("create task network "+spec.Name, err)
		}
		existing, ierr := d.cli.ContainerInspect(ctx, spec.Name, client.ContainerInspectOptions{})
		if ierr != nil {
			return driver.TaskNetwork{}, wrap("create task network "+spec.Name, err)
		}
		c := existing.Container
		if c.Config == nil || c.Config.Labels[labelRole] != roleSandbox || !hasLabels(c.Config.Labels, spec.Labels) {
			return driver.TaskNetwork{}, &opError{op: "create task network " + spec.Name, kind: driver.ErrConflict,
				err: fmt.Errorf("name taken by container %s with different labels", shortID(c.ID))}
		}
		d.log.InfoContext(ctx, "task network already exists; adopting it", "name", spec.Name, "id", c.ID)
		id = c.ID
	}
	if _, err := d.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return driver.TaskNetwork{}, wrap("start task network "+spec.Name, err)
	}
	tn, err := d.InspectTaskNetwork(ctx, id)
	if err != nil {
		return driver.TaskNetwork{}, err
	}
	d.log.InfoContext(ctx, "task network created", "name", spec.Name, "id", id, "ip", tn.IPv4Address)
	return tn, nil
}

// InspectTaskNetwork returns a task network's state.
func (d *Driver) InspectTaskNetwork(ctx context.Context, id string) (driver.TaskNetwork, error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return driver.TaskNetwork{}, wrap("inspect task network "+id, err)
	}
	if res.Container.Config == nil || res.Container.Config.Labels[labelRole] != roleSandbox {
		return driver.TaskNetwork{}, &opError{op: "inspect task network " + id, kind: driver.ErrNotFound,
			err: fmt.Errorf("container %s is not a task network sandbox", shortID(res.Container.ID))}
	}
	return d.toTaskNetwork(res.Container), nil
}

// ListTaskNetworks lists the task networks carrying all labels of selector.
func (d *Driver) ListTaskNetworks(ctx context.Context, selector map[string]string) ([]driver.TaskNetwork, error) {
	f := labelFilters(selector)
	f.Add("label", labelRole+"="+roleSandbox)
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, wrap("list task networks", err)
	}
	var out []driver.TaskNetwork
	for _, c := range res.Items {
		ins, err := d.cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, wrap("inspect task network "+c.ID, err)
		}
		out = append(out, d.toTaskNetwork(ins.Container))
	}
	slices.SortFunc(out, func(a, b driver.TaskNetwork) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveTaskNetwork force-removes a task's sandbox.
func (d *Driver) RemoveTaskNetwork(ctx context.Context, id string) error {
	_, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return wrap("remove task network "+id, err)
	}
	d.log.DebugContext(ctx, "task network removed", "id", id)
	return nil
}

func (d *Driver) toTaskNetwork(c container.InspectResponse) driver.TaskNetwork {
	tn := driver.TaskNetwork{
		ID:   c.ID,
		Name: strings.TrimPrefix(c.Name, "/"),
	}
	if c.Config != nil {
		tn.Labels = userLabels(c.Config.Labels)
	}
	if c.State != nil {
		tn.Running = c.State.Running
	}
	if ns := c.NetworkSettings; ns != nil {
		if ep := ns.Networks[d.opts.AWSVPCNetwork]; ep != nil && ep.IPAddress.IsValid() {
			tn.IPv4Address = ep.IPAddress.String()
			if p, err := ep.IPAddress.Prefix(ep.IPPrefixLen); err == nil {
				tn.IPv4Subnet = p.String()
			}
			if ep.Gateway.IsValid() {
				tn.Gateway = ep.Gateway.String()
			}
			tn.MACAddress = ep.MacAddress.String()
		}
		tn.Bindings = bindingsOf(ns.Ports)
	}
	return tn
}

// ensureAWSVPCNetwork creates the awsvpc bridge network unless it exists.
func (d *Driver) ensureAWSVPCNetwork(ctx context.Context) error {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	if d.netReady {
		return nil
	}
	name := d.opts.AWSVPCNetwork
	_, err := d.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err == nil {
		d.netReady = true
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return wrap("inspect network "+name, err)
	}
	_, err = d.cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver: "bridge",
		IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: d.subnet}}},
		Labels: map[string]string{labelManaged: "true"},
	})
	if err != nil {
		// Another process may have created it meanwhile.
		if _, ierr := d.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); ierr == nil {
			d.netReady = true
			return nil
		}
		return wrap("create network "+name, err)
	}
	d.log.InfoContext(ctx, "awsvpc network created", "network", name, "subnet", d.subnet)
	d.netReady = true
	return nil
}
