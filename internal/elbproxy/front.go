package elbproxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Front modes.
const (
	frontHTTP = "http" // route by Host among the port's ALB listeners
	frontTCP  = "tcp"  // forward to the port's one NLB listener
)

// front is the shared front on FrontAddr:port (see the package doc).
type front struct {
	port  int
	mode  string
	ln    net.Listener
	srv   *http.Server               // frontHTTP: requests no one load balancer takes
	hand  *handoff                   // frontHTTP: srv's listener
	table atomic.Pointer[frontTable] // frontHTTP
	nlb   atomic.Pointer[listener]   // frontTCP
	sni   atomic.Pointer[sniTable]   // frontTLS
}

// frontTable maps DNS names to the ALB listeners on one port.
type frontTable struct {
	byHost map[string]*albServer
	only   *albServer // the one listener when there is just one
	names  []string
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tab := f.table.Load()
	if s := tab.byHost[strings.ToLower(strings.TrimSuffix(hostOnly(r.Host), "."))]; s != nil {
		s.ServeHTTP(w, r)
		return
	}
	if tab.only != nil {
		tab.only.ServeHTTP(w, r)
		return
	}
	body := "No load balancer named " + hostOnly(r.Host) + " listens on this port. Load balancers here: " +
		strings.Join(tab.names, ", ") + "\n"
	w.Header().Set("Server", "awselb/2.0")
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, body)
}

func (f *front) serveTCP(p *Proxy) {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		l := f.nlb.Load()
		p.goroutine(func() { l.handleConn(c) })
	}
}

func (f *front) close() {
	f.ln.Close()
	if f.srv != nil {
		f.hand.Close()
		f.srv.Close()
	}
}

// serveHTTP accepts the front's connections and routes each (frontHTTP).
func (f *front) serveHTTP(p *Proxy) {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.goroutine(func() { f.routeHTTP(c) })
	}
}

// routeHTTP gives a connection to the load balancer its first request's
// Host names (or to the port's only one), whose fast path then serves it
// with the bytes read so far, checking each further request's Host (a
// request for another load balancer gives the connection back to
// dispatch). A connection no load balancer takes (an unknown Host with
// several on the port, a header too large to scan) is served by the
// front's net/http server, which routes each request.
func (f *front) routeHTTP(c net.Conn) {
	br := bufio.NewReaderSize(c, fastBufSize)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	host, ok := peekHost(br)
	c.SetReadDeadline(time.Time{})
	f.dispatch(c, br, host, ok)
}

// dispatch serves c, whose next request is for host (ok: its header is
// whole in br), on the fast path of that host's load balancer, else
// through the front's net/http server.
func (f *front) dispatch(c net.Conn, br *bufio.Reader, host string, ok bool) {
	tab := f.table.Load()
	if s := tab.pick(host); s != nil && (ok || s == tab.only) {
		s.serveConn(c, br, f)
		return
	}
	pre, _ := br.Peek(br.Buffered())
	f.hand.give(&prefixConn{Conn: c, pre: bytes.Clone(pre)})
}

// pick returns the load balancer for a Host: the one of that DNS name,
// else the port's only one, else nil.
func (tab *frontTable) pick(host string) *albServer {
	if s := tab.byHost[strings.ToLower(strings.TrimSuffix(hostOnly(host), "."))]; s != nil {
		return s
	}
	return tab.only
}

// headerHost returns the Host field of a request header.
func headerHost(head []byte) string {
	for _, line := range bytes.Split(head, []byte("\r\n"))[1:] {
		if len(line) > 5 && bytes.EqualFold(line[:5], []byte("host:")) {
			return string(bytes.TrimSpace(line[5:]))
		}
	}
	return ""
}

// peekHost reads (without consuming) the first request's header and
// returns its Host field; ok is false when the header did not arrive
// whole within the reader's buffer.
func peekHost(br *bufio.Reader) (string, bool) {
	for {
		b, _ := br.Peek(br.Buffered())
		if end := headerEnd(b); end > 0 {
			return headerHost(b[:end]), true
		}
		if br.Buffered() >= br.Size() {
			return "", false
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return "", false
		}
	}
}

// applyFronts opens, updates and closes the shared fronts after the
// listeners are applied, and fills the statuses' Front fields. p.mu held.
func (p *Proxy) applyFronts(statuses []ListenerStatus) {
	if p.cfg.NoFront {
		return
	}
	byPort := map[int][]*listener{}
	blocked := map[int]bool{} // a listener binds the front address itself
	for _, st := range statuses {
		l := p.listeners[st.ListenerARN]
		if st.Err != nil || l == nil || l.alb == nil && l.nlb == nil {
			continue // UDP listeners are reached at their own address
		}
		if !l.onFront {
			blocked[l.port] = true
		}
		byPort[l.port] = append(byPort[l.port], l)
	}
	modes := map[int]string{}
	for port, ls := range byPort {
		switch {
		case blocked[port]:
		case !slices.ContainsFunc(ls, func(l *listener) bool { return l.tls == nil }):
			modes[port] = frontTLS
		case slices.ContainsFunc(ls, func(l *listener) bool { return l.tls != nil }):
			// TLS and plain listeners on one port: each at its own address.
		case !slices.ContainsFunc(ls, func(l *listener) bool { return l.alb == nil }):
			modes[port] = frontHTTP
		case len(ls) == 1:
			modes[port] = frontTCP
		}
	}
	for port, f := range p.fronts {
		if modes[port] != f.mode {
			f.close()
			delete(p.fronts, port)
		}
	}
	frontOf := map[int]string{}
	frontErr := map[int]error{}
	for port, mode := range modes {
		f := p.fronts[port]
		if f == nil {
			ln, err := listenTCP(p.cfg.FrontAddr, port)
			if err != nil {
				frontErr[port] = err
				p.log.Debug("shared front not serving", "port", port, "err", err)
				continue
			}
			f = &front{port: port, mode: mode, ln: ln}
			p.fronts[port] = f
			f.setTable(byPort[port])
			if mode == frontHTTP {
				f.hand = newHandoff(ln.Addr())
				f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second,
					ErrorLog: log.New(io.Discard, "", 0)}
				p.goroutine(func() { f.srv.Serve(f.hand) })
				p.goroutine(func() { f.serveHTTP(p) })
			} else if mode == frontTLS {
				p.goroutine(func() { f.serveTLS(p) })
			} else {
				p.goroutine(func() { f.serveTCP(p) })
			}
		}
		f.setTable(byPort[port])
		frontOf[port] = f.ln.Addr().String()
	}
	for i := range statuses {
		l := p.listeners[statuses[i].ListenerARN]
		if statuses[i].Err != nil || l == nil {
			continue
		}
		statuses[i].Front = frontOf[l.port]
		statuses[i].FrontErr = frontErr[l.port]
	}
}

func (f *front) setTable(ls []*listener) {
	if f.mode == frontTLS {
		f.setSNI(ls)
		return
	}
	if f.mode == frontTCP {
		f.nlb.Store(ls[0])
		return
	}
	tab := &frontTable{byHost: map[string]*albServer{}}
	for _, l := range ls {
		if l.dnsName != "" {
			tab.byHost[l.dnsName] = l.alb
			tab.names = append(tab.names, l.dnsName)
		}
	}
	slices.Sort(tab.names)
	if len(ls) == 1 {
		tab.only = ls[0].alb
	}
	f.table.Store(tab)
}
