package kubeplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/etcdserver"
)

// Files of the clusters' etcd PKI, relative to DataDir/eks/etcd-pki: a CA
// of its own, the member's certificate (serving clients and peers, and
// the peer's client side) and the one client certificate the API servers
// and berth present. etcd requires a certificate of this CA from every
// client and peer, so that another local user cannot read the clusters'
// objects (their Secrets among them) from its loopback port.
const (
	etcdPKIDir     = "etcd-pki"
	etcdCACert     = "ca.crt"
	etcdCAKey      = "ca.key"
	etcdMemberCert = "member.crt"
	etcdMemberKey  = "member.key"
	etcdClientCert = "client.crt"
	etcdClientKey  = "client.key"
)

// etcdTLS are the paths of the etcd PKI's files.
type etcdTLS struct{ dir string }

func (e etcdTLS) path(f string) string { return filepath.Join(e.dir, f) }

// ensureEtcdPKI writes what is missing of the etcd PKI (a restart keeps
// it).
func ensureEtcdPKI(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if exists(filepath.Join(dir, etcdClientCert)) {
		return nil // written last: the PKI is complete
	}
	ca, caPriv, err := newNamedCA("berth-eks-etcd-ca")
	if err != nil {
		return err
	}
	if err := writeCert(dir, etcdCACert, etcdCAKey, ca, caPriv); err != nil {
		return err
	}
	sans := &x509.Certificate{DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	if err := issue(dir, etcdMemberCert, etcdMemberKey, ca, caPriv, "berth-eks-etcd", nil, sans,
		x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth); err != nil {
		return err
	}
	return issue(dir, etcdClientCert, etcdClientKey, ca, caPriv, "kube-apiserver-etcd-client", nil, &x509.Certificate{}, x509.ExtKeyUsageClientAuth)
}

// startEtcd starts the clusters' etcd with client-certificate TLS on its
// client and peer listeners; m.mu is held.
func (m *Manager) startEtcd(ctx context.Context) error {
	if m.etcd != nil {
		return nil
	}
	pki := etcdTLS{filepath.Join(m.cfg.DataDir, "eks", etcdPKIDir)}
	if err := ensureEtcdPKI(pki.dir); err != nil {
		return fmt.Errorf("kubeplane: the clusters' etcd PKI: %w", err)
	}
	files := &etcdserver.TLSFiles{CertFile: pki.path(etcdMemberCert), KeyFile: pki.path(etcdMemberKey),
		TrustedCAFile: pki.path(etcdCACert), ClientCertAuth: true}
	e, err := etcdserver.Start(ctx, etcdserver.Config{
		Dir: filepath.Join(m.cfg.DataDir, "eks", "etcd"), Name: "berth-eks", Logger: m.log.With("component", "eks-etcd"),
		ClientTLS: files, PeerTLS: files,
	})
	if err != nil {
		return fmt.Errorf("kubeplane: the clusters' etcd: %w", err)
	}
	m.etcd = e
	return nil
}

// etcdClientTLS is the TLS configuration of berth's own etcd client.
func (m *Manager) etcdClientTLS() (*tls.Config, error) {
	pki := etcdTLS{filepath.Join(m.cfg.DataDir, "eks", etcdPKIDir)}
	ca, err := os.ReadFile(pki.path(etcdCACert))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(pki.path(etcdClientCert), pki.path(etcdClientKey))
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
