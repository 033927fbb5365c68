package logsapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go/eventstream"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/logscp"
)

// StartLiveTail answers with an event stream
// (application/vnd.amazon.eventstream): the initial-response event that
// RPC protocols begin with, a sessionStart, then a sessionUpdate every
// second (empty when nothing arrived) until the client goes or the
// session times out after three hours (SessionTimeoutException).

// LiveTailTimeout is how long a Live Tail session lasts, as on AWS.
const LiveTailTimeout = 3 * time.Hour

type startLiveTailIn struct {
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes"`
	LogEventFilterPattern string   `json:"logEventFilterPattern"`
}

type wSessionStart struct {
	RequestID             string   `json:"requestId"`
	SessionID             string   `json:"sessionId"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes,omitempty"`
	LogEventFilterPattern string   `json:"logEventFilterPattern,omitempty"`
}

type wSessionMetadata struct {
	Sampled bool `json:"sampled"`
}

type wLiveTailEvent struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Message            string `json:"message"`
	Timestamp          int64  `json:"timestamp"`
	IngestionTime      int64  `json:"ingestionTime"`
}

type wSessionUpdate struct {
	SessionMetadata wSessionMetadata `json:"sessionMetadata"`
	SessionResults  []wLiveTailEvent `json:"sessionResults"`
}

func (a *API) startLiveTail(_ context.Context, c *awsproto.Call, in *startLiveTailIn) (any, error) {
	if in.LogGroupIdentifiers == nil {
		return nil, missing("logGroupIdentifiers")
	}
	idents := map[string]string{} // group name → the identifier the caller gave
	q := logscp.TailQuery{Streams: in.LogStreamNames, Prefixes: in.LogStreamNamePrefixes, Pattern: in.LogEventFilterPattern}
	for _, id := range in.LogGroupIdentifiers {
		g := groupFromARN(id)
		idents[g] = id
		q.Groups = append(q.Groups, g)
	}
	tail, err := a.plane.StartTail(a.scope(c), q)
	if err != nil {
		return nil, err
	}
	start := wSessionStart{RequestID: c.RequestID, SessionID: newSessionID(), LogGroupIdentifiers: in.LogGroupIdentifiers,
		LogStreamNames: in.LogStreamNames, LogStreamNamePrefixes: in.LogStreamNamePrefixes, LogEventFilterPattern: in.LogEventFilterPattern}
	return &liveTail{tail: tail, start: start, idents: idents, log: a}, nil
}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// liveTail streams one session.
type liveTail struct {
	tail   *logscp.Tail
	start  wSessionStart
	idents map[string]string
	log    *API
}

var _ awsproto.Streamer = (*liveTail)(nil)

// ServeStream implements awsproto.Streamer.
func (lt *liveTail) ServeStream(ctx context.Context, w http.ResponseWriter) {
	defer lt.tail.Close()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	enc := eventstream.NewEncoder()
	send := func(kind, name string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		var msg eventstream.Message
		msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(kind))
		if kind == eventstream.ExceptionMessageType {
			msg.Headers.Set(eventstream.ExceptionTypeHeader, eventstream.StringValue(name))
		} else {
			msg.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue(name))
		}
		msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
		msg.Payload = b
		if err := enc.Encode(w, msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(eventstream.EventMessageType, "initial-response", struct{}{}) ||
		!send(eventstream.EventMessageType, "sessionStart", lt.start) {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timeout := time.NewTimer(LiveTailTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
			send(eventstream.ExceptionMessageType, "SessionTimeoutException",
				map[string]string{"message": "The Live Tail session has timed out after 3 hours."})
			return
		case <-tick.C:
		}
		evs, sampled := lt.tail.Next()
		up := wSessionUpdate{SessionMetadata: wSessionMetadata{Sampled: sampled}, SessionResults: make([]wLiveTailEvent, 0, len(evs))}
		for _, e := range evs {
			up.SessionResults = append(up.SessionResults, wLiveTailEvent{LogStreamName: e.Stream, LogGroupIdentifier: lt.idents[e.Group],
				Message: e.Message, Timestamp: e.Timestamp, IngestionTime: e.IngestionTime})
		}
		if !send(eventstream.EventMessageType, "sessionUpdate", up) {
			lt.log.log.Debug("live tail: the client is gone", "session", lt.start.SessionID)
			return
		}
	}
}
