package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// webFixture is the set-up the load-balanced service tests share (rolling,
// blue/green and canary, task sets): a berth server on Docker, the
// prod-cluster, revisions of the web-app task definition (busybox httpd on
// port 8080 answering its version on / and ok on /health), and an ALB,
// web-alb, whose target groups and listeners each test makes.
type webFixture struct {
	t       *testing.T
	d       *docker.Driver
	p       *proc       // the server; a test that restarts it sets p and c anew
	c       *ecs.Client // an SDK client of p
	dataDir string      // p's data directory
	ctx     context.Context
	work    string
	lbARN   string
	dns     string

	mu   sync.Mutex
	seen []string // task ARNs, removed from Docker when the test ends
}

// newWebFixture starts berth (with berthArgs), creates the cluster,
// registers web-app:1… answering versions[0]…, and creates the ALB.
func newWebFixture(t *testing.T, versions []string, berthArgs ...string) *webFixture {
	t.Helper()
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dataDir := t.TempDir()
	p := startBerth(t, dataDir, berthArgs...)
	f := &webFixture{t: t, d: d, p: p, c: ecsClient(p.URL), dataDir: dataDir, ctx: t.Context(), work: t.TempDir()}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, arn := range f.seen {
			cleanupTask(d, arn)
		}
	})
	f.run("ecs", "create-cluster", "--cluster-name", "prod-cluster")
	def := ec2AndFargateDefinition(image)
	for _, v := range versions {
		def.ContainerDefinitions[0].Command = []string{"sh", "-c", "mkdir -p /www && echo ok > /www/health && echo " + v + " > /www/index.html && exec httpd -f -p 8080 -h /www"}
		if _, err := f.c.RegisterTaskDefinition(f.ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	f.lbARN = f.query("LoadBalancers[0].LoadBalancerArn", "elbv2", "create-load-balancer", "--name", "web-alb", "--type", "application",
		"--subnets", "subnet-private-1a", "subnet-private-1b")
	f.dns = f.query("LoadBalancers[0].DNSName", "elbv2", "describe-load-balancers", "--load-balancer-arns", f.lbARN)
	return f
}

// run runs the aws CLI and fails the test (with the server's log) on an
// error.
func (f *webFixture) run(args ...string) string {
	f.t.Helper()
	out, err := f.p.aws(f.t, f.work, args...)
	if err != nil {
		f.t.Fatalf("%v\nserver log:\n%s", err, f.p.log.String())
	}
	return out
}

// try runs the aws CLI and returns its output and error.
func (f *webFixture) try(args ...string) (string, error) {
	f.t.Helper()
	return f.p.aws(f.t, f.work, args...)
}

// query runs the aws CLI with --query q, as text.
func (f *webFixture) query(q string, args ...string) string {
	f.t.Helper()
	return strings.TrimSpace(f.run(append(args, "--query", q, "--output", "text")...))
}

// targetGroup creates an HTTP target group of IP targets on port 8080,
// checked on /health every 5 s (2 to turn healthy), whose targets drain
// for deregistration seconds.
func (f *webFixture) targetGroup(name, deregistration string) string {
	f.t.Helper()
	arn := f.query("TargetGroups[0].TargetGroupArn", "elbv2", "create-target-group", "--name", name, "--protocol", "HTTP",
		"--port", "8080", "--target-type", "ip", "--vpc-id", "vpc-1", "--health-check-path", "/health",
		"--health-check-interval-seconds", "5", "--healthy-threshold-count", "2")
	f.run("elbv2", "modify-target-group-attributes", "--target-group-arn", arn, "--attributes", "Key=deregistration_delay.timeout_seconds,Value="+deregistration)
	return arn
}

// listener creates an HTTP listener of the ALB on a free port with the
// default actions given (the CLI's --default-actions value).
func (f *webFixture) listener(actions string) (arn, port string) {
	f.t.Helper()
	_, port, _ = net.SplitHostPort(freeAddr(f.t))
	arn = f.query("Listeners[0].ListenerArn", "elbv2", "create-listener", "--load-balancer-arn", f.lbARN, "--protocol", "HTTP",
		"--port", port, "--default-actions", actions)
	return arn, port
}

// targetStates is the states of a target group's targets.
func (f *webFixture) targetStates(tg string) []string {
	f.t.Helper()
	return strings.Fields(f.query("TargetHealthDescriptions[].TargetHealth.State", "elbv2", "describe-target-health", "--target-group-arn", tg))
}

// waitHealthy waits until a target group has n targets, all healthy.
func (f *webFixture) waitHealthy(tg string, n int, within time.Duration) {
	f.t.Helper()
	eventually(f.t, within, func() (bool, string) {
		st := f.targetStates(tg)
		return len(st) == n && !slices.ContainsFunc(st, func(s string) bool { return s != "healthy" }),
			"target health: " + strings.Join(st, " ")
	})
}

// get sends GET / through the ALB's listener on port (by its DNS name, as
// the shared front routes by Host) and returns the answer's body; an
// answer other than 200 is an error.
func (f *webFixture) get(client *http.Client, port string) (string, error) {
	req, _ := http.NewRequestWithContext(f.ctx, "GET", "http://127.0.0.1:"+port+"/", nil)
	req.Host = f.dns + ":" + port
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", &statusError{resp.StatusCode, string(b)}
	}
	return strings.TrimSpace(string(b)), nil
}

