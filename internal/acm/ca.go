package acm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// CA is berth's local certificate authority of one account and region:
// it signs RequestCertificate's certificates. Its certificate is the
// chain GetCertificate returns, so a client trusts berth's issued
// certificates by trusting it (curl --cacert).
type CA struct {
	CertificatePEM string
	PrivateKeyPEM  string
}

// NewCA makes a CA for sc valid for ten years from now.
func NewCA(sc Scope, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{Organization: []string{"berth"}, OrganizationalUnit: []string{sc.Account + " " + sc.Region},
			CommonName: "berth local ACM CA " + sc.Region},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))}, nil
}

// RequestInput is RequestCertificate's request.
type RequestInput struct {
	DomainName       string
	SANs             []string
	ValidationMethod string
	KeyAlgorithm     string
	IdempotencyToken string
	Tags             []Tag
}

// CheckRequest validates a RequestCertificate as ACM does.
func CheckRequest(in RequestInput) error {
	if in.DomainName == "" {
		return validation("1 validation error detected: Value null at 'domainName' failed to satisfy constraint: Member must not be null")
	}
	for _, d := range append([]string{in.DomainName}, in.SANs...) {
		if len(d) > 253 || !validDomain(d) {
			return invalidParam("The domain name '%s' is not valid.", d)
		}
	}
	if len(in.SANs) > MaxSANs {
		return fault.New(fault.LimitExceeded, "A certificate can have at most %d subject alternative names", MaxSANs).WithCode(CodeLimitExceeded)
	}
	switch in.ValidationMethod {
	case "", ValidationDNS, ValidationEmail:
	default:
		return validation("1 validation error detected: Value '%s' at 'validationMethod' failed to satisfy constraint: Member must satisfy enum value set: [EMAIL, DNS, HTTP]", in.ValidationMethod)
	}
	switch in.KeyAlgorithm {
	case "", "RSA_2048", KeyAlgoEC256:
	case "RSA_1024", "RSA_3072", "RSA_4096", "EC_secp384r1", "EC_secp521r1":
		return invalidParam("The key algorithm %s is not supported by berth's certificate authority; use RSA_2048 or EC_prime256v1.", in.KeyAlgorithm)
	default:
		return validation("1 validation error detected: Value '%s' at 'keyAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1]", in.KeyAlgorithm)
	}
	return CheckTags(in.Tags)
}

// validDomain is a DNS name with an optional leading wildcard label (Go's
// regexp has no lookahead; labels are checked by hand).
func validDomain(d string) bool {
	d = strings.TrimPrefix(d, "*.")
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Issue signs a new certificate for in's names with ca, valid for 395
// days (as ACM's), and returns it with its new private key.
func (ca *CA) Issue(in RequestInput, now time.Time) (*Certificate, error) {
	caCerts, err := pemCerts([]byte(ca.CertificatePEM))
	if err != nil || len(caCerts) != 1 {
		return nil, err
	}
	_, caKey, err := parseKey([]byte(ca.PrivateKeyPEM))
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if in.KeyAlgorithm == KeyAlgoEC256 {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, err
	}
	names := []string{in.DomainName}
	for _, s := range in.SANs {
		if !containsFold(names, s) {
			names = append(names, s)
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: in.DomainName}, DNSNames: names,
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(395 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCerts[0], key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := Details(leaf)
	c.Type, c.ValidationMethod = TypeAmazonIssued, in.ValidationMethod
	if c.ValidationMethod == "" {
		c.ValidationMethod = ValidationEmail
	}
	c.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	c.ChainPEM = ca.CertificatePEM
	c.PrivateKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	c.IssuedAt, c.IdempotencyToken = now, in.IdempotencyToken
	return c, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}
