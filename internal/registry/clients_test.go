package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestGoContainerRegistry pushes and pulls with go-containerregistry's
// remote and crane packages (chunked/streamed uploads, cross-repo mounts,
// indexes).
func TestGoContainerRegistry(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "ggcr/app", false)
	createRepo(t, e.st, "ggcr/copy", false)
	ctx := context.Background()

	img, err := random.Image(3<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(e.host+"/ggcr/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	got, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != want {
		t.Fatalf("pulled digest %s, pushed %s", d, want)
	}
	if err := validate.Image(got); err != nil {
		t.Fatalf("pulled image invalid: %v", err)
	}

	// crane: tag, copy (cross-repository mount), list, delete
	opt := []crane.Option{crane.Insecure, crane.WithContext(ctx)}
	if err := crane.Tag(e.host+"/ggcr/app:v1", "latest", opt...); err != nil {
		t.Fatal(err)
	}
	if err := crane.Copy(e.host+"/ggcr/app:v1", e.host+"/ggcr/copy:v1", opt...); err != nil {
		t.Fatal(err)
	}
	tags, err := crane.ListTags(e.host+"/ggcr/app", opt...)
	if err != nil || !slices.Equal(tags, []string{"latest", "v1"}) {
		t.Fatalf("tags %v %v", tags, err)
	}
	digest, err := crane.Digest(e.host+"/ggcr/copy:v1", opt...)
	if err != nil || digest != want.String() {
		t.Fatalf("copy digest %s %v", digest, err)
	}
	cat, err := crane.Catalog(e.host, opt...)
	if err != nil || !slices.Equal(cat, []string{"ggcr/app", "ggcr/copy"}) {
		t.Fatalf("catalog %v %v", cat, err)
	}
	pulled, err := crane.Pull(e.host+"/ggcr/copy:v1", opt...)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Fatal(err)
	}
	if err := crane.Delete(e.host+"/ggcr/app@"+want.String(), opt...); err != nil {
		t.Fatal(err)
	}
	if _, err := crane.Digest(e.host+"/ggcr/app:v1", opt...); err == nil {
		t.Fatal("tag still resolves after deleting its manifest")
	}
	tags, _ = crane.ListTags(e.host+"/ggcr/app", opt...)
	if len(tags) != 0 {
		t.Fatalf("tags after delete %v", tags)
	}

	// a multi-platform index
	idx, err := random.Index(1024, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	iref, _ := name.ParseReference(e.host+"/ggcr/app:multi", name.Insecure)
	if err := remote.WriteIndex(iref, idx, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	gotIdx, err := remote.Index(iref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(gotIdx); err != nil {
		t.Fatalf("pulled index invalid: %v", err)
	}
	wantIdx, _ := idx.Digest()
	if d, _ := gotIdx.Digest(); d != wantIdx {
		t.Fatalf("index digest %s, want %s", d, wantIdx)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestSkopeo copies a docker-archive into the registry with skopeo and
// back out again.
func TestSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		requireTool(t, "skopeo not installed")
	}
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "skopeo/img", false)
	img, err := random.Image(512<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "img.tar")
	tag, _ := name.NewTag("skopeo/img:src")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, skopeo, append([]string{"--insecure-policy"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	dst := "docker://" + e.host + "/skopeo/img:v1"
	run("copy", "--dest-tls-verify=false", "docker-archive:"+archive, dst)
	// pull it with another client and check every blob
	ref, _ := name.ParseReference(e.host+"/skopeo/img:v1", name.Insecure)
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(got); err != nil {
		t.Fatalf("image pushed by skopeo is invalid: %v", err)
	}
	wantLayers, _ := img.Layers()
	gotLayers, _ := got.Layers()
	if len(gotLayers) != len(wantLayers) {
		t.Fatalf("%d layers, want %d", len(gotLayers), len(wantLayers))
	}
	for i := range wantLayers {
		w, _ := wantLayers[i].DiffID()
		g, _ := gotLayers[i].DiffID()
		if w != g {
			t.Fatalf("layer %d diff id %s, want %s", i, g, w)
		}
	}
	// inspect and copy back out
	var insp struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal([]byte(run("inspect", "--tls-verify=false", dst)), &insp); err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); insp.Digest != d.String() {
		t.Fatalf("skopeo inspect digest %s, registry %s", insp.Digest, d)
	}
	run("copy", "--src-tls-verify=false", dst, "oci:"+filepath.Join(dir, "oci")+":out")
	// and a registry-to-registry copy (cross-repository mount)
	createRepo(t, e.st, "skopeo/copy", false)
	run("copy", "--src-tls-verify=false", "--dest-tls-verify=false", dst, "docker://"+e.host+"/skopeo/copy:v1")
	if d, err := crane.Digest(e.host+"/skopeo/copy:v1", crane.Insecure); err != nil || d != insp.Digest {
		t.Fatalf("copied digest %s %v", d, err)
	}
}

// dockerAvailable checks for a docker CLI and a reachable daemon.
func dockerAvailable(t *testing.T) string {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		requireTool(t, "docker CLI not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		requireTool(t, "docker daemon not reachable: %v %s", err, out)
	}
	return docker
}

// TestDockerPushPull builds a tiny FROM-scratch image, pushes it with
// `docker push` to the registry on 127.0.0.1 (docker treats loopback
// registries as insecure), removes it locally and pulls it back.
func TestDockerPushPull(t *testing.T) {
	docker := dockerAvailable(t)
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "team/web-app", false)
	createRepo(t, e.st, "team/locked", true)
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, docker, args...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return out
	}
	// docker import, not docker build: the 20.10 legacy builder sometimes
	// fails FROM-scratch builds while other test processes remove images on
	// the same daemon ("unable to find image"); this test is about push/pull.
	build := func(content string, tag string) {
		t.Helper()
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()})
		tw.Write([]byte(content))
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "rootfs.tar")
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		must("import", file, tag)
	}
	suffix := randHex(4)
	content := "hello from berth " + randHex(8) + "\n"
	image := e.host + "/team/web-app:v" + suffix
	t.Cleanup(func() { run("rmi", "-f", image) })
	build(content, image)
	must("push", image)

	tags, err := crane.ListTags(e.host+"/team/web-app", crane.Insecure)
	if err != nil || !slices.Contains(tags, "v"+suffix) {
		t.Fatalf("tags after docker push: %v %v", tags, err)
	}
	must("rmi", image)
	must("pull", image)
	cname := "berth-registry-test-" + suffix
	must("create", "--name", cname, image, "/nothing")
	t.Cleanup(func() { run("rm", "-f", cname) })
	out := filepath.Join(t.TempDir(), "hello.txt")
	must("cp", cname+":/hello.txt", out)
	if b, _ := os.ReadFile(out); string(b) != content {
		t.Fatalf("pulled file %q, want %q", b, content)
	}

	// immutable tags: docker shows ECR's message
	locked := e.host + "/team/locked:v1"
	t.Cleanup(func() { run("rmi", "-f", locked) })
	build("first "+suffix, locked)
	must("push", locked)
	build("second "+suffix, locked)
	msg, err := run("push", locked)
	if err == nil {
		t.Fatalf("push over an immutable tag succeeded:\n%s", msg)
	}
	want := "tag invalid: The image tag 'v1' already exists in the 'team/locked' repository and cannot be overwritten because the repository is immutable."
	if !strings.Contains(msg, want) {
		t.Fatalf("docker output lacks ECR's message:\n%s", msg)
	}
}
