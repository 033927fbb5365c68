// Command registry benchmarks berth's OCI registry against Debian's
// docker-registry (the reference distribution registry) on the same disk in
// the same run, and against this machine's own sha256 throughput: push and
// pull of fresh random blobs of 1, 10 and 100 MB, whole (monolithic PUT) and
// chunked (PATCH in 5 MiB chunks), at concurrency 1 and 4.
//
//	go run ./bench/registry [-reps 3] [-rounds 1] [-sizes 1,10,100] [-modes whole,chunked] [-conc 1,4]
//
// Without docker-registry on PATH it measures berth alone and says so.
//
// One case's pull is a fraction of a second (three 100 MB blobs take
// ~0.2 s), so one run's ratio says little on a shared machine: -rounds N
// runs every case N times (berth first in odd rounds, the reference first
// in even ones) and ends with the medians over the rounds of each target's
// MB/s and of the per-round berth/reference ratios, with the load average
// before and after.
//
// berth's registry runs as its own process (this program with
// -serve-berth) behind a loopback HTTP server with the embedded bbolt store
// (authorization off, as the reference registry runs without auth here),
// as docker-registry does: the client shares neither's Go runtime. The same
// HTTP client code drives both: net/http pushing in-memory blobs with a
// Content-Length (as crane does a layer of known size) and pulling through a
// 1 MiB buffer. Each case runs against fresh instances on fresh storage
// (removed afterwards) and pushes only once earlier writes are synced. For
// the single 100 MB push the median push time is shown too (the machine is
// shared; the aggregate is a mean). Traffic goes to loopback only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/bench/stats"
	"github.com/berth-dev/berth/internal/registry"
	"github.com/berth-dev/berth/internal/store/bolt"
)

const (
	chunkSize        = 5 << 20
	defaultReference = "docker-registry" // Debian's distribution registry
)

func main() {
	reps := flag.Int("reps", 3, "repetitions per case")
	rounds := flag.Int("rounds", 1, "runs of every case; with more than one, ends with the medians")
	sizesFlag := flag.String("sizes", "1,10,100", "blob sizes in MB")
	modesFlag := flag.String("modes", "whole,chunked", "upload modes")
	concFlag := flag.String("conc", "1,4", "concurrency levels")
	refBin := flag.String("reference", defaultReference, "reference registry binary (empty to skip)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the client (this process) to `file`")
	serveDir := flag.String("serve-berth", "", "internal: serve berth's registry storing under `dir`, print its URL, run until stdin closes")
	flag.Parse()
	if *serveDir != "" {
		if err := serveBerth(*serveDir); err != nil {
			fmt.Fprintln(os.Stderr, "serve-berth:", err)
			os.Exit(1)
		}
		return
	}
	if *refBin == defaultReference {
		if _, err := exec.LookPath(defaultReference); err != nil {
			fmt.Fprintln(os.Stderr, "bench: docker-registry is not on PATH: measuring berth alone (apt-get install docker-registry for the comparison)")
			*refBin = ""
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	sizes, concs := ints("sizes", *sizesFlag), ints("conc", *concFlag)
	modes := strings.Split(*modesFlag, ",")
	for _, m := range modes {
		if m != "whole" && m != "chunked" {
			fmt.Fprintln(os.Stderr, "bad -modes")
			os.Exit(2)
		}
	}
	if *rounds < 1 || *reps < 1 {
		fmt.Fprintln(os.Stderr, "bad -rounds or -reps")
		os.Exit(2)
	}
	if err := run(sizes, modes, concs, *reps, *rounds, *refBin); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// ints parses a comma-separated list of positive integers.
func ints(name, list string) []int {
	var r []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "bad -"+name)
			os.Exit(2)
		}
		r = append(r, n)
	}
	return r
}

// target starts a registry storing under dir, fresh for every case.
type target struct {
	name  string
	start func(dir string) (url string, stop func(), err error)
}