// track notes task ARNs for removal from Docker when the test ends.
func (f *webFixture) track(arns []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range arns {
		if !slices.Contains(f.seen, a) {
			f.seen = append(f.seen, a)
		}
	}
}

// statusError is an answer other than 200.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return "HTTP " + strconv.Itoa(e.code) + ": " + e.body }

// newestDeployment is web-service's newest service deployment.
func (f *webFixture) newestDeployment() (types.ServiceDeployment, bool) {
	ls, err := f.c.ListServiceDeployments(f.ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod-cluster"), Service: aws.String("web-service")})
	if err != nil || len(ls.ServiceDeployments) == 0 {
		return types.ServiceDeployment{}, false
	}
	ds, err := f.c.DescribeServiceDeployments(f.ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(ls.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(ds.ServiceDeployments) == 0 {
		return types.ServiceDeployment{}, false
	}
	return ds.ServiceDeployments[0], true
}

// waitStable waits for services-stable's condition on web-service (one
// deployment, COMPLETED, running its desired count), polled faster than
// the CLI's waiter (every 15 s) would.
func (f *webFixture) waitStable() {
	f.t.Helper()
	eventually(f.t, 90*time.Second, func() (bool, string) {
		out, err := f.c.DescribeServices(f.ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}})
		if err != nil || len(out.Services) != 1 {
			return false, fmt.Sprintf("describe-services: %v", err)
		}
		s := out.Services[0]
		return len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted,
			fmt.Sprintf("%d deployments, %d running of %d", len(s.Deployments), s.RunningCount, s.DesiredCount)
	})
}

// blueGreenPair is the set-up of a blue/green deployment behind the ALB.
type blueGreenPair struct {
	blueTG, greenTG string // target groups web-blue and web-green
	prodPort        string // the production listener's port
	prodRule        string // its rule: every path, forward
	forward         string // the rule's actions: blue 100, green 0
}

// blueGreenPair makes the two target groups and a production listener
// (404 by default) whose rule forwards every path to blue.
func (f *webFixture) blueGreenPair() blueGreenPair {
	f.t.Helper()
	var b blueGreenPair
	b.blueTG, b.greenTG = f.targetGroup("web-blue", "2"), f.targetGroup("web-green", "2")
	var listener string
	listener, b.prodPort = f.listener("Type=fixed-response,FixedResponseConfig={StatusCode=404}")
	b.forward = fmt.Sprintf(`[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":%q,"Weight":100},{"TargetGroupArn":%q,"Weight":0}]}}]`, b.blueTG, b.greenTG)
	b.prodRule = f.query("Rules[0].RuleArn", "elbv2", "create-rule", "--listener-arn", listener, "--priority", "10",
		"--conditions", "Field=path-pattern,Values=/*", "--actions", b.forward)
	return b
}
