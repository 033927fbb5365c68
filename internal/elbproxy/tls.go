package elbproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// Listener protocols that terminate TLS.
const (
	ProtoHTTPS = "HTTPS" // ALB: TLS, then HTTP as ProtoHTTP
	ProtoTLS   = "TLS"   // NLB: TLS, then TCP as ProtoTCP
)

// TLSSettings make a listener terminate TLS (HTTPS on an ALB, TLS on an
// NLB). Targets are reached as their target group says: plain HTTP or TCP,
// or TLS again for HTTPS and TLS groups (targetTLS).
type TLSSettings struct {
	// Certificates are the listener's certificates, the default one
	// first; a client's SNI picks among them (the default when none
	// matches).
	Certificates []TLSCertificate
	// MinVersion and MaxVersion bound the protocol (tls.VersionTLS10 ...
	// tls.VersionTLS13); CipherSuites are the TLS 1.0-1.2 suites in
	// preference order (TLS 1.3's are always Go's three).
	MinVersion, MaxVersion uint16
	CipherSuites           []uint16
}

// TLSCertificate is one certificate with its chain and private key (PEM).
type TLSCertificate struct {
	ARN     string
	CertPEM string // the certificate, then its chain
	KeyPEM  string
}

// tlsTerm is a listener's TLS termination: the current configuration,
// swapped by setRoutes without reopening the socket.
type tlsTerm struct {
	cur atomic.Pointer[tls.Config]
}

func (t *tlsTerm) set(s *TLSSettings) error {
	if s == nil || len(s.Certificates) == 0 {
		return errors.New("elbproxy: a TLS listener needs a certificate")
	}
	cfg := &tls.Config{MinVersion: s.MinVersion, MaxVersion: s.MaxVersion, CipherSuites: s.CipherSuites,
		NextProtos: []string{"http/1.1"}}
	for _, c := range s.Certificates {
		pair, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return fmt.Errorf("elbproxy: certificate %s: %w", c.ARN, err)
		}
		cfg.Certificates = append(cfg.Certificates, pair)
	}
	t.cur.Store(cfg)
	return nil
}

// config is the listener's tls.Config: every handshake takes the
// configuration current when it starts.
func (t *tlsTerm) config() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return t.cur.Load(), nil }}
}

// targetTLS is the client side of the TLS the load balancer speaks to the
// targets of HTTPS and TLS target groups. As on AWS the target's
// certificate is not verified (targets commonly serve self-signed ones)
// and HTTP/1.1 is offered.
func targetTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
}

// dialTarget connects to t: TCP, and a TLS handshake on it when t's group
// is HTTPS or TLS. ctx bounds both.
func dialTarget(ctx context.Context, d *net.Dialer, t *target) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil || !t.tls {
		return c, err
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	tc := tls.Client(c, targetTLS())
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake with target %s: %w", t.addr, err)
	}
	return tc, nil
}