func run(sizes []int, modes []string, concs []int, reps, rounds int, refBin string) error {
	tmp, err := os.MkdirTemp(".", ".bench-registry-") // same disk as the work tree
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	sha := sha256Speed()
	fmt.Printf("sha256 on one core: %.0f MB/s\n", sha)

	targets := []target{{"berth", startBerth}}
	if refBin != "" {
		if _, err := exec.LookPath(refBin); err != nil {
			return fmt.Errorf("reference registry %q not found (apt-get install docker-registry, or -reference '')", refBin)
		}
		targets = append(targets, target{"reference", func(dir string) (string, func(), error) { return startReference(refBin, dir) }})
	}
	cases := 0
	// measureIn runs one case against a fresh instance of t and removes its
	// storage afterwards, so that no case writes after (and into the disk
	// state left by) the gigabytes of the cases before it: on the
	// development VM, writes past the first ~1.3 GB of new blocks ran at a
	// third of the speed until the files were deleted.
	measureIn := func(t target, size int, chunked bool, conc int) (result, error) {
		cases++
		dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", t.name, cases))
		url, stop, err := t.start(dir)
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		defer client.CloseIdleConnections()
		defer stop()
		return measure(url, size, chunked, conc, reps)
	}

	load0 := stats.LoadAvg()
	type caseKey struct {
		size, conc int
		mode       string
	}
	var keys []caseKey
	all := map[caseKey][]map[string]result{} // per round: target name -> result
	for round := range rounds {
		if rounds > 1 {
			fmt.Printf("\nround %d/%d (load average %s)", round+1, rounds, stats.LoadAvg())
		}
		order := targets
		if round%2 == 1 && len(targets) == 2 {
			order = []target{targets[1], targets[0]}
		}
		fmt.Printf("\n%-5s %-9s %-4s %-10s %10s %10s %10s %10s\n", "MB", "mode", "conc", "target", "push MB/s", "push p99", "pull MB/s", "pull p99")
		for _, size := range sizes {
			for _, mode := range modes {
				for _, conc := range concs {
					res := map[string]result{}
					for _, t := range order {
						r, err := measureIn(t, size<<20, mode == "chunked", conc)
						if err != nil {
							return fmt.Errorf("%s %dMB %s c%d: %w", t.name, size, mode, conc, err)
						}
						res[t.name] = r
					}
					for _, t := range targets {
						r := res[t.name]
						fmt.Printf("%-5d %-9s %-4d %-10s %10.0f %9.0fms %10.0f %9.0fms\n", size, mode, conc, t.name, r.pushMBs, r.pushP99, r.pullMBs, r.pullP99)
					}
					if ref, ok := res["reference"]; ok {
						b := res["berth"]
						fmt.Printf("%-5d %-9s %-4d ratio      push %.2fx  pull %.2fx (berth/reference)\n", size, mode, conc, b.pushMBs/ref.pushMBs, b.pullMBs/ref.pullMBs)
					}
					if size == 100 && conc == 1 && mode == "whole" {
						b := res["berth"]
						med := float64(size) * 1000 / b.pushMedian
						fmt.Printf("      single 100 MB push at %.0f%% of one core's sha256 speed (target > 60%%); median push %.0f ms = %.0f MB/s = %.0f%%\n",
							100*b.pushMBs/sha, b.pushMedian, med, 100*med/sha)
					}
					k := caseKey{size, conc, mode}
					if round == 0 {
						keys = append(keys, k)
					}
					all[k] = append(all[k], res)
				}
			}
		}
	}
	if rounds == 1 {
		return nil
	}
	fmt.Printf("\nmedians over %d rounds (load average before %s, after %s)\n", rounds, load0, stats.LoadAvg())
	fmt.Printf("%-5s %-9s %-4s %11s %11s %11s %11s %10s %10s  %s\n", "MB", "mode", "conc", "berth push", "ref push", "berth pull", "ref pull", "push x", "pull x", "pull ratio per round")
	for _, k := range keys {
		var bPush, rPush, bPull, rPull, xPush, xPull []float64
		for _, res := range all[k] {
			b, r := res["berth"], res["reference"]
			bPush, bPull = append(bPush, b.pushMBs), append(bPull, b.pullMBs)
			if len(targets) == 2 {
				rPush, rPull = append(rPush, r.pushMBs), append(rPull, r.pullMBs)
				xPush, xPull = append(xPush, b.pushMBs/r.pushMBs), append(xPull, b.pullMBs/r.pullMBs)
			}
		}
		perRound := make([]string, len(xPull))
		for i, x := range xPull {
			perRound[i] = fmt.Sprintf("%.2f", x)
		}
		fmt.Printf("%-5d %-9s %-4d %11.0f %11.0f %11.0f %11.0f %9.2fx %9.2fx  %s\n", k.size, k.mode, k.conc,
			stats.Median(bPush), stats.Median(rPush), stats.Median(bPull), stats.Median(rPull), stats.Median(xPush), stats.Median(xPull), strings.Join(perRound, " "))
	}
	return nil
}

// settle lets the previous case's writes reach the disk before the next
// case pushes (the host persisting a gigabyte written by a concurrency-4
// case made the fsyncs of the next case several times slower), and
// collects the garbage of the blobs just generated.
func settle() {
	syscall.Sync()
	debug.FreeOSMemory()
	time.Sleep(time.Second)
}

func sha256Speed() float64 {
	buf := make([]byte, 64<<20)
	fill(buf)
	start := time.Now()
	for range 4 {
		sha256.Sum256(buf)
	}
	return float64(4*len(buf)) / (1 << 20) / time.Since(start).Seconds()
}

// fill fills b with fresh pseudo-random bytes (ChaCha8, seeded from the
// OS): incompressible like crypto/rand's, without its cost (half the run's
// CPU went to crypto/rand for the 100 MB blobs).
func fill(b []byte) {
	var seed [32]byte
	for i := range 4 {
		binary.LittleEndian.PutUint64(seed[8*i:], rand.Uint64())
	}
	_, _ = rand.NewChaCha8(seed).Read(b)
}

