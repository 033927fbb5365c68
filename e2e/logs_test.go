package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogsBoto3WireShapes drives every CloudWatch Logs operation berth
// serves with boto3 (testdata/logswire.py), with error paths, batch rules,
// paging and filter patterns, and checks every raw JSON answer against
// botocore's logs model.
func TestLogsBoto3WireShapes(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/logswire.py", "--endpoint", p.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "logs wire ok") {
		t.Fatalf("logs with boto3 (%v):\n%s", err, out)
	}
}

// TestLogsCLIAndRestart runs the aws logs commands with the aws
// CLI v1 (create, put, filter with each pattern kind, get), restarts the
// server and reads the same events back from disk.
func TestLogsCLIAndRestart(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	p := startBerth(t, dir, "--driver", "fake")
	work := t.TempDir()
	run := func(p *proc, args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, append([]string{"logs"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	run(p, "create-log-group", "--log-group-name", "/ecs/web-app")
	run(p, "put-retention-policy", "--log-group-name", "/ecs/web-app", "--retention-in-days", "7")
	run(p, "create-log-stream", "--log-group-name", "/ecs/web-app", "--log-stream-name", "ecs/web/1")
	now := time.Now().UnixMilli()
	lines := []string{
		`INFO starting`,
		`ERROR disk full on /data`,
		`{"level":"ERROR","latency":250,"user":{"id":7}}`,
		`{"level":"INFO","latency":20}`,
		`10.0.0.1 - bob [07/Dec/2026:05:00:00] "GET /index.html" 404 2048`,
		`10.0.0.2 - amy [07/Dec/2026:05:00:01] "GET /ok" 200 10`,
		`WARN slow request timeout`,
	}
	var evs []map[string]any
	for i, l := range lines {
		evs = append(evs, map[string]any{"timestamp": now + int64(i), "message": l})
	}
	b, _ := json.Marshal(evs)
	if err := os.WriteFile(filepath.Join(work, "events.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	run(p, "put-log-events", "--log-group-name", "/ecs/web-app", "--log-stream-name", "ecs/web/1", "--log-events", "file://events.json")
	filter := func(p *proc, pattern string) []string {
		t.Helper()
		var out struct{ Events []struct{ Message string } }
		if err := json.Unmarshal([]byte(run(p, "filter-log-events", "--log-group-name", "/ecs/web-app", "--filter-pattern", pattern)), &out); err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, e := range out.Events {
			msgs = append(msgs, e.Message)
		}
		return msgs
	}
	checks := []struct {
		pattern string
		want    []int
	}{
		{"ERROR", []int{1, 2}},
		{`"disk full"`, []int{1}},
		{"?WARN ?INFO", []int{0, 3, 6}},
		{"ERROR -disk", []int{2}},
		{`{ $.level = "ERROR" }`, []int{2}},
		{`{ $.latency > 100 || $.user.id = 7 }`, []int{2}},
		{`{ $.level != "ERROR" && $.latency < 100 }`, []int{3}},
		{`[ip, id, user, ts, request, status = 4*, bytes > 1000]`, []int{4}},
		{`[ip, ..., status = 2*, bytes]`, []int{5}},
	}
	check := func(p *proc) {
		t.Helper()
		for _, c := range checks {
			got := filter(p, c.pattern)
			var want []string
			for _, i := range c.want {
				want = append(want, lines[i])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("filter %q = %q, want %q", c.pattern, got, want)
			}
		}
	}
	check(p)
	// Bad input gets the service's exception.
	if _, err := p.aws(t, work, "logs", "filter-log-events", "--log-group-name", "/ecs/web-app", "--filter-pattern", "{ $.level = "); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := p.aws(t, work, "logs", "get-log-events", "--log-group-name", "/nope", "--log-stream-name", "x"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing group: %v", err)
	}

	p.stop()
	p = startBerthAt(t, p.Addr, dir, "--driver", "fake")
	check(p)
	var got struct{ Events []struct{ Message string } }
	json.Unmarshal([]byte(run(p, "get-log-events", "--log-group-name", "/ecs/web-app", "--log-stream-name", "ecs/web/1", "--start-from-head")), &got)
	if len(got.Events) != len(lines) || got.Events[6].Message != lines[6] {
		t.Fatalf("after restart get-log-events = %+v", got.Events)
	}
	var groups struct {
		LogGroups []struct{ RetentionInDays int }
	}
	json.Unmarshal([]byte(run(p, "describe-log-groups")), &groups)
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].RetentionInDays != 7 {
		t.Fatalf("after restart describe-log-groups = %+v", groups)
	}
}

// awsV2 is the aws CLI v2 (Debian's awscli package); "aws logs tail"
// exists only there. It does not read AWS_ENDPOINT_URL, so the endpoint
// goes in --endpoint-url.
func awsV2(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"/usr/bin/aws", "aws"} {
		if path, err := exec.LookPath(bin); err == nil {
			if out, err := exec.Command(path, "--version").Output(); err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
				return path
			}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the aws CLI v2 (apt-get install awscli) is required in CI")
	}
	t.Skip("SKIP: the aws CLI v2 is not installed")
	return ""
}

func v2Env(p *proc) []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=eu-west-1",
		"AWS_REGION=eu-west-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
}

// followTail runs "aws logs tail GROUP --follow" (CLI v2) and returns a
// channel of its output lines; it stops with the test.
func followTail(t *testing.T, aws string, p *proc, group string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, aws, "--endpoint-url", p.URL, "logs", "tail", group, "--follow", "--format", "short")
	cmd.Env = v2Env(p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); <-done })
	return lines
}

// waitLine waits for a line containing want.
func waitLine(t *testing.T, lines <-chan string, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tail ended before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("%q not seen within %v", want, within)
		}
	}
}

// TestLogsTailFollowV2 follows a group with "aws logs tail --follow" from
// the aws CLI v2 and sees events put after it started.
func TestLogsTailFollowV2(t *testing.T) {
	aws := awsV2(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	v2 := func(args ...string) {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", p.URL, "logs"}, args...)...)
		cmd.Env = v2Env(p)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
	}
	v2("create-log-group", "--log-group-name", "/ecs/tail")
	v2("create-log-stream", "--log-group-name", "/ecs/tail", "--log-stream-name", "s")
	put := func(msg string) {
		v2("put-log-events", "--log-group-name", "/ecs/tail", "--log-stream-name", "s", "--log-events",
			fmt.Sprintf("timestamp=%d,message=%s", time.Now().UnixMilli(), msg))
	}
	put("before-follow")
	lines := followTail(t, aws, p, "/ecs/tail")
	waitLine(t, lines, "before-follow", 30*time.Second)
	put("after-follow")
	waitLine(t, lines, "after-follow", 30*time.Second)
}
