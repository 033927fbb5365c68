package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/memnet"
	"github.com/berth-dev/berth/internal/registry/digest"
)

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *testEnv) do(t testing.TB, method, path string, hdr map[string]string, body []byte) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return resp{res.StatusCode, res.Header, readAll(t, res.Body)}
}

func (r resp) errCode() string {
	var eb errorBody
	if json.Unmarshal(r.body, &eb) != nil || len(eb.Errors) == 0 {
		return ""
	}
	return eb.Errors[0].Code
}

func (r resp) errMessage() string {
	var eb errorBody
	if json.Unmarshal(r.body, &eb) != nil || len(eb.Errors) == 0 {
		return ""
	}
	return eb.Errors[0].Message
}

func expect(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.errCode() != code) {
		t.Fatalf("got %d %s, want %d %s; body %s", r.status, r.errCode(), status, code, r.body)
	}
}

func randBlob(t testing.TB, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b, string(digest.FromBytes(digest.SHA256, b))
}

// pushBlob uploads monolithically (POST ?digest=).
func (e *testEnv) pushBlob(t testing.TB, repo string, b []byte) string {
	t.Helper()
	d := string(digest.FromBytes(digest.SHA256, b))
	r := e.do(t, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+d, nil, b)
	expect(t, r, 201, "")
	return d
}

type testImage struct {
	config, layer       []byte
	configDig, layerDig string
	manifest            []byte
	digest              string
}

func makeImage(t testing.TB, mediaType string, extra string) testImage {
	t.Helper()
	var im testImage
	im.config = []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","x":%q}`, extra))
	im.configDig = string(digest.FromBytes(digest.SHA256, im.config))
	im.layer, im.layerDig = randBlob(t, 1500)
	cfgMT, layerMT := "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"
	if mediaType == MediaTypeDockerManifest {
		cfgMT, layerMT = "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"
	}
	im.manifest = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		mediaType, cfgMT, im.configDig, len(im.config), layerMT, im.layerDig, len(im.layer)))
	im.digest = string(digest.FromBytes(digest.SHA256, im.manifest))
	return im
}

func (e *testEnv) pushImage(t testing.TB, repo, ref string, im testImage, mediaType string) resp {
	t.Helper()
	e.pushBlob(t, repo, im.config)
	e.pushBlob(t, repo, im.layer)
	return e.do(t, "PUT", "/v2/"+repo+"/manifests/"+ref, map[string]string{"Content-Type": mediaType}, im.manifest)
}

func TestPing(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, p := range []string{"/v2/", "/v2"} {
		r := e.do(t, "GET", p, nil, nil)
		expect(t, r, 200, "")
		if r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
			t.Fatalf("missing API version header: %v", r.header)
		}
	}
	expect(t, e.do(t, "GET", "/v2/x/unknown/thing", nil, nil), 404, "")
	expect(t, e.do(t, "GET", "/v2/UPPER/tags/list", nil, nil), 400, CodeNameInvalid)
}

func TestPushToMissingRepository(t *testing.T) {
	e := newTestEnv(t, nil)
	expect(t, e.do(t, "POST", "/v2/nope/blobs/uploads/", nil, nil), 404, CodeNameUnknown)
	r := e.do(t, "PUT", "/v2/nope/manifests/latest", map[string]string{"Content-Type": MediaTypeOCIManifest}, []byte(`{}`))
	expect(t, r, 404, CodeNameUnknown)
	if !strings.Contains(r.errMessage(), "does not exist in the registry with id '000000000000'") {
		t.Fatalf("message %q", r.errMessage())
	}
	expect(t, e.do(t, "GET", "/v2/nope/tags/list", nil, nil), 404, CodeNameUnknown)
}

func TestAutoCreateRepositories(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.AutoCreateRepositories = true })
	im := makeImage(t, MediaTypeOCIManifest, "a")
	expect(t, e.pushImage(t, "team/new", "v1", im, MediaTypeOCIManifest), 201, "")
	rec, err := e.reg.repos.Repository(context.Background(), "team/new")
	if err != nil || rec.ARN != "arn:aws:ecr:us-east-1:000000000000:repository/team/new" {
		t.Fatalf("auto-created repository %+v %v", rec, err)
	}
	// pulls never create
	expect(t, e.do(t, "GET", "/v2/other/tags/list", nil, nil), 404, CodeNameUnknown)
}

