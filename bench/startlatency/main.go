// Command startlatency measures how long berth takes to start a task whose
// image is already present, against the docker CLI starting the same
// containers in the same run.
//
// berth is the real thing: the berth binary (built from ./cmd/berth) runs
// as a server with the Docker driver and its embedded store, plus a
// `berth agent` process for an EC2 cluster; aws-sdk-go-v2 calls RunTask and
// then DescribeTasks every -poll until lastStatus is RUNNING. The cases, run
// interleaved -n times each:
//
//	berth FARGATE awsvpc  a Fargate task (cpu -cpu, memory 512) on the managed
//	                      capacity: a network sandbox, then the container
//	berth FARGATE +port   the same task with a port mapping (8080/tcp), as
//	                      the seed's and every task behind a load balancer
//	docker none+join      docker run -d --network none (the sandbox), then
//	                      the container with --network container:<sandbox>
//	                      and the task's CPU limit (--cpus, as berth's task
//	                      cgroup imposes it)
//	docker bridge+join    the same, the sandbox on Docker's default bridge
//	                      (a netns with an address)
//	docker awsvpc+join    the same, the sandbox on berth's awsvpc network
//	                      (what berth's sandbox is)
//	berth EC2 bridge      a bridge task on the `berth agent` instance
//	docker run -d         docker run -d of the same image, command, memory
//
// The container is busybox `sleep 600` with initProcessEnabled (--init) and
// 32 MiB. It prints medians and p90s, the berth/docker ratios, the server's
// startedAt − createdAt, the CPU each process spent per start, and where
// berth's time goes (from the Docker daemon's create/start event times;
// -trace adds berth's Docker API and agent API calls, through logging
// proxies that add a little latency).
//
//	go run ./bench/startlatency [-n 20] [-poll 10ms] [-cpu 256] [-trace] [-berth ./berth]
//
// -base-berth adds a second build (say, of the previous commit) to the same
// run, as "base", to compare builds under the same load.
//
// Docker must be running; the image is built offline from the host's
// static busybox. Every loop is bounded by count and time; traffic goes to
// loopback and to the containers it creates only.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/bench/harness"
	"github.com/berth-dev/berth/bench/stats"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
)

const (
	image        = "berth-test/busybox:latest"
	sandboxImage = docker.DefaultSandboxImage
	awsvpcNet    = docker.DefaultAWSVPCNetwork
	runLabel     = "berth.bench.startlatency"
	startLabel   = "berth.bench.start" // one start of a docker case
	roleLabel    = "berth.bench.role"  // sandbox or app
)

func main() {
	n := flag.Int("n", 20, "starts per case")
	poll := flag.Duration("poll", 10*time.Millisecond, "DescribeTasks polling interval")
	cpu := flag.Int("cpu", 256, "CPU units of the Fargate task (its containers' CPU limit)")
	bin := flag.String("berth", "", "berth binary to run (default: go build ./cmd/berth)")
	baseBin := flag.String("base-berth", "", "a second berth binary (e.g. a build of an earlier commit) measured in the same run, as \"base\"")
	maxTime := flag.Duration("max-time", 20*time.Minute, "upper bound on the whole run")
	verbose := flag.Bool("v", false, "print every start")
	trace := flag.Bool("trace", false, "route berth's Docker API calls through a logging proxy and print their timeline (adds a little latency)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if err := run(ctx, *n, *poll, *cpu, *bin, *baseBin, *verbose, *trace); err != nil {
		fmt.Fprintln(os.Stderr, "startlatency:", err)
		os.Exit(1)
	}
}

// sample is one start.
type sample struct {
	wall time.Duration // client: request sent → RUNNING seen (docker: the CLI returned)
	// berth only
	call      time.Duration // the RunTask call
	server    time.Duration // startedAt − createdAt
	createdAt time.Time
	startedAt time.Time
	seenAt    time.Time
	t0        time.Time
	marks     []mark       // daemon events of the task's containers
	calls     []tracedCall // berth's Docker API calls (-trace)
	cpu       cpuSample    // CPU time spent during the start, by process
	dep       string       // the deployment's process name prefix ("berth ", "base ")
}

type mark struct {
	at     time.Time
	action string // create, start
	role   string // sandbox, app
}

type bench struct {
	docker  *client.Client
	poll    time.Duration
	verbose bool
	ev      *eventLog
	tr      *tracer // nil without -trace
	seq     int
	procs   map[string]int // process name → pid, for CPU accounting
	cpus    string         // the Fargate task's CPU limit, as docker --cpus
}

