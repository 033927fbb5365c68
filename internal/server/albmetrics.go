package server

import (
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/elbproxy"
)

// albMetrics publishes the AWS/ApplicationELB metrics from the ELBv2 data
// plane's counters, which it receives once a (scaled) minute: each
// period's datapoint is the difference from the previous snapshot.
// Dimensions are AWS's: LoadBalancer=app/<name>/<id> for the load
// balancer's metrics; TargetGroup=targetgroup/<name>/<id>, alone and with
// LoadBalancer, for a target group's. RequestCount and
// RequestCountPerTarget (RequestCount over the group's serving targets)
// are published every period, zero included, so that alarms on them see
// an idle load balancer; the HTTP code counts and TargetResponseTime
// only when there were any. TargetResponseTime is put as the values of
// the data plane's response time histogram (buckets 5% wide, scaled to
// the exact total): Minimum, Maximum and percentiles within about 5%,
// Average and SampleCount exact.
// Only the onMetrics caller (the data plane controller's goroutine) uses it.
type albMetrics struct {
	elbPublisher
	prevLB map[string]elbproxy.Counters
	prevTG map[string]elbproxy.Counters
}

func newALBMetrics(plane *cwcp.Plane, log *slog.Logger) *albMetrics {
	return &albMetrics{elbPublisher: elbPublisher{cw: plane, now: time.Now, log: log, namespace: "AWS/ApplicationELB", lbType: "app"},
		prevLB: map[string]elbproxy.Counters{}, prevTG: map[string]elbproxy.Counters{}}
}

func (a *albMetrics) onMetrics(m elbproxy.Metrics) {
	now := a.now()
	byScope := map[cw.Scope][]cw.Datum{}
	nextLB := map[string]elbproxy.Counters{}
	for _, lb := range m.LoadBalancers {
		nextLB[lb.ARN] = lb.Counters
		sc, dim, ok := a.lbDimension(lb.ARN)
		if !ok {
			continue
		}
		d := delta(lb.Counters, a.prevLB[lb.ARN])
		dims := []cw.Dimension{{Name: "LoadBalancer", Value: dim}}
		data := countData(now, dims, d)
		if d.ELB5XX > 0 {
			data = append(data, count(now, "HTTPCode_ELB_5XX_Count", dims, float64(d.ELB5XX)))
		}
		byScope[sc] = append(byScope[sc], data...)
	}
	nextTG := map[string]elbproxy.Counters{}
	for _, g := range m.TargetGroups {
		nextTG[g.ARN] = g.Counters
		sc, dimSets, ok := a.groupDimensions(g)
		if !ok {
			continue
		}
		d := delta(g.Counters, a.prevTG[g.ARN])
		for _, dims := range dimSets {
			data := countData(now, dims, d)
			data = append(data, hostCounts(now, dims, g)...)
			per := float64(d.Requests)
			if g.Serving > 0 {
				per /= float64(g.Serving)
			}
			data = append(data, count(now, "RequestCountPerTarget", dims, per))
			byScope[sc] = append(byScope[sc], data...)
		}
	}
	a.prevLB, a.prevTG = nextLB, nextTG
	a.publish(byScope)
}

// countData is RequestCount, the target HTTP code counts and
// TargetResponseTime of one period.
func countData(now time.Time, dims []cw.Dimension, d elbproxy.Counters) []cw.Datum {
	out := []cw.Datum{count(now, "RequestCount", dims, float64(d.Requests))}
	for _, c := range []struct {
		name string
		n    int64
	}{
		{"HTTPCode_Target_2XX_Count", d.Target2XX}, {"HTTPCode_Target_3XX_Count", d.Target3XX},
		{"HTTPCode_Target_4XX_Count", d.Target4XX}, {"HTTPCode_Target_5XX_Count", d.Target5XX},
	} {
		if c.n > 0 {
			out = append(out, count(now, c.name, dims, float64(c.n)))
		}
	}
	if d.TargetResponses > 0 {
		// The data plane counts a response's bucket before its time and
		// count, and a snapshot reads the buckets last: a response
		// counted has its bucket.
		if agg, parts := responseTimeValues(d); len(parts) > 0 {
			out = append(out, cw.Datum{Metric: cw.Metric{Name: "TargetResponseTime", Dimensions: dims}, Time: now, Unit: "Seconds",
				Agg: agg, Values: parts})
		}
	}
	return out
}

// delta is cur - prev, or cur when the counters restarted (a new proxy).
func delta(cur, prev elbproxy.Counters) elbproxy.Counters {
	if cur.Requests < prev.Requests || cur.TargetResponses < prev.TargetResponses {
		return cur
	}
	d := elbproxy.Counters{
		Requests: cur.Requests - prev.Requests, Target2XX: cur.Target2XX - prev.Target2XX,
		Target3XX: cur.Target3XX - prev.Target3XX, Target4XX: cur.Target4XX - prev.Target4XX,
		Target5XX: cur.Target5XX - prev.Target5XX, ELB5XX: cur.ELB5XX - prev.ELB5XX,
		TargetResponseTime: cur.TargetResponseTime - prev.TargetResponseTime,
		TargetResponses:    cur.TargetResponses - prev.TargetResponses,
	}
	for i := range d.ResponseTimes {
		d.ResponseTimes[i] = max(0, cur.ResponseTimes[i]-prev.ResponseTimes[i])
	}
	return d
}

// responseTimeValues turns a period's response time buckets into the
// distinct values of a datum (each bucket's representative time with its
// count), scaled so that their sum is the exact total time: the Average
// stays exact and percentiles are within about 5%.
func responseTimeValues(d elbproxy.Counters) (cw.Agg, []cw.Agg) {
	var parts []cw.Agg
	approx := 0.0
	for i, n := range d.ResponseTimes {
		if n > 0 {
			v := elbproxy.ResponseTimeBucketValue(i)
			parts = append(parts, cw.Agg{Count: float64(n), Sum: v * float64(n), Min: v, Max: v})
			approx += v * float64(n)
		}
	}
	total := d.TargetResponseTime.Seconds()
	var agg cw.Agg
	for k := range parts {
		if approx > 0 {
			f := total / approx
			parts[k].Min *= f
			parts[k].Max = parts[k].Min
			parts[k].Sum = parts[k].Min * parts[k].Count
		}
		agg.Add(parts[k])
	}
	return agg, parts
}
