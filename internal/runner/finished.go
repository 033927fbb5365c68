package runner

import (
	"sync"
	"time"
)

// finishedTask is what the runner keeps of a task that stopped and was
// cleaned up: its final report, so that applying it again reports it
// instead of running it again, and Task and Tasks list it. Nothing else
// of the task (its actor, containers, plan) stays reachable: a remembered
// task costs its report and little more (see TestMemoryPerStoppedTask).
type finishedTask struct {
	report *TaskChange
	doneAt time.Time
	emitMu sync.Mutex // re-reports of one task are serial
}

// finishedTasks remembers finished tasks for Config.ForgetAfter, and at
// most Config.MaxFinished of them (the oldest are forgotten first).
// Guarded by Runner.mu.
type finishedTasks struct {
	byARN map[string]*finishedTask
	order []string // ARNs in the order they finished (may hold forgotten ones)
	head  int      // order[:head] are forgotten
}

func (f *finishedTasks) get(arn string) *finishedTask { return f.byARN[arn] }

func (f *finishedTasks) add(arn string, ft *finishedTask, limit int) {
	if f.byARN == nil {
		f.byARN = map[string]*finishedTask{}
	}
	if _, ok := f.byARN[arn]; !ok {
		f.order = append(f.order, arn)
	}
	f.byARN[arn] = ft
	for len(f.byARN) > limit && f.head < len(f.order) {
		f.drop()
	}
	f.compact()
}

// forget drops the tasks that finished before cutoff.
func (f *finishedTasks) forget(cutoff time.Time) {
	for f.head < len(f.order) {
		ft := f.byARN[f.order[f.head]]
		if ft != nil && !ft.doneAt.Before(cutoff) {
			break
		}
		f.drop()
	}
	f.compact()
}

func (f *finishedTasks) drop() {
	delete(f.byARN, f.order[f.head])
	f.order[f.head] = ""
	f.head++
}

// compact reclaims the forgotten front of order once it is half of it.
func (f *finishedTasks) compact() {
	if f.head > 64 && f.head*2 >= len(f.order) {
		f.order = append([]string(nil), f.order[f.head:]...)
		f.head = 0
	}
	if len(f.byARN) == 0 && len(f.order) > 1024 {
		// Maps keep their buckets: start afresh once empty.
		f.byARN, f.order, f.head = nil, nil, 0
	}
}

func (f *finishedTasks) len() int { return len(f.byARN) }

// emit reports a finished task's final state again.
func (r *Runner) emitFinished(ft *finishedTask) {
	if r.cfg.OnChange == nil {
		return
	}
	ft.emitMu.Lock()
	defer ft.emitMu.Unlock()
	r.cfg.OnChange(*ft.report)
}