func run(ctx context.Context, n int, poll time.Duration, cpu int, bin, baseBin string, verbose, trace bool) error {
	tmp, err := os.MkdirTemp("", "berth-startlatency")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		// Not tmp/berth: that is the berth deployment's directory below.
		bin = filepath.Join(tmp, "bin", "berth")
		if err := harness.BuildBerth(ctx, bin); err != nil {
			return err
		}
	}
	d, err := harness.Docker(ctx, image)
	if err != nil {
		return err
	}
	defer d.Close()

	ev, err := watchEvents(ctx, d.Client())
	if err != nil {
		return err
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000)
	defer cleanupContainers(d.Client(), suffix)

	var tr *tracer
	env := os.Environ()
	if trace {
		sock := filepath.Join(tmp, "docker.sock")
		if tr, err = startTracer(sock); err != nil {
			return err
		}
		defer tr.close()
		env = append(env, "DOCKER_HOST=unix://"+sock)
	}
	b := &bench{
		docker: d.Client(), poll: poll, verbose: verbose, ev: ev, tr: tr,
		cpus:  strconv.FormatFloat(float64(cpu)/1024, 'f', -1, 64),
		procs: map[string]int{},
	}
	for name, pidFile := range map[string]string{"dockerd": "/var/run/docker.pid", "containerd": "/var/run/docker/containerd/containerd.pid"} {
		if pid, err := readPid(pidFile); err == nil {
			b.procs[name] = pid
		}
	}
	bins := []string{bin}
	if baseBin != "" {
		bins = append(bins, baseBin)
	}
	var deps []*deployment
	for i, bin := range bins {
		dep := &deployment{b: b, name: "berth", bin: bin, suffix: suffix}
		if i > 0 {
			dep.name, dep.suffix = "base", suffix+"b"
		}
		defer dep.stop()
		if err := dep.start(ctx, filepath.Join(tmp, "deploy-"+dep.name), env, cpu); err != nil {
			return fmt.Errorf("%s (%s): %w", dep.name, bin, err)
		}
		deps = append(deps, dep)
	}
	logs := func() string {
		var sb strings.Builder
		for _, dep := range deps {
			fmt.Fprintf(&sb, "%s server log:\n%s\n%s agent log:\n%s\n", dep.name, dep.serverLog.String(), dep.name, dep.agentLog.String())
		}
		return sb.String()
	}

	type kase struct {
		name  string
		start func(ctx context.Context) (sample, error)
	}
	var cases []kase
	for _, dep := range deps {
		cases = append(cases, kase{dep.name + " FARGATE awsvpc", func(ctx context.Context) (sample, error) {
			return dep.task(ctx, dep.fargateCluster, dep.fargateTD, types.LaunchTypeFargate)
		}}, kase{dep.name + " FARGATE +port", func(ctx context.Context) (sample, error) {
			return dep.task(ctx, dep.fargateCluster, dep.fargatePortTD, types.LaunchTypeFargate)
		}})
	}
	cases = append(cases,
		kase{"docker none+join", func(ctx context.Context) (sample, error) { return b.dockerJoin(ctx, suffix, "none") }},
		kase{"docker bridge+join", func(ctx context.Context) (sample, error) { return b.dockerJoin(ctx, suffix, "bridge") }},
		kase{"docker awsvpc+join", func(ctx context.Context) (sample, error) { return b.dockerJoin(ctx, suffix, awsvpcNet) }},
	)
	for _, dep := range deps {
		cases = append(cases, kase{dep.name + " EC2 bridge", func(ctx context.Context) (sample, error) {
			return dep.task(ctx, dep.ec2Cluster, dep.ec2TD, types.LaunchTypeEc2)
		}})
	}
	cases = append(cases, kase{"docker run -d", func(ctx context.Context) (sample, error) { return b.dockerRun(ctx, suffix) }})
	// Warm up every path once (the managed agent starts, the sandbox
	// image and the awsvpc network are created, connections open).
	for _, c := range cases {
		if _, err := c.start(ctx); err != nil {
			return fmt.Errorf("warm-up %s: %w\n%s", c.name, err, logs())
		}
	}
	load := stats.LoadAvg()
	results := make([][]sample, len(cases))
	for i := range n {
		// Rotate the order, so that no case always follows another.
		for j := range cases {
			k := (i + j) % len(cases)
			s, err := cases[k].start(ctx)
			if err != nil {
				return fmt.Errorf("%s (run %d): %w\n%s", cases[k].name, i, err, logs())
			}
			results[k] = append(results[k], s)
			if verbose {
				fmt.Printf("%-22s run %2d  %7.1f ms\n", cases[k].name, i, stats.Ms(s.wall))
			}
		}
	}

	fmt.Printf("start latency, image present, %d starts per case, interleaved; DescribeTasks polled every %s; Fargate task cpu %d (--cpus %s)\n", n, poll, cpu, b.cpus)
	fmt.Printf("load average before: %s, after: %s (2 CPUs shared: figures are noisy)\n\n", load, stats.LoadAvg())
	fmt.Printf("%-22s %9s %9s %9s %9s\n", "case", "p50 ms", "p90 ms", "min ms", "srv p50")
	walls := map[string][]time.Duration{}
	for k, c := range cases {
		var w, srvd []time.Duration
		for _, s := range results[k] {
			w = append(w, s.wall)
			if s.server > 0 {
				srvd = append(srvd, s.server)
			}
		}
		walls[c.name] = w
		srvCol := "-"
		if len(srvd) > 0 {
			srvCol = fmt.Sprintf("%.1f", stats.Ms(stats.Percentile(srvd, 50)))
		}
		fmt.Printf("%-22s %9.1f %9.1f %9.1f %9s\n", c.name, stats.Ms(stats.Percentile(w, 50)), stats.Ms(stats.Percentile(w, 90)), stats.Ms(stats.Percentile(w, 0)), srvCol)
	}
	fmt.Println("\n(srv: the task's startedAt − createdAt as DescribeTasks reports them)")
	fmt.Println()
	ratio := func(a, b string) {
		x, y := walls[a], walls[b]
		fmt.Printf("ratio %-22s / %-20s p50 %.2fx  p90 %.2fx\n", a, b, stats.Ms(stats.Percentile(x, 50))/stats.Ms(stats.Percentile(y, 50)), stats.Ms(stats.Percentile(x, 90))/stats.Ms(stats.Percentile(y, 90)))
	}
	for _, dep := range deps {
		ratio(dep.name+" FARGATE awsvpc", "docker none+join")
		ratio(dep.name+" FARGATE awsvpc", "docker bridge+join")
		ratio(dep.name+" FARGATE awsvpc", "docker awsvpc+join")
		ratio(dep.name+" FARGATE +port", "docker none+join")
		ratio(dep.name+" FARGATE +port", "docker bridge+join")
		ratio(dep.name+" FARGATE +port", "docker awsvpc+join")
		ratio(dep.name+" EC2 bridge", "docker run -d")
	}
	if len(deps) > 1 {
		ratio("berth FARGATE awsvpc", "base FARGATE awsvpc")
		ratio("berth FARGATE +port", "base FARGATE +port")
		ratio("berth EC2 bridge", "base EC2 bridge")
	}
	fmt.Println()
	fmt.Println("CPU ms per start, RunTask sent → RUNNING seen (mean; /proc, 10 ms ticks; shims and runc not counted):")
	names := []string{"berth server", "berth agent", "bench client", "docker CLI", "dockerd", "containerd"}
	fmt.Printf("%-22s", "case")
	for _, n := range names {
		fmt.Printf(" %12s", n)
	}
	fmt.Println()
	for k, c := range cases {
		fmt.Printf("%-22s", c.name)
		for _, n := range names {
			var sum time.Duration
			for _, s := range results[k] {
				key := n
				if strings.HasPrefix(n, "berth ") && s.dep != "" {
					key = s.dep + strings.TrimPrefix(n, "berth ") // the deployment's own processes
				}
				sum += s.cpu[key]
			}
			fmt.Printf(" %12.1f", stats.Ms(sum)/float64(max(len(results[k]), 1)))
		}
		fmt.Println()
	}
	fmt.Println()
	for k, c := range cases {
		breakdown(c.name, results[k])
		if tr != nil && !strings.HasPrefix(c.name, "docker") {
			timeline(c.name, results[k])
		}
	}
	return nil
}

