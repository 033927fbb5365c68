package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeSection returns the fenced sh blocks of the README's section
// titled title.
func readmeSection(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", title)
	}
	s = s[i+len(title)+5:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	var blocks []string
	for {
		i := strings.Index(s, "```sh\n")
		if i < 0 {
			return blocks
		}
		s = s[i+len("```sh\n"):]
		j := strings.Index(s, "```")
		if j < 0 {
			t.Fatalf("unterminated code block in %q", title)
		}
		blocks = append(blocks, s[:j])
		s = s[j+3:]
	}
}

// TestREADMENowTryIt runs the README's "Now try it" blocks as written, in
// one shell, against a berth server (the only change: its port for 4566),
// with an environment that has no AWS settings of its own (the blocks'
// export says the region, as the README tells a new user), then checks
// what the README promises: the cluster in eu-west-1, and, with Docker, the
// tutorial's task RUNNING, HEALTHY and answering on its private IP.
func TestREADMENowTryIt(t *testing.T) {
	requireAWSCLI(t)
	blocks := readmeSection(t, "Now try it")
	if len(blocks) != 2 {
		t.Fatalf("the README's \"Now try it\" has %d sh blocks, want 2 (the API, then running a task)", len(blocks))
	}
	withDocker := dockerReachable()
	if !withDocker && os.Getenv("CI") == "true" {
		t.Fatal("Docker is required in CI")
	}
	p := startBerth(t, t.TempDir())
	_, port, _ := net.SplitHostPort(p.Addr)
	script := "set -e\n" + blocks[0]
	if withDocker {
		script += blocks[1]
	}
	script = strings.ReplaceAll(script, "localhost:4566", "localhost:"+port)
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=",
		// Debian's docker.io 20.10 daemon: the classic builder, which uses
		// the local busybox image rather than asking Docker Hub.
		"DOCKER_BUILDKIT=0",
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		env = append(env, "DOCKER_HOST="+h)
	}
	image := "localhost:" + port + "/web-app:latest"
	if withDocker {
		ensureBusyboxBase(t)
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", image).Run() })
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir, cmd.Env = "..", env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s\nserver log:\n%s", err, out, p.log.String())
	}
	if !strings.Contains(string(out), "arn:aws:ecs:eu-west-1:123456789012:cluster/prod-cluster") {
		t.Errorf("list-clusters does not show prod-cluster in eu-west-1:\n%s", out)
	}
	if !strings.Contains(string(out), "task-definition/web-app:1") {
		t.Errorf("register-task-definition did not register web-app:1:\n%s", out)
	}
	if !withDocker {
		t.Log("Docker is not reachable: ran the first block only")
		return
	}

	var tasks struct{ TaskArns []string }
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecs", "list-tasks", "--cluster", "prod-cluster")), &tasks); err != nil || len(tasks.TaskArns) != 1 {
		t.Fatalf("list-tasks: %v %+v", err, tasks)
	}
	arn := tasks.TaskArns[0]
	t.Cleanup(func() { _, _ = p.aws(t, ".", "ecs", "stop-task", "--cluster", "prod-cluster", "--task", arn) })
	type task struct {
		LastStatus, HealthStatus string
		Containers               []struct {
			NetworkInterfaces []struct{ PrivateIpv4Address string }
		}
	}
	var tk task
	eventually(t, 150*time.Second, func() (bool, string) {
		var d struct{ Tasks []task }
		if err := json.Unmarshal([]byte(p.awsOK(t, "ecs", "describe-tasks", "--cluster", "prod-cluster", "--tasks", arn)), &d); err != nil || len(d.Tasks) != 1 {
			t.Fatalf("describe-tasks: %v", err)
		}
		tk = d.Tasks[0]
		status := fmt.Sprintf("the README's task never became RUNNING and HEALTHY: %+v\nserver log:\n%s", tk, p.log.String())
		if tk.LastStatus == "STOPPED" {
			t.Fatal(status)
		}
		return tk.LastStatus == "RUNNING" && tk.HealthStatus == "HEALTHY", status
	})
	if len(tk.Containers) != 1 || len(tk.Containers[0].NetworkInterfaces) != 1 {
		t.Fatalf("no private IP: %+v", tk)
	}
	ip := tk.Containers[0].NetworkInterfaces[0].PrivateIpv4Address
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + ip + ":8080/health")
	if err != nil {
		t.Fatalf("curl http://%s:8080/health: %v", ip, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("GET /health = %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(p.log.String(), "msg=\"task running\"") {
		t.Errorf("the server log has no \"task running\" line:\n%s", p.log.String())
	}
	readmeAgent(t, p, blocks[0], env)
	if bad := repeatedLogKeys(p.log.String()); len(bad) > 0 {
		t.Errorf("server log lines with a key twice:\n%s", strings.Join(bad, "\n"))
	}
	p.awsOK(t, "ecs", "stop-task", "--cluster", "prod-cluster", "--task", arn)
	eventually(t, 90*time.Second, func() (bool, string) {
		var d struct{ Tasks []task }
		_ = json.Unmarshal([]byte(p.awsOK(t, "ecs", "describe-tasks", "--cluster", "prod-cluster", "--tasks", arn)), &d)
		return len(d.Tasks) == 1 && d.Tasks[0].LastStatus == "STOPPED", fmt.Sprintf("the task did not stop: %+v", d.Tasks)
	})
}

// dockerReachable reports whether the docker CLI reaches a daemon.
func dockerReachable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run() == nil
}

