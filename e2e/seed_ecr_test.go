package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ecrHost is the registry host name the tutorial uses.
const ecrHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

// TestSeedECRCommandsLiterally runs the tutorial's ECR commands exactly as
// written, AWS host name included: berth listens on 127.0.0.1:80 with
// --registry-host set to the ECR name, and /etc/hosts maps that name to
// 127.0.0.1 (docker allows plain HTTP to a registry that resolves to
// loopback). It edits /etc/hosts and binds port 80, so it runs only in CI
// (CI=true, as root) or when BERTH_E2E_ETC_HOSTS=1; /etc/hosts is restored
// afterwards.
func TestSeedECRCommandsLiterally(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("BERTH_E2E_ETC_HOSTS") != "1" {
		t.Skip("SKIP: edits /etc/hosts and binds port 80; set BERTH_E2E_ETC_HOSTS=1 (as root) to run")
	}
	requireAWSCLI(t)
	requireDocker(t)
	orig, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(orig, []byte(ecrHost)) {
		if err := os.WriteFile("/etc/hosts", append(append([]byte{}, orig...), []byte("\n127.0.0.1 "+ecrHost+"\n")...), 0o644); err != nil {
			t.Fatalf("edit /etc/hosts (needs root): %v", err)
		}
		t.Cleanup(func() { _ = os.WriteFile("/etc/hosts", orig, 0o644) })
	}
	p := startBerthAt(t, "127.0.0.1:80", t.TempDir(), "--registry-host", ecrHost)

	work := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello from the seed\n"), 0o644))
	must(os.WriteFile(filepath.Join(work, "Dockerfile"), []byte("FROM scratch\nCOPY hello.txt /\n"), 0o644))
	seed, _ := filepath.Abs("../testdata/seed/policy.json")
	must(os.WriteFile(filepath.Join(work, "policy.json"), mustRead(t, seed), 0o644))

	sh := func(script string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-ec", script)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"DOCKER_CONFIG="+filepath.Join(work, ".docker"), "DOCKER_BUILDKIT=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		_ = exec.Command("docker", "rmi", "-f", "web-app:latest", ecrHost+"/web-app:latest").Run()
	})

	out := sh(`aws ecr get-login-password --region eu-west-1 \
| docker login --username AWS --password-stdin \
123456789012.dkr.ecr.eu-west-1.amazonaws.com`)
	if !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login: %s", out)
	}
	out = sh(`aws ecr create-repository --repository-name web-app`)
	if !strings.Contains(out, `"repositoryUri": "`+ecrHost+`/web-app"`) {
		t.Errorf("create-repository: %s", out)
	}
	sh(`docker build -t web-app .
docker tag web-app:latest 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest
docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest`)
	out = sh(`aws ecr list-images --repository-name web-app --output table`)
	if !strings.Contains(out, "ListImages") || !strings.Contains(out, "latest") || !strings.Contains(out, "sha256:") {
		t.Errorf("list-images table:\n%s", out)
	}
	out = sh(`aws ecr put-lifecycle-policy --repository-name web-app --lifecycle-policy-text file://policy.json`)
	if !strings.Contains(out, `"repositoryName": "web-app"`) {
		t.Errorf("put-lifecycle-policy: %s", out)
	}
	// The image comes back from the registry under its ECR name.
	sh(`docker rmi -f 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest web-app:latest
docker pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest`)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