// breakdown prints the median of each step of berth's starts, from the
// client's clock and the Docker daemon's event times (one host, one clock).
func breakdown(name string, ss []sample) {
	type step struct {
		label string
		vals  []time.Duration
	}
	var steps []*step
	get := func(label string) *step {
		for _, s := range steps {
			if s.label == label {
				return s
			}
		}
		s := &step{label: label}
		steps = append(steps, s)
		return s
	}
	for _, s := range ss {
		prev, prevLabel := s.t0, "sent"
		add := func(label string, at time.Time) {
			if at.IsZero() {
				return
			}
			get(prevLabel + " → " + label).vals = append(get(prevLabel+" → "+label).vals, at.Sub(prev))
			prev, prevLabel = at, label
		}
		if s.call > 0 {
			add("RunTask answered", s.t0.Add(s.call))
		}
		for _, m := range s.marks {
			add(m.role+" "+m.action, m.at)
		}
		add("startedAt (agent)", s.startedAt)
		if s.call > 0 {
			add("RUNNING seen", s.seenAt)
		} else {
			add("CLI returned", s.seenAt)
		}
	}
	fmt.Printf("%s: where the time goes (medians of each step; daemon event times)\n", name)
	for _, st := range steps {
		fmt.Printf("  %-46s %7.1f ms  (n=%d)\n", st.label, stats.Ms(stats.Percentile(st.vals, 50)), len(st.vals))
	}
	fmt.Println()
}

