package elbproxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
)

// Listener protocols that terminate TLS.
const (
	ProtoHTTPS = "HTTPS" // ALB: TLS, then HTTP as ProtoHTTP
	ProtoTLS   = "TLS"   // NLB: TLS, then TCP as ProtoTCP
)

// TLSSettings make a listener terminate TLS (HTTPS on an ALB, TLS on an
// NLB); targets are reached in plain HTTP or TCP, as the listener's
// target groups say.
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
