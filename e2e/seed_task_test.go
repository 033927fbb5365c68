package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedImageFiles is an offline web-app image for the tutorial's task
// definition: busybox's httpd serving /health on 8080, a `curl` that does
// what the seed's health check asks (curl -f URL), and a `serve --port N`
// command for the command override.
var seedImageFiles = map[string]string{
	"Dockerfile": `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY curl serve /bin/
COPY health /www/health
CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
`,
	"curl":   "#!/bin/sh\nfor a; do url=$a; done\nexec wget -q -O- \"$url\"\n",
	"serve":  "#!/bin/sh\nexec httpd -f -p \"${2:-8080}\" -h /www\n",
	"health": "ok\n",
}

// TestSeedTaskDefinitionRunsFromBerthECR is the tutorial end to end with the
// aws CLI: its task definition, unchanged (image
// 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest, the curl
// health check), runs on Fargate-style managed capacity with the image
// pulled from berth's own registry, turns HEALTHY, serves HTTP on its
// private IP, and stops cleanly.
func TestSeedTaskDefinitionRunsFromBerthECR(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	if _, err := os.Stat("/usr/bin/busybox"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("/usr/bin/busybox (busybox-static) is required in CI")
		}
		t.Skip("SKIP: /usr/bin/busybox (busybox-static) is not installed")
	}
	p := startBerth(t, t.TempDir())
	d := newDockerCLI(t)

	ctxDir := t.TempDir()
	for name, content := range seedImageFiles {
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	local := "berth-e2e-seed-web-app:" + strings.ReplaceAll(p.Addr, ":", "-")
	d.images = append(d.images, local)
	d.must("build", "-q", "-t", local, ctxDir)

	// Push it as web-app:latest to berth's ECR, the way the tutorial does.
	var repo struct {
		Repository struct{ RepositoryURI string }
	}
	if err := json.Unmarshal([]byte(p.awsOK(t, "ecr", "create-repository", "--repository-name", "web-app")), &repo); err != nil {
		t.Fatal(err)
	}
	uri := repo.Repository.RepositoryURI
	host, _, _ := strings.Cut(uri, "/")
	password := strings.TrimSpace(p.awsOK(t, "ecr", "get-login-password", "--region", "eu-west-1"))
	if out, err := d.run(password, "login", "--username", "AWS", "--password-stdin", host); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.tag(local, uri+":latest")
	d.must("push", uri+":latest")
	// The task's image must come from the registry, not the local cache.
	d.must("rmi", "-f", uri+":latest", local)

	p.awsOK(t, "ecs", "create-cluster", "--cluster-name", "prod-cluster")
	// The awslogs group the definition names (no awslogs-create-group).
	p.awsOK(t, "logs", "create-log-group", "--log-group-name", "/ecs/web-app")
	// The secret the definition names (arn:aws:secretsmanager:...:secret:db-password).
	p.awsOK(t, "secretsmanager", "create-secret", "--name", "db-password", "--secret-string", "s3cr3t")
	p.awsOK(t, "ecs", "register-task-definition", "--cli-input-json", "file://task-def.json")
	out := p.awsOK(t, "ecs", "run-task", "--cluster", "prod-cluster", "--task-definition", "web-app:1", "--launch-type", "FARGATE",
		"--network-configuration", "awsvpcConfiguration={subnets=[subnet-a],assignPublicIp=DISABLED}",
		"--overrides", `{"containerOverrides":[{"name":"web","command":["serve","--port","8080"]}]}`)
	var run struct {
		Tasks    []struct{ TaskArn string }
		Failures []any
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || len(run.Tasks) != 1 {
		t.Fatalf("run-task: %v\n%s", err, out)
	}
	arn := run.Tasks[0].TaskArn
	t.Cleanup(func() { _, _ = p.aws(t, ".", "ecs", "stop-task", "--cluster", "prod-cluster", "--task", arn) })

	type task struct {
		LastStatus, HealthStatus, StopCode, StoppedReason string
		Attachments                                       []struct {
			Details []struct{ Name, Value string }
		}
		Containers []struct {
			Name, LastStatus, HealthStatus, Reason string
			ExitCode                               *int
			NetworkInterfaces                      []struct{ PrivateIpv4Address string }
		}
	}
	describe := func() task {
		t.Helper()
		var out struct{ Tasks []task }
		if err := json.Unmarshal([]byte(p.awsOK(t, "ecs", "describe-tasks", "--cluster", "prod-cluster", "--tasks", arn)), &out); err != nil || len(out.Tasks) != 1 {
			t.Fatalf("describe-tasks: %v %+v", err, out)
		}
		return out.Tasks[0]
	}
	// The seed's health check runs every 30 s, so HEALTHY takes ~30 s.
	var tk task
	eventually(t, 150*time.Second, func() (bool, string) {
		tk = describe()
		status := fmt.Sprintf("task never became RUNNING and HEALTHY: %+v\nserver log:\n%s", tk, p.log.String())
		if tk.LastStatus == "STOPPED" {
			t.Fatal(status)
		}
		return tk.LastStatus == "RUNNING" && tk.HealthStatus == "HEALTHY", status
	})
	ip := ""
	for _, a := range tk.Attachments {
		for _, dt := range a.Details {
			if dt.Name == "privateIPv4Address" {
				ip = dt.Value
			}
		}
	}
	if ip == "" || len(tk.Containers) != 1 || len(tk.Containers[0].NetworkInterfaces) != 1 || tk.Containers[0].NetworkInterfaces[0].PrivateIpv4Address != ip {
		t.Fatalf("no private IP in attachments / networkInterfaces: %+v", tk)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + ip + ":8080/health")
	if err != nil {
		t.Fatalf("GET the task's /health: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /health = %d %q", resp.StatusCode, body)
	}
	if out := p.awsOK(t, "ecs", "list-tasks", "--cluster", "prod-cluster", "--desired-status", "RUNNING"); !strings.Contains(out, arn) {
		t.Errorf("list-tasks RUNNING: %s", out)
	}

	p.awsOK(t, "ecs", "stop-task", "--cluster", "prod-cluster", "--task", arn, "--reason", "done")
	eventually(t, 90*time.Second, func() (bool, string) {
		tk = describe()
		return tk.LastStatus == "STOPPED", fmt.Sprintf("task did not stop: %+v", tk)
	})
	if tk.StopCode != "UserInitiated" || tk.StoppedReason != "done" || tk.Containers[0].ExitCode == nil {
		t.Errorf("stopped task: %+v", tk)
	}
}
