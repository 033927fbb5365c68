package kubeplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files of a cluster's PKI, relative to its directory.
const (
	caCert        = "pki/ca.crt"
	caKey         = "pki/ca.key"
	servingCert   = "pki/apiserver.crt"
	servingKey    = "pki/apiserver.key"
	saKey         = "pki/sa.key"
	saPub         = "pki/sa.pub"
	cmCert        = "pki/controller-manager.crt"
	cmKey         = "pki/controller-manager.key"
	schedCert     = "pki/scheduler.crt"
	schedKey      = "pki/scheduler.key"
	adminCert     = "pki/berth-admin.crt"
	adminKey      = "pki/berth-admin.key"
	certValidity  = 10 * 365 * 24 * time.Hour
	serviceDomain = "cluster.local"
)

// ensurePKI creates the cluster's CA, keys and certificates that are
// missing (a restart keeps the existing ones, so clients keep trusting
// the cluster). serviceIP is the API server's service address (the first
// of the service CIDR).
func ensurePKI(dir string, serviceIP net.IP) error {
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o700); err != nil {
		return err
	}
	if exists(filepath.Join(dir, adminCert)) {
		return nil // written last: the PKI is complete
	}
	ca, caPriv, err := newCA()
	if err != nil {
		return err
	}
	if err := writeCert(dir, caCert, caKey, ca, caPriv); err != nil {
		return err
	}
	sans := &x509.Certificate{
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + serviceDomain},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), serviceIP},
	}
	if err := issue(dir, servingCert, servingKey, ca, caPriv, "kube-apiserver", nil, sans, x509.ExtKeyUsageServerAuth); err != nil {
		return err
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, saKey), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sa)); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, saPub), "PUBLIC KEY", pub); err != nil {
		return err
	}
	clients := []struct{ cert, key, cn, org string }{
		{cmCert, cmKey, "system:kube-controller-manager", ""},
		{schedCert, schedKey, "system:kube-scheduler", ""},
		{adminCert, adminKey, "berth:admin", "system:masters"},
	}
	for _, c := range clients {
		var orgs []string
		if c.org != "" {
			orgs = []string{c.org}
		}
		if err := issue(dir, c.cert, c.key, ca, caPriv, c.cn, orgs, &x509.Certificate{}, x509.ExtKeyUsageClientAuth); err != nil {
			return err
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func newCA() (*x509.Certificate, crypto.Signer, error) { return newNamedCA("kubernetes") }

func newNamedCA(cn string) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// issue writes a key and a certificate signed by the CA; sans carries the
// subject alternative names.
func issue(dir, certFile, keyFile string, ca *x509.Certificate, caPriv crypto.Signer, cn string, orgs []string, sans *x509.Certificate, usage ...x509.ExtKeyUsage) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: usage, DNSNames: sans.DNSNames, IPAddresses: sans.IPAddresses,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caPriv)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	return writeCert(dir, certFile, keyFile, cert, key)
}

func writeCert(dir, certFile, keyFile string, cert *x509.Certificate, key crypto.Signer) error {
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("kubeplane: unexpected key type")
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, keyFile), "EC PRIVATE KEY", der); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, certFile), "CERTIFICATE", cert.Raw)
}

// writePEM writes a file atomically (temporary file, fsync, rename).
func writePEM(path, typ string, der []byte) error {
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("kubeplane: %w", err)
	}
	return nil
}

// loadCA returns the cluster's CA certificate in PEM.
func loadCA(dir string) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, caCert))
}
