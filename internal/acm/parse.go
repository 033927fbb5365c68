package acm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// ImportInput is ImportCertificate's material (PEM).
type ImportInput struct {
	Certificate []byte
	PrivateKey  []byte
	Chain       []byte
}

// ParseImport checks imported material as ACM does (one PEM certificate,
// an unencrypted RSA or EC private key that matches it, a chain of PEM
// certificates) and returns the certificate's details; the caller sets
// ARN, ID and times.
func ParseImport(in ImportInput) (*Certificate, error) {
	if len(in.Certificate) == 0 {
		return nil, validation("1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null")
	}
	if len(in.PrivateKey) == 0 {
		return nil, validation("1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
	}
	leaf, err := onePEMCert(in.Certificate)
	if err != nil {
		return nil, err
	}
	keyPEM, key, err := parseKey(in.PrivateKey)
	if err != nil {
		return nil, err
	}
	if !publicKeyMatches(leaf.PublicKey, key) {
		return nil, validation("The private key does not match the public key in the certificate.")
	}
	chain := ""
	if len(bytes.TrimSpace(in.Chain)) > 0 {
		certs, err := pemCerts(in.Chain)
		if err != nil || len(certs) == 0 {
			return nil, validation("Could not validate the certificate chain with the certificate: the chain is not PEM-encoded certificates.")
		}
		chain = string(encodeCerts(certs))
	}
	c := Details(leaf)
	c.Type = TypeImported
	c.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
	c.ChainPEM = chain
	c.PrivateKeyPEM = keyPEM
	return c, nil
}

// Details returns what ACM reports of an X.509 certificate.
func Details(x *x509.Certificate) *Certificate {
	c := &Certificate{
		DomainName: x.Subject.CommonName, SANs: append([]string(nil), x.DNSNames...),
		Serial: colonHex(x.SerialNumber.Bytes()), Subject: x.Subject.String(), Issuer: x.Issuer.String(),
		NotBefore: x.NotBefore.UTC(), NotAfter: x.NotAfter.UTC(),
		KeyAlgorithm: keyAlgorithm(x.PublicKey), SignatureAlgorithm: strings.ReplaceAll(strings.ToUpper(x.SignatureAlgorithm.String()), "-", ""),
	}
	if c.DomainName == "" && len(c.SANs) > 0 {
		c.DomainName = c.SANs[0]
	}
	if len(c.SANs) == 0 && c.DomainName != "" {
		c.SANs = []string{c.DomainName}
	}
	for bit, name := range map[x509.KeyUsage]string{x509.KeyUsageDigitalSignature: "DIGITAL_SIGNATURE", x509.KeyUsageKeyEncipherment: "KEY_ENCIPHERMENT",
		x509.KeyUsageCertSign: "CERTIFICATE_SIGNING", x509.KeyUsageCRLSign: "CRL_SIGNING", x509.KeyUsageDataEncipherment: "DATA_ENCIPHERMENT",
		x509.KeyUsageKeyAgreement: "KEY_AGREEMENT", x509.KeyUsageContentCommitment: "NON_REPUDIATION"} {
		if x.KeyUsage&bit != 0 {
			c.KeyUsages = append(c.KeyUsages, name)
		}
	}
	sortStrings(c.KeyUsages)
	for _, u := range x.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			c.ExtendedKeyUsages = append(c.ExtendedKeyUsages, "TLS_WEB_SERVER_AUTHENTICATION")
		case x509.ExtKeyUsageClientAuth:
			c.ExtendedKeyUsages = append(c.ExtendedKeyUsages, "TLS_WEB_CLIENT_AUTHENTICATION")
		}
	}
	return c
}

// ExtendedKeyUsageOID is the OID of ACM's extended key usage names.
func ExtendedKeyUsageOID(name string) string {
	switch name {
	case "TLS_WEB_SERVER_AUTHENTICATION":
		return "1.3.6.1.5.5.7.3.1"
	case "TLS_WEB_CLIENT_AUTHENTICATION":
		return "1.3.6.1.5.5.7.3.2"
	}
	return ""
}

func onePEMCert(b []byte) (*x509.Certificate, error) {
	certs, err := pemCerts(b)
	if err != nil || len(certs) == 0 {
		return nil, validation("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if len(certs) > 1 {
		return nil, validation("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	return certs[0], nil
}

func pemCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %s is not a certificate", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		return nil, fmt.Errorf("trailing data after the PEM blocks")
	}
	return out, nil
}

func encodeCerts(cs []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range cs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// parseKey accepts an unencrypted PKCS#1, SEC 1 or PKCS#8 key and returns
// it re-encoded as PKCS#8 PEM.
func parseKey(b []byte) (string, crypto.Signer, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || len(bytes.TrimSpace(rest)) > 0 {
		return "", nil, validation("Unable to parse the private key. Please ensure the key is in PEM format and not encrypted.")
	}
	var key any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	default:
		return "", nil, validation("Unable to parse the private key: PEM type %s; the key must be unencrypted RSA or EC.", blk.Type)
	}
	if err != nil {
		return "", nil, validation("Unable to parse the private key: %v", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return "", nil, validation("Unsupported private key type.")
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if n := k.N.BitLen(); n != 1024 && n != 2048 && n != 3072 && n != 4096 {
			return "", nil, validation("The private key length %d is not supported; use RSA 1024, 2048, 3072 or 4096.", n)
		}
	case *ecdsa.PrivateKey:
	case ed25519.PrivateKey:
		return "", nil, validation("Ed25519 keys are not supported by ACM.")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, validation("Unable to encode the private key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), signer, nil
}

func publicKeyMatches(pub crypto.PublicKey, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}

func keyAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA_%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1"
		case elliptic.P384():
			return "EC_secp384r1"
		case elliptic.P521():
			return "EC_secp521r1"
		}
	}
	return "UNKNOWN"
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Expired reports whether now is past the certificate's validity.
func (c *Certificate) Expired(now time.Time) bool { return now.After(c.NotAfter) }
