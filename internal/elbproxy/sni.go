package elbproxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// frontTLS is the shared front's mode for a port whose listeners all
// terminate TLS (HTTPS and TLS): it reads the client's ClientHello, picks
// the listener whose load balancer's DNS name is the server name the
// client asked for (SNI; the port's only listener when none matches),
// and that listener terminates TLS and serves the connection as if it had
// accepted it.
const frontTLS = "tls"

// sniTable maps DNS names to the TLS listeners on one port.
type sniTable struct {
	byHost map[string]*listener
	only   *listener
}

func (tab *sniTable) pick(name string) *listener {
	if l := tab.byHost[strings.ToLower(strings.TrimSuffix(name, "."))]; l != nil {
		return l
	}
	return tab.only
}

// serveTLS accepts the front's connections and routes each by SNI.
func (f *front) serveTLS(p *Proxy) {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.goroutine(func() { f.routeTLS(c) })
	}
}

func (f *front) routeTLS(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	name, hello, err := peekServerName(c)
	c.SetReadDeadline(time.Time{})
	l := f.sni.Load().pick(name)
	if err != nil || l == nil || l.tls == nil {
		c.Close() // no ClientHello, or no listener for that name among several
		return
	}
	tc := tls.Server(&prefixConn{Conn: c, pre: hello}, l.tls.config())
	if l.alb != nil {
		l.alb.serveConn(tc, l.alb.pools.reader(tc), nil)
		return
	}
	l.nlb.handle(tc)
}

// errHelloRead stops the handshake peekServerName runs once it has the
// ClientHello.
var errHelloRead = errors.New("client hello read")

// peekServerName reads the TLS ClientHello from c and returns the server
// name it asks for ("" without SNI) and the bytes read, to be replayed to
// the listener's own handshake.
func peekServerName(c net.Conn) (string, []byte, error) {
	var buf bytes.Buffer
	var name string
	hs := tls.Server(helloConn{Conn: c, r: io.TeeReader(c, &buf)}, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name = h.ServerName
			return nil, errHelloRead
		}})
	if err := hs.Handshake(); !errors.Is(err, errHelloRead) {
		return "", nil, err
	}
	return name, buf.Bytes(), nil
}

// helloConn reads through r and writes nothing (the peeking handshake's
// alert is not sent).
type helloConn struct {
	net.Conn
	r io.Reader
}

func (c helloConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c helloConn) Write(p []byte) (int, error) { return len(p), nil }

// setSNI fills the front's SNI table from the port's TLS listeners.
func (f *front) setSNI(ls []*listener) {
	tab := &sniTable{byHost: map[string]*listener{}}
	for _, l := range ls {
		if l.dnsName != "" {
			tab.byHost[l.dnsName] = l
		}
	}
	if len(ls) == 1 {
		tab.only = ls[0]
	}
	f.sni.Store(tab)
}
