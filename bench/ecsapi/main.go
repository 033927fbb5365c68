// Command ecsapi benchmarks berth's ECS API against moto_server in the same
// run: DescribeTaskDefinition, ListTaskDefinitions and RegisterTaskDefinition
// through the full HTTP + SigV4 path with aws-sdk-go-v2, reporting requests
// per second, p50/p99 latency and berth/moto ratios, plus berth's idle RSS.
// With -etcd (the default) a second berth on the etcd store
// (--store embedded-etcd) runs the same load, reported as etcd/bbolt ratios.
//
//	go run ./bench/ecsapi [-duration 5s] [-concurrency 4] [-moto moto_server] [-etcd=false]
//
// Without moto_server on PATH (pip install 'moto[server]') it measures
// berth alone and says so; wrk's figures are added when wrk is on PATH.
//
// Every loop is bounded by count and time; traffic goes to loopback only.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/berth-dev/berth/bench/harness"
)

const defaultMoto = "moto_server"

func main() {
	duration := flag.Duration("duration", 5*time.Second, "time per operation and target")
	conc := flag.Int("concurrency", 4, "concurrent clients")
	maxReq := flag.Int("max-requests", 200000, "upper bound on requests per operation and target")
	motoBin := flag.String("moto", defaultMoto, "moto_server binary (empty to skip)")
	withEtcd := flag.Bool("etcd", true, "also measure berth on the etcd store (--store embedded-etcd), as a ratio to the default bbolt store")
	flag.Parse()
	if *motoBin == defaultMoto {
		if _, err := exec.LookPath(defaultMoto); err != nil {
			fmt.Fprintln(os.Stderr, "bench: moto_server is not on PATH: measuring berth alone (pip install 'moto[server]' for the comparison)")
			*motoBin = ""
		}
	}
	if err := run(*duration, *conc, *maxReq, *motoBin, *withEtcd); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type target struct {
	name string
	url  string
	cmd  *exec.Cmd
}

func run(d time.Duration, conc, maxReq int, motoBin string, withEtcd bool) error {
	tmp, err := os.MkdirTemp("", "berth-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "berth")
	if err := harness.BuildBerth(context.Background(), bin); err != nil {
		return err
	}
	addr := harness.FreeAddr()
	berth := &target{name: "berth", url: "http://" + addr, cmd: exec.Command(bin, "server", "--listen", addr, "--data-dir", filepath.Join(tmp, "data"), "--log-level", "warn")}
	targets := []*target{berth}
	if withEtcd {
		eaddr := harness.FreeAddr()
		targets = append(targets, &target{name: "berth-etcd", url: "http://" + eaddr, cmd: exec.Command(bin, "server", "--listen", eaddr,
			"--data-dir", filepath.Join(tmp, "data-etcd"), "--store", "embedded-etcd", "--log-level", "warn")})
	}
	if motoBin != "" {
		maddr := harness.FreeAddr()
		host, port, _ := net.SplitHostPort(maddr)
		targets = append(targets, &target{name: "moto", url: "http://" + maddr, cmd: exec.Command(motoBin, "-H", host, "-p", port)})
	}
	for _, t := range targets {
		t.cmd.Stdout, t.cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
		if err := t.cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", t.name, err)
		}
		defer func() { _ = t.cmd.Process.Signal(syscall.SIGTERM); _ = t.cmd.Wait() }()
		if err := waitUp(t.url); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	fmt.Printf("berth idle RSS: %.1f MB (target < 40 MB)\n", rssMB(berth.cmd.Process.Pid))
	fmt.Printf("machine: %d clients, %s per operation and target\n\n", conc, d)

	results := map[string]map[string]stats{}
	ops := []string{"DescribeTaskDefinition", "ListTaskDefinitions", "RegisterTaskDefinition"}
	for _, t := range targets {
		results[t.name] = map[string]stats{}
		c := client(t.url)
		// The same data set on every target: 20 revisions of web-app.
		for range 20 {
			if _, err := c.RegisterTaskDefinition(context.Background(), registerInput("web-app")); err != nil {
				return fmt.Errorf("%s: setup: %w", t.name, err)
			}
		}
		for _, op := range ops {
			results[t.name][op] = load(c, op, d, conc, maxReq)
		}
	}
	fmt.Printf("%-24s %-10s %10s %9s %9s\n", "operation", "target", "req/s", "p50 ms", "p99 ms")
	for _, op := range ops {
		for _, t := range targets {
			s := results[t.name][op]
			fmt.Printf("%-24s %-10s %10.0f %9.2f %9.2f", op, t.name, s.rps, s.p50, s.p99)
			if s.errors > 0 {
				fmt.Printf("  (%d errors: %s)", s.errors, s.firstErr)
			}
			fmt.Println()
		}
		if m, ok := results["moto"][op]; ok && m.rps > 0 {
			b := results["berth"][op]
			fmt.Printf("%-24s ratio  berth/moto throughput %.1fx, moto/berth p99 %.1fx\n", op, b.rps/m.rps, m.p99/b.p99)
		}
		if e, ok := results["berth-etcd"][op]; ok && e.rps > 0 {
			b := results["berth"][op]
			fmt.Printf("%-24s ratio  etcd/bbolt throughput %.2fx, p99 %.2fx\n", op, e.rps/b.rps, e.p99/b.p99)
		}
	}
	if _, err := exec.LookPath("wrk"); err == nil {
		fmt.Printf("\nwrk (C load generator; one SigV4-signed request replayed, verified by the server every time), %d connections:\n", conc)
		fmt.Printf("%-24s %-10s %10s %9s %9s\n", "operation", "target", "req/s", "p50 ms", "p99 ms")
		bodies := map[string]string{
			"DescribeTaskDefinition": `{"taskDefinition":"web-app:1"}`,
			"ListTaskDefinitions":    `{"familyPrefix":"web-app","maxResults":10}`,
		}
		for _, op := range []string{"DescribeTaskDefinition", "ListTaskDefinitions"} {
			res := map[string]wrkResult{}
			for _, t := range targets {
				r, err := runWrk(tmp, t.url, op, bodies[op], d, conc)
				if err != nil {
					return err
				}
				res[t.name] = r
				fmt.Printf("%-24s %-10s %10.0f %9.2f %9.2f", op, t.name, r.rps, r.p50, r.p99)
				if r.non2xx > 0 {
					fmt.Printf("  (%d non-2xx)", r.non2xx)
				}
				fmt.Println()
			}
			if m, ok := res["moto"]; ok && m.rps > 0 {
				fmt.Printf("%-24s ratio  berth/moto throughput %.1fx, moto/berth p99 %.1fx\n", op, res["berth"].rps/m.rps, m.p99/res["berth"].p99)
			}
			if e, ok := res["berth-etcd"]; ok && e.rps > 0 {
				fmt.Printf("%-24s ratio  etcd/bbolt throughput %.2fx, p99 %.2fx\n", op, e.rps/res["berth"].rps, e.p99/res["berth"].p99)
			}
		}
	}
	fmt.Printf("\nberth RSS after load: %.1f MB\n", rssMB(berth.cmd.Process.Pid))
	return nil
}

type stats struct {
	rps, p50, p99 float64
	errors        int
	firstErr      string
}

func client(url string) *ecs.Client {
	return ecs.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, MaxIdleConns: 64,
		}},
		RetryMaxAttempts: 1,
	})
}

