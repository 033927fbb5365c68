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

// CreateTaskNetwork creates and starts an awsvpc task's sandbox container.
// Where berth can (see setUpVeth), the sandbox starts with network "none"
// and berth plumbs it onto the awsvpc bridge itself; its ports are reached
// at its address, as an ENI's are, and published nowhere (ECS reports no
// networkBindings for awsvpc tasks). Otherwise it joins the awsvpc Docker
// network, and Docker publishes spec.PortMappings on 127.0.0.1 (for a host
// that cannot route to the bridge, e.g. Docker Desktop's).
func (d *Driver) CreateTaskNetwork(ctx context.Context, spec driver.TaskNetworkSpec) (driver.TaskNetwork, error) {
	if spec.Name == "" {
		return driver.TaskNetwork{}, fmt.Errorf("docker: create task network: name is required")
	}
	vn, err := d.ensureAWSVPCNetwork(ctx)
	if err != nil {
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
	if vn != nil {
		exposed, bindings = nil, nil // reached at the task's address
	}
	dns, err := parseAddrs(spec.DNSServers)
	if err != nil {
		return driver.TaskNetwork{}, fmt.Errorf("docker: create task network %s: %w", spec.Name, err)
	}
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode(d.opts.AWSVPCNetwork),
		PortBindings:  bindings,
		DNS:           dns,
		ExtraHosts:    extraHosts(spec.ExtraHosts),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
	}
	var addr netip.Prefix
	if vn != nil {
		ip, err := vn.reserve(spec.Name)
		if err != nil {
			return driver.TaskNetwork{}, fmt.Errorf("docker: create task network %s: %w", spec.Name, err)
		}
		addr = netip.PrefixFrom(ip, d.subnet.Bits())
		labels[labelAddr] = addr.String()
		labels[labelGateway] = vn.gateway.String()
		hc.NetworkMode = network.NetworkNone
		if spec.Hostname != "" {
			// Docker writes the address of the hostname on its networks only.
			hc.ExtraHosts = append(hc.ExtraHosts, spec.Hostname+":"+ip.String())
		}
	}
	res, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name,
		Config: &container.Config{
			Image:        d.opts.SandboxImage,
			Hostname:     spec.Hostname,
			Labels:       labels,
			ExposedPorts: exposed,
		},
		HostConfig: hc,
	})
	id := res.ID
	if err != nil {
		if vn != nil {
			vn.release(addr.Addr())
		}
		if id, addr, err = d.adoptSandbox(ctx, spec, err); err != nil {
			return driver.TaskNetwork{}, err
		}
	}
	if _, err := d.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return driver.TaskNetwork{}, wrap("start task network "+spec.Name, err)
	}
	res2, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return driver.TaskNetwork{}, wrap("inspect task network "+spec.Name, err)
	}
	c := res2.Container
	if addr.IsValid() {
		if err := d.plumbSandbox(ctx, c, addr); err != nil {
			return driver.TaskNetwork{}, err
		}
	}
	tn := d.toTaskNetwork(c)
	d.log.InfoContext(ctx, "task network created", "name", spec.Name, "id", id, "ip", tn.IPv4Address)
	return tn, nil
}

// adoptSandbox takes over the sandbox container of spec that a create
// found already there (a retried create, createErr a conflict): its ID
// and address. Another container of that name is a conflict.
func (d *Driver) adoptSandbox(ctx context.Context, spec driver.TaskNetworkSpec, createErr error) (string, netip.Prefix, error) {
	if !cerrdefs.IsConflict(createErr) {
		return "", netip.Prefix{}, wrap("create task network "+spec.Name, createErr)
	}
	existing, err := d.cli.ContainerInspect(ctx, spec.Name, client.ContainerInspectOptions{})
	if err != nil {
		return "", netip.Prefix{}, wrap("create task network "+spec.Name, createErr)
	}
	c := existing.Container
	if c.Config == nil || c.Config.Labels[labelRole] != roleSandbox || !hasLabels(c.Config.Labels, spec.Labels) {
		return "", netip.Prefix{}, &opError{op: "create task network " + spec.Name, kind: driver.ErrConflict,
			err: fmt.Errorf("name taken by container %s with different labels", shortID(c.ID))}
	}
	d.log.InfoContext(ctx, "task network already exists; adopting it", "name", spec.Name, "id", c.ID)
	addr, _ := netip.ParsePrefix(c.Config.Labels[labelAddr])
	return c.ID, addr, nil
}

