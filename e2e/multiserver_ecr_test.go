package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// registryGet sends GET url with the docker password token as ECR's
// Basic credentials (user AWS) and returns the status.
func registryGet(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("AWS", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestECRTokenAcrossServers: an ECR token that one server of an etcd
// issued (aws ecr get-login-password) is accepted by another, and by a
// server that starts later; a server on its own store refuses it.
func TestECRTokenAcrossServers(t *testing.T) {
	requireAWSCLI(t)
	ec := newEtcdCluster(t)
	a := ec.start()
	b := ec.start()
	token := strings.TrimSpace(a.awsOK(t, "ecr", "get-login-password"))
	if token == "" {
		t.Fatal("empty token")
	}
	if got := registryGet(t, a.URL+"/v2/", token); got != http.StatusOK {
		t.Fatalf("the issuing server answers %d to its own token", got)
	}
	if got := registryGet(t, b.URL+"/v2/", token); got != http.StatusOK {
		t.Fatalf("server B answers %d to server A's token, want 200\nA:\n%s\nB:\n%s", got, a.log.String(), b.log.String())
	}
	c := ec.start()
	if got := registryGet(t, c.URL+"/v2/", token); got != http.StatusOK {
		t.Fatalf("a server started later answers %d to server A's token, want 200", got)
	}
	// The check can fail: a server with its own store and key refuses it.
	alone := startBerth(t, t.TempDir(), "--store", "bolt")
	if got := registryGet(t, alone.URL+"/v2/", token); got != http.StatusUnauthorized {
		t.Fatalf("a server on its own store answers %d to another's token, want 401", got)
	}
}