func registerInput(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("512"), Memory: aws.String("1024"),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/ecs-task-execution-role"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest"),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
			Environment:  []types.KeyValuePair{{Name: aws.String("ENV"), Value: aws.String("production")}},
			LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/web-app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web"}},
			HealthCheck: &types.HealthCheck{Command: []string{"CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"}},
		}},
	}
}

func load(c *ecs.Client, op string, d time.Duration, conc, maxReq int) stats {
	ctx := context.Background()
	// Each client registers into a family of its own, as concurrent
	// pipelines do; registrations into one family serialize on its
	// revision counter (in ECS too).
	call := func(worker int) error {
		var err error
		switch op {
		case "RegisterTaskDefinition":
			_, err = c.RegisterTaskDefinition(ctx, registerInput(fmt.Sprintf("bench-%d", worker)))
		case "DescribeTaskDefinition":
			_, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web-app:1")})
		case "ListTaskDefinitions":
			_, err = c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web-app"), MaxResults: aws.Int32(10)})
		}
		return err
	}
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr string
	var issued int
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				mu.Lock()
				if issued >= maxReq {
					mu.Unlock()
					break
				}
				issued++
				mu.Unlock()
				t0 := time.Now()
				err := call(w)
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	return stats{rps: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errs, firstErr: firstErr}
}

func waitUp(url string) error {
	for range 200 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", url)
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}