func TestBlobMonolithicAndRange(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "team/web-app", false)
	b, d := randBlob(t, 4096)
	r := e.do(t, "POST", "/v2/team/web-app/blobs/uploads/?digest="+d, nil, b)
	expect(t, r, 201, "")
	if r.header.Get("Location") != "/v2/team/web-app/blobs/"+d || r.header.Get("Docker-Content-Digest") != d {
		t.Fatalf("headers %v", r.header)
	}
	r = e.do(t, "HEAD", "/v2/team/web-app/blobs/"+d, nil, nil)
	expect(t, r, 200, "")
	if r.header.Get("Content-Length") != "4096" || r.header.Get("Docker-Content-Digest") != d || len(r.body) != 0 {
		t.Fatalf("HEAD %v", r.header)
	}
	r = e.do(t, "GET", "/v2/team/web-app/blobs/"+d, nil, nil)
	expect(t, r, 200, "")
	if !bytes.Equal(r.body, b) {
		t.Fatal("body mismatch")
	}
	r = e.do(t, "GET", "/v2/team/web-app/blobs/"+d, map[string]string{"Range": "bytes=100-199"}, nil)
	expect(t, r, 206, "")
	if r.header.Get("Content-Range") != "bytes 100-199/4096" || r.header.Get("Content-Length") != "100" || !bytes.Equal(r.body, b[100:200]) {
		t.Fatalf("range: %v", r.header)
	}
	expect(t, e.do(t, "GET", "/v2/team/web-app/blobs/"+d, map[string]string{"Range": "bytes=5000-6000"}, nil), 416, "")
	// unknown digest, malformed digest
	_, other := randBlob(t, 10)
	expect(t, e.do(t, "GET", "/v2/team/web-app/blobs/"+other, nil, nil), 404, CodeBlobUnknown)
	expect(t, e.do(t, "GET", "/v2/team/web-app/blobs/sha256:nothex", nil, nil), 400, CodeDigestInvalid)
	// other repository does not serve it
	createRepo(t, e.st, "other", false)
	expect(t, e.do(t, "GET", "/v2/other/blobs/"+d, nil, nil), 404, CodeBlobUnknown)
	// wrong digest on monolithic upload
	r = e.do(t, "POST", "/v2/team/web-app/blobs/uploads/?digest="+other, nil, b)
	expect(t, r, 400, CodeDigestInvalid)
	// delete
	expect(t, e.do(t, "DELETE", "/v2/team/web-app/blobs/"+d, nil, nil), 202, "")
	expect(t, e.do(t, "HEAD", "/v2/team/web-app/blobs/"+d, nil, nil), 404, "")
	expect(t, e.do(t, "DELETE", "/v2/team/web-app/blobs/"+d, nil, nil), 404, CodeBlobUnknown)
}

func TestChunkedUpload(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	b, d := randBlob(t, 3000)
	r := e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	expect(t, r, 202, "")
	loc, id := r.header.Get("Location"), r.header.Get("Docker-Upload-UUID")
	if loc != "/v2/repo/blobs/uploads/"+id || r.header.Get("Range") != "0-0" {
		t.Fatalf("POST headers %v", r.header)
	}
	chunk := func(start, end int) map[string]string {
		return map[string]string{"Content-Range": fmt.Sprintf("%d-%d", start, end), "Content-Type": "application/octet-stream"}
	}
	r = e.do(t, "PATCH", loc, chunk(0, 999), b[:1000])
	expect(t, r, 202, "")
	if r.header.Get("Range") != "0-999" || r.header.Get("Location") != loc {
		t.Fatalf("PATCH headers %v", r.header)
	}
	// out of order: 416 with the current range, session intact
	r = e.do(t, "PATCH", loc, chunk(2000, 2999), b[2000:])
	expect(t, r, 416, CodeBlobUploadInvalid)
	if r.header.Get("Range") != "0-999" {
		t.Fatalf("416 Range %q", r.header.Get("Range"))
	}
	r = e.do(t, "PUT", loc+"?digest="+d, chunk(2000, 2999), b[2000:])
	expect(t, r, 416, "")
	r = e.do(t, "GET", loc, nil, nil)
	expect(t, r, 204, "")
	if r.header.Get("Range") != "0-999" {
		t.Fatalf("status Range %q", r.header.Get("Range"))
	}
	// Content-Length disagreeing with Content-Range
	expect(t, e.do(t, "PATCH", loc, chunk(1000, 1999), b[1000:1500]), 400, CodeBlobUploadInvalid)
	r = e.do(t, "PATCH", loc, chunk(1000, 1999), b[1000:2000])
	expect(t, r, 202, "")
	// final chunk with the PUT
	r = e.do(t, "PUT", loc+"?digest="+d, chunk(2000, 2999), b[2000:])
	expect(t, r, 201, "")
	if r.header.Get("Location") != "/v2/repo/blobs/"+d {
		t.Fatalf("PUT Location %q", r.header.Get("Location"))
	}
	got := e.do(t, "GET", "/v2/repo/blobs/"+d, nil, nil)
	if !bytes.Equal(got.body, b) {
		t.Fatal("assembled blob differs")
	}
	// the session is over
	expect(t, e.do(t, "GET", loc, nil, nil), 404, CodeBlobUploadUnknown)
}

