package cwapi

import "github.com/berth-dev/berth/internal/awsproto"

// Wire shapes (member names as botocore's cloudwatch model spells them).

type wDimension struct {
	Name  string
	Value string `json:",omitempty"`
}

type wStatisticSet struct {
	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
}

type wMetricDatum struct {
	MetricName        string
	Dimensions        []wDimension
	Timestamp         *awsproto.EpochTime
	Value             *float64
	StatisticValues   *wStatisticSet
	Values            []float64
	Counts            []float64
	Unit              string
	StorageResolution int
}

type putMetricDataIn struct {
	Namespace  string
	MetricData []wMetricDatum
}

type getMetricStatisticsIn struct {
	Namespace          string
	MetricName         string
	Dimensions         []wDimension
	StartTime          awsproto.EpochTime
	EndTime            awsproto.EpochTime
	Period             int
	Statistics         []string
	ExtendedStatistics []string
	Unit               string
}

type wDatapoint struct {
	Timestamp   awsproto.EpochTime
	SampleCount *float64 `json:",omitempty"`
	Average     *float64 `json:",omitempty"`
	Sum         *float64 `json:",omitempty"`
	Minimum     *float64 `json:",omitempty"`
	Maximum     *float64 `json:",omitempty"`
	Unit        string   `json:",omitempty"`
	// ExtendedStatistics are the percentiles asked for (a map, as
	// botocore's DatapointValueMap).
	ExtendedStatistics map[string]float64 `json:",omitempty"`
}

type getMetricStatisticsOut struct {
	Label      string
	Datapoints []wDatapoint
}

type wMetric struct {
	Namespace  string       `json:",omitempty"`
	MetricName string       `json:",omitempty"`
	Dimensions []wDimension `json:",omitempty"`
}

type wMetricStat struct {
	Metric wMetric
	Period int
	Stat   string
	Unit   string `json:",omitempty"`
}

type wMetricDataQuery struct {
	Id         string
	MetricStat *wMetricStat `json:",omitempty"`
	Expression string       `json:",omitempty"`
	Label      string       `json:",omitempty"`
	ReturnData *bool        `json:",omitempty"`
	Period     int          `json:",omitempty"`
	AccountId  string       `json:",omitempty"`
}

type getMetricDataIn struct {
	MetricDataQueries []wMetricDataQuery
	StartTime         awsproto.EpochTime
	EndTime           awsproto.EpochTime
	NextToken         string
	ScanBy            string
	MaxDatapoints     int
}

type wMessageData struct {
	Code  string `json:",omitempty"`
	Value string `json:",omitempty"`
}

type wMetricDataResult struct {
	Id         string
	Label      string
	Timestamps []awsproto.EpochTime
	Values     []float64
	StatusCode string
	Messages   []wMessageData `json:",omitempty"`
}

type getMetricDataOut struct {
	MetricDataResults []wMetricDataResult
	NextToken         string         `json:",omitempty"`
	Messages          []wMessageData `json:",omitempty"`
}

type listMetricsIn struct {
	Namespace      string
	MetricName     string
	Dimensions     []wDimension
	NextToken      string
	RecentlyActive string
}

type listMetricsOut struct {
	Metrics   []wMetric
	NextToken string `json:",omitempty"`
}

type wTag struct {
	Key   string
	Value string
}

type putMetricAlarmIn struct {
	AlarmName               string
	AlarmDescription        string
	ActionsEnabled          *bool
	OKActions               []string
	AlarmActions            []string
	InsufficientDataActions []string
	MetricName              string
	Namespace               string
	Statistic               string
	ExtendedStatistic       string
	Dimensions              []wDimension
	Period                  int
	Unit                    string
	EvaluationPeriods       int
	DatapointsToAlarm       int
	Threshold               *float64
	ComparisonOperator      string
	TreatMissingData        string
	Metrics                 []wMetricDataQuery
	Tags                    []wTag
	ThresholdMetricId       string
}

