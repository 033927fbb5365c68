package docker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berth-dev/berth/internal/driver"
)

// Labels of sandboxes that berth plumbs itself (see "Networking" in the
// package documentation).
const (
	labelAddr    = driver.LabelDriverPrefix + "ipv4"    // "172.31.200.7/16"
	labelGateway = driver.LabelDriverPrefix + "gateway" // "172.31.0.1"
)

// DefaultIPAMDir is where berth reserves the addresses of the sandboxes it
// plumbs, one file per address, shared by every berth process on the host
// (the files vanish with /run at reboot, as the sandboxes' namespaces do).
const DefaultIPAMDir = "/run/berth/awsvpc-ipam"

// vethNet is the awsvpc network as berth plumbs it: Docker's bridge device
// of the awsvpc network (so Docker's NAT and forwarding rules for it
// apply), its gateway, and the half of the subnet berth allocates from
// (Docker's IPAM keeps to the lower half; see ensureAWSVPCNetwork).
type vethNet struct {
	bridge  *netlink.Bridge
	gateway netip.Addr
	pool    netip.Prefix // the upper half of the subnet
	dir     string       // reservation files
}

// setUpVeth decides whether berth plumbs sandboxes itself: on Linux, as
// root, with the network's bridge device visible in this process's network
// namespace (a local daemon) and the reservation directory writable. It
// returns nil, with the reason logged, otherwise.
func (d *Driver) setUpVeth(ctx context.Context, networkID string, opts map[string]string) *vethNet {
	if d.opts.DockerSandboxNetwork {
		return nil
	}
	why := ""
	switch {
	case runtime.GOOS != "linux":
		why = "not Linux"
	case os.Geteuid() != 0:
		why = "not root"
	}
	var vn *vethNet
	if why == "" {
		var err error
		if vn, err = d.openVethNet(networkID, opts); err != nil {
			why = err.Error()
		}
	}
	if why != "" {
		d.log.InfoContext(ctx, "awsvpc sandboxes join the Docker network (berth cannot plumb them itself)", "reason", why)
		return nil
	}
	d.log.InfoContext(ctx, "awsvpc sandboxes are plumbed by berth", "bridge", vn.bridge.Name, "gateway", vn.gateway, "pool", vn.pool)
	return vn
}

func (d *Driver) openVethNet(networkID string, opts map[string]string) (*vethNet, error) {
	name := opts["com.docker.network.bridge.name"]
	if name == "" && len(networkID) >= 12 {
		name = "br-" + networkID[:12]
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("bridge %s of the awsvpc network: %w", name, err)
	}
	br, ok := link.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a bridge", name, link.Type())
	}
	vn := &vethNet{bridge: br}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && d.subnet.Contains(ip) {
			vn.gateway = ip
		}
	}
	if !vn.gateway.IsValid() {
		return nil, fmt.Errorf("bridge %s has no address in %s", name, d.subnet)
	}
	if d.subnet.Bits() > 24 {
		return nil, fmt.Errorf("subnet %s is too small to share with Docker", d.subnet)
	}
	vn.pool = upperHalf(d.subnet)
	vn.dir = filepath.Join(d.opts.IPAMDir, d.subnet.Addr().String()+"-"+fmt.Sprint(d.subnet.Bits()))
	if err := os.MkdirAll(vn.dir, 0o755); err != nil {
		return nil, err
	}
	return vn, nil
}

// upperHalf is the upper half of p.
func upperHalf(p netip.Prefix) netip.Prefix {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | 1<<(31-p.Bits())
	binary.BigEndian.PutUint32(a[:], v)
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits()+1)
}

// lowerHalf is the lower half of p.
func lowerHalf(p netip.Prefix) netip.Prefix { return netip.PrefixFrom(p.Addr(), p.Bits()+1) }

