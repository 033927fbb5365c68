package iam

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// Exception codes of server certificates.
const (
	CodeMalformedCertificate = "MalformedCertificate"
	CodeKeyPairMismatch      = "KeyPairMismatch"
)

// ServerCertificate is an IAM server certificate: a certificate, its
// chain and private key (all PEM) that load balancer listeners use by
// ARN (arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME).
type ServerCertificate struct {
	Name       string
	Path       string
	ID         string
	ARN        string
	Uploaded   time.Time
	Expiration time.Time // the certificate's NotAfter
	Body       string    // the certificate (PEM)
	Chain      string    // the chain (PEM), may be empty
	PrivateKey string    // PEM; sealed at rest
	Tags       []Tag
}

// ServerCertificateARN is a server certificate's ARN.
func ServerCertificateARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":server-certificate" + path + name
}

// ParseServerCertificateARN returns the account and name of a server
// certificate ARN.
func ParseServerCertificateARN(arn string) (account, name string, ok bool) {
	service, _, account, resource, ok := ParseARN(arn)
	if !ok || service != "iam" || !strings.HasPrefix(resource, "server-certificate/") {
		return "", "", false
	}
	rest := strings.TrimPrefix(resource, "server-certificate")
	return account, rest[strings.LastIndex(rest, "/")+1:], true
}

// Malformed certificate material.
func malformedCertificate(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeMalformedCertificate)
}

// CheckServerCertificate checks uploaded material as IAM does: one PEM
// certificate, a PEM private key that matches it (KeyPairMismatch when
// it does not), and a chain of PEM certificates. It returns the
// certificate's expiration and the material normalized (trailing blank
// space trimmed, a final newline).
func CheckServerCertificate(body, key, chain string) (sc ServerCertificate, err error) {
	switch {
	case strings.TrimSpace(body) == "":
		return sc, Validation("1 validation error detected: Value null at 'certificateBody' failed to satisfy constraint: Member must not be null")
	case strings.TrimSpace(key) == "":
		return sc, Validation("1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
	case len(body) > 16384:
		return sc, Validation("1 validation error detected: Value at 'certificateBody' failed to satisfy constraint: Member must have length less than or equal to 16384")
	case len(key) > 16384:
		return sc, Validation("1 validation error detected: Value at 'privateKey' failed to satisfy constraint: Member must have length less than or equal to 16384")
	}
	block, rest := pem.Decode([]byte(body))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return sc, malformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return sc, malformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if kb, _ := pem.Decode([]byte(key)); kb == nil || !strings.HasSuffix(kb.Type, "PRIVATE KEY") {
		return sc, malformedCertificate("Unable to parse private key. Please ensure the private key is in PEM format.")
	}
	if _, err := tls.X509KeyPair([]byte(body), []byte(key)); err != nil {
		return sc, fault.New(fault.InvalidParameter, "The private key does not match the public key in the certificate: %v", err).WithCode(CodeKeyPairMismatch)
	}
	if strings.TrimSpace(chain) != "" {
		n := 0
		for b, r := pem.Decode([]byte(chain)); b != nil; b, r = pem.Decode(r) {
			if _, err := x509.ParseCertificate(b.Bytes); b.Type != "CERTIFICATE" || err != nil {
				return sc, malformedCertificate("Unable to parse certificate chain. Please ensure the chain is PEM-encoded certificates.")
			}
			n++
		}
		if n == 0 {
			return sc, malformedCertificate("Unable to parse certificate chain. Please ensure the chain is PEM-encoded certificates.")
		}
	}
	norm := func(s string) string {
		if s = strings.TrimSpace(s); s == "" {
			return ""
		}
		return s + "\n"
	}
	return ServerCertificate{Expiration: leaf.NotAfter.UTC(), Body: norm(body), Chain: norm(chain), PrivateKey: norm(key)}, nil
}
