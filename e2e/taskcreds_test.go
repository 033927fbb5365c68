package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// credsScript prints the task's credentials URI and what it serves, then
// what the URI in $STEAL (another task's) serves to this task, and sleeps.
const credsScript = `u=${AWS_CONTAINER_CREDENTIALS_FULL_URI:-http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}
get() { hp=${1#http://}; hp=${hp%%/*}; p=/${1#http://*/}; case $hp in *:*) ;; *) hp=$hp:80;; esac
  printf "GET $p HTTP/1.0\r\nHost: $hp\r\n\r\n" | nc -w 5 ${hp%:*} ${hp#*:} | sed '1,/^\r*$/d' | tr -d '\r\n'; echo; }
echo "URI $u"; echo "CREDS $(get $u)"
if [ -n "$STEAL" ]; then echo "STOLEN $(get $STEAL)"; fi
sleep 60`

// TestTaskRoleCredentials runs a task with a task role that trusts
// ecs-tasks.amazonaws.com: its container gets credentials from the agent's
// endpoint at 169.254.170.2, which berth's STS accepts as the assumed role
// (sts get-caller-identity with the aws CLI); a second task that uses the
// first one's URI is refused.
func TestTaskRoleCredentials(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	createExecutionRole(t, p)
	work := t.TempDir()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if err := os.WriteFile(work+"/trust.json", []byte(trust), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.aws(t, work, "iam", "create-role", "--role-name", "appTaskRole", "--assume-role-policy-document", "file://trust.json"); err != nil {
		t.Fatal(err)
	}
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	def := awslogsDefinition(image, "creds", "/ecs/creds", credsScript, true)
	def.TaskRoleArn = aws.String("arn:aws:iam::123456789012:role/appTaskRole")
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	arn := runAwslogsTask(t, c, "creds")
	t.Cleanup(func() { cleanupTask(d, arn) })
	got := taskOutput(t, p, arn, "/ecs/creds", "CREDS")
	var creds struct{ RoleArn, AccessKeyId, SecretAccessKey, Token, Expiration string }
	if err := json.Unmarshal([]byte(got["CREDS"]), &creds); err != nil || !strings.HasPrefix(creds.AccessKeyId, "ASIA") || creds.Token == "" {
		t.Fatalf("credentials %q: %v; log:\n%s", got["CREDS"], err, p.log.String())
	}
	if exp, err := time.Parse(time.RFC3339, creds.Expiration); err != nil || time.Until(exp) < 30*time.Minute {
		t.Fatalf("expiration %q", creds.Expiration)
	}
	// berth's STS accepts them as the role, assumed by the task.
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL, "AWS_ACCESS_KEY_ID="+creds.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.Token, "AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	taskID := arn[strings.LastIndexByte(arn, '/')+1:]
	if err != nil || strings.TrimSpace(string(out)) != "arn:aws:sts::123456789012:assumed-role/appTaskRole/"+taskID {
		t.Fatalf("get-caller-identity with the task's credentials: %v: %s", err, out)
	}

	// A second task is refused the first one's credentials.
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String("creds"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("web"),
			Environment: []types.KeyValuePair{{Name: aws.String("STEAL"), Value: aws.String(got["URI"])}}}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v", err)
	}
	arn2 := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn2) })
	got2 := taskOutput(t, p, arn2, "/ecs/creds", "STOLEN")
	if !strings.Contains(got2["STOLEN"], "AccessDenied") || strings.Contains(got2["STOLEN"], creds.AccessKeyId) {
		t.Fatalf("the second task read the first one's URI: %q", got2["STOLEN"])
	}
	if !strings.Contains(got2["CREDS"], "ASIA") {
		t.Fatalf("the second task's own credentials: %q", got2["CREDS"])
	}
}