// deployment is one berth build under test: its server, with the managed
// (Fargate) capacity, and a `berth agent` process for an EC2 cluster.
type deployment struct {
	b              *bench
	name           string // "berth", or "base" for -base-berth
	bin, suffix    string
	ecs            *ecs.Client
	srv, agent     *exec.Cmd
	serverLog      bytes.Buffer
	agentLog       bytes.Buffer
	fargateCluster string
	ec2Cluster     string
	fargateTD      string
	fargatePortTD  string // with a port mapping
	ec2TD          string
}

func (dep *deployment) start(ctx context.Context, dir string, env []string, cpu int) error {
	b := dep.b
	addr := harness.FreeAddr()
	url := "http://" + addr
	dep.srv = exec.Command(dep.bin, "server", "--listen", addr, "--data-dir", filepath.Join(dir, "server"), "--log-level", "warn")
	dep.srv.Stdout, dep.srv.Stderr, dep.srv.Env = &dep.serverLog, &dep.serverLog, env
	if err := dep.srv.Start(); err != nil {
		return err
	}
	b.procs[dep.name+" server"] = dep.srv.Process.Pid
	if err := harness.WaitUp(ctx, url); err != nil {
		return fmt.Errorf("server: %w\n%s", err, dep.serverLog.String())
	}
	dep.ecs = ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	})
	dep.fargateCluster, dep.ec2Cluster = "startlat-fargate-"+dep.suffix, "startlat-ec2-"+dep.suffix
	for _, c := range []string{dep.fargateCluster, dep.ec2Cluster} {
		if _, err := dep.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(c)}); err != nil {
			return err
		}
	}
	agentURL := url
	if b.tr != nil {
		var err error
		if agentURL, err = b.tr.proxyAPI(url); err != nil {
			return err
		}
	}
	dep.agent = exec.Command(dep.bin, "agent", "--cluster", dep.ec2Cluster, "--server", agentURL, "--region", "us-east-1",
		"--data-dir", filepath.Join(dir, "agent"), "--log-level", "warn")
	dep.agent.Env = append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	dep.agent.Stdout, dep.agent.Stderr = &dep.agentLog, &dep.agentLog
	if err := dep.agent.Start(); err != nil {
		return err
	}
	b.procs[dep.name+" agent"] = dep.agent.Process.Pid
	if err := dep.waitInstance(ctx); err != nil {
		return fmt.Errorf("%w\nagent log:\n%s", err, dep.agentLog.String())
	}
	var err error
	dep.fargateTD, dep.fargatePortTD, dep.ec2TD, err = dep.register(ctx, cpu)
	return err
}

// stop ends the agent and the server (their containers stay; the bench
// removes them).
func (dep *deployment) stop() {
	if dep.agent != nil {
		harness.StopProcess(dep.agent)
	}
	if dep.srv != nil {
		harness.StopProcess(dep.srv)
	}
}

