package acm

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// TestIssueAndImport: the local CA issues a certificate for the names
// asked that verifies against the CA (the chain GetCertificate returns);
// importing it back succeeds, and a key that is not the certificate's is
// a ValidationException.
func TestIssueAndImport(t *testing.T) {
	now := time.Now()
	sc := Scope{Account: "123456789012", Region: "eu-west-1"}
	ca, err := NewCA(sc, now)
	if err != nil {
		t.Fatal(err)
	}
	in := RequestInput{DomainName: "www.example.test", SANs: []string{"api.example.test"}}
	if err := CheckRequest(in); err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(in, now)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(c.ChainPEM))
	blk, _ := pem.Decode([]byte(c.CertificatePEM))
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"www.example.test", "api.example.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if c.KeyAlgorithm != "RSA_2048" || c.Type != TypeAmazonIssued || c.DomainName != "www.example.test" {
		t.Fatalf("%+v", c)
	}
	back, err := ParseImport(ImportInput{Certificate: []byte(c.CertificatePEM), PrivateKey: []byte(c.PrivateKeyPEM), Chain: []byte(c.ChainPEM)})
	if err != nil || back.Serial != c.Serial || back.Type != TypeImported {
		t.Fatalf("import back: %+v %v", back, err)
	}
	other, _ := ca.Issue(RequestInput{DomainName: "other.example.test", KeyAlgorithm: KeyAlgoEC256}, now)
	_, err = ParseImport(ImportInput{Certificate: []byte(c.CertificatePEM), PrivateKey: []byte(other.PrivateKeyPEM)})
	if fe, ok := fault.As(err); !ok || fe.Code != CodeValidation {
		t.Fatalf("mismatched key: %v", err)
	}
	for _, bad := range []string{"", "bad..name", "-x.example", "nodot"} {
		if CheckRequest(RequestInput{DomainName: bad}) == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
}
