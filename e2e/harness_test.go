package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var berthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	berthBin = filepath.Join(dir, "berth")
	build := exec.Command("go", "build", "-o", berthBin, "../cmd/berth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build berth:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a berth server running as its own process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	URL     string
	Addr    string
	DataDir string
	log     *syncBuffer // read while the process writes it
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startBerth starts `berth server` on a free loopback port with dataDir.
func startBerth(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	return startBerthAt(t, freeAddr(t), dataDir, extra...)
}

// startBerthAt starts `berth server` listening on addr.
func startBerthAt(t *testing.T, addr, dataDir string, extra ...string) *proc {
	t.Helper()
	p := &proc{t: t, Addr: addr, URL: "http://" + addr, DataDir: dataDir, log: &syncBuffer{}}
	args := append([]string{"server", "--listen", addr, "--data-dir", dataDir}, extra...)
	// BERTH_TEST_STORE runs the suite on another state store (scripts/
	// test.sh sets embedded-etcd), unless the test picked one itself.
	if st := os.Getenv("BERTH_TEST_STORE"); st != "" && !slices.Contains(extra, "--store") {
		args = append(args, "--store", st)
	}
	p.cmd = exec.Command(berthBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeOwnerLeftovers(t, dataDir) }) // after the stop below
	t.Cleanup(func() { p.stop() })
	eventually(t, 20*time.Second, func() (bool, string) {
		resp, err := http.Get(p.URL + "/_berth/health")
		if err != nil {
			return false, fmt.Sprintf("berth is not healthy (%v); log:\n%s", err, p.log.String())
		}
		resp.Body.Close()
		return resp.StatusCode == 200, fmt.Sprintf("berth is not healthy (%s); log:\n%s", resp.Status, p.log.String())
	})
	return p
}

// eventually polls cond until it reports done, and fails the test with
// cond's last status once within has passed. It is the one poll loop of
// the package, for events a test cannot wait on directly (the state of
// another process): it polls often at first (50 ms), then less (up to
// every second). cond runs on the test's goroutine, so it may fail the
// test itself (e.g. on a terminal state that is not the one awaited).
func eventually(t testing.TB, within time.Duration, cond func() (done bool, status string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	pause := 50 * time.Millisecond
	for {
		done, status := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, status)
		}
		select {
		case <-time.After(pause):
		case <-t.Context().Done():
			t.Fatalf("test ended while waiting: %s", status)
		}
		pause = min(pause*3/2, time.Second)
	}
}

// waitLogLine waits until a line of log (a process's output so far)
// contains every one of parts, and returns it.
func waitLogLine(t *testing.T, log func() string, within time.Duration, parts ...string) string {
	t.Helper()
	var found string
	eventually(t, within, func() (bool, string) {
		for line := range strings.Lines(log()) {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				found = line
				return true, ""
			}
		}
		return false, fmt.Sprintf("no log line with %q; log:\n%s", parts, log())
	})
	return found
}

// kill sends SIGKILL and waits: no graceful shutdown, as in a crash.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func (p *proc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

// awsCLI runs the aws CLI against p and returns stdout; it fails the test on
// a non-zero exit unless wantErr.
func (p *proc) aws(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL="+p.URL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("aws %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH (required in CI)")
		}
		t.Skip("SKIP: the aws CLI is not on PATH")
	}
}

// removeOwnerLeftovers removes what the runner of data directory dir's
// owner (driver.LabelOwner) left on the Docker daemon: a server or agent
// killed with SIGKILL, or stopped while a service scheduler was starting
// replacements, leaves its task containers running, and these would eat
// the machine's CPUs for the rest of the run. It removes only containers,
// networks and volumes carrying this owner's label, so servers of other
// tests (or other runs) sharing the daemon keep theirs; then the owner's
// task cgroups. It runs after the process is stopped (cleanups run last
// registered first), and does nothing when dir has no identity or Docker
// is not on PATH.
func removeOwnerLeftovers(t *testing.T, dir string) {
	owner := ownerOf(dir)
	if owner == "" {
		return
	}
	if _, err := exec.LookPath("docker"); err == nil {
		filter := "label=berth.owner=" + owner
		for _, kind := range [][]string{{"container", "rm", "-f", "-v"}, {"network", "rm"}, {"volume", "rm", "-f"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			list := []string{kind[0], "ls", "-q", "--filter", filter}
			if kind[0] == "container" {
				list = append(list, "-a")
			}
			ids, err := exec.CommandContext(ctx, "docker", list...).Output()
			if err == nil && len(strings.Fields(string(ids))) > 0 {
				out, err := exec.CommandContext(ctx, "docker", append(kind, strings.Fields(string(ids))...)...).CombinedOutput()
				t.Logf("removed leftover %ss of owner %s: %s (err=%v)", kind[0], owner, strings.Join(strings.Fields(string(out)), " "), err)
			}
			cancel()
		}
	}
	removeOwnerCgroups(owner)
}

// ownerOf returns the owner identity of data directory dir, or "".
func ownerOf(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "berth-id"))
	owner := strings.TrimSpace(string(b))
	if err != nil || owner == "" || strings.ContainsAny(owner, "/. ") {
		return ""
	}
	return owner
}

// removeOwnerCgroups removes the empty task cgroups of data directory
// owner, and its parent (/berth/<owner>), as a killed server or one
// stopped before its cleanup leaves them. rmdir fails on a cgroup still in
// use, which is then left alone.
func removeOwnerCgroups(owner string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + owner)
	roots = append(roots, "/sys/fs/cgroup/berth/"+owner)
	for _, root := range roots {
		tasks, _ := os.ReadDir(root)
		for _, e := range tasks {
			if e.IsDir() {
				_ = os.Remove(filepath.Join(root, e.Name()))
			}
		}
		_ = os.Remove(root)
	}
}