// startBerth runs berth's registry as its own process (this program with
// -serve-berth), as the reference registry runs: the two servers then
// share the machine with the client the same way.
func startBerth(dir string) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-serve-berth", dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = stdin.Close(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		stop()
		return "", nil, fmt.Errorf("berth registry process: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// serveBerth is the berth registry process: it serves until its stdin
// closes (the bench ended the case, or died).
func serveBerth(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := registry.New(registry.Config{
		Account: "123456789012", Region: "us-east-1", Store: st, BlobRoot: filepath.Join(dir, "blobs"),
		Logger: slog.New(slog.DiscardHandler), Authorizer: registry.AllowAll, AutoCreateRepositories: true,
	})
	if err != nil {
		return err
	}
	defer reg.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: reg}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Println("http://" + ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	<-done
	return nil
}

func startReference(bin, dir string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	url := "http://" + addr
	// Up to a minute: on a loaded 2-core host its start has taken seconds.
	probe := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := probe.Get(url + "/v2/"); err == nil {
			resp.Body.Close()
			return url, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return "", nil, fmt.Errorf("reference registry did not answer on %s within a minute", url)
}

type result struct {
	pushMBs, pushP99, pullMBs, pullP99 float64
	pushMedian                         float64 // ms per blob
}

var pullBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// client bounds every request at two minutes (a 100 MB blob at 1 MB/s)
// so that a stuck registry ends the run with an error.
var client = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}

// measure pushes conc*reps fresh random blobs (conc at a time), then pulls
// them back, and reports aggregate MB/s and p99 per-blob latency.
func measure(base string, size int, chunked bool, conc, reps int) (result, error) {
	repo := fmt.Sprintf("bench/r%d", time.Now().UnixNano())
	blobs := make([][]byte, conc*reps)
	digests := make([]string, len(blobs))
	for i := range blobs {
		blobs[i] = make([]byte, size)
		fill(blobs[i])
		sum := sha256.Sum256(blobs[i])
		digests[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	settle()
	push := func(i int) error { return pushBlob(base, repo, digests[i], blobs[i], chunked) }
	pull := func(i int) error { return pullBlob(base, repo, digests[i], size) }
	var r result
	var err error
	if r.pushMBs, r.pushP99, r.pushMedian, err = phase(len(blobs), conc, size, push); err != nil {
		return r, fmt.Errorf("push: %w", err)
	}
	if r.pullMBs, r.pullP99, _, err = phase(len(blobs), conc, size, pull); err != nil {
		return r, fmt.Errorf("pull: %w", err)
	}
	return r, nil
}

func phase(n, conc, size int, op func(int) error) (mbs, p99, median float64, err error) {
	var mu sync.Mutex
	var lat []float64
	var firstErr error
	next := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= n || firstErr != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				t0 := time.Now()
				e := op(i)
				d := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				lat = append(lat, d)
				if e != nil && firstErr == nil {
					firstErr = e
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, 0, firstErr
	}
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	return float64(n*size) / (1 << 20) / elapsed, lat[min(len(lat)-1, int(float64(len(lat))*0.99))], lat[len(lat)/2], nil
}

func do(req *http.Request, want int) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, b)
	}
	return resp, nil
}

func location(base string, resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if strings.HasPrefix(loc, "/") {
		loc = base + loc
	}
	return loc
}

func withQuery(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}

func pushBlob(base, repo, digest string, data []byte, chunked bool) error {
	ctx := context.Background()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v2/"+repo+"/blobs/uploads/", nil)
	resp, err := do(req, http.StatusAccepted)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc := location(base, resp)
	if chunked {
		for off := 0; off < len(data); off += chunkSize {
			end := min(off+chunkSize, len(data))
			req, _ := http.NewRequestWithContext(ctx, "PATCH", loc, bytes.NewReader(data[off:end]))
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, end-1))
			req.ContentLength = int64(end - off)
			resp, err := do(req, http.StatusAccepted)
			if err != nil {
				return err
			}
			resp.Body.Close()
			loc = location(base, resp)
		}
		req, _ := http.NewRequestWithContext(ctx, "PUT", withQuery(loc, "digest="+digest), nil)
		resp, err := do(req, http.StatusCreated)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	req, _ = http.NewRequestWithContext(ctx, "PUT", withQuery(loc, "digest="+digest), bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = int64(len(data))
	resp, err = do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func pullBlob(base, repo, digest string, size int) error {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", base+"/v2/"+repo+"/blobs/"+digest, nil)
	resp, err := do(req, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read as a lean client would (a 1 MiB buffer): io.Copy into
	// io.Discard reads 8 KiB at a time, which made the client, not the
	// registry, the bottleneck of a loopback pull.
	buf := pullBufs.Get().(*[]byte)
	defer pullBufs.Put(buf)
	var n int64
	for {
		m, err := resp.Body.Read(*buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if n != int64(size) {
		return fmt.Errorf("pulled %d bytes, want %d", n, size)
	}
	return nil
}
