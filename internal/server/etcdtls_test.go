package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/etcdserver"
	"github.com/berth-dev/berth/internal/store"
)

// testPKI writes a CA and certificates it signed (PEM) into dir.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caKey = key
	p.serial = 1
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue writes a certificate and key for name, usable as a server (for
// 127.0.0.1) and as a client; it returns their paths.
func (p *testPKI) issue(t *testing.T, name string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
}

// TestOpenStoreEtcdTLS: an etcds:// store reaches an etcd that serves
// clients over TLS and asks for a client certificate, with the CA, cert
// and key of --etcd-ca/--etcd-cert/--etcd-key; without the client
// certificate, or over plain etcd://, it cannot.
func TestOpenStoreEtcdTLS(t *testing.T) {
	pki := newTestPKI(t)
	srvCert, srvKey := pki.issue(t, "etcd")
	cliCert, cliKey := pki.issue(t, "berth")
	srv, err := etcdserver.Start(t.Context(), etcdserver.Config{Dir: t.TempDir(), ClientTLS: &etcdserver.TLSFiles{
		CertFile: srvCert, KeyFile: srvKey, TrustedCAFile: filepath.Join(pki.dir, "ca.pem"), ClientCertAuth: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	hostport, ok := strings.CutPrefix(srv.Endpoints()[0], "https://")
	if !ok {
		t.Fatalf("a TLS member's endpoint %q is not https", srv.Endpoints()[0])
	}
	open := func(store, ca, cert, key string, within time.Duration) (*openedStore, error) {
		cfg := Defaults()
		cfg.DataDir = t.TempDir()
		cfg.Store, cfg.EtcdCA, cfg.EtcdCert, cfg.EtcdKey = store, ca, cert, key
		s, err := parseSettings(cfg, Drivers())
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(t.Context(), within)
		defer cancel()
		return openStore(ctx, cfg, s.etcdTLS, slog.New(slog.DiscardHandler))
	}

	o, err := open("etcds://"+hostport+"/tls", filepath.Join(pki.dir, "ca.pem"), cliCert, cliKey, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Txn(t.Context(), nil, []store.Op{{Key: "/k", Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	if kv, err := o.Get(t.Context(), "/k"); err != nil || string(kv.Value) != "v" {
		t.Fatalf("read back over TLS: %+v %v", kv, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	if o, err := open("etcds://"+hostport+"/tls", filepath.Join(pki.dir, "ca.pem"), "", "", 3*time.Second); err == nil {
		o.Close()
		t.Fatal("opened a store that asks for a client certificate without one")
	}
	if o, err := open("etcd://"+hostport+"/tls", "", "", "", 3*time.Second); err == nil {
		o.Close()
		t.Fatal("opened a TLS etcd over plain etcd://")
	}
	// Settings errors before anything opens.
	for name, c := range map[string][4]string{
		"files with plain etcd": {"etcd://" + hostport, filepath.Join(pki.dir, "ca.pem"), "", ""},
		"cert without key":      {"etcds://" + hostport, "", cliCert, ""},
		"missing CA file":       {"etcds://" + hostport, filepath.Join(pki.dir, "nope.pem"), "", ""},
		"CA not PEM":            {"etcds://" + hostport, cliKey + "x", "", ""},
	} {
		cfg := Defaults()
		cfg.Store, cfg.EtcdCA, cfg.EtcdCert, cfg.EtcdKey = c[0], c[1], c[2], c[3]
		if _, err := parseSettings(cfg, Drivers()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
