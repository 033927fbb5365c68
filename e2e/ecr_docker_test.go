package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecrapi"
)

// requireDocker skips (or, under CI=true, fails) when no Docker daemon is
// reachable.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("Docker is not reachable (docker version: %v: %s)", err, bytes.TrimSpace(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; Docker is required in CI")
		}
		t.Skip("SKIP: " + msg)
	}
}

// dockerCLI runs docker commands with their own client config directory
// (so that docker login does not touch the user's credentials).
type dockerCLI struct {
	t      *testing.T
	config string
	images []string // local image names and IDs to remove at the end
}

func newDockerCLI(t *testing.T) *dockerCLI {
	d := &dockerCLI{t: t, config: t.TempDir()}
	t.Cleanup(func() {
		if len(d.images) > 0 {
			_, _ = d.run("", append([]string{"rmi", "-f"}, d.images...)...)
		}
	})
	return d
}

func (d *dockerCLI) run(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+d.config, "DOCKER_BUILDKIT=0")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (d *dockerCLI) must(args ...string) string {
	d.t.Helper()
	out, err := d.run("", args...)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// build makes a one-layer image holding one file with content and tags it
// name. It uses docker import rather than docker build: the legacy builder
// of Debian's docker.io 20.10 sometimes fails a FROM-scratch build with
// "unable to find image sha256:..." while other test processes build and
// remove images on the same daemon, and this test is about pushing, not
// building (the seed test still runs the tutorial's docker build).
func (d *dockerCLI) build(name, content string) {
	d.t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "payload.txt", Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()}); err != nil {
		d.t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		d.t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		d.t.Fatal(err)
	}
	file := filepath.Join(d.t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.images = append(d.images, name)
	id := strings.TrimSpace(d.must("import", file, name))
	if lines := strings.Split(id, "\n"); strings.HasPrefix(lines[len(lines)-1], "sha256:") {
		// by ID, so that pushed images' repository digests go too
		d.images = append(d.images, lines[len(lines)-1])
	}
}

func (d *dockerCLI) tag(src, dst string) {
	d.t.Helper()
	d.images = append(d.images, dst)
	d.must("tag", src, dst)
}

