package registry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The OCI distribution-spec conformance suite, pinned.
const (
	conformanceModule  = "github.com/opencontainers/distribution-spec/conformance"
	conformanceVersion = "v0.0.0-20260831232431-97274622c111"
)

// requireTool skips (or, under CI=true, fails) when a test dependency is
// missing.
func requireTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf("SKIP (set CI=true to make this fatal): "+format, args...)
}

// buildConformance downloads the suite's module through the Go module
// proxy and builds it (cached between runs).
func buildConformance(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
		if _, err := os.Stat(gobin); err != nil {
			requireTool(t, "go toolchain not found to build the conformance suite")
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "berth", "oci-conformance-"+conformanceVersion)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	dl := exec.Command(gobin, "mod", "download", "-json", conformanceModule+"@"+conformanceVersion)
	dl.Dir = os.TempDir() // outside the berth module: do not touch go.mod
	dl.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := dl.Output()
	if err != nil {
		requireTool(t, "cannot download %s@%s: %v", conformanceModule, conformanceVersion, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download output: %s", out)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := bin + ".tmp"
	build := exec.Command(gobin, "build", "-o", tmp, ".")
	build.Dir = mod.Dir
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		requireTool(t, "cannot build the conformance suite: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

var countRE = regexp.MustCompile(`^\s+(Pass|FAIL|Skip|Disabled|Error)\.+:\s+(\d+)$`)

// TestOCIConformance runs the OCI distribution-spec conformance suite
// against a berth registry on loopback, once with the stable 1.1 settings
// and once with the 1.1+dev features (upload cancel, digest headers, tag
// parameters) that berth also implements.
func TestOCIConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	bin := buildConformance(t)
	for _, version := range []string{"1.1", "1.1+dev"} {
		t.Run(version, func(t *testing.T) {
			env := newTestEnv(t, nil)
			createRepo(t, env.st, "conformance/repo1", false)
			createRepo(t, env.st, "conformance/repo2", false)
			results := t.TempDir()
			cmd := exec.Command(bin)
			cmd.Dir = results
			cmd.Env = append(os.Environ(),
				"OCI_VERSION="+version,
				"OCI_REGISTRY="+env.host,
				"OCI_TLS=disabled",
				"OCI_REPO1=conformance/repo1",
				"OCI_REPO2=conformance/repo2",
				"OCI_RESULTS_DIR="+results,
				"OCI_LOG=error",
			)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			counts := map[string]int{}
			var failures []string
			sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			inFail := false
			for sc.Scan() {
				line := sc.Text()
				if m := countRE.FindStringSubmatch(line); m != nil {
					counts[m[1]], _ = strconv.Atoi(m[2])
				}
				trimmed := strings.TrimSpace(line)
				switch {
				case strings.HasSuffix(trimmed, ": FAIL") || strings.HasSuffix(trimmed, ": Error"):
					failures = append(failures, trimmed)
					inFail = true
				case inFail && strings.HasPrefix(trimmed, "- "):
					failures = append(failures, "    "+trimmed)
				default:
					inFail = false
				}
			}
			t.Logf("OCI conformance %s: %d passed, %d failed, %d errors, %d skipped, %d disabled",
				version, counts["Pass"], counts["FAIL"], counts["Error"], counts["Skip"], counts["Disabled"])
			for _, f := range failures {
				t.Log(f)
			}
			if os.Getenv("BERTH_CONFORMANCE_VERBOSE") != "" {
				t.Logf("stdout:\n%s", stdout.String())
			}
			if counts["Pass"] == 0 {
				t.Fatalf("conformance suite ran no test (err %v)\nstdout:\n%s\nstderr:\n%s", runErr, stdout.String(), stderr.String())
			}
			if counts["FAIL"] > 0 || counts["Error"] > 0 || runErr != nil {
				t.Logf("stderr:\n%s", stderr.String())
				t.Errorf("conformance failures (exit: %v); results in %s", runErr, results)
			}
		})
	}
}
