package elbproxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
)

// BindError is a listener port that cannot be bound, with why and what to do.
type BindError struct {
	Addr   string // host:port
	Reason string // "privileged", "in-use", "address", "other"
	Hint   string // what to do, for a person
	Err    error  // the system's error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot listen on %s: %v; %s", e.Addr, e.Err, e.Hint)
}

func (e *BindError) Unwrap() error { return e.Err }

// Bind failure reasons.
const (
	BindPrivileged = "privileged"
	BindInUse      = "in-use"
	BindAddress    = "address"
	BindOther      = "other"
)

// CheckBind reports whether addr:port can be listened on now (it binds a
// TCP socket and closes it at once); nil means yes. The error is a
// *BindError. The control plane calls it before accepting a listener.
func CheckBind(addr netip.Addr, port int) error {
	ln, err := listenTCP(addr, port)
	if err != nil {
		return err
	}
	return ln.Close()
}

// listenTCP listens on addr:port, turning a failure into a *BindError.
func listenTCP(addr netip.Addr, port int) (net.Listener, error) {
	hp := net.JoinHostPort(addr.String(), strconv.Itoa(port))
	if port < 1 || port > 65535 {
		return nil, &BindError{Addr: hp, Reason: BindOther, Err: errors.New("port out of range"),
			Hint: "use a port from 1 to 65535"}
	}
	ln, err := net.Listen("tcp", hp)
	if err == nil {
		return ln, nil
	}
	return nil, bindError(hp, port, err)
}

func bindError(hp string, port int, err error) *BindError {
	be := &BindError{Addr: hp, Reason: BindOther, Err: err,
		Hint: "check that the address is a local one and the port is free"}
	switch {
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		be.Reason = BindPrivileged
		be.Hint = fmt.Sprintf("port %d is privileged and berth (uid %d) may not bind it: "+
			"run berth as root, or give it the capability (sudo setcap cap_net_bind_service=+ep $(which berth)), "+
			"or lower the limit (sudo sysctl net.ipv4.ip_unprivileged_port_start=%d), or use a port of 1024 or more",
			port, os.Getuid(), port)
	case errors.Is(err, syscall.EADDRINUSE):
		be.Reason = BindInUse
		be.Hint = fmt.Sprintf("another process (or another listener) holds it: stop it "+
			"(sudo ss -ltnp 'sport = :%d' shows which), or use another port", port)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		be.Reason = BindAddress
		be.Hint = "the address is not on this host; load balancer addresses must be in 127.0.0.0/8"
	}
	return be
}

// NextAddress returns the lowest address from 127.77.0.1 upward (skipping
// .0 and .255 in the last byte) that is not in used, or false when
// 127.77.0.0/16 is exhausted.
func NextAddress(used []netip.Addr) (netip.Addr, bool) {
	taken := make(map[netip.Addr]bool, len(used))
	for _, a := range used {
		taken[a] = true
	}
	for a := netip.AddrFrom4([4]byte{127, 77, 0, 1}); ; a = a.Next() {
		b := a.As4()
		if b[1] != 77 {
			return netip.Addr{}, false
		}
		if b[3] == 0 || b[3] == 255 || taken[a] {
			continue
		}
		return a, true
	}
}