// TestLargeChunkedUpload sends multi-MiB chunks (each one's hashing may
// still be running when the next request arrives), asks for the status in
// between, restarts the registry mid-upload, and ends with a last chunk on
// the PUT; then pulls the blob back whole and by range.
func TestLargeChunkedUpload(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	const chunk = 5<<20/2 + 1
	b, d := randBlob(t, 5*chunk+100)
	r := e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	loc := r.header.Get("Location")
	rng := func(start, end int) map[string]string {
		return map[string]string{"Content-Range": fmt.Sprintf("%d-%d", start, end)}
	}
	off := 0
	for i := 0; i < 5; i++ {
		if i == 3 {
			// a restart: the upload is re-hashed from disk on first use
			e = restartRegistry(t, e)
		}
		r = e.do(t, "PATCH", loc, rng(off, off+chunk-1), b[off:off+chunk])
		expect(t, r, 202, "")
		off += chunk
		if r.header.Get("Range") != fmt.Sprintf("0-%d", off-1) {
			t.Fatalf("chunk %d: Range %q", i, r.header.Get("Range"))
		}
		if i%2 == 0 {
			r = e.do(t, "GET", loc, nil, nil)
			expect(t, r, 204, "")
			if r.header.Get("Range") != fmt.Sprintf("0-%d", off-1) {
				t.Fatalf("status after chunk %d: Range %q", i, r.header.Get("Range"))
			}
		}
	}
	expect(t, e.do(t, "PUT", loc+"?digest="+d, rng(off, len(b)-1), b[off:]), 201, "")
	r = e.do(t, "GET", "/v2/repo/blobs/"+d, nil, nil)
	expect(t, r, 200, "")
	if !bytes.Equal(r.body, b) {
		t.Fatal("pulled blob differs")
	}
	r = e.do(t, "GET", "/v2/repo/blobs/"+d, map[string]string{"Range": "bytes=3000000-3999999"}, nil)
	expect(t, r, 206, "")
	if !bytes.Equal(r.body, b[3000000:4000000]) {
		t.Fatal("range differs")
	}
	// a wrong digest after large chunks: rejected, nothing stored
	r = e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	loc = r.header.Get("Location")
	expect(t, e.do(t, "PATCH", loc, rng(0, chunk-1), b[:chunk]), 202, "")
	_, other := randBlob(t, 10)
	expect(t, e.do(t, "PUT", loc+"?digest="+other, rng(chunk, 2*chunk-1), b[chunk:2*chunk]), 400, CodeDigestInvalid)
	expect(t, e.do(t, "HEAD", "/v2/repo/blobs/"+other, nil, nil), 404, "")
}

type readFromRecorder struct {
	*httptest.ResponseRecorder
	used bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.used = true
	return io.Copy(struct{ io.Writer }{r.ResponseRecorder}, src)
}

func TestStreamedUploadDigestMismatch(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	b, _ := randBlob(t, 2000)
	_, wrong := randBlob(t, 10)
	r := e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	loc := r.header.Get("Location")
	expect(t, e.do(t, "PATCH", loc, nil, b), 202, "")
	expect(t, e.do(t, "PUT", loc+"?digest="+wrong, nil, nil), 400, CodeDigestInvalid)
	// discarded
	expect(t, e.do(t, "GET", loc, nil, nil), 404, CodeBlobUploadUnknown)
	expect(t, e.do(t, "GET", "/v2/repo/blobs/"+wrong, nil, nil), 404, CodeBlobUnknown)
	// PUT without digest
	r = e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	expect(t, e.do(t, "PUT", r.header.Get("Location"), nil, nil), 400, CodeDigestInvalid)
	// upload of another repository is unknown here
	createRepo(t, e.st, "other", false)
	id := r.header.Get("Docker-Upload-UUID")
	expect(t, e.do(t, "GET", "/v2/other/blobs/uploads/"+id, nil, nil), 404, CodeBlobUploadUnknown)
	// cancel
	expect(t, e.do(t, "DELETE", r.header.Get("Location"), nil, nil), 204, "")
	expect(t, e.do(t, "DELETE", r.header.Get("Location"), nil, nil), 404, CodeBlobUploadUnknown)
}

func TestSHA512Blob(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	b, _ := randBlob(t, 5000)
	d := string(digest.FromBytes(digest.SHA512, b))
	r := e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	loc := r.header.Get("Location")
	expect(t, e.do(t, "PATCH", loc, nil, b[:100]), 202, "")
	expect(t, e.do(t, "PUT", loc+"?digest="+d, nil, b[100:]), 201, "")
	got := e.do(t, "GET", "/v2/repo/blobs/"+d, nil, nil)
	if got.status != 200 || !bytes.Equal(got.body, b) {
		t.Fatalf("sha512 blob: %d", got.status)
	}
}