// plumbSandbox gives a started sandbox its interface (see vethNet.plumb).
func (d *Driver) plumbSandbox(ctx context.Context, c container.InspectResponse, addr netip.Prefix) error {
	vn, err := d.ensureAWSVPCNetwork(ctx)
	if err != nil {
		return err
	}
	if vn == nil {
		return &opError{op: "plumb task network " + shortID(c.ID), err: fmt.Errorf("sandbox has address %s but berth cannot plumb sandboxes here", addr)}
	}
	if c.State == nil || !c.State.Running || c.State.Pid == 0 {
		return &opError{op: "plumb task network " + shortID(c.ID), err: fmt.Errorf("sandbox is not running")}
	}
	if err := vn.plumb(c.ID, c.State.Pid, addr); err != nil {
		return &opError{op: "plumb task network " + shortID(c.ID), err: err}
	}
	return nil
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

// RemoveTaskNetwork force-removes a task's sandbox, and frees the address
// of one that berth plumbed.
func (d *Driver) RemoveTaskNetwork(ctx context.Context, id string) error {
	var addr netip.Prefix
	if res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && res.Container.Config != nil {
		addr, _ = netip.ParsePrefix(res.Container.Config.Labels[labelAddr])
	}
	_, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return wrap("remove task network "+id, err)
	}
	if addr.IsValid() {
		if vn, err := d.ensureAWSVPCNetwork(ctx); err == nil && vn != nil {
			vn.release(addr.Addr())
		}
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
		if addr, err := netip.ParsePrefix(c.Config.Labels[labelAddr]); err == nil {
			// Plumbed by berth: the address is the sandbox's while it runs.
			tn.IPv4Address = addr.Addr().String()
			tn.IPv4Subnet = addr.Masked().String()
			tn.Gateway = c.Config.Labels[labelGateway]
			tn.MACAddress = macOf(addr.Addr()).String()
		}
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

// ensureAWSVPCNetwork creates the awsvpc bridge network unless it exists
// (Docker's IPAM confined to the lower half of the subnet, berth's own to
// the upper half), and returns how berth plumbs sandboxes onto it: nil if
// they join the Docker network instead.
func (d *Driver) ensureAWSVPCNetwork(ctx context.Context) (*vethNet, error) {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	if d.netReady {
		return d.veth, nil
	}
	name := d.opts.AWSVPCNetwork
	res, err := d.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return nil, wrap("inspect network "+name, err)
	}
	if err != nil {
		ipam := network.IPAMConfig{Subnet: d.subnet}
		if d.subnet.Bits() <= 24 {
			ipam.IPRange = lowerHalf(d.subnet)
		}
		_, err = d.cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{
			Driver: "bridge",
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{ipam}},
			Labels: map[string]string{labelManaged: "true"},
		})
		if err == nil {
			d.log.InfoContext(ctx, "awsvpc network created", "network", name, "subnet", d.subnet)
		}
		// Another process may have created it meanwhile.
		var ierr error
		res, ierr = d.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		if ierr != nil {
			if err == nil {
				err = ierr
			}
			return nil, wrap("create network "+name, err)
		}
	}
	d.veth = d.setUpVeth(ctx, res.Network.ID, res.Network.Options)
	if d.veth != nil {
		d.sweepReservations(ctx, d.veth)
	}
	d.netReady = true
	return d.veth, nil
}
