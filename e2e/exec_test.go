package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/creack/pty"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// The session-manager-plugin the aws CLI runs for execute-command: AWS's
// own, built from its source (a GOPATH-era tree the module proxy serves)
// in the test's setup, never committed.
const (
	pluginModule  = "github.com/aws/session-manager-plugin"
	pluginVersion = "v0.0.0-20260401221635-b79d06c1d3a2"
	pluginUUIDPin = "github.com/twinj/uuid v0.0.0-20151029044442-89173bcdda19"
)

// pluginSDKPins pin the AWS SDK modules the plugin imports to versions
// that need berth's own aws-sdk-go-v2 and smithy-go: left to `go mod tidy`,
// they resolve to the newest the proxy lists, whose own requirements the
// proxy may not serve (seen: config v1.33.22 needs smithy-go v1.28.10,
// which the proxy answered 403).
var pluginSDKPins = []string{
	"github.com/aws/aws-sdk-go-v2 v1.48.0",
	"github.com/aws/smithy-go v1.28.9",
	"github.com/aws/aws-sdk-go-v2/config v1.33.21",
	"github.com/aws/aws-sdk-go-v2/service/kms v1.63.0",
	"github.com/aws/aws-sdk-go-v2/service/ssm v1.84.0",
}

// buildSessionManagerPlugin builds the plugin into a temporary directory
// and returns it (to put on PATH).
func buildSessionManagerPlugin(t *testing.T) string {
	t.Helper()
	fail := t.Fatalf
	if os.Getenv("CI") != "true" {
		fail = func(format string, args ...any) {
			t.Skipf("SKIP: cannot build session-manager-plugin: "+format, args...)
		}
	}
	run := func(dir string, name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				fail("%s %s: %v\n%s", name, strings.Join(args, " "), err, ee.Stderr)
			}
			fail("%s %s: %v", name, strings.Join(args, " "), err)
		}
		return string(out)
	}
	scratch := t.TempDir()
	src := strings.TrimSpace(run(scratch, "go", "mod", "download", "-json", pluginModule+"@"+pluginVersion))
	dir := ""
	for line := range strings.Lines(src) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && strings.Trim(k, `"`) == "Dir" {
			dir = strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), ",")), `"`)
		}
	}
	if dir == "" {
		fail("no module directory in %s", src)
	}
	tree := filepath.Join(scratch, "src")
	run(scratch, "cp", "-r", dir, tree)
	run(scratch, "chmod", "-R", "u+w", tree)
	gomod := "module " + pluginModule + "\n\ngo 1.22\n\nrequire (\n\t" + pluginUUIDPin + "\n\t" +
		strings.Join(pluginSDKPins, "\n\t") + "\n)\n"
	if err := os.WriteFile(filepath.Join(tree, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	run(tree, "go", "mod", "tidy")
	bin := t.TempDir()
	run(tree, "go", "build", "-o", filepath.Join(bin, "session-manager-plugin"), "./src/sessionmanagerplugin-main")
	return bin
}

// ptyProc is a process on a pseudo-terminal whose output is collected.
type ptyProc struct {
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startOnPTY(t *testing.T, cmd *exec.Cmd, rows, cols uint16) *ptyProc {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyProc{cmd: cmd, tty: f, done: make(chan error, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { err := cmd.Wait(); <-copied; p.done <- err }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		f.Close()
	})
	return p
}

func (p *ptyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// expect waits until the output after offset from contains s and returns
// the offset past it.
func (p *ptyProc) expect(t *testing.T, from int, s string, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out := p.output()
		if i := strings.Index(out[min(from, len(out)):], s); i >= 0 {
			return from + i + len(s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal within %s; it shows:\n%s", s, within, out[min(from, len(out)):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *ptyProc) send(t *testing.T, s string) {
	t.Helper()
	if _, err := p.tty.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func (p *ptyProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("the process did not exit within %s; the terminal shows:\n%s", within, p.output())
		return -1
	}
}

// TestECSExec runs ECS Exec end to end with real containers: the aws CLI
// (v1, and v2 when /usr/bin/aws is Debian's v2)
// with AWS's session-manager-plugin gives an interactive shell through a
// pseudo-terminal (input, output, window resize, Ctrl-C, exit); berth exec
// returns the command's exit code; a task run without
// enableExecuteCommand is refused as ECS refuses it; and an EC2 task of a
// `berth agent` process takes berth exec too.
func TestECSExec(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	pluginDir := buildSessionManagerPlugin(t)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	cluster := uniqueName("exec")
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	td := ec2AndFargateDefinition(image)
	if _, err := c.RegisterTaskDefinition(ctx, td); err != nil {
		t.Fatal(err)
	}
	runTask := func(enable bool) string {
		out, err := c.RunTask(ctx, &ecs.RunTaskInput{
			Cluster: aws.String(cluster), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
			EnableExecuteCommand: enable,
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask: %+v %v", out, err)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		t.Cleanup(func() { cleanupTask(d, arn) })
		return arn
	}
	enabled, disabled := runTask(true), runTask(false)
	te := waitStatus(t, c, cluster, enabled, "RUNNING", p.log.String)
	webCtr := aws.ToString(te.Containers[0].RuntimeId)
	td2 := waitStatus(t, c, cluster, disabled, "RUNNING", p.log.String)
	if !te.EnableExecuteCommand || len(te.Containers[0].ManagedAgents) != 1 ||
		aws.ToString(te.Containers[0].ManagedAgents[0].LastStatus) != "RUNNING" ||
		te.Containers[0].ManagedAgents[0].Name != types.ManagedAgentNameExecuteCommandAgent {
		t.Fatalf("task with exec: enableExecuteCommand %v, managed agents %+v", te.EnableExecuteCommand, te.Containers[0].ManagedAgents)
	}
	if td2.EnableExecuteCommand || len(td2.Containers[0].ManagedAgents) != 0 {
		t.Fatalf("task without exec: %v %+v", td2.EnableExecuteCommand, td2.Containers[0].ManagedAgents)
	}

	// Refused as ECS refuses it.
	_, err := c.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{
		Cluster: aws.String(cluster), Task: aws.String(disabled), Container: aws.String("web"),
		Command: aws.String("/bin/sh"), Interactive: true,
	})
	var ae smithy.APIError
	const refusal = "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try the request again or run a new task with execute command enabled and try again."
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" || ae.ErrorMessage() != refusal {
		t.Fatalf("ExecuteCommand on a task without exec: %v", err)
	}

	// The answer's shape.
	ex, err := c.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{
		Cluster: aws.String(cluster), Task: aws.String(enabled), Command: aws.String("/bin/sh"), Interactive: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ex.TaskArn) != enabled || aws.ToString(ex.ContainerName) != "web" || !ex.Interactive ||
		aws.ToString(ex.ContainerArn) != aws.ToString(te.Containers[0].ContainerArn) || !strings.HasSuffix(aws.ToString(ex.ClusterArn), ":cluster/"+cluster) ||
		!strings.HasPrefix(aws.ToString(ex.Session.StreamUrl), "ws://"+p.Addr+"/v1/data-channel/"+aws.ToString(ex.Session.SessionId)) ||
		len(aws.ToString(ex.Session.TokenValue)) < 40 {
		t.Fatalf("ExecuteCommand answer: %+v session %+v", ex, ex.Session)
	}

	t.Run("berth exec returns the exit code", func(t *testing.T) {
		cmd := exec.Command(berthBin, "exec", "--server", p.URL, "--region", "eu-west-1", "--cluster", cluster,
			"--task", enabled, "--container", "web", "--command", `/bin/sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'`)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Fatalf("berth exec: %v, output %q", err, out)
		}
		// stdout and stderr are two pipes in the container: their order
		// is not kept; without a terminal there is no carriage return.
		if lines := strings.Split(string(out), "\n"); len(lines) != 3 || !slices.Contains(lines, "to-stdout") ||
			!slices.Contains(lines, "to-stderr") || lines[2] != "" {
			t.Fatalf("berth exec output %q", out)
		}
		out, err = exec.Command(berthBin, "exec", "--server", p.URL, "--region", "eu-west-1", "--cluster", cluster,
			"--task", enabled, "--command", "cat /www/health").Output()
		if err != nil || string(out) != "ok\n" {
			t.Fatalf("berth exec cat: %v %q", err, out)
		}
	})

	// The aws CLI v1 on PATH, and v2 where Debian's is installed.
	clis := map[string]string{"aws CLI v1": "aws"}
	if out, err := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
		clis["aws CLI v2"] = "/usr/bin/aws"
	}
	for name, awsBin := range clis {
		t.Run(name+" execute-command with the plugin", func(t *testing.T) {
			// --endpoint-url: CLI v2 before 2.13 ignores AWS_ENDPOINT_URL.
			cmd := exec.Command(awsBin, "--endpoint-url", p.URL, "ecs", "execute-command", "--cluster", cluster, "--task", enabled,
				"--container", "web", "--interactive", "--command", "/bin/sh")
			cmd.Env = append(os.Environ(),
				"PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"),
				"AWS_ENDPOINT_URL="+p.URL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
				"AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
				"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			)
			sh := startOnPTY(t, cmd, 40, 120)
			at := sh.expect(t, 0, "Starting session with SessionId", 30*time.Second)
			at = sh.expect(t, at, "# ", 30*time.Second)
			// Input and output: the shell computes what the test checks.
			sh.send(t, "echo sum-$((6*7))\r")
			at = sh.expect(t, at, "sum-42", 10*time.Second)
			// The terminal's size, then a resize (the plugin polls it).
			sh.send(t, "stty size\r")
			at = sh.expect(t, at, "40 120", 10*time.Second)
			if err := pty.Setsize(sh.tty, &pty.Winsize{Rows: 33, Cols: 101}); err != nil {
				t.Fatal(err)
			}
			// Ask until the size shows, each time waiting for the answer
			// (the marker's sum is not in the echoed command line).
			deadline := time.Now().Add(10 * time.Second)
			for {
				from := at
				sh.send(t, "stty size; echo size-$((1+2))\r")
				at = sh.expect(t, at, "size-3", 10*time.Second)
				if strings.Contains(sh.output()[from:at], "33 101") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the resize did not reach the container; the terminal shows:\n%s", sh.output()[from:])
				}
			}
			// Ctrl-C interrupts the foreground command, not the session.
			sh.send(t, "sleep 60; echo not-interrupted\r")
			at = sh.expect(t, at, "sleep 60; echo not-interrupted", 10*time.Second)
			eventually(t, 10*time.Second, func() (bool, string) {
				return runsIn(t, webCtr, "sleep 60"), "sleep 60 does not run in the container"
			})
			sh.send(t, "\x03")
			at = sh.expect(t, at, "# ", 10*time.Second)
			sh.send(t, "echo after-$((1+1))\r")
			at = sh.expect(t, at, "after-2", 10*time.Second)
			// after-2 came within seconds, so sleep 60 was interrupted, and
			// with it the rest of its line.
			if regexp.MustCompile(`(?m)^not-interrupted\r?$`).MatchString(sh.output()) {
				t.Fatalf("Ctrl-C did not interrupt the command line; the terminal shows:\n%s", sh.output())
			}
			// exit ends the session and the plugin.
			sh.send(t, "exit\r")
			sh.expect(t, at, "Exiting session with sessionId", 15*time.Second)
			if code := sh.wait(t, 15*time.Second); code != 0 {
				t.Fatalf("aws ecs execute-command exited %d", code)
			}
		})
	}

	t.Run("berth exec interactive", func(t *testing.T) {
		cmd := exec.Command(berthBin, "exec", "--server", p.URL, "--region", "eu-west-1", "--cluster", cluster,
			"--task", enabled, "--interactive", "--command", "/bin/sh")
		sh := startOnPTY(t, cmd, 24, 90)
		at := sh.expect(t, 0, "# ", 30*time.Second)
		sh.send(t, "stty size\r")
		at = sh.expect(t, at, "24 90", 10*time.Second)
		sh.send(t, "exit 5\r")
		if code := sh.wait(t, 15*time.Second); code != 5 {
			t.Fatalf("berth exec --interactive exited %d; the terminal shows:\n%s", code, sh.output())
		}
	})

	t.Run("EC2 task of a berth agent", func(t *testing.T) {
		ec2Cluster := uniqueName("exec-ec2")
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(ec2Cluster)}); err != nil {
			t.Fatal(err)
		}
		a := startAgent(t, p.URL, ec2Cluster, t.TempDir(), nil)
		logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
		waitInstance(t, c, ec2Cluster, true, logs)
		if _, err := c.RegisterTaskDefinition(ctx, ec2Definition(image)); err != nil {
			t.Fatal(err)
		}
		out, err := c.RunTask(ctx, &ecs.RunTaskInput{
			Cluster: aws.String(ec2Cluster), TaskDefinition: aws.String("sleeper"), LaunchType: types.LaunchTypeEc2,
			EnableExecuteCommand: true,
		})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask: %+v %v", out, err)
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		t.Cleanup(func() { cleanupTask(d, arn) })
		waitStatus(t, c, ec2Cluster, arn, "RUNNING", logs)
		b, err := exec.Command(berthBin, "exec", "--server", p.URL, "--region", "eu-west-1", "--cluster", ec2Cluster,
			"--task", arn, "--command", `/bin/sh -c 'echo from-ec2; exit 3'`).Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || string(b) != "from-ec2\n" {
			t.Fatalf("berth exec on an EC2 task: %v %q\n%s", err, b, logs())
		}
	})
}

