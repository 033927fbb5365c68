package e2e

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// splitLog is what the load generator saw: answers by version in each
// lifecycle stage the poller had seen when the answer came, and the
// failures. The poller sees a stage a little after the weights moved
// (they move before the stage is written, and it polls every 100 ms), so
// a stage's split is counted from half a second after it was first seen
// to half a second before the next one was; byStage has every answer.
type splitLog struct {
	mu       sync.Mutex
	stage    string // "<deployment digits> <status> <stage>", set by the poller
	began    map[string]time.Time
	ended    map[string]time.Time
	answers  []answer
	byStage  map[string]map[string]int
	failures []string
	sent     int
}

type answer struct {
	at             time.Time
	stage, version string
}

const splitSettle = 500 * time.Millisecond

func newSplitLog() *splitLog {
	return &splitLog{began: map[string]time.Time{}, ended: map[string]time.Time{}, byStage: map[string]map[string]int{}}
}

func (l *splitLog) setStage(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s != l.stage {
		now := time.Now()
		if l.stage != "" {
			l.ended[l.stage] = now
		}
		l.stage = s
		if _, ok := l.began[s]; !ok {
			l.began[s] = now
		}
	}
}

func (l *splitLog) record(version string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	if err != nil {
		if len(l.failures) < 10 {
			l.failures = append(l.failures, l.stage+": "+err.Error())
		}
		return
	}
	if l.byStage[l.stage] == nil {
		l.byStage[l.stage] = map[string]int{}
	}
	l.byStage[l.stage][version]++
	l.answers = append(l.answers, answer{at: time.Now(), stage: l.stage, version: version})
}

// share returns version's share of a stage's settled answers and their
// count.
func (l *splitLog) share(stage, version string) (float64, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	from, to := l.began[stage].Add(splitSettle), time.Now()
	if end, ok := l.ended[stage]; ok {
		to = end.Add(-splitSettle)
	}
	n, v := 0, 0
	for _, a := range l.answers {
		if a.stage == stage && !a.at.Before(from) && !a.at.After(to) {
			n++
			if a.version == version {
				v++
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(v) / float64(n), n
}

// hasEnded says whether the poller has seen a stage after stage (its
// window is closed).
func (l *splitLog) hasEnded(stage string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.ended[stage]
	return ok
}

// driveSplitLoad is the load of the split tests: one goroutine files
// the stage stageNow returns (every 100 ms) in log; another sends GETs
// through get one at a time, at most max of them for at most within,
// and records each answer in log. stop ends both and waits for them; it
// may be called more than once.
func driveSplitLoad(ctx context.Context, log *splitLog, stageNow func() (string, bool), get func(*http.Client) (string, error),
	max int, within time.Duration) (stop func()) {
	loadCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for loadCtx.Err() == nil {
			if stage, ok := stageNow(); ok {
				log.setStage(stage)
			}
			select {
			case <-loadCtx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	wg.Go(func() {
		c := &http.Client{Timeout: 5 * time.Second}
		deadline := time.Now().Add(within)
		for i := 0; i < max && loadCtx.Err() == nil && time.Now().Before(deadline); i++ {
			body, err := get(c)
			if loadCtx.Err() != nil {
				return
			}
			log.record(body, err)
			time.Sleep(5 * time.Millisecond) // the load's pace
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
