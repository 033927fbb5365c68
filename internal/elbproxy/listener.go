package elbproxy

import (
	"crypto/tls"
	"net"
	"strings"
)

// listener is one served listener: an ALB (HTTP) or an NLB (TCP) server on
// the load balancer's own address.
type listener struct {
	arn     string
	ident   string // type|addr|protocol(|idle): a change reopens the socket
	lbType  LBType
	port    int
	dnsName string // the load balancer's, lower case, for the shared front
	onFront bool   // the listener's own address is not the front's
	alb     *albServer
	nlb     *nlbServer
	tls     *tlsTerm   // HTTPS and TLS listeners
	udp     *udpServer // UDP and TCP_UDP listeners
}

// openListener binds the listener's socket and starts serving it. p.mu held.
func (p *Proxy) openListener(lb LoadBalancer, l Listener, ident string) (*listener, error) {
	out := &listener{arn: l.ARN, ident: ident, lbType: lb.Type, port: l.Port}
	if l.Protocol == ProtoUDP || l.Protocol == ProtoTCPUDP {
		pc, err := listenUDP(lb.Address, l.Port)
		if err != nil {
			return nil, err
		}
		out.udp = newUDPServer(p, pc)
		out.udp.routes.Store(&nlbRoutes{idle: idleTimeout(lb)})
		p.goroutine(out.udp.serve)
		if l.Protocol == ProtoUDP {
			p.log.Info("listener serving", "listener", l.ARN, "addr", pc.LocalAddr().String(), "type", string(lb.Type), "protocol", l.Protocol)
			return out, nil
		}
	}
	ln, err := listenTCP(lb.Address, l.Port)
	if err != nil {
		if out.udp != nil {
			out.udp.close()
		}
		return nil, err
	}
	if l.TLS != nil {
		out.tls = &tlsTerm{}
		if err := out.tls.set(l.TLS); err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, out.tls.config())
	}
	if lb.Type == Application {
		out.alb = newALBServer(p, idleTimeout(lb), ln.Addr())
		out.alb.secure = l.TLS != nil
		out.alb.routes.Store(&albRoutes{port: l.Port})
		p.goroutine(func() { out.alb.serve(ln) })
	} else {
		out.nlb = newNLBServer(p, ln)
		out.nlb.routes.Store(&nlbRoutes{idle: idleTimeout(lb)})
		p.goroutine(func() { out.nlb.serve(ln) })
	}
	p.log.Info("listener serving", "listener", l.ARN, "addr", ln.Addr().String(), "type", string(lb.Type))
	return out, nil
}

// setRoutes gives the listener its rules and groups. p.mu held.
func (l *listener) setRoutes(p *Proxy, lb LoadBalancer, spec Listener) {
	l.dnsName = strings.ToLower(strings.TrimSuffix(lb.DNSName, "."))
	l.onFront = lb.Address != p.cfg.FrontAddr
	if l.tls != nil {
		if err := l.tls.set(spec.TLS); err != nil {
			p.log.Warn("listener keeps its previous certificates", "listener", spec.ARN, "err", err)
		}
	}
	if l.alb != nil {
		var prev []albRule
		if cur := l.alb.routes.Load(); cur != nil {
			prev = cur.rules
		}
		l.alb.routes.Store(&albRoutes{port: spec.Port, rules: compileRules(p.groups, spec, prev), stats: p.lbStats[lb.ARN]})
		return
	}
	rt := nlbRoutesFor(p.groups, lb, spec)
	rt.stats = p.nlbStats[lb.ARN]
	if l.udp != nil {
		l.udp.routes.Store(rt)
	}
	if l.nlb != nil {
		l.nlb.routes.Store(rt)
	}
}

func (l *listener) close() {
	if l.udp != nil {
		l.udp.close()
	}
	if l.alb != nil {
		l.alb.close()
		return
	}
	if l.nlb != nil {
		l.nlb.close()
	}
}

// handleConn serves one connection accepted elsewhere (the shared front)
// as this NLB listener.
func (l *listener) handleConn(c net.Conn) { l.nlb.handle(c) }
