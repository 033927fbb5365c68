package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