func (dep *deployment) register(ctx context.Context, cpu int) (fargate, fargatePort, ec2 string, err error) {
	suffix := dep.suffix
	ctr := types.ContainerDefinition{
		Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true),
		Command: []string{"sleep", "600"}, Memory: aws.Int32(32), StopTimeout: aws.Int32(2),
		LinuxParameters: &types.LinuxParameters{InitProcessEnabled: aws.Bool(true)},
	}
	out, err := dep.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("startlat-fargate-" + suffix), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String(strconv.Itoa(cpu)), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{ctr},
	})
	if err != nil {
		return "", "", "", err
	}
	fargate = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	withPort := ctr
	withPort.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}}
	out, err = dep.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("startlat-fargate-port-" + suffix), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String(strconv.Itoa(cpu)), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{withPort},
	})
	if err != nil {
		return "", "", "", err
	}
	fargatePort = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	out, err = dep.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("startlat-ec2-" + suffix), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions:    []types.ContainerDefinition{ctr},
	})
	if err != nil {
		return "", "", "", err
	}
	return fargate, fargatePort, aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// waitInstance waits until the cluster has a connected container instance.
func (dep *deployment) waitInstance(ctx context.Context) error {
	cluster := dep.ec2Cluster
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		l, err := dep.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		if err == nil && len(l.ContainerInstanceArns) > 0 {
			d, err := dep.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
				Cluster: aws.String(cluster), ContainerInstances: l.ContainerInstanceArns})
			if err == nil && len(d.ContainerInstances) > 0 && d.ContainerInstances[0].AgentConnected {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the agent did not connect within 30s")
}

// berthTask runs one task, waits until it is RUNNING, then stops it and
// waits until it is STOPPED (not timed) and removes its containers.
func (dep *deployment) task(ctx context.Context, cluster, td string, lt types.LaunchType) (sample, error) {
	b := dep.b
	in := &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(td), LaunchType: lt}
	if lt == types.LaunchTypeFargate {
		in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-0123456789abcdef0"}}}
	}
	var s sample
	cpu0 := b.cpuNow()
	s.t0 = time.Now()
	s.dep = dep.name + " "
	out, err := dep.ecs.RunTask(ctx, in)
	if err != nil {
		return s, err
	}
	s.call = time.Since(s.t0)
	if len(out.Tasks) != 1 {
		return s, fmt.Errorf("RunTask: %d tasks, failures %v", len(out.Tasks), out.Failures)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	t, err := dep.waitStatus(ctx, cluster, arn, "RUNNING", b.poll, 30*time.Second)
	if err != nil {
		return s, err
	}
	s.seenAt = time.Now()
	s.cpu = b.cpuNow().sub(cpu0)
	s.wall = s.seenAt.Sub(s.t0)
	s.createdAt, s.startedAt = aws.ToTime(t.CreatedAt), aws.ToTime(t.StartedAt)
	if !s.createdAt.IsZero() && !s.startedAt.IsZero() {
		s.server = s.startedAt.Sub(s.createdAt)
	}
	s.marks = b.ev.marksOf(map[string]string{driver.LabelTaskARN: arn}, 4)
	if b.tr != nil {
		s.calls = b.tr.between(s.t0, s.seenAt)
	}

	if _, err := dep.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn)}); err != nil {
		return s, err
	}
	if _, err := dep.waitStatus(ctx, cluster, arn, "STOPPED", 20*time.Millisecond, 30*time.Second); err != nil {
		return s, err
	}
	// The runner keeps stopped containers for two minutes; remove them
	// now, so that no removal runs during a later measurement.
	harness.RemoveByLabel(ctx, b.docker, driver.LabelTaskARN+"="+arn)
	time.Sleep(100 * time.Millisecond)
	return s, nil
}

func (dep *deployment) waitStatus(ctx context.Context, cluster, arn, status string, every, limit time.Duration) (types.Task, error) {
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		d, err := dep.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err != nil {
			return types.Task{}, err
		}
		if len(d.Tasks) == 1 {
			t := d.Tasks[0]
			last = aws.ToString(t.LastStatus)
			if last == status {
				return t, nil
			}
			if last == "STOPPED" {
				return t, fmt.Errorf("task stopped: %s", aws.ToString(t.StoppedReason))
			}
		}
		time.Sleep(every)
	}
	return types.Task{}, fmt.Errorf("task %s not %s within %s (last %s)", arn, status, limit, last)
}