func TestCrossRepoMount(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "a", false)
	createRepo(t, e.st, "b/c", false)
	b, d := randBlob(t, 100)
	e.pushBlob(t, "a", b)
	r := e.do(t, "POST", "/v2/b/c/blobs/uploads/?mount="+d+"&from=a", nil, nil)
	expect(t, r, 201, "")
	if r.header.Get("Location") != "/v2/b/c/blobs/"+d {
		t.Fatalf("mount Location %q", r.header.Get("Location"))
	}
	expect(t, e.do(t, "HEAD", "/v2/b/c/blobs/"+d, nil, nil), 200, "")
	// missing in the source: fall back to an upload session
	_, other := randBlob(t, 100)
	r = e.do(t, "POST", "/v2/b/c/blobs/uploads/?mount="+other+"&from=a", nil, nil)
	expect(t, r, 202, "")
	if r.header.Get("Docker-Upload-UUID") == "" {
		t.Fatal("fallback without an upload session")
	}
	// source repository unknown: fall back too
	expect(t, e.do(t, "POST", "/v2/b/c/blobs/uploads/?mount="+d+"&from=zzz", nil, nil), 202, "")
}

func TestManifestLifecycle(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "team/web", false)
	im := makeImage(t, MediaTypeDockerManifest, "1")
	// blobs missing
	r := e.do(t, "PUT", "/v2/team/web/manifests/v1", map[string]string{"Content-Type": MediaTypeDockerManifest}, im.manifest)
	expect(t, r, 400, CodeManifestBlobUnknown)
	r = e.pushImage(t, "team/web", "v1", im, MediaTypeDockerManifest)
	expect(t, r, 201, "")
	if r.header.Get("Docker-Content-Digest") != im.digest || r.header.Get("Location") != "/v2/team/web/manifests/"+im.digest {
		t.Fatalf("PUT headers %v", r.header)
	}
	for _, ref := range []string{"v1", im.digest} {
		r = e.do(t, "GET", "/v2/team/web/manifests/"+ref, map[string]string{"Accept": MediaTypeDockerManifest}, nil)
		expect(t, r, 200, "")
		if r.header.Get("Content-Type") != MediaTypeDockerManifest || r.header.Get("Docker-Content-Digest") != im.digest ||
			!bytes.Equal(r.body, im.manifest) {
			t.Fatalf("GET %s: %v", ref, r.header)
		}
		r = e.do(t, "HEAD", "/v2/team/web/manifests/"+ref, nil, nil)
		expect(t, r, 200, "")
		if r.header.Get("Content-Length") != strconv.Itoa(len(im.manifest)) {
			t.Fatalf("HEAD length %q", r.header.Get("Content-Length"))
		}
	}
	// more tags, listing with pagination
	for _, tag := range []string{"v2", "a", "latest"} {
		expect(t, e.do(t, "PUT", "/v2/team/web/manifests/"+tag, map[string]string{"Content-Type": MediaTypeDockerManifest}, im.manifest), 201, "")
	}
	r = e.do(t, "GET", "/v2/team/web/tags/list", nil, nil)
	var tl struct {
		Name string
		Tags []string
	}
	json.Unmarshal(r.body, &tl)
	if tl.Name != "team/web" || strings.Join(tl.Tags, ",") != "a,latest,v1,v2" {
		t.Fatalf("tags %+v", tl)
	}
	r = e.do(t, "GET", "/v2/team/web/tags/list?n=2", nil, nil)
	json.Unmarshal(r.body, &tl)
	if strings.Join(tl.Tags, ",") != "a,latest" || r.header.Get("Link") != `</v2/team/web/tags/list?last=latest&n=2>; rel="next"` {
		t.Fatalf("page 1 %+v %q", tl, r.header.Get("Link"))
	}
	r = e.do(t, "GET", "/v2/team/web/tags/list?n=2&last=latest", nil, nil)
	json.Unmarshal(r.body, &tl)
	if strings.Join(tl.Tags, ",") != "v1,v2" || r.header.Get("Link") != "" {
		t.Fatalf("page 2 %+v %q", tl, r.header.Get("Link"))
	}
	// delete a tag: manifest stays
	expect(t, e.do(t, "DELETE", "/v2/team/web/manifests/a", nil, nil), 202, "")
	expect(t, e.do(t, "GET", "/v2/team/web/manifests/a", nil, nil), 404, CodeManifestUnknown)
	expect(t, e.do(t, "GET", "/v2/team/web/manifests/"+im.digest, nil, nil), 200, "")
	imgs, err := e.reg.ListImages(context.Background(), "team/web")
	if err != nil || len(imgs) != 1 || strings.Join(imgs[0].Tags, ",") != "latest,v1,v2" ||
		imgs[0].Size != int64(len(im.config)+len(im.layer)) || imgs[0].ArtifactMediaType != "application/vnd.docker.container.image.v1+json" {
		t.Fatalf("ListImages %+v %v", imgs, err)
	}
	// delete by digest: its tags go too
	expect(t, e.do(t, "DELETE", "/v2/team/web/manifests/"+im.digest, nil, nil), 202, "")
	expect(t, e.do(t, "GET", "/v2/team/web/manifests/v1", nil, nil), 404, CodeManifestUnknown)
	r = e.do(t, "GET", "/v2/team/web/tags/list", nil, nil)
	json.Unmarshal(r.body, &tl)
	if len(tl.Tags) != 0 {
		t.Fatalf("tags after delete %v", tl.Tags)
	}
	expect(t, e.do(t, "DELETE", "/v2/team/web/manifests/"+im.digest, nil, nil), 404, CodeManifestUnknown)
}