// taskOutput waits for a task's awslogs stream to hold a line starting
// with key and returns its lines as key → rest.
func taskOutput(t *testing.T, p *proc, arn, group, key string) map[string]string {
	t.Helper()
	stream := "app/web/" + arn[strings.LastIndexByte(arn, '/')+1:]
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got := map[string]string{}
		if out, err := p.aws(t, ".", "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--start-from-head"); err == nil {
			var r struct{ Events []struct{ Message string } }
			_ = json.Unmarshal([]byte(out), &r)
			for _, e := range r.Events {
				k, v, _ := strings.Cut(e.Message, " ")
				got[k] = v
			}
		}
		if _, ok := got[key]; ok {
			return got
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no %s line in %s; log:\n%s", key, stream, p.log.String())
	return nil
}

// TestTaskRoleSDKInContainer runs a static Go binary (testdata/credprobe,
// aws-sdk-go-v2's container credentials provider and STS client) in a
// task with a task role: STS, which berth serves on 169.254.170.2 here so
// that the container reaches it, answers GetCallerIdentity with the
// assumed role. The probe then times 200 GETs of the credentials endpoint
// and of the metadata endpoint's /task (the peer), logged as p50/p99.
func TestTaskRoleSDKInContainer(t *testing.T) {
	requireAWSCLI(t)
	requireDocker(t)
	if out, err := exec.Command("ip", "addr", "add", "169.254.170.2/32", "dev", "lo").CombinedOutput(); err != nil &&
		!strings.Contains(string(out), "File exists") && !strings.Contains(string(out), "already assigned") {
		t.Skipf("SKIP: cannot add 169.254.170.2 to lo: %s", out)
	}
	bin := filepath.Join(t.TempDir(), "credprobe")
	build := exec.Command("go", "build", "-o", bin, "./testdata/credprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build credprobe: %v\n%s", err, out)
	}
	dd := dockertest.New(t)
	d := newDockerCLI(t)
	image := "berth-e2e-credprobe:" + strconv.Itoa(os.Getpid())
	d.importBinary(image, bin)
	ln, err := net.Listen("tcp", "169.254.170.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startBerthAt(t, addr, t.TempDir())
	createExecutionRole(t, p)
	work := t.TempDir()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	os.WriteFile(filepath.Join(work, "trust.json"), []byte(trust), 0o644)
	if _, err := p.aws(t, work, "iam", "create-role", "--role-name", "sdkRole", "--assume-role-policy-document", "file://trust.json"); err != nil {
		t.Fatal(err)
	}
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	def := awslogsDefinition(image, "sdk", "/ecs/sdk", "", true)
	def.TaskRoleArn = aws.String("arn:aws:iam::123456789012:role/sdkRole")
	def.ContainerDefinitions[0].Command = nil
	def.ContainerDefinitions[0].Environment = []types.KeyValuePair{
		{Name: aws.String("AWS_ENDPOINT_URL"), Value: aws.String(p.URL)}, {Name: aws.String("AWS_REGION"), Value: aws.String("eu-west-1")},
		{Name: aws.String("PROBE_N"), Value: aws.String("200")}}
	if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	arn := runAwslogsTask(t, c, "sdk")
	t.Cleanup(func() { cleanupTask(dd, arn) })
	got := taskOutput(t, p, arn, "/ecs/sdk", "LATENCY")
	taskID := arn[strings.LastIndexByte(arn, '/')+1:]
	if got["ARN"] != "arn:aws:sts::123456789012:assumed-role/sdkRole/"+taskID {
		t.Fatalf("GetCallerIdentity inside the container: %q (output %q)", got["ARN"], got)
	}
	f := strings.Fields(got["LATENCY"])
	if len(f) == 4 {
		t.Logf("credentials endpoint p50 %sµs p99 %sµs; metadata /task p50 %sµs p99 %sµs (200 sequential GETs from the container)", f[0], f[1], f[2], f[3])
	}
}

// importBinary makes an image holding one static binary as its entrypoint.
func (d *dockerCLI) importBinary(name, bin string) {
	d.t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		d.t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(bin), Mode: 0o755, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		d.t.Fatal(err)
	}
	tw.Write(b)
	tw.Close()
	file := filepath.Join(d.t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.images = append(d.images, name)
	d.must("import", "--change", `ENTRYPOINT ["/`+filepath.Base(bin)+`"]`, file, name)
}