// reserve picks a free address of the pool at random and reserves it for
// the sandbox name, with a file created exclusively (so berth processes
// sharing the host never hand out one address twice).
func (vn *vethNet) reserve(name string) (netip.Addr, error) {
	a := vn.pool.Addr().As4()
	base := binary.BigEndian.Uint32(a[:])
	size := uint32(1) << (32 - vn.pool.Bits())
	for range 64 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		off := binary.BigEndian.Uint32(b[:]) % size
		if off == 0 || off == size-1 {
			continue // keep clear of the half's edges (the subnet's broadcast)
		}
		binary.BigEndian.PutUint32(a[:], base+off)
		ip := netip.AddrFrom4(a)
		f, err := os.OpenFile(filepath.Join(vn.dir, ip.String()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return netip.Addr{}, fmt.Errorf("reserve %s: %w", ip, err)
		}
		_, werr := f.WriteString(name)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			_ = os.Remove(f.Name())
			return netip.Addr{}, fmt.Errorf("reserve %s: %w", ip, werr)
		}
		return ip, nil
	}
	return netip.Addr{}, fmt.Errorf("no free address in %s after 64 tries", vn.pool)
}

// release frees a reserved address.
func (vn *vethNet) release(ip netip.Addr) {
	if ip.IsValid() {
		_ = os.Remove(filepath.Join(vn.dir, ip.String()))
	}
}

// sweep frees the reservations older than a minute that no sandbox carries
// (those of sandboxes removed behind berth's back, or of a crash between
// reserving and creating).
func (d *Driver) sweepReservations(ctx context.Context, vn *vethNet) {
	f := labelFilters(map[string]string{labelRole: roleSandbox})
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		d.log.WarnContext(ctx, "sweeping address reservations", "err", err)
		return
	}
	inUse := map[string]bool{}
	for _, c := range res.Items {
		if a, ok := c.Labels[labelAddr]; ok {
			inUse[strings.SplitN(a, "/", 2)[0]] = true
		}
	}
	entries, err := os.ReadDir(vn.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || inUse[e.Name()] || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		if os.Remove(filepath.Join(vn.dir, e.Name())) == nil {
			d.log.InfoContext(ctx, "freed a stale address reservation", "ip", e.Name())
		}
	}
}

// macOf is the sandbox interface's MAC address: locally administered,
// derived from the address as Docker does (02:42:<ip>).
func macOf(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}
}

// plumb gives the running sandbox (its process pid) the interface eth0 with
// addr on the awsvpc bridge and a default route through the gateway: a veth
// pair whose host end joins the bridge. It is idempotent: a sandbox that
// already has eth0 is left as is.
func (vn *vethNet) plumb(id string, pid int, addr netip.Prefix) error {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("network namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in the sandbox: %w", err)
	}
	defer h.Close()
	if _, err := h.LinkByName("eth0"); err == nil {
		return nil
	}
	hostName := "bv" + id[:min(len(id), 12)]
	if old, err := netlink.LinkByName(hostName); err == nil {
		_ = netlink.LinkDel(old) // left by an attempt that failed half-way
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: hostName, MasterIndex: vn.bridge.Index, MTU: vn.bridge.MTU},
		PeerName:         "eth0",
		PeerHardwareAddr: macOf(addr.Addr()),
		PeerNamespace:    netlink.NsFd(ns),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth pair: %w", err)
	}
	fail := func(err error) error {
		_ = netlink.LinkDel(veth)
		return err
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		return fail(fmt.Errorf("veth %s up: %w", hostName, err))
	}
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return fail(fmt.Errorf("eth0 in the sandbox: %w", err))
	}
	ipnet := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipnet}); err != nil {
		return fail(fmt.Errorf("address %s: %w", addr, err))
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fail(fmt.Errorf("eth0 up: %w", err))
	}
	if err := h.RouteReplace(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: vn.gateway.AsSlice()}); err != nil {
		return fail(fmt.Errorf("default route via %s: %w", vn.gateway, err))
	}
	return nil
}