type wMetricAlarm struct {
	AlarmName                          string
	AlarmArn                           string
	AlarmDescription                   string `json:",omitempty"`
	AlarmConfigurationUpdatedTimestamp *awsproto.EpochTime
	ActionsEnabled                     bool
	OKActions                          []string
	AlarmActions                       []string
	InsufficientDataActions            []string
	StateValue                         string `json:",omitempty"`
	StateReason                        string
	StateReasonData                    string `json:",omitempty"`
	StateUpdatedTimestamp              *awsproto.EpochTime
	MetricName                         string       `json:",omitempty"`
	Namespace                          string       `json:",omitempty"`
	Statistic                          string       `json:",omitempty"`
	Dimensions                         []wDimension `json:",omitempty"`
	Period                             int          `json:",omitempty"`
	Unit                               string       `json:",omitempty"`
	EvaluationPeriods                  int
	DatapointsToAlarm                  int `json:",omitempty"`
	Threshold                          float64
	ComparisonOperator                 string
	TreatMissingData                   string             `json:",omitempty"`
	Metrics                            []wMetricDataQuery `json:",omitempty"`
	StateTransitionedTimestamp         *awsproto.EpochTime
}

type describeAlarmsIn struct {
	AlarmNames          []string
	AlarmNamePrefix     string
	AlarmTypes          []string
	ChildrenOfAlarmName string
	ParentsOfAlarmName  string
	StateValue          string
	ActionPrefix        string
	MaxRecords          int
	NextToken           string
}

type describeAlarmsOut struct {
	CompositeAlarms []wCompositeAlarm `json:",omitempty"`
	MetricAlarms    []wMetricAlarm
	NextToken       string `json:",omitempty"`
}

type putCompositeAlarmIn struct {
	ActionsEnabled                   *bool
	AlarmActions                     []string
	AlarmDescription                 string
	AlarmName                        string
	AlarmRule                        string
	InsufficientDataActions          []string
	OKActions                        []string
	Tags                             []wTag
	ActionsSuppressor                string
	ActionsSuppressorWaitPeriod      int
	ActionsSuppressorExtensionPeriod int
}

type wCompositeAlarm struct {
	ActionsEnabled                     *bool    `json:",omitempty"`
	AlarmActions                       []string `json:",omitempty"`
	AlarmArn                           string
	AlarmConfigurationUpdatedTimestamp *awsproto.EpochTime `json:",omitempty"`
	AlarmDescription                   string              `json:",omitempty"`
	AlarmName                          string
	AlarmRule                          string              `json:",omitempty"`
	InsufficientDataActions            []string            `json:",omitempty"`
	OKActions                          []string            `json:",omitempty"`
	StateReason                        string              `json:",omitempty"`
	StateReasonData                    string              `json:",omitempty"`
	StateUpdatedTimestamp              *awsproto.EpochTime `json:",omitempty"`
	StateValue                         string              `json:",omitempty"`
	StateTransitionedTimestamp         *awsproto.EpochTime `json:",omitempty"`
	ActionsSuppressedBy                string              `json:",omitempty"`
	ActionsSuppressedReason            string              `json:",omitempty"`
	ActionsSuppressor                  string              `json:",omitempty"`
	ActionsSuppressorWaitPeriod        *int                `json:",omitempty"`
	ActionsSuppressorExtensionPeriod   *int                `json:",omitempty"`
}

type describeAlarmsForMetricIn struct {
	MetricName        string
	Namespace         string
	Statistic         string
	ExtendedStatistic string
	Dimensions        []wDimension
	Period            int
	Unit              string
}

type describeAlarmsForMetricOut struct {
	MetricAlarms []wMetricAlarm
}

type describeAlarmHistoryIn struct {
	AlarmName       string
	AlarmTypes      []string
	HistoryItemType string
	StartDate       *awsproto.EpochTime
	EndDate         *awsproto.EpochTime
	MaxRecords      int
	NextToken       string
	ScanBy          string
}

type wAlarmHistoryItem struct {
	AlarmName       string
	AlarmType       string
	Timestamp       awsproto.EpochTime
	HistoryItemType string
	HistorySummary  string
	HistoryData     string
}

type describeAlarmHistoryOut struct {
	AlarmHistoryItems []wAlarmHistoryItem
	NextToken         string `json:",omitempty"`
}

type alarmNamesIn struct {
	AlarmNames []string
}

type setAlarmStateIn struct {
	AlarmName       string
	StateValue      string
	StateReason     string
	StateReasonData string
}
