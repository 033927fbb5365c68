package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPSListenerWithACMCertificates: a certificate requested from ACM
// (issued by berth's local CA) on an ALB HTTPS listener with a TLS 1.3
// policy; curl --cacert with the chain from get-certificate is answered
// by the target with X-Forwarded-Proto https; an imported certificate
// added with add-listener-certificates is served by SNI; the policy's
// versions hold (TLS 1.1 refused); a certificate in use cannot be
// deleted; an NLB TLS listener terminates TLS in front of a TCP echo.
func TestHTTPSListenerWithACMCertificates(t *testing.T) {
	e := newELBEnv(t)
	acmRun := func(args ...string) map[string]any {
		t.Helper()
		out, err := e.p.aws(t, e.work, append([]string{"acm"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		return v
	}
	b := startBackend(t, "T", "127.0.0.71")
	lbv := e.run("create-load-balancer", "--name", "secure", "--type", "application", "--subnets", "subnet-a", "subnet-b")
	lb, dns := field(t, lbv, "LoadBalancers", "LoadBalancerArn"), field(t, lbv, "LoadBalancers", "DNSName")
	certARN := acmRun("request-certificate", "--domain-name", dns, "--validation-method", "DNS")["CertificateArn"].(string)
	desc := acmRun("describe-certificate", "--certificate-arn", certARN)["Certificate"].(map[string]any)
	if desc["Status"] != "ISSUED" || desc["Type"] != "AMAZON_ISSUED" || desc["DomainName"] != dns {
		t.Fatalf("describe-certificate: %v", desc)
	}
	got := acmRun("get-certificate", "--certificate-arn", certARN)
	caFile := filepath.Join(e.work, "chain.pem")
	if err := os.WriteFile(caFile, []byte(got["CertificateChain"].(string)), 0o600); err != nil {
		t.Fatal(err)
	}

	tg := field(t, e.run("create-target-group", "--name", "secure-tg", "--protocol", "HTTP", "--port", fmt.Sprint(b.port),
		"--target-type", "ip", "--vpc-id", "vpc-1", "--health-check-path", "/health", "--health-check-interval-seconds", "5",
		"--healthy-threshold-count", "2"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", tg, "--targets", "Id="+b.ip)
	port := freeListenerPort(t)
	ls := e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", fmt.Sprint(port),
		"--certificates", "CertificateArn="+certARN, "--ssl-policy", "ELBSecurityPolicy-TLS13-1-2-2021-06",
		"--default-actions", "Type=forward,TargetGroupArn="+tg)
	listener := field(t, ls, "Listeners", "ListenerArn")
	if p := field(t, ls, "Listeners", "SslPolicy"); p != "ELBSecurityPolicy-TLS13-1-2-2021-06" {
		t.Fatalf("SslPolicy %q", p)
	}
	addr := addrOf(t, e, lb)

	// curl by name, trusting the chain ACM returned.
	url := fmt.Sprintf("https://%s:%d/hello", dns, port)
	resolve := fmt.Sprintf("%s:%d:%s", dns, port, addr)
	var body string
	eventually(t, 20*time.Second, func() (bool, string) {
		out, err := exec.CommandContext(t.Context(), "curl", "-sS", "--fail", "--max-time", "5", "--cacert", caFile, "--resolve", resolve, url).CombinedOutput()
		body = string(out)
		return err == nil, fmt.Sprintf("curl %s: %v: %s", url, err, out)
	})
	if !strings.HasPrefix(body, "T /hello") || !strings.Contains(body, "proto=https") {
		t.Fatalf("through HTTPS: %q", body)
	}

	// A second, imported certificate chosen by SNI.
	other := "api.secure.example"
	certPEM, keyPEM, pool := selfSigned(t, other)
	certFile, keyFile := filepath.Join(e.work, "other.pem"), filepath.Join(e.work, "other.key")
	_ = os.WriteFile(certFile, certPEM, 0o600)
	_ = os.WriteFile(keyFile, keyPEM, 0o600)
	imported := acmRun("import-certificate", "--certificate", "fileb://"+certFile, "--private-key", "fileb://"+keyFile)["CertificateArn"].(string)
	e.run("add-listener-certificates", "--listener-arn", listener, "--certificates", "CertificateArn="+imported)
	lc := e.run("describe-listener-certificates", "--listener-arn", listener)["Certificates"].([]any)
	if len(lc) != 2 {
		t.Fatalf("listener certificates %v", lc)
	}
	dial := func(cfg *tls.Config) (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("%s:%d", addr, port), cfg)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		c, err := dial(&tls.Config{ServerName: other, RootCAs: pool})
		if err != nil {
			return false, fmt.Sprintf("SNI %s: %v", other, err)
		}
		c.Close()
		return true, ""
	})
	// The policy: TLS 1.1 is refused, TLS 1.3 taken.
	if c, err := dial(&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded under ELBSecurityPolicy-TLS13-1-2-2021-06")
	}
	c13, err := dial(&tls.Config{InsecureSkipVerify: true, ServerName: dns})
	if err != nil || c13.ConnectionState().Version != tls.VersionTLS13 {
		t.Fatalf("TLS 1.3 handshake: %v", err)
	}
	c13.Close()

	// In use: ACM says so and refuses the delete.
	if u := acmRun("describe-certificate", "--certificate-arn", certARN)["Certificate"].(map[string]any)["InUseBy"].([]any); len(u) != 1 || u[0] != lb {
		t.Fatalf("InUseBy %v", u)
	}
	if _, err := e.p.aws(t, e.work, "acm", "delete-certificate", "--certificate-arn", certARN); err == nil || !strings.Contains(err.Error(), "ResourceInUseException") {
		t.Fatalf("deleting a certificate in use: %v", err)
	}
	if p := e.run("describe-ssl-policies", "--names", "ELBSecurityPolicy-2016-08")["SslPolicies"].([]any); len(p) != 1 {
		t.Fatalf("describe-ssl-policies: %v", p)
	}

	// NLB TLS listener in front of a TCP echo.
	ln, err := net.Listen("tcp", "127.0.0.72:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); _, _ = io.Copy(conn, conn) }()
		}
	}()
	nlb := e.run("create-load-balancer", "--name", "tls-nlb", "--type", "network", "--subnets", "subnet-a")
	nlbARN, nlbDNS := field(t, nlb, "LoadBalancers", "LoadBalancerArn"), field(t, nlb, "LoadBalancers", "DNSName")
	nlbAddr := nlb["LoadBalancers"].([]any)[0].(map[string]any)["AvailabilityZones"].([]any)[0].(map[string]any)["LoadBalancerAddresses"].([]any)[0].(map[string]any)["IpAddress"].(string)
	nlbCert := acmRun("request-certificate", "--domain-name", nlbDNS)["CertificateArn"].(string)
	etg := field(t, e.run("create-target-group", "--name", "tls-echo", "--protocol", "TCP", "--port", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port),
		"--target-type", "ip", "--vpc-id", "vpc-1"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", etg, "--targets", "Id=127.0.0.72")
	nport := freeListenerPort(t)
	e.run("create-listener", "--load-balancer-arn", nlbARN, "--protocol", "TLS", "--port", fmt.Sprint(nport),
		"--certificates", "CertificateArn="+nlbCert, "--default-actions", "Type=forward,TargetGroupArn="+etg)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(got["CertificateChain"].(string))) // the same scope's CA signs both
	var tc *tls.Conn
	eventually(t, 20*time.Second, func() (bool, string) {
		tc, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("%s:%d", nlbAddr, nport), &tls.Config{ServerName: nlbDNS, RootCAs: roots})
		return err == nil, fmt.Sprintf("TLS to the NLB: %v", err)
	})
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(tc)
	for i := range 20 {
		line := fmt.Sprintf("tls line %d\n", i)
		if _, err := io.WriteString(tc, line); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != line {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
	}
}

// selfSigned makes a self-signed ECDSA certificate for name and a pool
// trusting it.
func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), pool
}

// TestACMAndELBTLSBoto3WireShapes drives every ACM operation berth serves
// and ELBv2's TLS operations with boto3 (testdata/acmwire.py), with their
// error paths, checking every raw answer against botocore's models.
func TestACMAndELBTLSBoto3WireShapes(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3, cryptography").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 and cryptography is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 and cryptography is not available")
	}
	p := startBerth(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/acmwire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "acm wire ok") {
		t.Fatalf("acm with boto3 (%v):\n%s\nserver log:\n%s", err, out, p.log.String())
	}
	t.Logf("%s", firstLine(string(out)))
}
