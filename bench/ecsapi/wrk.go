package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// wrkResult is what wrk measured for one request replayed at full speed.
type wrkResult struct {
	rps, p50, p99 float64
	non2xx        int
}

// signedRequest builds an ECS JSON request signed with SigV4 for the
// test/test key. Replaying the same signed request is valid for 15 minutes;
// the server verifies the signature on every request.
func signedRequest(url, op, body string) (http.Header, error) {
	req, err := http.NewRequest("POST", url+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hash, "ecs", "eu-west-1", time.Now())
	return req.Header, err
}

// runWrk replays one signed request with wrk (1 thread, conc connections)
// for d and parses its latency distribution.
func runWrk(dir, url, op, body string, d time.Duration, conc int) (wrkResult, error) {
	h, err := signedRequest(url, op, body)
	if err != nil {
		return wrkResult{}, err
	}
	var lua bytes.Buffer
	fmt.Fprintf(&lua, "wrk.method = \"POST\"\nwrk.body = %q\n", body)
	for k, vs := range h {
		fmt.Fprintf(&lua, "wrk.headers[%q] = %q\n", k, vs[0])
	}
	lua.WriteString("wrk.headers[\"Host\"] = nil\n")
	script := filepath.Join(dir, op+".lua")
	if err := os.WriteFile(script, lua.Bytes(), 0o644); err != nil {
		return wrkResult{}, err
	}
	secs := max(1, int(d.Seconds()))
	out, err := exec.Command("wrk", "-t1", "-c"+strconv.Itoa(conc), "-d"+strconv.Itoa(secs)+"s", "--latency", "-s", script, url+"/").CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(string(out))
}

var (
	reRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reP50    = regexp.MustCompile(`\s50%\s+([0-9.]+)(us|ms|s)`)
	reP99    = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	reNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	r.p50 = wrkMillis(reP50.FindStringSubmatch(out))
	r.p99 = wrkMillis(reP99.FindStringSubmatch(out))
	if m := reNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	return r, nil
}

func wrkMillis(m []string) float64 {
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}
