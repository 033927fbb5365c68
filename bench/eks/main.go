// Command eks measures berth's EKS clusters with their real Kubernetes
// control plane (berth-kube), no Docker needed:
//
//   - CreateCluster → ACTIVE, and → the first successful list of nodes
//     with an `aws eks get-token` token (the API equivalent of `kubectl
//     get nodes`), each as a ratio to the issue's 10 s goal;
//
//   - the memory of one idle cluster: RSS and PSS of its control-plane
//     processes (kube-apiserver, kube-controller-manager, kube-scheduler,
//     children of berth) and the growth of berth's own RSS (the clusters'
//     embedded etcd lives in berth), as a ratio to the 400 MB goal;
//
//   - list latency of -configmaps ConfigMaps (GET
//     /api/v1/namespaces/default/configmaps with a bearer token) on
//     cluster A against the same on a second cluster B sharing the etcd,
//     interleaved, as the ratio B/A of the medians.
//
//     go run ./bench/eks [-configmaps 1000] [-lists 20] [-idle 20s] [-berth ./berth] [-berth-kube ./berth-kube]
//
// It builds berth and berth-kube (go build, with Kubernetes' version
// ldflags) unless given; berth-kube compiles Kubernetes, which takes
// about a minute with a warm Go build cache and about 16 minutes cold on
// 2 cores. It prints the load average with the figures. Traffic goes to
// loopback only; every loop is bounded by count and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/berth-dev/berth/bench/harness"
	"github.com/berth-dev/berth/bench/stats"
)

const region = "eu-west-1"

func main() {
	configMaps := flag.Int("configmaps", 1000, "ConfigMaps created on each cluster")
	lists := flag.Int("lists", 20, "lists of all ConfigMaps per cluster (interleaved A, B)")
	idle := flag.Duration("idle", 20*time.Second, "how long cluster A idles before its memory is read")
	bin := flag.String("berth", "", "berth binary to run (default: go build ./cmd/berth)")
	kubeBin := flag.String("berth-kube", "", "berth-kube binary (default: go build ./cmd/berth-kube next to berth)")
	maxTime := flag.Duration("max-time", 30*time.Minute, "upper bound on the whole run (a cold berth-kube build included)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if err := run(ctx, *configMaps, *lists, *idle, *bin, *kubeBin); err != nil {
		fmt.Fprintln(os.Stderr, "eks:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, configMaps, lists int, idle time.Duration, bin, kubeBin string) error {
	tmp, err := os.MkdirTemp("", "berth-bench-eks")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, kubeBin, err = binaries(ctx, tmp, bin, kubeBin)
	if err != nil {
		return err
	}
	addr := harness.FreeAddr()
	url := "http://" + addr
	var serverLog strings.Builder
	srv := exec.Command(bin, "server", "--listen", addr, "--data-dir", filepath.Join(tmp, "server"), "--log-level", "warn", "--driver", "fake")
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	srv.Env = append(os.Environ(), "BERTH_KUBE_BINARY="+kubeBin)
	if err := srv.Start(); err != nil {
		return err
	}
	defer harness.StopProcess(srv)
	if err := harness.WaitUp(ctx, url); err != nil {
		return fmt.Errorf("%w\n%s", err, serverLog.String())
	}
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	client := eks.NewFromConfig(aws.Config{Region: region, Credentials: credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
	fmt.Printf("EKS clusters on berth-kube, load average %s (2 cores)\n", stats.LoadAvg())
	rss0 := rssKB(srv.Process.Pid)

	a, err := create(ctx, client, creds, "bench-a")
	if err != nil {
		return fmt.Errorf("cluster A: %w\nserver log:\n%s", err, serverLog.String())
	}
	fmt.Printf("CreateCluster → ACTIVE %v (%.2f× the 10 s goal), → first list of nodes with a get-token token %v (%.2f×)\n",
		a.toActive.Round(time.Millisecond), a.toActive.Seconds()/10, a.toNodes.Round(time.Millisecond), a.toNodes.Seconds()/10)

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(idle):
	}
	m := controlPlaneMemory(srv.Process.Pid)
	grow := rssKB(srv.Process.Pid) - rss0
	fmt.Printf("idle cluster after %v: control plane RSS %.0f MB, PSS %.0f MB (%d processes: %s); berth's own RSS grew %.0f MB (the clusters' etcd); with it RSS %.0f MB = %.2f× the 400 MB goal, PSS %.0f MB = %.2f× (RSS counts berth-kube's shared pages once per process)\n",
		idle, mb(m.rss), mb(m.pss), m.procs, strings.Join(m.names, ", "), mb(grow), mb(m.rss+grow), mb(m.rss+grow)/400,
		mb(m.pss+grow), mb(m.pss+grow)/400)

	b, err := create(ctx, client, creds, "bench-b")
	if err != nil {
		return fmt.Errorf("cluster B: %w\nserver log:\n%s", err, serverLog.String())
	}
	both := controlPlaneMemory(srv.Process.Pid)
	fmt.Printf("second cluster: CreateCluster → ACTIVE %v, → first list of nodes %v; control planes of both: RSS %.0f MB, PSS %.0f MB\n",
		b.toActive.Round(time.Millisecond), b.toNodes.Round(time.Millisecond), mb(both.rss), mb(both.pss))
	for _, c := range []*cluster{a, b} {
		if err := c.fill(ctx, configMaps); err != nil {
			return fmt.Errorf("%s: creating ConfigMaps: %w", c.name, err)
		}
	}
	la, lb, err := interleavedLists(ctx, a, b, lists, configMaps)
	if err != nil {
		return err
	}
	ma, mb := stats.Percentile(la, 50), stats.Percentile(lb, 50)
	fmt.Printf("list %d ConfigMaps, %d times each, interleaved: cluster A p50 %.1f ms (max %.1f), cluster B p50 %.1f ms (max %.1f); B/A %.2f\n",
		configMaps, lists, stats.Ms(ma), stats.Ms(stats.Percentile(la, 100)), stats.Ms(mb), stats.Ms(stats.Percentile(lb, 100)),
		float64(mb)/float64(max(ma, 1)))
	fmt.Printf("load average after: %s\n", stats.LoadAvg())
	return nil
}

// binaries returns berth's and berth-kube's binaries, building them
// when not given (berth-kube next to berth, where berth server also looks
// for it).
func binaries(ctx context.Context, tmp, bin, kubeBin string) (string, string, error) {
	if bin == "" {
		bin = filepath.Join(tmp, "bin", "berth")
		if err := harness.BuildBerth(ctx, bin); err != nil {
			return "", "", err
		}
	}
	if kubeBin != "" {
		abs, err := filepath.Abs(kubeBin)
		if err != nil {
			return "", "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", "", fmt.Errorf("berth-kube: %w", err)
		}
		return bin, abs, nil
	}
	next, err := filepath.Abs(filepath.Join(filepath.Dir(bin), "berth-kube"))
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(next); err == nil {
		return bin, next, nil
	}
	start := time.Now()
	fmt.Println("building berth-kube (Kubernetes: about a minute with a warm Go build cache, about 16 minutes cold on 2 cores)...")
	out, err := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X k8s.io/component-base/version.gitVersion=v1.37.2",
		"-o", next, "./cmd/berth-kube").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("building berth-kube (EKS clusters need it; or pass -berth-kube): %v\n%s", errors.Join(err, ctx.Err()), out)
	}
	fmt.Printf("built berth-kube in %v\n", time.Since(start).Round(time.Second))
	return bin, next, nil
}

func mb(kb int64) float64 { return float64(kb) / 1024 }