func TestManifestValidation(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	im := makeImage(t, MediaTypeOCIManifest, "v")
	e.pushBlob(t, "repo", im.config)
	e.pushBlob(t, "repo", im.layer)
	put := func(ref, ct string, body []byte) resp {
		return e.do(t, "PUT", "/v2/repo/manifests/"+ref, map[string]string{"Content-Type": ct}, body)
	}
	expect(t, put("x", MediaTypeOCIManifest, []byte("not json")), 400, CodeManifestInvalid)
	expect(t, put("x", MediaTypeDockerManifest, im.manifest), 400, CodeManifestInvalid) // mediaType mismatch
	expect(t, put("x", "application/vnd.docker.distribution.manifest.v1+prettyjws", []byte(`{"schemaVersion":1}`)), 400, CodeManifestInvalid)
	expect(t, put("bad:tag!", MediaTypeOCIManifest, im.manifest), 400, "")
	_, wrong := randBlob(t, 5)
	expect(t, put(wrong, MediaTypeOCIManifest, im.manifest), 400, CodeDigestInvalid)
	expect(t, put("sha256:baddigeststring", MediaTypeOCIManifest, im.manifest), 400, CodeDigestInvalid)
	// size in the descriptor must match the blob
	bad := bytes.Replace(im.manifest, []byte(fmt.Sprintf(`"size":%d}]`, len(im.layer))), []byte(`"size":1}]`), 1)
	expect(t, put("x", MediaTypeOCIManifest, bad), 400, CodeManifestInvalid)
	// no Content-Type: taken from the body
	expect(t, put("x", "", im.manifest), 201, "")
	// by sha512 digest
	d512 := string(digest.FromBytes(digest.SHA512, im.manifest))
	r := put(d512, MediaTypeOCIManifest, im.manifest)
	expect(t, r, 201, "")
	if r.header.Get("Docker-Content-Digest") != d512 {
		t.Fatalf("sha512 digest header %q", r.header.Get("Docker-Content-Digest"))
	}
	expect(t, e.do(t, "GET", "/v2/repo/manifests/"+d512, nil, nil), 200, "")
	// too large
	big := make([]byte, 5<<20)
	r = put("big", MediaTypeOCIManifest, big)
	if r.status != 413 {
		t.Fatalf("oversized manifest: %d", r.status)
	}
	// missing manifest by digest / tag
	expect(t, e.do(t, "GET", "/v2/repo/manifests/"+wrong, nil, nil), 404, CodeManifestUnknown)
	expect(t, e.do(t, "GET", "/v2/repo/manifests/nope", nil, nil), 404, CodeManifestUnknown)
}

func TestIndexRequiresChildren(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	im := makeImage(t, MediaTypeOCIManifest, "child")
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		MediaTypeOCIIndex, MediaTypeOCIManifest, im.digest, len(im.manifest)))
	expect(t, e.do(t, "PUT", "/v2/repo/manifests/multi", map[string]string{"Content-Type": MediaTypeOCIIndex}, index), 400, CodeManifestBlobUnknown)
	expect(t, e.pushImage(t, "repo", im.digest, im, MediaTypeOCIManifest), 201, "")
	expect(t, e.do(t, "PUT", "/v2/repo/manifests/multi", map[string]string{"Content-Type": MediaTypeOCIIndex}, index), 201, "")
	img, err := e.reg.DescribeImage(context.Background(), "repo", "multi")
	if err != nil || img.Size != int64(len(im.config)+len(im.layer)) || img.MediaType != MediaTypeOCIIndex {
		t.Fatalf("index image %+v %v", img, err)
	}
}

