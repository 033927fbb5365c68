package iamcp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iamcp"
	"github.com/berth-dev/berth/internal/iamstore"
	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

func certAndKey(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "www.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// TestServerCertificateSealedAndInUse: the private key is stored sealed
// (not in the clear), read back whole, and delete and rename are refused
// while a load balancer uses the certificate.
func TestServerCertificateSealedAndInUse(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, err := secretstore.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	p := iamcp.New(iamcp.Config{Repo: iamstore.New(st, sealer)})
	var users []string
	p.SetCertificateUsers(func(context.Context, string, string) ([]string, error) { return users, nil })
	cert, key := certAndKey(t)
	sc, err := p.UploadServerCertificate(ctx, acct, iamcp.UploadServerCertificateInput{Name: "web", Body: cert, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	kvs, _, err := st.List(ctx, "/iam/"+acct+"/servercerts/", store.ListOptions{})
	if err != nil || len(kvs) != 1 {
		t.Fatalf("stored records: %v %v", kvs, err)
	}
	if strings.Contains(string(kvs[0].Value), "PRIVATE KEY") || strings.Contains(string(kvs[0].Value), strings.Split(key, "\n")[1]) {
		t.Fatalf("the private key is stored in the clear: %s", kvs[0].Value)
	}
	got, err := p.ServerCertificateByARN(ctx, sc.ARN)
	if err != nil || got.PrivateKey != key || got.Body != cert {
		t.Fatalf("read back: %v %+v", err, got)
	}
	users = []string{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1"}
	if err := p.DeleteServerCertificate(ctx, acct, "web"); !fault.Is(err, fault.InUse) || !strings.Contains(err.Error(), users[0]) {
		t.Fatalf("delete in use: %v", err)
	}
	if err := p.UpdateServerCertificate(ctx, acct, "web", "web2", ""); !fault.Is(err, fault.InUse) {
		t.Fatalf("rename in use: %v", err)
	}
	users = nil
	if err := p.DeleteServerCertificate(ctx, acct, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ServerCertificateByARN(ctx, sc.ARN); !fault.Is(err, fault.NotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
