package elbproxy

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Listener protocols that carry datagrams (NLB).
const (
	ProtoUDP    = "UDP"     // datagrams only
	ProtoTCPUDP = "TCP_UDP" // a TCP proxy and a UDP relay on one port
)

// udpIdle is how long a UDP flow lives without a datagram either way
// (AWS's NLB UDP idle timeout, 120 s, not configurable).
const udpIdle = 120 * time.Second

// udpServer is an NLB listener's UDP side: each client address is a flow
// with its own socket connected to the target chosen by the flow's hash;
// datagrams go to the target and the target's answers back to the
// client from the listener's address.
type udpServer struct {
	p      *Proxy
	pc     *net.UDPConn
	routes atomic.Pointer[nlbRoutes]
	idle   time.Duration

	mu     sync.Mutex
	flows  map[netip.AddrPort]*udpFlow
	closed bool
}

type udpFlow struct {
	up   *net.UDPConn
	t    *target
	last atomic.Int64 // unix nanoseconds of the last datagram either way
}

func listenUDP(addr netip.Addr, port int) (*net.UDPConn, error) {
	hp := net.JoinHostPort(addr.String(), strconv.Itoa(port))
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port))))
	if err != nil {
		return nil, bindError(hp, port, err)
	}
	return pc, nil
}

func newUDPServer(p *Proxy, pc *net.UDPConn) *udpServer {
	return &udpServer{p: p, pc: pc, idle: udpIdle, flows: map[netip.AddrPort]*udpFlow{}}
}

// serve reads client datagrams until the socket is closed.
func (s *udpServer) serve() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := s.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f := s.flow(from)
		if f == nil {
			continue // no target: dropped, as on AWS
		}
		f.last.Store(time.Now().UnixNano())
		if st := s.routes.Load().stats; st != nil {
			st.bytes.Add(int64(n))
		}
		_, _ = f.up.Write(buf[:n])
	}
}

// flow returns the client's flow, opening it (and its reply relay) on
// its first datagram; nil when there is no target.
func (s *udpServer) flow(from netip.AddrPort) *udpFlow {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if f := s.flows[from]; f != nil && f.t.ctx.Err() == nil {
		return f
	} else if f != nil {
		f.up.Close()
		delete(s.flows, from)
	}
	rt := s.routes.Load()
	h := fnv.New32a()
	io.WriteString(h, from.String())
	io.WriteString(h, s.pc.LocalAddr().String())
	hash := h.Sum32()
	g := pickFlowGroup(rt.groups, hash)
	if g == nil {
		return nil
	}
	t := g.pickFlow(hash)
	if t == nil {
		return nil
	}
	raddr, err := net.ResolveUDPAddr("udp", t.addr)
	if err != nil {
		return nil
	}
	up, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil
	}
	f := &udpFlow{up: up, t: t}
	f.last.Store(time.Now().UnixNano())
	s.flows[from] = f
	t.outstanding.Add(1)
	if rt.stats != nil {
		rt.stats.newFlows.Add(1)
		rt.stats.active.Add(1)
	}
	s.p.goroutine(func() { s.relay(from, f) })
	return f
}

// relay sends the target's datagrams back to the client until the flow
// has been idle for s.idle, its target is removed, or the listener
// closes.
func (s *udpServer) relay(client netip.AddrPort, f *udpFlow) {
	defer f.t.outstanding.Add(-1)
	stats := s.routes.Load().stats
	if stats != nil {
		defer stats.active.Add(-1)
	}
	defer func() {
		s.mu.Lock()
		if s.flows[client] == f {
			delete(s.flows, client)
		}
		s.mu.Unlock()
		f.up.Close()
	}()
	// The drain deadline (or the target's removal) ends the flow.
	stop := context.AfterFunc(f.t.ctx, func() { f.up.Close() })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		f.up.SetReadDeadline(time.Unix(0, f.last.Load()).Add(s.idle))
		n, err := f.up.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if time.Since(time.Unix(0, f.last.Load())) >= s.idle {
					return
				}
				continue // a client datagram moved the deadline on
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable: keep the flow
		}
		f.last.Store(time.Now().UnixNano())
		if stats != nil {
			stats.bytes.Add(int64(n))
		}
		if _, err := s.pc.WriteToUDPAddrPort(buf[:n], client); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (s *udpServer) close() {
	s.mu.Lock()
	s.closed = true
	flows := s.flows
	s.flows = map[netip.AddrPort]*udpFlow{}
	s.mu.Unlock()
	s.pc.Close()
	for _, f := range flows {
		f.up.Close()
	}
}
