package kubeplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/berth-dev/berth/internal/eks"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPKI checks the cluster PKI: the serving certificate chains to the
// cluster's CA for the loopback address, the kubernetes service's IP and
// names; berth's client certificate is in system:masters; a second call
// keeps the CA (clients keep trusting the cluster across restarts).
func TestPKI(t *testing.T) {
	dir := t.TempDir()
	ip, err := serviceIP("10.100.0.0/16")
	if err != nil || !ip.Equal(net.IPv4(10, 100, 0, 1)) {
		t.Fatalf("service IP %v %v", ip, err)
	}
	if err := ensurePKI(dir, ip); err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, filepath.Join(dir, caCert))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	srv := readCert(t, filepath.Join(dir, servingCert))
	for _, name := range []string{"127.0.0.1", "10.100.0.1", "kubernetes.default.svc", "localhost"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Fatalf("serving certificate for %s: %v", name, err)
		}
	}
	adm := readCert(t, filepath.Join(dir, adminCert))
	if _, err := adm.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil ||
		!slices.Equal(adm.Subject.Organization, []string{"system:masters"}) {
		t.Fatalf("admin certificate %v %v", adm.Subject, err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, caCert))
	if err := ensurePKI(dir, ip); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, caCert)); !bytes.Equal(before, after) {
		t.Fatal("the CA changed on a second ensurePKI")
	}
}

// TestRemoveDeletesOnlyItsCluster starts two clusters' components (a
// stand-in process: no Kubernetes here) on the shared embedded etcd and
// removes one: its process stops, its keys and its directory go, the
// other cluster's keys stay.
func TestRemoveDeletesOnlyItsCluster(t *testing.T) {
	data := t.TempDir()
	m := New(Config{DataDir: data, Command: []string{"/bin/sh", "-c", "exec sleep 600"}, WebhookURL: "http://127.0.0.1:1/_berth/eks/"})
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sc := eks.Scope{Account: "123456789012", Region: "eu-west-1"}
	a := &eks.Cluster{Name: "a", ID: "AAAA", ServiceIPv4CIDR: "10.100.0.0/16"}
	b := &eks.Cluster{Name: "b", ID: "AAAAB", ServiceIPv4CIDR: "10.100.0.0/16"}
	var cl *cluster
	for _, c := range []*eks.Cluster{a, b} {
		var err error
		if cl, err = m.start(ctx, sc, c); err != nil {
			t.Fatal(err)
		}
	}
	tlsCfg, err := m.etcdClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: m.etcd.Endpoints(), Logger: zap.NewNop(), TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for _, k := range []string{etcdPrefix(a) + "/pods/x", etcdPrefix(b) + "/pods/y"} {
		if _, err := cli.Put(ctx, k, "v"); err != nil {
			t.Fatal(err)
		}
	}
	aProcs := m.clusters[a.ID].procs
	if err := m.Remove(ctx, sc, a); err != nil {
		t.Fatal(err)
	}
	for _, p := range aProcs {
		select {
		case <-p.done:
		default:
			t.Fatalf("%s still supervised after Remove", p.name)
		}
	}
	if r, _ := cli.Get(ctx, etcdPrefix(a)+"/", clientv3.WithPrefix()); r.Count != 0 {
		t.Fatalf("cluster a keeps %d keys", r.Count)
	}
	if r, _ := cli.Get(ctx, etcdPrefix(b)+"/", clientv3.WithPrefix()); r.Count != 1 {
		t.Fatalf("cluster b has %d keys, want 1", r.Count)
	}
	if _, err := os.Stat(m.clusterDir(a)); !os.IsNotExist(err) {
		t.Fatalf("cluster a's directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cl.dir, adminKubeconfig)); err != nil {
		t.Fatalf("cluster b's kubeconfig: %v", err)
	}
}

// TestEtcdRefusesClientsWithoutItsCertificate checks that the clusters'
// etcd serves only clients with a certificate of its own CA: a plain
// client, a TLS client without a certificate and one with a certificate
// of another CA (a cluster's) are refused on the client port, a plain
// HTTP request on the peer port too; the API servers' client certificate
// reads and writes.
func TestEtcdRefusesClientsWithoutItsCertificate(t *testing.T) {
	data := t.TempDir()
	m := New(Config{DataDir: data, Command: []string{"/bin/sh", "-c", "exec sleep 600"}, WebhookURL: "http://127.0.0.1:1/_berth/eks/"})
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m.mu.Lock()
	err := m.startEtcd(ctx)
	m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	ep := m.etcd.Endpoints()[0]
	if !strings.HasPrefix(ep, "https://127.0.0.1:") {
		t.Fatalf("etcd endpoint %s", ep)
	}
	good, err := m.etcdClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	try := func(endpoint string, tlsCfg *tls.Config) error {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Logger: zap.NewNop(), TLS: tlsCfg, DialTimeout: 2 * time.Second})
		if err != nil {
			return err
		}
		defer cli.Close()
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := cli.Put(cctx, "/berth-eks/x/secrets/default/s", "v"); err != nil {
			return err
		}
		_, err = cli.Get(cctx, "/berth-eks/", clientv3.WithPrefix())
		return err
	}
	if err := try(ep, good); err != nil {
		t.Fatalf("the API servers' client certificate: %v", err)
	}
	noCert := good.Clone()
	noCert.Certificates = nil
	// A certificate of a cluster's CA (berth's admin of that cluster) is
	// not one of the etcd's.
	c := &eks.Cluster{Name: "a", ID: "AAAA", ServiceIPv4CIDR: "10.100.0.0/16"}
	if _, err := m.prepare(eks.Scope{Account: "123456789012", Region: "eu-west-1"}, c, m.clusterDir(c)); err != nil {
		t.Fatal(err)
	}
	other, err := tls.LoadX509KeyPair(filepath.Join(m.clusterDir(c), adminCert), filepath.Join(m.clusterDir(c), adminKey))
	if err != nil {
		t.Fatal(err)
	}
	otherCA := good.Clone()
	otherCA.Certificates = []tls.Certificate{other}
	for name, attempt := range map[string]func() error{
		"plain client":              func() error { return try("http://"+strings.TrimPrefix(ep, "https://"), nil) },
		"TLS without a certificate": func() error { return try(ep, noCert) },
		"another CA's certificate":  func() error { return try(ep, otherCA) },
	} {
		if err := attempt(); err == nil {
			t.Errorf("%s: etcd served it", name)
		}
	}
	resp, err := http.Get("http://" + m.etcd.PeerAddrs()[0] + "/members")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("the peer port answered plain HTTP: %s", resp.Status)
		}
	}
}
