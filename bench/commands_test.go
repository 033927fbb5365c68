package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tiny maps a documented command's program (or go test package) to the
// flags appended to make its run take seconds. Appended flags override the
// documented ones (the flag package keeps the last value).
var tiny = map[string]string{
	"./bench/ecsapi":       "-duration 100ms -max-requests 50",
	"./bench/registry":     "-reps 1 -sizes 1 -conc 1",
	"./bench/startlatency": "-n 1",
	"./bench/elbproxy":     "-duration 200ms -rounds 1 -conc 4 -idle 50",
	"./bench/logs":         "-events 20000 -streams 2 -batch 1000",
	"./bench/exec":         "-n 1 -mb 1",
	"./bench/cloudwatch":   "-metrics 10 -days 1 -queries 5",
	"./bench/autoscaling":  "-n 1",
	"./bench/eks":          "-configmaps 20 -lists 2 -idle 1s",
}

// slow gives the programs that build more than berth a longer bound:
// bench/eks builds berth-kube, which compiles Kubernetes (about a minute
// with a warm Go build cache, about 16 minutes cold on 2 cores); it
// fails, saying so, when that build fails.
var slow = map[string]time.Duration{"./bench/eks": 30 * time.Minute}

// needsDocker lists the programs that start containers.
var needsDocker = map[string]bool{"./bench/startlatency": true, "./bench/exec": true, "./bench/autoscaling": true}

var (
	// fence matches a fenced code block; codeSpan a code span outside one
	// (which may wrap lines).
	fence    = regexp.MustCompile("(?ms)^```.*?^```")
	codeSpan = regexp.MustCompile("`([^`]+)`")
)

// benchCommands returns the benchmark commands of the Markdown files: code
// spans and fenced lines that run `go run ./bench/...` or `go test ... -bench`.
func benchCommands(t *testing.T, root string) map[string][]string {
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"))
	cmds := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, block := range fence.FindAllString(string(b), -1) {
			for _, line := range strings.Split(block, "\n") {
				line, _, _ = strings.Cut(line, " #")
				found = append(found, strings.TrimSpace(line))
			}
		}
		for _, m := range codeSpan.FindAllStringSubmatch(fence.ReplaceAllString(string(b), ""), -1) {
			found = append(found, strings.Join(strings.Fields(m[1]), " "))
		}
		for _, c := range found {
			if strings.HasPrefix(c, "go run ./bench/") || (strings.HasPrefix(c, "go test ") && strings.Contains(c, " -bench")) {
				if !strings.Contains(strings.Join(cmds[c], " "), filepath.Base(f)) {
					cmds[c] = append(cmds[c], filepath.Base(f))
				}
			}
		}
	}
	return cmds
}

// TestDocumentedBenchmarksRun runs each benchmark command of README.md and
// docs/*.md from the repository root as written, made tiny by appended
// flags, and checks it succeeds. Every benchmark program must be among them.
func TestDocumentedBenchmarksRun(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmds := benchCommands(t, root)
	for prog := range tiny {
		found := false
		for c := range cmds {
			found = found || strings.HasPrefix(c, "go run "+prog)
		}
		if !found {
			t.Errorf("no documented command runs %s", prog)
		}
	}
	for c, where := range cmds {
		t.Run(strings.ReplaceAll(c, "/", "_"), func(t *testing.T) {
			f := strings.Fields(c)
			var extra string
			timeout := 5 * time.Minute
			switch f[1] {
			case "run":
				prog := f[2]
				var ok bool
				if d, ok := slow[prog]; ok {
					timeout = d
				}
				if extra, ok = tiny[prog]; !ok {
					t.Fatalf("%s (in %s): no tiny flags known for %s; add them to tiny", c, where, prog)
				}
				if needsDocker[prog] && !dockerUp(t) {
					if os.Getenv("CI") == "true" {
						t.Fatal("Docker is not running (required in CI)")
					}
					t.Skip("Docker is not running")
				}
			case "test":
				extra = "-count=1 -benchtime=1x"
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", c+" "+extra)
			cmd.Dir = root
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s (in %s), with %q appended: %v\n%s", c, where, extra, err, out.String())
			}
			t.Logf("%s %s: %s", c, extra, time.Since(start).Round(time.Millisecond))
		})
	}
}

// dockerUp reports whether the docker CLI reaches a daemon.
func dockerUp(t *testing.T) bool {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run() == nil
}
