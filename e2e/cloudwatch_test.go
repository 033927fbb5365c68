package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/sdkhttp"
)

// TestCloudWatchBoto3Protocols drives every CloudWatch operation berth
// serves with boto3 (testdata/cwwire.py) over each protocol of botocore's
// model (smithy-rpc-v2-cbor, awsJson1.0, awsQuery, and the stock client's
// own choice), checking every raw answer against the model and the
// statistics and metric math against the values put.
func TestCloudWatchBoto3Protocols(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 with boto3 is required in CI")
		}
		t.Skip("SKIP: python3 with boto3 is not available")
	}
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	for _, proto := range []string{"default", "cbor", "json", "query"} {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "python3", "testdata/cwwire.py", "--endpoint", p.URL, "--protocol", proto)
			cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "VIOLATION") || !strings.Contains(string(out), "cloudwatch wire ok") {
				t.Fatalf("cloudwatch over %s (%v):\n%s", proto, err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}

func cloudwatchClient(url string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), HTTPClient: sdkhttp.Client(30 * time.Second), RetryMaxAttempts: 1,
	})
}

// TestCloudWatchGoSDK calls every operation with aws-sdk-go-v2 (whose
// cloudwatch client speaks smithy-rpc-v2-cbor), including an alarm that
// the evaluator moves to ALARM with the time scaled by 60.
func TestCloudWatchGoSDK(t *testing.T) {
	p := startBerth(t, t.TempDir(), "--driver", "fake", "--metric-time-scale", "60")
	c := cloudwatchClient(p.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dims := []cwtypes.Dimension{{Name: aws.String("ServiceName"), Value: aws.String("web")}}
	put := func(v float64) {
		t.Helper()
		_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
			{MetricName: aws.String("Load"), Dimensions: dims, Value: aws.Float64(v), Unit: cwtypes.StandardUnitPercent},
			{MetricName: aws.String("Load"), Dimensions: dims, Values: []float64{v, v}, Counts: []float64{1, 1}, Unit: cwtypes.StandardUnitPercent},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(90)
	_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("load-high"), Namespace: aws.String("App"), MetricName: aws.String("Load"), Dimensions: dims,
		Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(80), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keep the load high for a few scaled minutes: the alarm must go to
	// ALARM with AWS's reason.
	var alarm cwtypes.MetricAlarm
	eventually(t, 30*time.Second, func() (bool, string) {
		put(90)
		out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"load-high"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			return false, "describe: " + errString(err)
		}
		alarm = out.MetricAlarms[0]
		time.Sleep(200 * time.Millisecond)
		return alarm.StateValue == cwtypes.StateValueAlarm, string(alarm.StateValue)
	})
	if r := aws.ToString(alarm.StateReason); !strings.HasPrefix(r, "Threshold Crossed: 2 out of the last 2 datapoints [90.0 (") ||
		!strings.HasSuffix(r, "] were greater than the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).") {
		t.Fatalf("reason %q", r)
	}
	var rd map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(alarm.StateReasonData)), &rd); err != nil || rd["statistic"] != "Average" {
		t.Fatalf("reason data %q: %v", aws.ToString(alarm.StateReasonData), err)
	}
	now := time.Now()
	stats, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("Load"),
		Dimensions: dims, StartTime: aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now.Add(time.Second)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum}})
	if err != nil || len(stats.Datapoints) == 0 {
		t.Fatalf("stats %+v %v", stats, err)
	}
	for _, d := range stats.Datapoints {
		if aws.ToFloat64(d.Average) != 90 || aws.ToFloat64(d.Maximum) != 90 || d.Unit != cwtypes.StandardUnitPercent {
			t.Fatalf("datapoint %+v", d)
		}
	}
	md, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now.Add(time.Second)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("l"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Load"), Dimensions: dims},
				Period: aws.Int32(60), Stat: aws.String("Average")}, ReturnData: aws.Bool(false)},
			{Id: aws.String("half"), Expression: aws.String("l / 2")},
		}})
	if err != nil || len(md.MetricDataResults) != 1 || len(md.MetricDataResults[0].Values) == 0 || md.MetricDataResults[0].Values[0] != 45 {
		t.Fatalf("metric data %+v %v", md, err)
	}
	lm, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("App")})
	if err != nil || len(lm.Metrics) != 1 || aws.ToString(lm.Metrics[0].MetricName) != "Load" {
		t.Fatalf("list %+v %v", lm, err)
	}
	fm, err := c.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{Namespace: aws.String("App"), MetricName: aws.String("Load"), Dimensions: dims})
	if err != nil || len(fm.MetricAlarms) != 1 {
		t.Fatalf("for metric %+v %v", fm, err)
	}
	if _, err := c.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"load-high"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"load-high"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("load-high"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("by hand")}); err != nil {
		t.Fatal(err)
	}
	h, err := c.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("load-high"), HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
	if err != nil || len(h.AlarmHistoryItems) < 2 || !strings.Contains(aws.ToString(h.AlarmHistoryItems[0].HistorySummary), "to OK") {
		t.Fatalf("history %+v %v", h, err)
	}
	_, err = c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"missing"}})
	var rnf *cwtypes.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Fatalf("delete missing: %v", err)
	}
	_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	var ipv *cwtypes.InvalidParameterValueException
	var ae smithy.APIError
	if !errors.As(err, &ipv) || !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("AWS/ namespace: %v", err)
	}
	// Anomaly detection alarms are refused, not stored and never evaluated.
	_, err = c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("band"), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorLessThanLowerOrGreaterThanUpperThreshold, ThresholdMetricId: aws.String("ad1"),
		Metrics: []cwtypes.MetricDataQuery{
			{Id: aws.String("m1"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Load"), Dimensions: dims},
				Period: aws.Int32(60), Stat: aws.String("Average")}},
			{Id: aws.String("ad1"), Expression: aws.String("ANOMALY_DETECTION_BAND(m1, 2)")},
		}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "anomaly detection") {
		t.Fatalf("anomaly detection alarm: %v", err)
	}
	// A composite alarm over CBOR, and DeleteAlarms refusing its child.
	if _, err := c.PutCompositeAlarm(ctx, &cloudwatch.PutCompositeAlarmInput{AlarmName: aws.String("load-composite"),
		AlarmRule: aws.String(`ALARM("load-high") OR FALSE`)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"load-high"}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != "Cannot delete load-high as there are composite alarm(s) depending on it." {
		t.Fatalf("delete a composite's child: %v", err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"load-composite"}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}})
		if err != nil {
			return false, err.Error()
		}
		if len(out.CompositeAlarms) != 1 || out.CompositeAlarms[0].StateValue == cwtypes.StateValueInsufficientData {
			return false, fmt.Sprintf("the composite alarm has not followed load-high: %+v", out.CompositeAlarms)
		}
		return true, ""
	})
	if _, err := c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"load-composite", "load-high"}}); err != nil {
		t.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCloudWatchCLI runs the aws cloudwatch commands with the aws
// CLI v1.
func TestCloudWatchCLI(t *testing.T) {
	requireAWSCLI(t)
	p := startBerth(t, t.TempDir(), "--driver", "fake")
	work := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := p.aws(t, work, append([]string{"cloudwatch"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ts := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	run("put-metric-data", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Store=north",
		"--value", "7", "--unit", "Count", "--timestamp", ts.Format(time.RFC3339))
	run("put-metric-data", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Store=north",
		"--statistic-values", "SampleCount=2,Sum=13,Minimum=5,Maximum=8", "--unit", "Count", "--timestamp", ts.Format(time.RFC3339))
	out := run("get-metric-statistics", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Name=Store,Value=north",
		"--start-time", ts.Add(-time.Minute).Format(time.RFC3339), "--end-time", ts.Add(time.Minute).Format(time.RFC3339),
		"--period", "60", "--statistics", "Sum", "SampleCount", "Maximum")
	var st struct {
		Datapoints []struct{ Sum, SampleCount, Maximum float64 }
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Datapoints) != 1 || st.Datapoints[0].Sum != 20 || st.Datapoints[0].SampleCount != 3 || st.Datapoints[0].Maximum != 8 {
		t.Fatalf("get-metric-statistics: %v\n%s", err, out)
	}
	run("put-metric-alarm", "--alarm-name", "orders-low", "--namespace", "Shop", "--metric-name", "Orders",
		"--dimensions", "Name=Store,Value=north", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "1", "--comparison-operator", "LessThanThreshold")
	out = run("describe-alarms", "--alarm-names", "orders-low")
	if !strings.Contains(out, `"AlarmName": "orders-low"`) || !strings.Contains(out, `"StateValue"`) {
		t.Fatalf("describe-alarms:\n%s", out)
	}
	out = run("get-metric-data", "--start-time", ts.Add(-time.Minute).Format(time.RFC3339), "--end-time", ts.Add(time.Minute).Format(time.RFC3339),
		"--metric-data-queries", `[{"Id":"o","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"Orders","Dimensions":[{"Name":"Store","Value":"north"}]},"Period":60,"Stat":"Sum"},"ReturnData":false},{"Id":"twice","Expression":"o*2"}]`)
	if !strings.Contains(out, `"Id": "twice"`) || !strings.Contains(out, "40") {
		t.Fatalf("get-metric-data:\n%s", out)
	}
	if out := run("list-metrics", "--namespace", "Shop"); !strings.Contains(out, `"MetricName": "Orders"`) {
		t.Fatalf("list-metrics:\n%s", out)
	}
	run("delete-alarms", "--alarm-names", "orders-low")
	if _, err := p.aws(t, work, "cloudwatch", "delete-alarms", "--alarm-names", "orders-low"); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("deleting a missing alarm: %v", err)
	}
}