// TestECSExecClientLeaves: a client that goes away mid-session ends the
// command in the container (nothing is left running there).
func TestECSExecClientLeaves(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	cluster := uniqueName("exec-leave")
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, ec2AndFargateDefinition(image)); err != nil {
		t.Fatal(err)
	}
	out, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(cluster), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		EnableExecuteCommand: true,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", out, err)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	tk := waitStatus(t, c, cluster, arn, "RUNNING", p.log.String)
	ctr := aws.ToString(tk.Containers[0].RuntimeId)
	for _, interactive := range []bool{true, false} {
		args := []string{"exec", "--server", p.URL, "--region", "eu-west-1", "--cluster", cluster, "--task", arn,
			"--command", "sleep 4242"}
		if interactive {
			args = append(args, "--interactive")
		}
		cmd := exec.Command(berthBin, args...)
		var sh *ptyProc
		if interactive {
			sh = startOnPTY(t, cmd, 24, 80)
		} else if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		running := func() bool { return runsIn(t, ctr, "sleep 4242") }
		deadline := time.Now().Add(20 * time.Second)
		for !running() {
			if time.Now().After(deadline) {
				t.Fatalf("the command never ran (interactive %v)", interactive)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		if sh != nil {
			sh.wait(t, 10*time.Second)
		} else {
			_ = cmd.Wait()
		}
		deadline = time.Now().Add(20 * time.Second)
		for running() {
			if time.Now().After(deadline) {
				t.Fatalf("sleep 4242 still runs in the container after its client left (interactive %v)", interactive)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// runsIn reports whether a process of container ctr has command line cmd.
func runsIn(t *testing.T, ctr, cmd string) bool {
	t.Helper()
	b, err := exec.Command("docker", "exec", ctr, "ps").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), cmd)
}
