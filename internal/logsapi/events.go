package logsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logscp"
)

type wInputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsIn struct {
	LogGroupName  string        `json:"logGroupName"`
	LogStreamName string        `json:"logStreamName"`
	LogEvents     []wInputEvent `json:"logEvents"`
	SequenceToken string        `json:"sequenceToken"` // accepted and ignored, as AWS now does
}

type wRejected struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOut struct {
	NextSequenceToken     string     `json:"nextSequenceToken"`
	RejectedLogEventsInfo *wRejected `json:"rejectedLogEventsInfo,omitempty"`
}

func (a *API) putLogEvents(_ context.Context, c *awsproto.Call, in *putLogEventsIn) (any, error) {
	switch {
	case in.LogGroupName == "":
		return nil, missing("logGroupName")
	case in.LogStreamName == "":
		return nil, missing("logStreamName")
	case in.LogEvents == nil:
		return nil, missing("logEvents")
	}
	evs := make([]logs.InputEvent, len(in.LogEvents))
	for i, e := range in.LogEvents {
		if e.Timestamp == nil {
			return nil, logs.Invalidf("1 validation error detected: Value null at 'logEvents.%d.member.timestamp' failed to satisfy constraint: Member must not be null", i+1)
		}
		if e.Message == nil {
			return nil, logs.Invalidf("1 validation error detected: Value null at 'logEvents.%d.member.message' failed to satisfy constraint: Member must not be null", i+1)
		}
		evs[i] = logs.InputEvent{Timestamp: *e.Timestamp, Message: *e.Message}
	}
	rej, err := a.plane.Put(a.scope(c), in.LogGroupName, in.LogStreamName, evs)
	if err != nil {
		return nil, err
	}
	out := &putLogEventsOut{NextSequenceToken: seqToken(int64(len(evs)))}
	if rej.Any() {
		out.RejectedLogEventsInfo = &wRejected{TooNewLogEventStartIndex: rej.TooNewStartIndex,
			TooOldLogEventEndIndex: rej.TooOldEndIndex, ExpiredLogEventEndIndex: rej.ExpiredEndIndex}
	}
	return out, nil
}

type getLogEventsIn struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime"`
	EndTime            *int64 `json:"endTime"`
	NextToken          string `json:"nextToken"`
	Limit              int    `json:"limit"`
	StartFromHead      bool   `json:"startFromHead"`
}

type wOutputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsOut struct {
	Events            []wOutputEvent `json:"events"`
	NextForwardToken  string         `json:"nextForwardToken"`
	NextBackwardToken string         `json:"nextBackwardToken"`
}

func (a *API) getLogEvents(_ context.Context, c *awsproto.Call, in *getLogEventsIn) (any, error) {
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamName == "" {
		return nil, missing("logStreamName")
	}
	r, err := a.plane.Get(a.scope(c), logscp.GetQuery{Group: group, Stream: in.LogStreamName, Start: in.StartTime, End: in.EndTime,
		Token: in.NextToken, Limit: in.Limit, StartFromHead: in.StartFromHead})
	if err != nil {
		return nil, err
	}
	out := &getLogEventsOut{Events: make([]wOutputEvent, 0, len(r.Events)), NextForwardToken: r.ForwardToken, NextBackwardToken: r.BackwardToken}
	for _, e := range r.Events {
		out.Events = append(out.Events, wOutputEvent{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.IngestionTime})
	}
	return out, nil
}

type filterLogEventsIn struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               int      `json:"limit"`
	Interleaved         bool     `json:"interleaved"` // deprecated; results are always interleaved
}

type wFilteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventId       string `json:"eventId"`
}

type wSearched struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

type filterLogEventsOut struct {
	Events             []wFilteredEvent `json:"events"`
	SearchedLogStreams []wSearched      `json:"searchedLogStreams"`
	NextToken          *string          `json:"nextToken,omitempty"`
}

func (a *API) filterLogEvents(_ context.Context, c *awsproto.Call, in *filterLogEventsIn) (any, error) {
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	r, err := a.plane.Filter(a.scope(c), logscp.FilterQuery{Group: group, StreamNames: in.LogStreamNames, StreamPrefix: in.LogStreamNamePrefix,
		Start: in.StartTime, End: in.EndTime, Pattern: in.FilterPattern, Token: in.NextToken, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	out := &filterLogEventsOut{Events: make([]wFilteredEvent, 0, len(r.Events)), SearchedLogStreams: []wSearched{}}
	for _, e := range r.Events {
		out.Events = append(out.Events, wFilteredEvent{LogStreamName: e.Stream, Timestamp: e.Timestamp, Message: e.Message,
			IngestionTime: e.IngestionTime, EventId: e.EventID})
	}
	for _, s := range r.Searched {
		out.SearchedLogStreams = append(out.SearchedLogStreams, wSearched{LogStreamName: s, SearchedCompletely: r.NextToken == ""})
	}
	if r.NextToken != "" {
		out.NextToken = &r.NextToken
	}
	return out, nil
}
