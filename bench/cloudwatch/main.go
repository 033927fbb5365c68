// Command cloudwatch benchmarks berth's CloudWatch metric store: it loads
// a week of one-minute data for many metrics through the control plane's
// PutMetricData path (batches of 1,000 datapoints, PutMetricData's limit)
// and reports datapoints per second, then measures GetMetricData latency
// over the whole week (one metric at a one-hour period, and SUM(METRICS())
// over ten metrics). Each figure is printed with the same work done by a
// peer measured in the same run: for writes, appending the same 40-byte
// records to one plain file per metric (the I/O floor); for reads,
// reading the metric's whole file and bucketing its records (what a store
// without the backward, lag-bounded scan would do).
//
//	go run ./bench/cloudwatch [-metrics 1000] [-days 7] [-queries 200]
//
// Every loop is bounded by count; nothing leaves the machine.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/bench/stats"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/store/bolt"
)

func main() {
	metrics := flag.Int("metrics", 1000, "number of metrics")
	days := flag.Int("days", 7, "days of one-minute data per metric")
	queries := flag.Int("queries", 200, "GetMetricData calls per latency figure")
	flag.Parse()
	if err := run(*metrics, *days, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "cloudwatch bench:", err)
		os.Exit(1)
	}
}

func run(nMetrics, days, nQueries int) error {
	dir, err := os.MkdirTemp("", "berth-cwbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	ms, err := cwstore.OpenMetrics(filepath.Join(dir, "metrics"), 30*24*time.Hour)
	if err != nil {
		return err
	}
	defer ms.Close()
	end := time.Now().Truncate(time.Hour)
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	// PutMetricData accepts two weeks back; the plane's clock is the end.
	plane := cwcp.New(cwcp.Config{Metrics: ms, Repo: cwstore.NewRepo(st), Now: func() time.Time { return end }})
	sc := cw.Scope{Account: "123456789012", Region: "us-east-1"}
	metric := func(i int) cw.Metric {
		return cw.Metric{Name: "Latency", Dimensions: []cw.Dimension{{Name: "Service", Value: fmt.Sprintf("svc-%04d", i)}}}
	}
	minutes := int(end.Sub(start) / time.Minute)
	total := minutes * nMetrics
	fmt.Printf("CloudWatch metric store: %d metrics x %d one-minute datapoints (%d days) = %d datapoints\n", nMetrics, minutes, days, total)

	// Writes, in time order as agents send them: each batch is one minute
	// of 1,000 metrics.
	batch := make([]cw.Datum, 0, 1000)
	t0 := time.Now()
	for m := 0; m < minutes; m++ {
		ts := start.Add(time.Duration(m) * time.Minute)
		for i := 0; i < nMetrics; i++ {
			v := float64((i*31+m)%100) + 0.5
			batch = append(batch, cw.Datum{Metric: metric(i), Time: ts, Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}, Unit: "Milliseconds"})
			if len(batch) == cap(batch) {
				if err := plane.PutMetricData(context.Background(), sc, "Bench", batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if err := plane.PutMetricData(context.Background(), sc, "Bench", batch); err != nil {
			return err
		}
	}
	berthPut := time.Since(t0)
	peerPut, peerDir, err := rawAppend(dir, nMetrics, minutes, start)
	if err != nil {
		return err
	}
	bps, pps := float64(total)/berthPut.Seconds(), float64(total)/peerPut.Seconds()
	fmt.Printf("PutMetricData (plane, batches of 1000): %.0f datapoints/s (%v); raw append peer: %.0f datapoints/s (%v); berth/peer %.2f\n",
		bps, berthPut.Round(time.Millisecond), pps, peerPut.Round(time.Millisecond), bps/pps)

	// Reads over the whole week.
	week := []cw.Query{{ID: "m0", ReturnData: true, Stat: &cw.MetricStat{Metric: withNS(metric(7)), Period: 3600, Stat: "Average"}}}
	var ten []cw.Query
	for i := 0; i < 10; i++ {
		ten = append(ten, cw.Query{ID: fmt.Sprintf("m%d", i), Stat: &cw.MetricStat{Metric: withNS(metric(i * 97 % nMetrics)), Period: 3600, Stat: "Sum"}})
	}
	ten = append(ten, cw.Query{ID: "total", Expression: "SUM(METRICS())", ReturnData: true})
	for _, c := range []struct {
		name string
		qs   []cw.Query
		n    int // metric files the peer reads
	}{{fmt.Sprintf("1 metric, %d days, period 1h", days), week, 1}, {fmt.Sprintf("SUM(METRICS()) of 10 metrics, %d days, period 1h", days), ten, 10}} {
		lat := make([]time.Duration, 0, nQueries)
		var points int
		for q := 0; q < nQueries; q++ {
			t := time.Now()
			res, err := plane.GetMetricData(context.Background(), sc, c.qs, start, end, true)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t))
			points = len(res[0].Values)
		}
		peer := make([]time.Duration, 0, nQueries)
		for q := 0; q < nQueries; q++ {
			t := time.Now()
			for k := 0; k < c.n; k++ {
				if _, err := readAll(filepath.Join(peerDir, fmt.Sprintf("%d", (k*97)%nMetrics)), start, time.Hour); err != nil {
					return err
				}
			}
			peer = append(peer, time.Since(t))
		}
		p50, p99 := stats.Percentile(lat, 50), stats.Percentile(lat, 99)
		q50 := stats.Percentile(peer, 50)
		fmt.Printf("GetMetricData %s: %d datapoints, p50 %v p99 %v; read-whole-file peer p50 %v; berth/peer %.2f\n",
			c.name, points, p50, p99, q50, float64(p50)/float64(q50))
	}
	return nil
}

func withNS(m cw.Metric) cw.Metric { m.Namespace = "Bench"; return m.Normalize() }

// rawAppend writes the same records to one plain file per metric with
// the same pattern (one write per datapoint batch per metric).
func rawAppend(dir string, nMetrics, minutes int, start time.Time) (time.Duration, string, error) {
	pd := filepath.Join(dir, "peer")
	if err := os.MkdirAll(pd, 0o755); err != nil {
		return 0, "", err
	}
	files := make([]*os.File, nMetrics)
	sizes := make([]int64, nMetrics)
	for i := range files {
		f, err := os.Create(filepath.Join(pd, fmt.Sprintf("%d", i)))
		if err != nil {
			return 0, "", err
		}
		files[i] = f
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var rec [40]byte
	t0 := time.Now()
	for m := 0; m < minutes; m++ {
		ts := start.Add(time.Duration(m) * time.Minute).UnixMilli()
		for i := 0; i < nMetrics; i++ {
			v := float64((i*31+m)%100) + 0.5
			binary.LittleEndian.PutUint64(rec[0:], uint64(ts))
			binary.LittleEndian.PutUint64(rec[8:], math.Float64bits(1))
			binary.LittleEndian.PutUint64(rec[16:], math.Float64bits(v))
			binary.LittleEndian.PutUint64(rec[24:], math.Float64bits(v))
			binary.LittleEndian.PutUint64(rec[32:], math.Float64bits(v))
			if _, err := files[i].WriteAt(rec[:], sizes[i]); err != nil {
				return 0, "", err
			}
			sizes[i] += 40
		}
	}
	return time.Since(t0), pd, nil
}

// readAll reads a whole peer file and averages its records per period.
func readAll(path string, start time.Time, period time.Duration) (map[int64]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum, n := map[int64]float64{}, map[int64]float64{}
	for off := 0; off+40 <= len(b); off += 40 {
		ts := int64(binary.LittleEndian.Uint64(b[off:]))
		k := (ts - start.UnixMilli()) / period.Milliseconds()
		sum[k] += math.Float64frombits(binary.LittleEndian.Uint64(b[off+16:]))
		n[k]++
	}
	for k := range sum {
		sum[k] /= n[k]
	}
	return sum, nil
}
