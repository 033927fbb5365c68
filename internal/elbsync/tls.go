package elbsync

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbproxy"
)

// Certificates gives the data plane a listener certificate: the PEM of
// the certificate followed by its chain, and its private key (ACM
// certificates and IAM server certificates).
type Certificates interface {
	CertificatePEM(ctx context.Context, arn string) (certAndChain, key string, err error)
}

// goCiphers maps the OpenSSL cipher names of ELB's security policies to
// Go's TLS 1.0-1.2 suites. Names Go does not implement (the CBC suites
// with SHA-384, AES256-SHA256) have no entry: berth's listeners do not
// offer them. TLS 1.3's three suites are always on in Go.
var goCiphers = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-AES128-SHA256":     tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-RSA-AES128-SHA256":       tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES128-SHA256":                 tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

var tlsVersions = map[string]uint16{"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// PolicyTLS returns a security policy's protocol bounds and Go cipher
// suites.
func PolicyTLS(name string) (minV, maxV uint16, suites []uint16, ok bool) {
	p, ok := elb.LookupSSLPolicy(name)
	if !ok {
		return 0, 0, nil, false
	}
	for _, v := range p.Protocols {
		x := tlsVersions[v]
		if minV == 0 || x < minV {
			minV = x
		}
		maxV = max(maxV, x)
	}
	for _, c := range p.Ciphers {
		if id, ok := goCiphers[c]; ok {
			suites = append(suites, id)
		}
	}
	return minV, maxV, suites, true
}

// tlsSpec is a TLS listener's settings with its certificates named (ARN
// only; the controller fills in the PEM).
func tlsSpec(l *elb.Listener) *elbproxy.TLSSettings {
	if !elb.IsTLS(l.Protocol) {
		return nil
	}
	s := &elbproxy.TLSSettings{}
	s.MinVersion, s.MaxVersion, s.CipherSuites, _ = PolicyTLS(l.SslPolicy)
	for _, arn := range append(append([]string{}, l.Certificates...), l.ExtraCertificates...) {
		s.Certificates = append(s.Certificates, elbproxy.TLSCertificate{ARN: arn})
	}
	return s
}

// fillCertificates reads the PEM of every TLS listener's certificates. A
// listener whose certificate cannot be read keeps the others; one left
// without any has no TLS settings (Apply reports it).
func fillCertificates(ctx context.Context, spec *elbproxy.Spec, certs Certificates) error {
	var errs []string
	for i := range spec.LoadBalancers {
		for j := range spec.LoadBalancers[i].Listeners {
			l := &spec.LoadBalancers[i].Listeners[j]
			if l.TLS == nil {
				continue
			}
			var kept []elbproxy.TLSCertificate
			for _, c := range l.TLS.Certificates {
				if certs == nil {
					errs = append(errs, c.ARN+": no certificate source")
					continue
				}
				pem, key, err := certs.CertificatePEM(ctx, c.ARN)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					errs = append(errs, fmt.Sprintf("%s: %v", c.ARN, err))
					continue
				}
				c.CertPEM, c.KeyPEM = pem, key
				kept = append(kept, c)
			}
			l.TLS.Certificates = kept
			if len(kept) == 0 {
				l.TLS = nil
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("listener certificates not readable: %s", strings.Join(errs, "; "))
	}
	return nil
}
