package logsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logscp"
)

type empty struct{}

// --- groups

type createLogGroupIn struct {
	LogGroupName string            `json:"logGroupName"`
	KmsKeyId     string            `json:"kmsKeyId"`
	Tags         map[string]string `json:"tags"`
}

func (a *API) createLogGroup(_ context.Context, c *awsproto.Call, in *createLogGroupIn) (any, error) {
	return empty{}, a.plane.CreateGroup(a.scope(c), in.LogGroupName, in.Tags)
}

type groupNameIn struct {
	LogGroupName string `json:"logGroupName"`
}

func (a *API) deleteLogGroup(_ context.Context, c *awsproto.Call, in *groupNameIn) (any, error) {
	return empty{}, a.plane.DeleteGroup(a.scope(c), in.LogGroupName)
}

type describeLogGroupsIn struct {
	LogGroupNamePrefix  string `json:"logGroupNamePrefix"`
	LogGroupNamePattern string `json:"logGroupNamePattern"`
	NextToken           string `json:"nextToken"`
	Limit               *int   `json:"limit"`
}

type wLogGroup struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupArn       string `json:"logGroupArn"`
}

type describeLogGroupsOut struct {
	LogGroups []wLogGroup `json:"logGroups"`
	NextToken *string     `json:"nextToken,omitempty"`
}

