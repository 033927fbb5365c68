package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIAMServerCertificateOnHTTPSListener: a certificate uploaded with
// `aws iam upload-server-certificate` serves an ALB HTTPS listener (curl
// --cacert trusts it, at the load balancer's address and by name through
// the shared front's SNI routing), which forwards to an HTTPS target group over TLS
// to a target with a self-signed certificate of its own, checked by
// HTTPS health checks; IAM refuses to delete or rename the certificate
// while the listener uses it (DeleteConflict) and deletes it after.
func TestIAMServerCertificateOnHTTPSListener(t *testing.T) {
	e := newELBEnv(t)
	iamRun := func(args ...string) (map[string]any, error) {
		t.Helper()
		out, err := e.p.aws(t, e.work, append([]string{"iam"}, args...)...)
		var v map[string]any
		if err == nil && strings.TrimSpace(out) != "" {
			if jerr := json.Unmarshal([]byte(out), &v); jerr != nil {
				t.Fatalf("%v: %s", jerr, out)
			}
		}
		return v, err
	}

	// The target: HTTPS with its own self-signed certificate.
	tcert, tkey, _ := selfSigned(t, "target.internal")
	pair, err := tls.X509KeyPair(tcert, tkey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.74:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s tls=%v proto=%s", r.URL.Path, r.TLS != nil, r.Header.Get("X-Forwarded-Proto"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	lbv := e.run("create-load-balancer", "--name", "iam-cert", "--type", "application", "--subnets", "subnet-a", "subnet-b")
	lb, dns := field(t, lbv, "LoadBalancers", "LoadBalancerArn"), field(t, lbv, "LoadBalancers", "DNSName")
	certPEM, keyPEM, _ := selfSigned(t, dns)
	certFile, keyFile := filepath.Join(e.work, "cert.pem"), filepath.Join(e.work, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := iamRun("upload-server-certificate", "--server-certificate-name", "web", "--path", "/elb/",
		"--certificate-body", "file://"+certFile, "--private-key", "file://"+keyFile)
	if err != nil {
		t.Fatal(err)
	}
	certARN := up["ServerCertificateMetadata"].(map[string]any)["Arn"].(string)
	if certARN != "arn:aws:iam::123456789012:server-certificate/elb/web" {
		t.Fatalf("server certificate ARN %q", certARN)
	}

	tport := ln.Addr().(*net.TCPAddr).Port
	tg := field(t, e.run("create-target-group", "--name", "https-tg", "--protocol", "HTTPS", "--port", fmt.Sprint(tport),
		"--target-type", "ip", "--vpc-id", "vpc-1", "--health-check-protocol", "HTTPS", "--health-check-interval-seconds", "5",
		"--healthy-threshold-count", "2"), "TargetGroups", "TargetGroupArn")
	e.run("register-targets", "--target-group-arn", tg, "--targets", "Id=127.0.0.74")
	port := freeListenerPort(t)
	if _, err := e.p.aws(t, e.work, "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", fmt.Sprint(port),
		"--certificates", "CertificateArn=arn:aws:iam::123456789012:server-certificate/elb/none",
		"--default-actions", "Type=forward,TargetGroupArn="+tg); err == nil || !strings.Contains(err.Error(), "CertificateNotFound") {
		t.Fatalf("a listener with an unknown server certificate: %v", err)
	}
	listener := field(t, e.run("create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", fmt.Sprint(port),
		"--certificates", "CertificateArn="+certARN, "--default-actions", "Type=forward,TargetGroupArn="+tg), "Listeners", "ListenerArn")
	addr := addrOf(t, e, lb)

	// curl by name trusting the uploaded certificate; the target answers
	// over TLS (tls=true) what came in over HTTPS.
	url := fmt.Sprintf("https://%s:%d/hello", dns, port)
	resolve := fmt.Sprintf("%s:%d:%s", dns, port, addr)
	var body string
	eventually(t, 20*time.Second, func() (bool, string) {
		out, err := exec.CommandContext(t.Context(), "curl", "-sS", "--fail", "--max-time", "5", "--cacert", certFile, "--resolve", resolve, url).CombinedOutput()
		body = string(out)
		return err == nil, fmt.Sprintf("curl %s: %v: %s", url, err, out)
	})
	if body != "/hello tls=true proto=https" {
		t.Fatalf("through the HTTPS listener to the HTTPS target: %q", body)
	}
	// By name alone: curl resolves *.localhost to 127.0.0.1, where the
	// shared front routes TLS by SNI to this load balancer.
	out, err := exec.CommandContext(t.Context(), "curl", "-sS", "--fail", "--max-time", "5", "--cacert", certFile, url).CombinedOutput()
	if err != nil || string(out) != "/hello tls=true proto=https" {
		t.Fatalf("curl %s through the shared front: %v: %s", url, err, out)
	}
	eventually(t, 30*time.Second, func() (bool, string) {
		th := e.run("describe-target-health", "--target-group-arn", tg)["TargetHealthDescriptions"].([]any)
		h := th[0].(map[string]any)["TargetHealth"].(map[string]any)
		return h["State"] == "healthy", fmt.Sprintf("target health %v", h)
	})

	// In use: neither deleted nor renamed.
	for _, args := range [][]string{{"delete-server-certificate", "--server-certificate-name", "web"},
		{"update-server-certificate", "--server-certificate-name", "web", "--new-server-certificate-name", "web2"}} {
		if _, err := iamRun(args...); err == nil || !strings.Contains(err.Error(), "DeleteConflict") || !strings.Contains(err.Error(), lb) {
			t.Fatalf("%s of a certificate in use: %v", args[0], err)
		}
	}
	e.run("delete-listener", "--listener-arn", listener)
	if _, err := iamRun("delete-server-certificate", "--server-certificate-name", "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := iamRun("get-server-certificate", "--server-certificate-name", "web"); err == nil || !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Fatalf("get-server-certificate after delete: %v", err)
	}
}
