// Command logs benchmarks berth's CloudWatch Logs: PutLogEvents ingestion
// (events/s and MB/s of messages) through the real awsJson1.1 API on a
// loopback HTTP server, and FilterLogEvents over every ingested event
// (paginated to the end, as aws logs filter-log-events does) against
// grep over the same lines in a file, in the same run.
//
//	go run ./bench/logs [-events 1000000] [-streams 4] [-batch 8000] [-pattern ERROR]
//
// The lines look like an access log (about 100 bytes; 1% ERROR). Both
// sides read warm data: the segment files and the grep file were just
// written. grep runs as `grep -c PATTERN FILE` (LC_ALL=C); FilterLogEvents
// returns the matching events to the client, which decodes them. The
// load average is printed before and after. Traffic goes to loopback only.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/bench/stats"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/logsapi"
	"github.com/berth-dev/berth/internal/logscp"
	"github.com/berth-dev/berth/internal/logstore"
)

func main() {
	events := flag.Int("events", 1_000_000, "events to ingest")
	streams := flag.Int("streams", 4, "streams written concurrently")
	batch := flag.Int("batch", 8000, "events per PutLogEvents")
	pattern := flag.String("pattern", "ERROR", "filter pattern (a term, so that grep matches the same lines)")
	flag.Parse()
	fmt.Printf("load average before: %s\n", stats.LoadAvg())

	dir, err := os.MkdirTemp("", "berth-bench-logs-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := logstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	plane := logscp.New(logscp.Config{Store: st})
	_, svc := logsapi.New(logsapi.Config{Plane: plane, DefaultAccount: "123456789012"})
	router := awsproto.NewRouter(awsproto.RouterConfig{DefaultRegion: "eu-west-1"}, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: router}
	go srv.Serve(ln)
	defer srv.Close()
	c := &client{url: "http://" + ln.Addr().String() + "/", http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	c.must("CreateLogGroup", map[string]any{"logGroupName": "/bench"}, nil)
	for s := range *streams {
		c.must("CreateLogStream", map[string]any{"logGroupName": "/bench", "logStreamName": fmt.Sprint("s", s)}, nil)
	}
	// The same lines go to a file for grep.
	grepFile := filepath.Join(dir, "lines.log")
	f, err := os.Create(grepFile)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Now().Add(-time.Hour).UnixMilli()
	perStream := *events / *streams
	bodies := make([][][]byte, *streams)
	var msgBytes int64
	for s := range *streams {
		for i := 0; i < perStream; i += *batch {
			n := min(*batch, perStream-i)
			evs := make([]map[string]any, n)
			for k := range n {
				seq := s*perStream + i + k
				msg := line(seq)
				msgBytes += int64(len(msg))
				w.WriteString(msg + "\n")
				evs[k] = map[string]any{"timestamp": base + int64((i+k)/100), "message": msg}
			}
			b, _ := json.Marshal(map[string]any{"logGroupName": "/bench", "logStreamName": fmt.Sprint("s", s), "logEvents": evs})
			bodies[s] = append(bodies[s], b)
		}
	}
	w.Flush()
	f.Close()
	total := perStream * *streams

	start := time.Now()
	var wg sync.WaitGroup
	for s := range *streams {
		wg.Go(func() {
			for _, b := range bodies[s] {
				if err := c.post("PutLogEvents", b, nil); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("PutLogEvents: %d events (%.1f MB of messages) in %d calls of %d, %d streams at once: %.2fs, %.0f events/s, %.1f MB/s\n",
		total, float64(msgBytes)/1e6, (total+*batch-1) / *batch, *batch, *streams, el.Seconds(), float64(total)/el.Seconds(), float64(msgBytes)/1e6/el.Seconds())

	// FilterLogEvents to the last page.
	start = time.Now()
	matches, pages := 0, 0
	token := ""
	for {
		in := map[string]any{"logGroupName": "/bench", "filterPattern": *pattern}
		if token != "" {
			in["nextToken"] = token
		}
		var out struct {
			Events    []struct{ Message string }
			NextToken string
		}
		c.must("FilterLogEvents", in, &out)
		matches += len(out.Events)
		pages++
		if out.NextToken == "" {
			break
		}
		token = out.NextToken
	}
	fel := time.Since(start)
	start = time.Now()
	cmd := exec.Command("grep", "-c", *pattern, grepFile)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	gout, err := cmd.Output()
	if err != nil {
		log.Fatalf("grep: %v", err)
	}
	gel := time.Since(start)
	fmt.Printf("FilterLogEvents %q over %d events: %d matches in %d pages, %.3fs (%.0f events scanned/s)\n",
		*pattern, total, matches, pages, fel.Seconds(), float64(total)/fel.Seconds())
	fmt.Printf("grep -c %q over the same %d lines: %s matches, %.3fs\n", *pattern, total, strings.TrimSpace(string(gout)), gel.Seconds())
	fmt.Printf("ratio FilterLogEvents/grep: %.1fx the time\n", fel.Seconds()/gel.Seconds())
	if strings.TrimSpace(string(gout)) != fmt.Sprint(matches) {
		fmt.Printf("MISMATCH: FilterLogEvents found %d, grep %s\n", matches, strings.TrimSpace(string(gout)))
		os.Exit(1)
	}
	fmt.Printf("load average after: %s\n", stats.LoadAvg())
}

// line is an access-log-like line; 1 in 100 is an ERROR.
func line(i int) string {
	level, status := "INFO", 200
	if i%100 == 7 {
		level, status = "ERROR", 500
	}
	return fmt.Sprintf("2026-12-07T05:%02d:%02d.%03dZ %s 10.0.%d.%d GET /api/v1/items/%d status=%d latency_ms=%d",
		(i/60000)%60, (i/1000)%60, i%1000, level, (i/256)%256, i%256, i, status, 3+i%97)
}

type client struct {
	url  string
	http *http.Client
}

func (c *client) must(op string, in, out any) {
	b, _ := json.Marshal(in)
	if err := c.post(op, b, out); err != nil {
		log.Fatal(err)
	}
}

func (c *client) post(op string, body []byte, out any) error {
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", logsapi.TargetPrefix+"."+op)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