func (a *API) describeLogGroups(_ context.Context, c *awsproto.Call, in *describeLogGroupsIn) (any, error) {
	sc := a.scope(c)
	gs, err := a.plane.Groups(sc, in.LogGroupNamePrefix, in.LogGroupNamePattern)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(gs, in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &describeLogGroupsOut{LogGroups: []wLogGroup{}, NextToken: next}
	for _, g := range pg {
		w := wLogGroup{LogGroupName: g.Name, CreationTime: g.CreationTime, Arn: logs.GroupARN(sc.Region, sc.Account, g.Name),
			StoredBytes: g.StoredBytes, LogGroupClass: "STANDARD"}
		w.LogGroupArn = w.Arn[:len(w.Arn)-2]
		if g.RetentionDays > 0 {
			d := g.RetentionDays
			w.RetentionInDays = &d
		}
		out.LogGroups = append(out.LogGroups, w)
	}
	return out, nil
}

type putRetentionPolicyIn struct {
	LogGroupName    string `json:"logGroupName"`
	RetentionInDays *int   `json:"retentionInDays"`
}

func (a *API) putRetentionPolicy(_ context.Context, c *awsproto.Call, in *putRetentionPolicyIn) (any, error) {
	if in.LogGroupName == "" {
		return nil, missing("logGroupName")
	}
	if in.RetentionInDays == nil {
		return nil, missing("retentionInDays")
	}
	return empty{}, a.plane.SetRetention(a.scope(c), in.LogGroupName, *in.RetentionInDays)
}

func (a *API) deleteRetentionPolicy(_ context.Context, c *awsproto.Call, in *groupNameIn) (any, error) {
	if in.LogGroupName == "" {
		return nil, missing("logGroupName")
	}
	return empty{}, a.plane.SetRetention(a.scope(c), in.LogGroupName, 0)
}

// --- tags

type tagLogGroupIn struct {
	LogGroupName string            `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

func (a *API) tagLogGroup(_ context.Context, c *awsproto.Call, in *tagLogGroupIn) (any, error) {
	if in.LogGroupName == "" {
		return nil, missing("logGroupName")
	}
	return empty{}, a.plane.Tag(a.scope(c), in.LogGroupName, in.Tags)
}

type untagLogGroupIn struct {
	LogGroupName string   `json:"logGroupName"`
	Tags         []string `json:"tags"`
}

func (a *API) untagLogGroup(_ context.Context, c *awsproto.Call, in *untagLogGroupIn) (any, error) {
	if in.LogGroupName == "" {
		return nil, missing("logGroupName")
	}
	return empty{}, a.plane.Untag(a.scope(c), in.LogGroupName, in.Tags)
}

type tagsOut struct {
	Tags map[string]string `json:"tags"`
}

func (a *API) listTagsLogGroup(_ context.Context, c *awsproto.Call, in *groupNameIn) (any, error) {
	g, err := a.plane.Group(a.scope(c), in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &tagsOut{Tags: g.Tags}, nil
}

type tagResourceIn struct {
	ResourceArn string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
	TagKeys     []string          `json:"tagKeys"`
}

func (a *API) tagResource(_ context.Context, c *awsproto.Call, in *tagResourceIn) (any, error) {
	name, err := arnGroup(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return empty{}, a.plane.Tag(a.scope(c), name, in.Tags)
}

func (a *API) untagResource(_ context.Context, c *awsproto.Call, in *tagResourceIn) (any, error) {
	name, err := arnGroup(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return empty{}, a.plane.Untag(a.scope(c), name, in.TagKeys)
}

func (a *API) listTagsForResource(_ context.Context, c *awsproto.Call, in *tagResourceIn) (any, error) {
	name, err := arnGroup(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	g, err := a.plane.Group(a.scope(c), name)
	if err != nil {
		return nil, err
	}
	return &tagsOut{Tags: g.Tags}, nil
}

func arnGroup(arn string) (string, error) {
	if arn == "" {
		return "", missing("resourceArn")
	}
	name := groupFromARN(arn)
	if name == arn {
		return "", logs.Invalidf("Invalid resource ARN '%s': berth tags log groups (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)", arn)
	}
	return name, nil
}

// --- streams

type streamIn struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

func (a *API) createLogStream(_ context.Context, c *awsproto.Call, in *streamIn) (any, error) {
	return empty{}, a.plane.CreateStream(a.scope(c), in.LogGroupName, in.LogStreamName)
}

func (a *API) deleteLogStream(_ context.Context, c *awsproto.Call, in *streamIn) (any, error) {
	if in.LogGroupName == "" {
		return nil, missing("logGroupName")
	}
	return empty{}, a.plane.DeleteStream(a.scope(c), in.LogGroupName, in.LogStreamName)
}

type describeLogStreamsIn struct {
	LogGroupName        string `json:"logGroupName"`
	LogGroupIdentifier  string `json:"logGroupIdentifier"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	NextToken           string `json:"nextToken"`
	Limit               *int   `json:"limit"`
}

type wLogStream struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

type describeLogStreamsOut struct {
	LogStreams []wLogStream `json:"logStreams"`
	NextToken  *string      `json:"nextToken,omitempty"`
}

func (a *API) describeLogStreams(_ context.Context, c *awsproto.Call, in *describeLogStreamsIn) (any, error) {
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var order logscp.StreamOrder
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		order.ByLastEventTime = true
	default:
		return nil, logs.Invalidf("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", in.OrderBy)
	}
	order.Descending = in.Descending
	sc := a.scope(c)
	sts, err := a.plane.Streams(sc, group, in.LogStreamNamePrefix, order)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(sts, in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &describeLogStreamsOut{LogStreams: []wLogStream{}, NextToken: next}
	for _, s := range pg {
		w := wLogStream{LogStreamName: s.Name, CreationTime: s.CreationTime, Arn: logs.StreamARN(sc.Region, sc.Account, group, s.Name),
			StoredBytes: s.StoredBytes, UploadSequenceToken: seqToken(s.Events)}
		if s.Events > 0 {
			f, l, i := s.FirstEventTime, s.LastEventTime, s.LastIngestionTime
			w.FirstEventTimestamp, w.LastEventTimestamp, w.LastIngestionTime = &f, &l, &i
		}
		out.LogStreams = append(out.LogStreams, w)
	}
	return out, nil
}

// seqToken is the (ignored) sequence token AWS still returns.
func seqToken(n int64) string {
	return "49" + leftPad(n)
}

func leftPad(n int64) string {
	s := []byte("0000000000000000000000000000000000000000000000000000")
	for i := len(s) - 1; n > 0 && i >= 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}
