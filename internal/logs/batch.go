package logs

import (
	"time"
)

// AWS's PutLogEvents limits.
const (
	MaxBatchEvents = 10000
	MaxBatchBytes  = 1048576
	EventOverhead  = 26
	MaxEventBytes  = 1048576 - EventOverhead
	MaxBatchSpan   = 24 * time.Hour
	MaxFutureSkew  = 2 * time.Hour
	MaxPastAge     = 14 * 24 * time.Hour
)

// InputEvent is one event of a PutLogEvents call.
type InputEvent struct {
	Timestamp int64 // ms since the epoch
	Message   string
}

// Event is a stored event.
type Event struct {
	Timestamp     int64
	IngestionTime int64
	Message       string
}

// Rejected says which events of a batch were not accepted, as AWS's
// rejectedLogEventsInfo: indexes are into the request's events.
type Rejected struct {
	TooNewStartIndex *int // first index of events too far in the future
	TooOldEndIndex   *int // last index (exclusive) of events too old
	ExpiredEndIndex  *int // last index (exclusive) of events past retention
}

// Any reports whether anything was rejected.
func (r Rejected) Any() bool {
	return r.TooNewStartIndex != nil || r.TooOldEndIndex != nil || r.ExpiredEndIndex != nil
}

// CheckBatch applies PutLogEvents' rules to a batch at now for a group
// with the given retention: a malformed batch is an error; otherwise the
// accepted events (a contiguous run of the input) and what was rejected.
func CheckBatch(events []InputEvent, now time.Time, retentionDays int) (accepted []InputEvent, rej Rejected, err error) {
	if len(events) == 0 {
		return nil, rej, Invalidf("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(events) > MaxBatchEvents {
		return nil, rej, Invalidf("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", MaxBatchEvents)
	}
	size := 0
	for i, e := range events {
		if len(e.Message) == 0 {
			return nil, rej, Invalidf("1 validation error detected: Value '' at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		if len(e.Message) > MaxEventBytes {
			return nil, rej, Invalidf("Log event too large: the message of event %d is %d bytes; the maximum is %d", i, len(e.Message), MaxEventBytes)
		}
		if i > 0 && e.Timestamp < events[i-1].Timestamp {
			return nil, rej, Invalidf("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(e.Message) + EventOverhead
	}
	if size > MaxBatchBytes {
		return nil, rej, Invalidf("Upload too large: %d bytes exceeds limit of %d", size, MaxBatchBytes)
	}
	if time.Duration(events[len(events)-1].Timestamp-events[0].Timestamp)*time.Millisecond > MaxBatchSpan {
		return nil, rej, Invalidf("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	tooOld := now.Add(-MaxPastAge).UnixMilli()
	tooNew := now.Add(MaxFutureSkew).UnixMilli()
	expired := Cutoff(retentionDays, now)
	lo, hi := 0, len(events)
	for lo < hi && (events[lo].Timestamp < tooOld || events[lo].Timestamp < expired) {
		lo++
	}
	for hi > lo && events[hi-1].Timestamp > tooNew {
		hi--
	}
	// AWS reports too-old and expired separately; an event both too old
	// and expired counts as expired.
	oldEnd, expEnd := 0, 0
	for i := range lo {
		if events[i].Timestamp < expired {
			expEnd = i + 1
		} else {
			oldEnd = i + 1
		}
	}
	if oldEnd > 0 {
		rej.TooOldEndIndex = &oldEnd
	}
	if expEnd > 0 {
		rej.ExpiredEndIndex = &expEnd
	}
	if hi < len(events) {
		h := hi
		rej.TooNewStartIndex = &h
	}
	return events[lo:hi], rej, nil
}