// dockerRun is the EC2 bridge baseline: docker run -d of the same image,
// command and limits as the task's container.
func (b *bench) dockerRun(ctx context.Context, suffix string) (sample, error) {
	b.seq++
	name := fmt.Sprintf("startlat-%s-run-%d", suffix, b.seq)
	var s sample
	cpu0 := b.cpuNow()
	s.t0 = time.Now()
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--init", "-m", "32m", "--label", runLabel+"="+suffix,
		"--label", startLabel+"="+name, "--name", name, image, "sleep", "600").CombinedOutput()
	s.wall = time.Since(s.t0)
	s.cpu = b.cpuNow().sub(cpu0)
	if err != nil {
		return s, fmt.Errorf("docker run: %v: %s", err, out)
	}
	s.seenAt = s.t0.Add(s.wall)
	s.marks = b.ev.marksOf(map[string]string{startLabel: name}, 2)
	b.dockerCleanup(ctx, name)
	return s, nil
}

// dockerJoin is the awsvpc baseline: a sandbox container holding the
// network namespace (on network), then the task's container joining it.
func (b *bench) dockerJoin(ctx context.Context, suffix, network string) (sample, error) {
	b.seq++
	sb := fmt.Sprintf("startlat-%s-sandbox-%d", suffix, b.seq)
	app := fmt.Sprintf("startlat-%s-app-%d", suffix, b.seq)
	var s sample
	cpu0 := b.cpuNow()
	s.t0 = time.Now()
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--network", network, "--label", runLabel+"="+suffix,
		"--label", startLabel+"="+app, "--label", roleLabel+"=sandbox", "--name", sb, sandboxImage).CombinedOutput()
	if err != nil {
		return s, fmt.Errorf("docker run (sandbox): %v: %s", err, out)
	}
	out, err = exec.CommandContext(ctx, "docker", "run", "-d", "--init", "-m", "32m", "--cpus", b.cpus, "--network", "container:"+sb,
		"--label", runLabel+"="+suffix, "--label", startLabel+"="+app, "--name", app, image, "sleep", "600").CombinedOutput()
	s.wall = time.Since(s.t0)
	s.cpu = b.cpuNow().sub(cpu0)
	if err != nil {
		return s, fmt.Errorf("docker run: %v: %s", err, out)
	}
	s.seenAt = s.t0.Add(s.wall)
	s.marks = b.ev.marksOf(map[string]string{startLabel: app}, 4)
	b.dockerCleanup(ctx, app, sb)
	return s, nil
}

func (b *bench) dockerCleanup(ctx context.Context, names ...string) {
	_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f"}, names...)...).Run()
	time.Sleep(100 * time.Millisecond)
}

// eventLog keeps the Docker daemon's create and start events.
type eventLog struct {
	mu   sync.Mutex
	msgs []events.Message
}

func watchEvents(ctx context.Context, cli *client.Client) (*eventLog, error) {
	l := &eventLog{}
	f := client.Filters{}.Add("type", string(events.ContainerEventType)).Add("event", "create", "start")
	res := cli.Events(ctx, client.EventsListOptions{Since: time.Now().UTC().Format(time.RFC3339Nano), Filters: f})
	go func() {
		for {
			select {
			case m := <-res.Messages:
				l.mu.Lock()
				l.msgs = append(l.msgs, m)
				l.mu.Unlock()
			case <-res.Err:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return l, nil
}

// marksOf returns the create and start events of containers carrying
// labels, in time order; it waits (briefly) for want of them.
func (l *eventLog) marksOf(labels map[string]string, want int) []mark {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		var out []mark
		l.mu.Lock()
		for _, m := range l.msgs {
			ok := true
			for k, v := range labels {
				ok = ok && m.Actor.Attributes[k] == v
			}
			if !ok {
				continue
			}
			role := "app"
			if m.Actor.Attributes[driver.LabelDriverPrefix+"role"] == "sandbox" || m.Actor.Attributes[roleLabel] == "sandbox" {
				role = "sandbox"
			}
			out = append(out, mark{at: time.Unix(0, m.TimeNano), action: string(m.Action), role: role})
		}
		l.mu.Unlock()
		if len(out) >= want || time.Now().After(deadline) {
			slices.SortStableFunc(out, func(a, b mark) int { return a.at.Compare(b.at) })
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cleanupContainers removes what a run leaves: berth's containers of the
// bench clusters (the server and agent leave them running) and the
// baselines'.
func cleanupContainers(cli *client.Client, suffix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	harness.RemoveByLabel(ctx, cli, runLabel+"="+suffix)
	for _, c := range []string{"startlat-fargate-" + suffix, "startlat-ec2-" + suffix, "startlat-fargate-" + suffix + "b", "startlat-ec2-" + suffix + "b"} {
		harness.RemoveByLabel(ctx, cli, driver.LabelCluster+"="+c)
	}
}