func TestImmutableTags(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "locked", true)
	a := makeImage(t, MediaTypeOCIManifest, "a")
	b := makeImage(t, MediaTypeOCIManifest, "b")
	expect(t, e.pushImage(t, "locked", "v1", a, MediaTypeOCIManifest), 201, "")
	// same manifest, same tag: fine
	expect(t, e.pushImage(t, "locked", "v1", a, MediaTypeOCIManifest), 201, "")
	r := e.pushImage(t, "locked", "v1", b, MediaTypeOCIManifest)
	expect(t, r, 400, CodeTagInvalid)
	want := "The image tag 'v1' already exists in the 'locked' repository and cannot be overwritten because the repository is immutable."
	if r.errMessage() != want {
		t.Fatalf("message %q", r.errMessage())
	}
	// the Go API classifies it for the ECR API
	_, err := e.reg.PutManifest(context.Background(), "locked", "v1", MediaTypeOCIManifest, b.manifest)
	if fe, ok := fault.As(err); !ok || fe.Code != "ImageTagAlreadyExistsException" || fe.Kind != fault.AlreadyExists {
		t.Fatalf("fault %#v", err)
	}
	// a new tag is fine
	expect(t, e.pushImage(t, "locked", "v2", b, MediaTypeOCIManifest), 201, "")
}

