package registry

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// writeSpy is the server's ResponseWriter with its writes observed (and
// without the server's ReadFrom, so that nothing can bypass Write).
type writeSpy struct {
	http.ResponseWriter
	mu     sync.Mutex
	writes []int
}

func (s *writeSpy) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.writes = append(s.writes, len(b))
	s.mu.Unlock()
	return s.ResponseWriter.Write(b)
}

// TestBlobGetWritesLargeChunks checks that whole and range blob downloads
// reach the connection in copyBufSize writes (the last one shorter), not
// through io.Copy's 32 KiB buffer: the pull throughput measured in
// statusWriter.ReadFrom's note depends on it.
func TestBlobGetWritesLargeChunks(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "files", false)
	blob, _ := randBlob(t, 3*copyBufSize+12345)
	d := e.pushBlob(t, "files", blob)

	var spy *writeSpy
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spy = &writeSpy{ResponseWriter: w}
		e.reg.ServeHTTP(struct{ http.ResponseWriter }{spy}, r)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, rng  string
		status     int
		start, end int // inclusive bytes expected
	}{
		{"whole", "", http.StatusOK, 0, len(blob) - 1},
		{"range", "bytes=1000-2999999", http.StatusPartialContent, 1000, 2999999},
		{"open range", "bytes=65536-", http.StatusPartialContent, 65536, len(blob) - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/v2/files/blobs/"+d, nil)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !bytes.Equal(body, blob[tc.start:tc.end+1]) {
				t.Fatalf("body: %d bytes, not bytes %d-%d of the blob", len(body), tc.start, tc.end)
			}
			spy.mu.Lock()
			defer spy.mu.Unlock()
			total := 0
			for i, n := range spy.writes {
				total += n
				if i < len(spy.writes)-1 && n != copyBufSize {
					t.Errorf("write %d of %d: %d bytes, want %d (writes %v)", i, len(spy.writes), n, copyBufSize, spy.writes)
				}
			}
			if total != len(body) {
				t.Errorf("writes carried %d bytes, body is %d", total, len(body))
			}
		})
	}
}

// TestStatusWriterReadFrom: a copied body goes out in copyBufSize writes
// from the pool (not to the server's ReadFrom), and the status is recorded.
func TestStatusWriterReadFrom(t *testing.T) {
	pool := &sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	sw := &statusWriter{ResponseWriter: rec, bufs: pool}
	src := bytes.Repeat([]byte("x"), copyBufSize+5)
	if n, err := io.Copy(sw, io.LimitReader(bytes.NewReader(src), int64(len(src)))); n != int64(len(src)) || err != nil {
		t.Fatal(n, err)
	}
	if rec.used || !bytes.Equal(rec.Body.Bytes(), src) || sw.status != http.StatusOK {
		t.Fatalf("server ReadFrom used=%v, body %d bytes, status=%d", rec.used, rec.Body.Len(), sw.status)
	}
	plain := httptest.NewRecorder() // no pool: plain copy
	sw = &statusWriter{ResponseWriter: plain}
	sw.WriteHeader(http.StatusPartialContent)
	if n, err := io.Copy(sw, bytes.NewReader([]byte("abc"))); n != 3 || err != nil || plain.Body.String() != "abc" || sw.status != http.StatusPartialContent {
		t.Fatalf("fallback copy: %d %v %q %d", n, err, plain.Body, sw.status)
	}
}