func (p *proc) awsOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.aws(t, "../testdata/seed", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestECRWithDocker drives berth's ECR with the real docker and aws CLIs:
// login with the token from get-login-password, build, tag, push, list,
// pull; an immutable tag; bad tokens.
func TestECRWithDocker(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	p := startBerth(t, t.TempDir())
	d := newDockerCLI(t)
	local := "berth-e2e-" + strings.ReplaceAll(p.Addr, ":", "-")

	var repo struct {
		Repository struct{ RepositoryURI string }
	}
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "create-repository", "--repository-name", "web-app")), &repo); err != nil {
		t.Fatal(err)
	}
	uri := repo.Repository.RepositoryURI
	host, _, _ := strings.Cut(uri, "/")
	if !strings.HasSuffix(host, p.Addr[strings.LastIndexByte(p.Addr, ':'):]) {
		t.Fatalf("repositoryUri %q is not on berth's port (%s)", uri, p.Addr)
	}
	password := strings.TrimSpace(p.awsOK(t, "ecr", "get-login-password"))
	if out, err := d.run(password, "login", "--username", "AWS", "--password-stdin", host); err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login: %v\n%s", err, out)
	}

	d.build(local+":one", "hello from berth "+p.Addr)
	d.tag(local+":one", uri+":v1")
	out := d.must("push", uri+":v1")
	if !strings.Contains(out, "v1: digest: sha256:") {
		t.Errorf("push output:\n%s", out)
	}
	table := p.awsOK(t, "ecr", "list-images", "--repository-name", "web-app", "--output", "table")
	if !strings.Contains(table, "ListImages") || !strings.Contains(table, "imageTag") || !strings.Contains(table, "v1") || !strings.Contains(table, "sha256:") {
		t.Errorf("list-images table:\n%s", table)
	}
	// pull it back after removing the local copy
	d.must("rmi", uri+":v1")
	if out := d.must("pull", uri+":v1"); !strings.Contains(out, "Downloaded newer image") && !strings.Contains(out, "Image is up to date") {
		t.Errorf("pull output:\n%s", out)
	}
	var desc struct {
		ImageDetails []struct {
			ImageTags        []string
			ImageSizeInBytes int64
			ImagePushedAt    float64
			ImageDigest      string
		} `json:"imageDetails"`
	}
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "describe-images", "--repository-name", "web-app")), &desc); err != nil {
		t.Fatal(err)
	}
	if len(desc.ImageDetails) != 1 || desc.ImageDetails[0].ImageSizeInBytes <= 0 || desc.ImageDetails[0].ImagePushedAt == 0 {
		t.Errorf("describe-images: %+v", desc)
	}
	// An ECS service of the image: its deployment resolves the tag to the
	// pushed digest (DescribeServiceRevisions containerImages), as ECS
	// pins a revision's images.
	p.awsOK(t, "ecs", "create-cluster", "--cluster-name", "ecr-svc")
	p.awsOK(t, "ecs", "register-task-definition", "--family", "ecr-web", "--container-definitions",
		`[{"name":"web","image":"`+uri+`:v1","memory":64,"essential":true}]`)
	p.awsOK(t, "ecs", "create-service", "--cluster", "ecr-svc", "--service-name", "web", "--task-definition", "ecr-web",
		"--desired-count", "0", "--launch-type", "EC2")
	rev := strings.TrimSpace(p.awsOK(t, "ecs", "list-service-deployments", "--cluster", "ecr-svc", "--service", "web",
		"--query", "serviceDeployments[0].targetServiceRevisionArn", "--output", "text"))
	imgs := strings.Fields(p.awsOK(t, "ecs", "describe-service-revisions", "--service-revision-arns", rev,
		"--query", "serviceRevisions[0].containerImages[0].[containerName,image,imageDigest]", "--output", "text"))
	if len(desc.ImageDetails) == 1 && (len(imgs) != 3 || imgs[1] != uri+":v1" || imgs[2] != desc.ImageDetails[0].ImageDigest) {
		t.Errorf("the service revision's image %q, want %s:v1 at %s", imgs, uri, desc.ImageDetails[0].ImageDigest)
	}

	// an immutable tag cannot move
	p.awsOK(t, "ecr", "create-repository", "--repository-name", "frozen", "--image-tag-mutability", "IMMUTABLE")
	frozen := host + "/frozen"
	d.tag(local+":one", frozen+":v1")
	d.must("push", frozen+":v1")
	d.build(local+":two", "something else "+p.Addr)
	d.tag(local+":two", frozen+":v1")
	_, err := d.run("", "push", frozen+":v1")
	if err == nil || !strings.Contains(err.Error(), "tag invalid: The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable.") {
		t.Errorf("push over an immutable tag: %v", err)
	}

	// bad tokens: 401 with ECR's challenge
	key, err := os.ReadFile(filepath.Join(p.DataDir, "ecr-token.key"))
	if err != nil {
		t.Fatal(err)
	}
	expired := ecrapi.NewAuthorizationToken(key, "123456789012", "eu-west-1", "test", time.Now().Add(-time.Minute))
	forged := ecrapi.NewAuthorizationToken(bytes.Repeat([]byte("x"), 32), "123456789012", "eu-west-1", "test", time.Now().Add(time.Hour))
	for name, tok := range map[string]string{"expired": expired, "forged": forged} {
		req, _ := http.NewRequest("GET", p.URL+"/v2/web-app/manifests/v1", nil)
		req.SetBasicAuth("AWS", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `service="ecr.amazonaws.com"`) {
			t.Errorf("%s token: %d %q %s", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
		if name == "expired" && !strings.Contains(string(body), "expired") {
			t.Errorf("expired token message: %s", body)
		}
		d2 := newDockerCLI(t)
		if out, err := d2.run(tok, "login", "--username", "AWS", "--password-stdin", host); err == nil || !strings.Contains(out, "401") {
			t.Errorf("docker login with the %s token: %v\n%s", name, err, out)
		}
	}
}

// TestECRLifecycleWithDocker pushes twelve images with docker, puts the
// seed's lifecycle policy (keep the last ten) and checks that berth
// expires the two oldest, removes their blobs from disk and keeps every
// blob the remaining manifests reference.
func TestECRLifecycleWithDocker(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	// Lifecycle runs when the policy is put; blobs are collectable one
	// second after their last use.
	t.Setenv("BERTH_REGISTRY_GC_GRACE_PERIOD", "1s")
	t.Setenv("BERTH_LIFECYCLE_INTERVAL", "1h")
	p := startBerth(t, t.TempDir())
	d := newDockerCLI(t)
	local := "berth-e2e-lc-" + strings.ReplaceAll(p.Addr, ":", "-")

	var repo struct {
		Repository struct{ RepositoryURI string }
	}
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "create-repository", "--repository-name", "lc")), &repo); err != nil {
		t.Fatal(err)
	}
	uri := repo.Repository.RepositoryURI
	host, _, _ := strings.Cut(uri, "/")
	password := strings.TrimSpace(p.awsOK(t, "ecr", "get-login-password"))
	if out, err := d.run(password, "login", "--username", "AWS", "--password-stdin", host); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	for i := range 12 {
		tag := fmt.Sprintf("build-%02d", i)
		d.build(local+":"+tag, fmt.Sprintf("build %d of %s", i, p.Addr))
		d.tag(local+":"+tag, uri+":"+tag)
		d.must("push", uri+":"+tag)
	}

	// every image's blobs, from its manifest
	type img struct {
		digest, tag string
		pushedAt    float64
		blobs       []string
	}
	var desc struct {
		ImageDetails []struct {
			ImageDigest   string
			ImageTags     []string
			ImagePushedAt float64
		} `json:"imageDetails"`
	}
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "describe-images", "--repository-name", "lc")), &desc); err != nil {
		t.Fatal(err)
	}
	if len(desc.ImageDetails) != 12 {
		t.Fatalf("%d images pushed", len(desc.ImageDetails))
	}
	var imgs []img
	for _, det := range desc.ImageDetails {
		var got struct {
			Images []struct{ ImageManifest string } `json:"images"`
		}
		if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "batch-get-image", "--repository-name", "lc", "--image-ids", "imageDigest="+det.ImageDigest)), &got); err != nil || len(got.Images) != 1 {
			t.Fatalf("batch-get-image: %v %+v", err, got)
		}
		var m struct {
			Config struct{ Digest string }
			Layers []struct{ Digest string }
		}
		if err := json.Unmarshal([]byte(got.Images[0].ImageManifest), &m); err != nil {
			t.Fatal(err)
		}
		blobs := []string{m.Config.Digest}
		for _, l := range m.Layers {
			blobs = append(blobs, l.Digest)
		}
		imgs = append(imgs, img{det.ImageDigest, det.ImageTags[0], det.ImagePushedAt, blobs})
	}
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].tag < imgs[j].tag })
	blobRoot := filepath.Join(p.DataDir, "registry", "123456789012", "eu-west-1", "blobs")
	onDisk := func(d string) bool {
		h := strings.TrimPrefix(d, "sha256:")
		_, err := os.Stat(filepath.Join(blobRoot, "sha256", h[:2], h))
		return err == nil
	}
	for _, im := range imgs {
		for _, b := range im.blobs {
			if !onDisk(b) {
				t.Fatalf("blob %s of %s is not under %s", b, im.tag, blobRoot)
			}
		}
	}

	time.Sleep(1500 * time.Millisecond) // past the GC grace period
	p.awsOK(t, "ecr", "put-lifecycle-policy", "--repository-name", "lc", "--lifecycle-policy-text", "file://policy.json")

	var left []string
	eventually(t, 60*time.Second, func() (bool, string) {
		var li struct {
			ImageIDs []struct{ ImageTag string } `json:"imageIds"`
		}
		if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "list-images", "--repository-name", "lc")), &li); err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, id := range li.ImageIDs {
			left = append(left, id.ImageTag)
		}
		gone := !onDisk(imgs[0].blobs[1]) && !onDisk(imgs[1].blobs[1])
		return len(left) == 10 && gone, fmt.Sprintf("after the policy: %d images (%v), expired blobs gone: %v\nberth log:\n%s", len(left), left, gone, p.log.String())
	})
	sort.Strings(left)
	if left[0] != "build-02" || left[9] != "build-11" {
		t.Errorf("kept %v, want build-02 .. build-11", left)
	}
	table := p.awsOK(t, "ecr", "list-images", "--repository-name", "lc", "--output", "table")
	if strings.Contains(table, "build-00") || strings.Contains(table, "build-01") || strings.Count(table, "build-") != 10 {
		t.Errorf("list-images table:\n%s", table)
	}
	for i, im := range imgs {
		for _, b := range im.blobs {
			if got, want := onDisk(b), i >= 2; got != want {
				t.Errorf("%s: blob %s on disk = %v, want %v", im.tag, b, got, want)
			}
		}
	}
	// a kept image still pulls
	d.must("rmi", uri+":build-11")
	d.must("pull", uri+":build-11")
	out := p.awsOK(t, "ecr", "get-lifecycle-policy", "--repository-name", "lc")
	if !strings.Contains(out, "Keep last 10 images") || !strings.Contains(out, "lastEvaluatedAt") {
		t.Errorf("get-lifecycle-policy: %s", out)
	}
}
