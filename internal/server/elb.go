package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/berth-dev/berth/internal/elb"
)

// bindProbe checks that a listener's address can be bound by binding it
// for a moment: a port that is privileged or taken is an
// InvalidConfigurationRequest that says why and what to do.
type bindProbe struct{}

func (bindProbe) CheckBind(ctx context.Context, at netip.AddrPort) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", at.String())
	if err == nil {
		return ln.Close()
	}
	switch {
	case errors.Is(err, syscall.EACCES):
		return elb.Configf("berth cannot listen on port %d (%s): the port is privileged and berth runs without the right to bind it; "+
			"use a port of 1024 or more, or give berth the capability (sudo setcap cap_net_bind_service=+ep $(command -v berth)) "+
			"or lower net.ipv4.ip_unprivileged_port_start", at.Port(), at)
	case errors.Is(err, syscall.EADDRINUSE):
		return elb.Configf("berth cannot listen on port %d (%s): another program is using it; stop that program or choose another port", at.Port(), at)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return elb.Configf("berth cannot listen on %s: the address is not available on this host (on macOS, add it with: sudo ifconfig lo0 alias %s)", at, at.Addr())
	}
	return elb.Configf("berth cannot listen on %s: %v", at, fmt.Sprint(err))
}