func TestReferrers(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	subj := makeImage(t, MediaTypeOCIManifest, "subject")
	expect(t, e.pushImage(t, "repo", "v1", subj, MediaTypeOCIManifest), 201, "")
	empty := []byte("{}")
	emptyDig := e.pushBlob(t, "repo", empty)
	art := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2}],"subject":{"mediaType":%q,"digest":%q,"size":%d},"annotations":{"k":"v"}}`,
		MediaTypeOCIManifest, emptyDig, emptyDig, MediaTypeOCIManifest, subj.digest, len(subj.manifest)))
	artDig := string(digest.FromBytes(digest.SHA256, art))
	r := e.do(t, "PUT", "/v2/repo/manifests/"+artDig, map[string]string{"Content-Type": MediaTypeOCIManifest}, art)
	expect(t, r, 201, "")
	if r.header.Get("OCI-Subject") != subj.digest {
		t.Fatalf("OCI-Subject %q", r.header.Get("OCI-Subject"))
	}
	var idx struct {
		SchemaVersion int
		MediaType     string
		Manifests     []Referrer
	}
	r = e.do(t, "GET", "/v2/repo/referrers/"+subj.digest, nil, nil)
	expect(t, r, 200, "")
	json.Unmarshal(r.body, &idx)
	if r.header.Get("Content-Type") != MediaTypeOCIIndex || idx.SchemaVersion != 2 || len(idx.Manifests) != 1 ||
		idx.Manifests[0].Digest != artDig || idx.Manifests[0].ArtifactType != "application/vnd.example.sbom" ||
		idx.Manifests[0].Annotations["k"] != "v" || idx.Manifests[0].Size != int64(len(art)) {
		t.Fatalf("referrers %+v", idx)
	}
	r = e.do(t, "GET", "/v2/repo/referrers/"+subj.digest+"?artifactType=other", nil, nil)
	json.Unmarshal(r.body, &idx)
	if len(idx.Manifests) != 0 || r.header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("filtered %+v %v", idx, r.header)
	}
	// deleting the referrer removes it from the index
	expect(t, e.do(t, "DELETE", "/v2/repo/manifests/"+artDig, nil, nil), 202, "")
	r = e.do(t, "GET", "/v2/repo/referrers/"+subj.digest, nil, nil)
	json.Unmarshal(r.body, &idx)
	if len(idx.Manifests) != 0 {
		t.Fatalf("referrer survived its deletion: %+v", idx)
	}
	expect(t, e.do(t, "GET", "/v2/repo/referrers/notadigest", nil, nil), 400, CodeDigestInvalid)
}

func TestCatalog(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, n := range []string{"b", "a/x", "a-b", "c"} {
		createRepo(t, e.st, n, false)
	}
	var cat struct{ Repositories []string }
	r := e.do(t, "GET", "/v2/_catalog", nil, nil)
	json.Unmarshal(r.body, &cat)
	if strings.Join(cat.Repositories, ",") != "a-b,a/x,b,c" {
		t.Fatalf("catalog %v", cat.Repositories)
	}
	r = e.do(t, "GET", "/v2/_catalog?n=2", nil, nil)
	json.Unmarshal(r.body, &cat)
	if strings.Join(cat.Repositories, ",") != "a-b,a/x" || r.header.Get("Link") != `</v2/_catalog?last=a%2Fx&n=2>; rel="next"` {
		t.Fatalf("catalog page %v %q", cat.Repositories, r.header.Get("Link"))
	}
	r = e.do(t, "GET", "/v2/_catalog?n=2&last=a/x", nil, nil)
	json.Unmarshal(r.body, &cat)
	if strings.Join(cat.Repositories, ",") != "b,c" || r.header.Get("Link") != "" {
		t.Fatalf("catalog page 2 %v %q", cat.Repositories, r.header.Get("Link"))
	}
}

func TestAuthorizer(t *testing.T) {
	e := newTestEnv(t, func(c *Config) {
		c.Authorizer = AuthorizerFunc(func(r *http.Request, repo, action string) error {
			if r.Header.Get("Authorization") == "" {
				return fmt.Errorf("no token: %w", ErrUnauthenticated)
			}
			if action != ActionPull {
				return errors.New("User: arn:aws:iam::000000000000:user/ro is not authorized to perform: ecr:PutImage")
			}
			return nil
		})
	})
	createRepo(t, e.st, "repo", false)
	r := e.do(t, "GET", "/v2/", nil, nil)
	expect(t, r, 401, CodeUnauthorized)
	if r.header.Get("WWW-Authenticate") != `Basic realm="https://`+e.host+`/",service="ecr.amazonaws.com"` {
		t.Fatalf("challenge %q", r.header.Get("WWW-Authenticate"))
	}
	auth := map[string]string{"Authorization": "Basic eDp5"}
	expect(t, e.do(t, "GET", "/v2/", auth, nil), 200, "")
	expect(t, e.do(t, "GET", "/v2/repo/tags/list", auth, nil), 200, "")
	r = e.do(t, "POST", "/v2/repo/blobs/uploads/", auth, nil)
	expect(t, r, 403, CodeDenied)
	if !strings.Contains(r.errMessage(), "not authorized") {
		t.Fatalf("denied message %q", r.errMessage())
	}

	// an Authorizer may also return the registry's own errors
	e2 := newTestEnv(t, func(c *Config) {
		c.Authorizer = AuthorizerFunc(func(r *http.Request, repo, action string) error {
			if r.Header.Get("Authorization") == "" {
				return Unauthorized("Your authorization token has expired. Reauthenticate and try again.")
			}
			return Denied("not allowed")
		})
	})
	r = e2.do(t, "GET", "/v2/", nil, nil)
	expect(t, r, 401, CodeUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" || r.errMessage() != "Your authorization token has expired. Reauthenticate and try again." {
		t.Fatalf("401: %v %q", r.header, r.errMessage())
	}
	expect(t, e2.do(t, "GET", "/v2/", auth, nil), 403, CodeDenied)
}

// TestUploadResumesAfterRestart: an upload survives a new Registry on the
// same blob root and store (the hash state is rebuilt from the file).
func TestUploadResumesAfterRestart(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	b, d := randBlob(t, 10000)
	r := e.do(t, "POST", "/v2/repo/blobs/uploads/", nil, nil)
	loc := r.header.Get("Location")
	expect(t, e.do(t, "PATCH", loc, map[string]string{"Content-Range": "0-4999"}, b[:5000]), 202, "")
	e = restartRegistry(t, e)
	r = e.do(t, "GET", loc, nil, nil)
	expect(t, r, 204, "")
	if r.header.Get("Range") != "0-4999" {
		t.Fatalf("resumed Range %q", r.header.Get("Range"))
	}
	expect(t, e.do(t, "PUT", loc+"?digest="+d, map[string]string{"Content-Range": "5000-9999"}, b[5000:]), 201, "")
	expect(t, e.do(t, "HEAD", "/v2/repo/blobs/"+d, nil, nil), 200, "")
}

// TestNoRequestTimeoutOnUploads: a server with a short ReadTimeout and
// WriteTimeout does not cut off a slow chunk upload. In fake time, over an
// in-memory connection that honours deadlines.
func TestNoRequestTimeoutOnUploads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, st := newTestRegistry(t, nil)
		createRepo(t, st, "repo", false)
		ln := memnet.Listen()
		srv := &http.Server{Handler: reg, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}
		served := make(chan struct{})
		go func() { _ = srv.Serve(ln); close(served) }()
		tr := &http.Transport{DialContext: ln.DialContext}
		t.Cleanup(func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
			<-served
		})
		c := &http.Client{Transport: tr}
		const base = "http://registry.test"
		res, err := c.Post(base+"/v2/repo/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc := res.Header.Get("Location")
		b, d := randBlob(t, 64<<10)
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < 8; i++ {
				pw.Write(b[i*8<<10 : (i+1)*8<<10])
				time.Sleep(120 * time.Millisecond) // 960ms in total, beyond the timeouts
			}
			pw.Close()
		}()
		start := time.Now()
		req, _ := http.NewRequest("PATCH", base+loc, pr)
		res, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if took := time.Since(start); took < 960*time.Millisecond {
			t.Fatalf("the slow PATCH took %s, want 960ms", took)
		}
		if res.StatusCode != 202 || res.Header.Get("Range") != fmt.Sprintf("0-%d", len(b)-1) {
			t.Fatalf("slow PATCH: %d %q", res.StatusCode, res.Header.Get("Range"))
		}
		req, _ = http.NewRequest("PUT", base+loc+"?digest="+d, nil)
		res, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Fatalf("PUT after slow PATCH: %d", res.StatusCode)
		}
	})
}

func TestParsePath(t *testing.T) {
	cases := map[string]route{
		"/v2/":                                   {kind: "ping"},
		"/v2/_catalog":                           {kind: "catalog"},
		"/v2/a/b/tags/list":                      {kind: "tags", name: "a/b"},
		"/v2/a/blobs/uploads/":                   {kind: "upload", name: "a"},
		"/v2/a/b/blobs/uploads/uuid":             {kind: "upload", name: "a/b", ref: "uuid"},
		"/v2/x/manifests/y/blobs/sha256:1":       {kind: "blob", name: "x/manifests/y", ref: "sha256:1"},
		"/v2/blobs/manifests/latest":             {kind: "manifest", name: "blobs", ref: "latest"},
		"/v2/team/web-app/referrers/sha256:abc":  {kind: "referrers", name: "team/web-app", ref: "sha256:abc"},
		"/v2/team/tags/list/manifests/tags-list": {kind: "manifest", name: "team/tags/list", ref: "tags-list"},
	}
	for p, want := range cases {
		got, ok := parsePath(p)
		if !ok || got != want {
			t.Errorf("parsePath(%q) = %+v %v, want %+v", p, got, ok, want)
		}
	}
	for _, p := range []string{"/v1/", "/v2/onlyname", "/v2/a/nothing/x"} {
		if _, ok := parsePath(p); ok {
			t.Errorf("parsePath(%q) accepted", p)
		}
	}
}

func TestContentNegotiation(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "repo", false)
	im := makeImage(t, MediaTypeDockerManifest, "neg")
	expect(t, e.pushImage(t, "repo", im.digest, im, MediaTypeDockerManifest), 201, "")
	list := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		MediaTypeDockerManifestList, MediaTypeDockerManifest, im.digest, len(im.manifest)))
	expect(t, e.do(t, "PUT", "/v2/repo/manifests/multi", map[string]string{"Content-Type": MediaTypeDockerManifestList}, list), 201, "")
	// no Accept, a wildcard, or the list type: the list
	for _, acc := range []string{"", "*/*", MediaTypeDockerManifest + ", " + MediaTypeDockerManifestList} {
		r := e.do(t, "GET", "/v2/repo/manifests/multi", map[string]string{"Accept": acc}, nil)
		if r.status != 200 || r.header.Get("Content-Type") != MediaTypeDockerManifestList {
			t.Fatalf("Accept %q: %d %s", acc, r.status, r.header.Get("Content-Type"))
		}
	}
	// a client that only takes image manifests gets the linux/amd64 one
	r := e.do(t, "GET", "/v2/repo/manifests/multi", map[string]string{"Accept": MediaTypeDockerManifest}, nil)
	if r.status != 200 || r.header.Get("Docker-Content-Digest") != im.digest || !bytes.Equal(r.body, im.manifest) {
		t.Fatalf("fallback: %d %v", r.status, r.header)
	}
	// an OCI-only client cannot take a Docker manifest
	expect(t, e.do(t, "GET", "/v2/repo/manifests/"+im.digest, map[string]string{"Accept": MediaTypeOCIManifest}, nil), 404, CodeManifestUnknown)
}

func TestOnManifestPut(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	e := newTestEnv(t, func(c *Config) {
		c.OnManifestPut = func(repo string, res PutManifestResult) {
			mu.Lock()
			defer mu.Unlock()
			puts = append(puts, repo+"@"+res.Digest)
		}
	})
	createRepo(t, e.st, "hooked", false)
	im := makeImage(t, MediaTypeOCIManifest, "hook")
	expect(t, e.pushImage(t, "hooked", "v1", im, MediaTypeOCIManifest), 201, "")
	// The same put again changes nothing and is not reported.
	expect(t, e.pushImage(t, "hooked", "v1", im, MediaTypeOCIManifest), 201, "")
	mu.Lock()
	defer mu.Unlock()
	if len(puts) != 1 || puts[0] != "hooked@"+im.digest {
		t.Fatalf("OnManifestPut calls = %v, want one for hooked@%s", puts, im.digest)
	}
}

// restartRegistry closes e's registry and serves a new one on the same
// configuration and store, as after a server restart.
func restartRegistry(t *testing.T, e *testEnv) *testEnv {
	t.Helper()
	e.reg.Close()
	reg, err := New(e.reg.cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return &testEnv{reg: reg, st: e.st, srv: srv, url: srv.URL}
}
