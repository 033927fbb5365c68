package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

// blobFiles lists the registry blob files under a server's data directory.
func blobFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "registry", "*", "*", "blobs", "*", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	slices.Sort(names)
	return names
}

// TestDockerPushToOneServerPullFromAnother: servers on one etcd share the
// registry's metadata, and the blob bytes that docker pushed to server A
// are fetched by server B from A when docker pulls through B; B keeps its
// copy, so the image still pulls through B once A is gone.
func TestDockerPushToOneServerPullFromAnother(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	ec := newEtcdCluster(t)
	a := ec.start()
	b := ec.start()
	logs := func() string { return "A:\n" + a.log.String() + "\nB:\n" + b.log.String() }
	d := newDockerCLI(t)
	local := "berth-e2e-peer-" + strings.ReplaceAll(a.Addr, ":", "-")

	var repo struct {
		Repository struct{ RepositoryURI string }
	}
	if err := json.Unmarshal([]byte(a.awsOK(t, "ecr", "create-repository", "--repository-name", "shared/app")), &repo); err != nil {
		t.Fatal(err)
	}
	hostA, path, _ := strings.Cut(repo.Repository.RepositoryURI, "/")
	hostB := "localhost:" + b.Addr[strings.LastIndexByte(b.Addr, ':')+1:]
	// One token, from A, for both registries (the shared key).
	password := strings.TrimSpace(a.awsOK(t, "ecr", "get-login-password"))
	for _, host := range []string{hostA, hostB} {
		if out, err := d.run(password, "login", "--username", "AWS", "--password-stdin", host); err != nil || !strings.Contains(out, "Login Succeeded") {
			t.Fatalf("docker login %s: %v\n%s", host, err, out)
		}
	}
	d.build(local+":one", "pushed to "+a.Addr+" at "+time.Now().String())
	d.tag(local+":one", hostA+"/"+path+":v1")
	d.must("push", hostA+"/"+path+":v1")
	pushedID := strings.TrimSpace(d.must("image", "inspect", "--format", "{{.Id}}", hostA+"/"+path+":v1"))
	onA := blobFiles(t, a.DataDir)
	if len(onA) < 2 || len(blobFiles(t, b.DataDir)) != 0 {
		t.Fatalf("after the push: blobs on A %q, on B %q; want the layer and config on A only", onA, blobFiles(t, b.DataDir))
	}

	pull := func(what string) {
		t.Helper()
		d.must("rmi", "-f", pushedID)
		ref := hostB + "/" + path + ":v1"
		d.images = append(d.images, ref)
		if out, err := d.run("", "pull", ref); err != nil || !strings.Contains(out, "Downloaded newer image") {
			t.Fatalf("docker pull through B (%s): %v\n%s\n%s", what, err, out, logs())
		}
		if id := strings.TrimSpace(d.must("image", "inspect", "--format", "{{.Id}}", ref)); id != pushedID {
			t.Fatalf("pulled image %s through B (%s), pushed %s", id, what, pushedID)
		}
	}
	pull("A up")
	if onB := blobFiles(t, b.DataDir); !slices.Equal(onB, onA) {
		t.Fatalf("blobs on B after the pull %q, want A's %q", onB, onA)
	}
	waitLogLine(t, b.log.String, 10*time.Second, "fetching a blob from a peer")

	// B's copies are its own: with A gone the image still pulls.
	a.kill()
	pull("A killed")
}