// ensureBusyboxBase makes sure the daemon has a busybox:latest image, the
// base of testdata/seed/web-app, without asking Docker Hub: when it has
// none, it imports one made of the host's static busybox and its applets,
// and removes it when the test ends.
func ensureBusyboxBase(t *testing.T) {
	t.Helper()
	if exec.Command("docker", "image", "inspect", "busybox:latest").Run() == nil {
		return
	}
	bb, err := os.ReadFile("/usr/bin/busybox")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("/usr/bin/busybox (busybox-static) is required in CI")
		}
		t.Skip("SKIP: no busybox:latest image and no /usr/bin/busybox to make one")
	}
	list, err := exec.Command("/usr/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	hdrs := []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now},
		{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb)), ModTime: now},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Name == "bin/busybox" {
			if _, err := tw.Write(bb); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range strings.Fields(string(list)) {
		if name == "busybox" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + name, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777, ModTime: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "busybox.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("docker", "import", "--change", `ENV PATH=/bin`, file, "busybox:latest").CombinedOutput(); err != nil {
		t.Fatalf("docker import busybox: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "busybox:latest").Run() })
}

// readmeInstall runs the README's "Getting a `berth` binary" block as
// written (`go install ./cmd/berth`), with GOBIN set to a directory of the
// test's instead of the README's $(go env GOPATH)/bin, and returns that
// directory: the berth there is the one the README's `berth agent` runs.
func readmeInstall(t *testing.T) string {
	t.Helper()
	blocks := readmeSection(t, "Getting a `berth` binary")
	if len(blocks) != 1 {
		t.Fatalf("the README's \"Getting a `berth` binary\" has %d sh blocks, want 1 (the install)", len(blocks))
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", "set -e\n"+blocks[0])
	cmd.Dir, cmd.Env = "..", append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's install (%q) failed: %v\n%s", strings.TrimSpace(blocks[0]), err, out)
	}
	if _, err := os.Stat(filepath.Join(bin, "berth")); err != nil {
		t.Fatalf("the README's install (%q) left no berth binary: %v", strings.TrimSpace(blocks[0]), err)
	}
	return bin
}

// readmeAgent runs the `berth agent` line of the README's "Running tasks"
// as written (the port aside), with the berth the README's install made on
// PATH and the variables the "Now try it" block exports, and checks that it
// joins prod-cluster: in eu-west-1, the region of those variables, and says
// so.
func readmeAgent(t *testing.T, p *proc, tryIt string, env []string) {
	t.Helper()
	var line string
	for _, b := range readmeSection(t, "Running tasks") {
		for _, l := range strings.Split(b, "\n") {
			if strings.HasPrefix(l, "berth agent ") {
				line = l
			}
		}
	}
	if line == "" {
		t.Fatal("the README's \"Running tasks\" has no berth agent line")
	}
	var export string
	for _, l := range strings.Split(tryIt, "\n") {
		if strings.HasPrefix(l, "export ") {
			export = l
		}
	}
	_, port, _ := net.SplitHostPort(p.Addr)
	script := strings.NewReplacer(":4566", ":"+port).Replace(export + "\nexec " + line)
	env = append(env[:len(env):len(env)], "PATH="+readmeInstall(t)+":"+os.Getenv("PATH"))
	var log syncBuffer
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = "..", env, &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	eventually(t, 60*time.Second, func() (bool, string) {
		var out struct{ ContainerInstanceArns []string }
		_ = json.Unmarshal([]byte(p.awsOK(t, "ecs", "list-container-instances", "--cluster", "prod-cluster")), &out)
		return len(out.ContainerInstanceArns) == 1 && strings.HasPrefix(out.ContainerInstanceArns[0], "arn:aws:ecs:eu-west-1:"),
			fmt.Sprintf("%q did not join prod-cluster in eu-west-1; agent log:\n%s", line, log.String())
	})
	if !strings.Contains(log.String(), "region=eu-west-1") {
		t.Errorf("the agent's log does not name its region eu-west-1:\n%s", log.String())
	}
	if bad := repeatedLogKeys(log.String()); len(bad) > 0 {
		t.Errorf("agent log lines with a key twice:\n%s", strings.Join(bad, "\n"))
	}
}

// repeatedLogKeys returns the lines of a slog text log that carry a key
// more than once (e.g. subsystem=runtime subsystem=managed-agent).
func repeatedLogKeys(log string) []string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		seen := map[string]bool{}
		for rest := line; rest != ""; {
			rest = strings.TrimLeft(rest, " ")
			eq := strings.IndexByte(rest, '=')
			sp := strings.IndexByte(rest, ' ')
			if eq < 0 || (sp >= 0 && sp < eq) {
				// not key=value (a continuation line): skip the word
				if sp < 0 {
					break
				}
				rest = rest[sp:]
				continue
			}
			key := rest[:eq]
			if seen[key] {
				bad = append(bad, line)
				break
			}
			seen[key] = true
			rest = rest[eq+1:]
			if strings.HasPrefix(rest, `"`) {
				// a quoted value: up to the closing unescaped quote
				i := 1
				for i < len(rest) && rest[i] != '"' {
					if rest[i] == '\\' {
						i++
					}
					i++
				}
				rest = rest[min(i+1, len(rest)):]
			} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
				rest = rest[sp:]
			} else {
				rest = ""
			}
		}
	}
	return bad
}
