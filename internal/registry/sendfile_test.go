package registry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

// readFromSpy is the server's ResponseWriter with ReadFrom observed: it
// records which readers the handler hands to ReadFrom (the path on which
// net/http sends a file with sendfile(2)) and how many bytes went that way.
type readFromSpy struct {
	http.ResponseWriter
	mu        sync.Mutex
	fileBytes int64  // bytes ReadFrom copied from an *os.File (possibly limited)
	other     string // type of the first non-file reader, if any
}

func (s *readFromSpy) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := src.(*io.LimitedReader); ok {
		src = lr.R
	}
	n, err := s.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := src.(*os.File); ok {
		s.fileBytes += n
	} else if s.other == "" {
		s.other = fmt.Sprintf("%T", r)
	}
	return n, err
}

// TestBlobGetReachesSendfile checks that whole and single-range blob
// downloads hand the blob's *os.File to the connection's ReadFrom (which
// net/http turns into sendfile), rather than copying it through a buffer:
// a wrapper of the ResponseWriter without ReadFrom, or a wrapper of the
// file, silently costs a copy per byte.
func TestBlobGetReachesSendfile(t *testing.T) {
	e := newTestEnv(t, nil)
	createRepo(t, e.st, "files", false)
	blob, _ := randBlob(t, 3<<20)
	d := e.pushBlob(t, "files", blob)

	var spy *readFromSpy
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Errorf("net/http's ResponseWriter %T has no ReadFrom", w)
		}
		spy = &readFromSpy{ResponseWriter: w}
		e.reg.ServeHTTP(spy, r)
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
			if spy.other != "" {
				t.Errorf("ReadFrom got a %s, not the blob's file", spy.other)
			}
			if spy.fileBytes != int64(len(body)) {
				t.Errorf("%d of %d bytes went through ReadFrom from the blob's file", spy.fileBytes, len(body))
			}
		})
	}
}
