package dockertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Registry is a minimal Docker registry (distribution API v2, read-only)
// on 127.0.0.1, for testing pulls offline. The daemon treats 127.0.0.0/8
// registries as insecure, so plain HTTP works without configuration.
type Registry struct {
	// Host is "127.0.0.1:<port>"; image references start with it.
	Host string

	username, password string

	mu        sync.Mutex
	manifests map[string][]byte // "name:tag" and "name@digest" → manifest
	blobs     map[string][]byte // digest → content
	authSeen  []string          // Authorization headers received
}

const (
	mediaManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaConfig   = "application/vnd.docker.container.image.v1+json"
	mediaLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// NewRegistry starts a registry that demands basic auth with username and
// password, or none if username is empty. It stops when the test ends.
func NewRegistry(t testing.TB, username, password string) *Registry {
	t.Helper()
	r := &Registry{
		username:  username,
		password:  password,
		manifests: map[string][]byte{},
		blobs:     map[string][]byte{},
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Push stores a single-layer image made of files (path → content, mode
// 0755) and returns its reference, Host/name:tag.
func (r *Registry) Push(t testing.TB, name, tag string, files map[string]string) string {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		hdr := &tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: 0o755, Size: int64(len(files[p])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[p])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(layer.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Cmd": []string{"/hello"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digest(layer.Bytes())}},
		"history":      []map[string]string{{"created_by": "berth dockertest"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaManifest,
		"config":        map[string]any{"mediaType": mediaConfig, "size": len(config), "digest": digest(config)},
		"layers":        []map[string]any{{"mediaType": mediaLayer, "size": gz.Len(), "digest": digest(gz.Bytes())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobs[digest(config)] = config
	r.blobs[digest(gz.Bytes())] = gz.Bytes()
	r.manifests[name+":"+tag] = manifest
	r.manifests[name+"@"+digest(manifest)] = manifest
	return r.Host + "/" + name + ":" + tag
}

// Authorizations returns the Authorization headers the registry received.
func (r *Registry) Authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.authSeen)
}

// BasicAuth is the Authorization header value of username and password.
func BasicAuth(username, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}

func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if a := req.Header.Get("Authorization"); a != "" {
		r.authSeen = append(r.authSeen, a)
	}
	r.mu.Unlock()
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.username != "" && req.Header.Get("Authorization") != BasicAuth(r.username, r.password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="berth-dockertest"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	switch {
	case req.URL.Path == "/v2/" || req.URL.Path == "/v2":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		name, ref := p[:i], p[i+len("/manifests/"):]
		sep := ":"
		if strings.HasPrefix(ref, "sha256:") {
			sep = "@"
		}
		r.mu.Lock()
		m, ok := r.manifests[name+sep+ref]
		r.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
			return
		}
		w.Header().Set("Content-Type", mediaManifest)
		w.Header().Set("Docker-Content-Digest", digest(m))
		w.Header().Set("Content-Length", fmt.Sprint(len(m)))
		if req.Method != http.MethodHead {
			_, _ = w.Write(m)
		}
	case strings.Contains(p, "/blobs/"):
		d := p[strings.LastIndex(p, "/blobs/")+len("/blobs/"):]
		r.mu.Lock()
		b, ok := r.blobs[d]
		r.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if req.Method != http.MethodHead {
			_, _ = w.Write(b)
		}
	default:
		writeError(w, http.StatusNotFound, "NAME_UNKNOWN", "not found")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
