package awsproto

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the response sections of testdata/golden/*.txt")

// Golden files hold a raw HTTP request, a separator line and the expected
// response (status line, sorted headers, body), with the request ID
// replaced by REQUEST-ID. Requests need no Content-Length; one is added.
const goldenSeparator = "\n=== response ===\n"

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			reqText, want, _ := strings.Cut(string(raw), goldenSeparator)
			req, err := parseGoldenRequest(reqText)
			if err != nil {
				t.Fatal(err)
			}
			got := renderGoldenResponse(serve(fakeRouter(1<<10), req))
			if *update {
				if err := os.WriteFile(file, []byte(strings.TrimRight(reqText, "\n")+"\n"+goldenSeparator+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("response differs (run with -update to accept)\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
}

// parseGoldenRequest reads a request written as text: request line,
// headers, a blank line and the body (its final newline dropped).
func parseGoldenRequest(text string) (*http.Request, error) {
	head, body, _ := strings.Cut(text, "\n\n")
	head = strings.TrimRight(head, "\n")
	body = strings.TrimSuffix(body, "\n")
	if !strings.Contains(strings.ToLower(head), "\ncontent-length:") {
		head += "\nContent-Length: " + strconv.Itoa(len(body))
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head + "\n\n" + body)))
	if err != nil {
		return nil, fmt.Errorf("parsing request: %w", err)
	}
	return req, nil
}

func renderGoldenResponse(w *httptest.ResponseRecorder) string {
	id := w.Header().Get("x-amzn-RequestId")
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\n", w.Code, http.StatusText(w.Code))
	keys := make([]string, 0, len(w.Header()))
	for k := range w.Header() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range w.Header()[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.WriteString(w.Body.String())
	b.WriteString("\n")
	out := b.String()
	if id != "" {
		out = strings.ReplaceAll(out, id, "REQUEST-ID")
	}
	return out
}
