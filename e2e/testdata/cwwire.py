#!/usr/bin/env python3
"""CloudWatch through boto3, every operation berth serves, over one protocol.

    python3 cwwire.py --endpoint http://127.0.0.1:4566 --protocol cbor|json|query

botocore's cloudwatch model lists protocols ["smithy-rpc-v2-cbor", "json",
"query"]; botocore 1.43 picks by its own priority (json first), while
aws-sdk-go-v2 speaks CBOR. --protocol default uses the stock model (what
boto3 and the aws CLI v1 on this machine speak); cbor, json and query write
a copy of the model that lists only that protocol (AWS_DATA_PATH), so boto3
speaks it exactly as the SDKs that prefer it do. Every raw response body is checked against the
model (member names, value types, enums, required members, declared error
codes) and the answers are checked for the values they must hold. Prints
VIOLATION lines and "cloudwatch wire ok".
"""

import argparse
import datetime
import gzip
import json
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

PROTOCOL_NAMES = {"cbor": "smithy-rpc-v2-cbor", "json": "json", "query": "query"}
# CloudWatch's common errors (API Reference, Common Errors) that no
# operation of the model declares: ValidationError is what AWS answers for
# a bad AlarmRule and for deleting an alarm a composite alarm depends on.
COMMON_ERRORS = {"ValidationError"}


def use_protocol(proto):
    if proto == "default":
        return
    import botocore
    src = os.path.join(os.path.dirname(botocore.__file__), "data", "cloudwatch", "2010-08-01", "service-2.json.gz")
    with gzip.open(src) as f:
        model = json.load(f)
    model["metadata"]["protocol"] = PROTOCOL_NAMES[proto]
    model["metadata"]["protocols"] = [PROTOCOL_NAMES[proto]]
    d = tempfile.mkdtemp(prefix="cwmodel")
    os.makedirs(os.path.join(d, "cloudwatch", "2010-08-01"))
    with open(os.path.join(d, "cloudwatch", "2010-08-01", "service-2.json"), "w") as f:
        json.dump(model, f)
    os.environ["AWS_DATA_PATH"] = d


def local(tag):
    return tag.rsplit("}", 1)[-1]


class Checker:
    def __init__(self, proto):
        self.proto = proto
        self.violations = []
        self.succeeded = set()
        self.headers_seen = set()

    def bad(self, op, path, msg):
        self.violations.append((op, path, msg))

    def after_call(self, http_response, model, **_):
        op = model.name
        raw = http_response.content or b""
        ct = http_response.headers.get("content-type", "")
        want_ct = {"cbor": "application/cbor", "json": "application/x-amz-json-1.0", "query": "text/xml"}[self.proto]
        if ct != want_ct:
            self.bad(op, "$", f"content type {ct!r}, want {want_ct}")
        status = http_response.status_code
        if self.proto == "query":
            return self.check_xml(op, model, raw, status)
        if self.proto == "cbor":
            from botocore.parsers import RpcV2CBORParser
            body = RpcV2CBORParser()._initial_body_parse(raw) if raw else {}
            if http_response.headers.get("smithy-protocol") != "rpc-v2-cbor":
                self.bad(op, "$", "no smithy-protocol: rpc-v2-cbor header")
        else:
            body = json.loads(raw) if raw else {}
        if status >= 300:
            qe = http_response.headers.get("x-amzn-query-error", "")
            code = qe.split(";")[0]
            declared = {s.metadata.get("error", {}).get("code", s.name) for s in model.error_shapes}
            if code not in declared | COMMON_ERRORS:
                self.bad(op, "$.error", f"query error code {code!r} not declared by {op} ({sorted(declared)})")
            if not body.get("message"):
                self.bad(op, "$.message", "empty message")
            if "__type" not in body:
                self.bad(op, "$.__type", "missing")
            return
        self.succeeded.add(op)
        if model.output_shape is not None:
            self.check(op, model.output_shape, body, "$")

    def check(self, op, shape, v, path):
        t = shape.type_name
        if t == "structure":
            if not isinstance(v, dict):
                return self.bad(op, path, f"want a structure, got {type(v).__name__}")
            for k, x in v.items():
                if k not in shape.members:
                    self.bad(op, f"{path}.{k}", f"not a member of {shape.name}")
                    continue
                self.check(op, shape.members[k], x, f"{path}.{k}")
            for r in shape.required_members:
                if r not in v:
                    self.bad(op, f"{path}.{r}", "required member missing")
        elif t == "list":
            if not isinstance(v, list):
                return self.bad(op, path, f"want a list, got {type(v).__name__}")
            for i, x in enumerate(v):
                self.check(op, shape.member, x, f"{path}[{i}]")
        elif t == "map":
            if not isinstance(v, dict):
                self.bad(op, path, "want a map")
        elif t == "string":
            if not isinstance(v, str):
                return self.bad(op, path, f"want a string, got {type(v).__name__}")
            if shape.enum and v not in shape.enum:
                self.bad(op, path, f"{v!r} not in enum {shape.name}")
        elif t in ("integer", "long"):
            if not isinstance(v, int) or isinstance(v, bool):
                self.bad(op, path, f"want an integer, got {v!r}")
        elif t == "double":
            ok = isinstance(v, float) if self.proto == "cbor" else isinstance(v, (int, float)) and not isinstance(v, bool)
            if not ok:
                self.bad(op, path, f"want a double, got {v!r}")
        elif t == "boolean":
            if not isinstance(v, bool):
                self.bad(op, path, f"want a boolean, got {v!r}")
        elif t == "timestamp":
            ok = isinstance(v, datetime.datetime) if self.proto == "cbor" else isinstance(v, (int, float))
            if not ok:
                self.bad(op, path, f"want a timestamp, got {v!r}")

    def check_xml(self, op, model, raw, status):
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as e:
            return self.bad(op, "$", f"not XML ({e})")
        if status >= 300:
            code = root.findtext("{*}Error/{*}Code")
            declared = {s.metadata.get("error", {}).get("code", s.name) for s in model.error_shapes}
            if code not in declared | COMMON_ERRORS:
                self.bad(op, "$.Error.Code", f"{code} not declared by {op} ({sorted(declared)})")
            return
        self.succeeded.add(op)
        if local(root.tag) != op + "Response":
            self.bad(op, "$", f"document element {local(root.tag)}")
        result = [c for c in root if local(c.tag) == op + "Result"]
        if len(result) != 1:
            return self.bad(op, "$", f"want one {op}Result")
        if model.output_shape is not None:
            self.check_el(op, model.output_shape, result[0], "$")

    def check_el(self, op, shape, el, path):
        t = shape.type_name
        text = (el.text or "").strip()
        if t == "structure":
            for c in el:
                name = local(c.tag)
                if name not in shape.members:
                    self.bad(op, f"{path}.{name}", f"not a member of {shape.name}")
                    continue
                self.check_el(op, shape.members[name], c, f"{path}.{name}")
        elif t == "list":
            for i, c in enumerate(el):
                if local(c.tag) != "member":
                    self.bad(op, path, f"list element {local(c.tag)}, want member")
                self.check_el(op, shape.member, c, f"{path}[{i}]")
        elif t in ("integer", "long"):
            try:
                int(text)
            except ValueError:
                self.bad(op, path, f"not an integer: {text!r}")
        elif t == "double":
            try:
                float(text)
            except ValueError:
                self.bad(op, path, f"not a double: {text!r}")
        elif t == "boolean":
            if text not in ("true", "false"):
                self.bad(op, path, f"not a boolean: {text!r}")
        elif t == "timestamp":
            try:
                datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                self.bad(op, path, f"not an ISO 8601 timestamp: {text!r}")
        elif t == "string" and shape.enum and text not in shape.enum:
            self.bad(op, path, f"{text!r} not in enum {shape.name}")


def expect_error(chk, fn, code, **kw):
    try:
        fn(**kw)
    except Exception as e:  # botocore ClientError
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        if got != code:
            chk.bad(fn.__name__, "$", f"error {got}, want {code}: {e}")
        return
    chk.bad(fn.__name__, "$", f"no error, want {code}")


def composite_alarms(cw, chk, ns, check):
    """Composite alarms: creation, the evaluator following the children
    set by hand, the AlarmTypes, ChildrenOfAlarmName and ParentsOfAlarmName
    views, SetAlarmState on the composite, its history, and AWS's
    ValidationErrors."""
    for n in ("cmp-a", "cmp-b", "cmp-sup"):
        cw.put_metric_alarm(AlarmName=n, MetricName="Nothing", Namespace=ns, Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                            TreatMissingData="ignore")
    arn_b = cw.describe_alarms(AlarmNames=["cmp-b"])["MetricAlarms"][0]["AlarmArn"]
    cw.put_composite_alarm(AlarmName="cmp-both", AlarmRule=f'ALARM(cmp-a) AND ALARM("{arn_b}")', AlarmDescription="both",
                           AlarmActions=["arn:aws:sns:eu-west-1:123456789012:topic"], ActionsSuppressor="cmp-sup",
                           ActionsSuppressorWaitPeriod=120, ActionsSuppressorExtensionPeriod=180)

    def composite(name):
        r = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
        return r["CompositeAlarms"][0] if r.get("CompositeAlarms") else {}

    def wait_state(name, want):
        deadline = time.time() + 15
        c = composite(name)
        while c.get("StateValue") != want and time.time() < deadline:
            time.sleep(0.1)
            c = composite(name)
        return c

    c = wait_state("cmp-both", "OK")
    check(c.get("StateValue") == "OK" and c.get("StateReason") == arn_b.replace("cmp-b", "cmp-both") +
          " was created and its alarm rule evaluates to OK", f"new composite {c}")
    check(c.get("AlarmRule") == f'ALARM(cmp-a) AND ALARM("{arn_b}")' and c.get("ActionsEnabled") is True
          and c.get("ActionsSuppressorWaitPeriod") == 120 and c.get("ActionsSuppressorExtensionPeriod") == 180
          and c.get("ActionsSuppressor") == "cmp-sup", f"composite shape {c}")
    check(json.loads(c.get("StateReasonData", "{}")).get("triggeringAlarms", [{}])[0].get("arn", "").endswith(":alarm:cmp-a"),
          f"reason data {c.get('StateReasonData')}")
    check(cw.describe_alarms(AlarmNames=["cmp-both"]).get("CompositeAlarms", []) == [], "composites without AlarmTypes")
    cw.set_alarm_state(AlarmName="cmp-a", StateValue="ALARM", StateReason="by hand")
    cw.set_alarm_state(AlarmName="cmp-b", StateValue="ALARM", StateReason="by hand")
    c = wait_state("cmp-both", "ALARM")
    check(c.get("StateValue") == "ALARM" and c.get("StateReason", "").startswith(arn_b + " transitioned to ALARM at "),
          f"composite after its children {c}")
    # The suppressor is not in ALARM: the ALARM actions wait for it.
    check(c.get("ActionsSuppressedBy") == "WaitPeriod" and c.get("ActionsSuppressedReason") == "Actions suppressed by WaitPeriod",
          f"suppression {c.get('ActionsSuppressedBy')} {c.get('ActionsSuppressedReason')}")
    r = cw.describe_alarms(ChildrenOfAlarmName="cmp-both")
    check([a["AlarmName"] for a in r["MetricAlarms"]] == ["cmp-a", "cmp-b"], f"children {r['MetricAlarms']}")
    r = cw.describe_alarms(ParentsOfAlarmName="cmp-a")
    check([a["AlarmName"] for a in r.get("CompositeAlarms", [])] == ["cmp-both"], f"parents {r.get('CompositeAlarms')}")
    cw.set_alarm_state(AlarmName="cmp-both", StateValue="OK", StateReason="composite by hand")
    check(composite("cmp-both").get("StateReason") == "composite by hand", "SetAlarmState on a composite")
    r = cw.describe_alarm_history(AlarmName="cmp-both", AlarmTypes=["CompositeAlarm"], ScanBy="TimestampAscending")
    kinds = [h["HistoryItemType"] for h in r["AlarmHistoryItems"]]
    check(kinds[:1] == ["ConfigurationUpdate"] and kinds.count("StateUpdate") >= 2
          and {h["AlarmType"] for h in r["AlarmHistoryItems"]} == {"CompositeAlarm"}, f"composite history {kinds}")
    r = cw.describe_alarm_history(AlarmName="cmp-both", AlarmTypes=["MetricAlarm"])
    check(r["AlarmHistoryItems"] == [], "history filtered by AlarmTypes")
    expect_error(chk, cw.put_composite_alarm, "ValidationError", AlarmName="cmp-bad", AlarmRule="()")
    expect_error(chk, cw.put_composite_alarm, "ValidationError", AlarmName="cmp-bad", AlarmRule="ALARM(no-such-alarm)")
    expect_error(chk, cw.delete_alarms, "ValidationError", AlarmNames=["cmp-a"])
    cw.delete_alarms(AlarmNames=["cmp-both", "cmp-a", "cmp-b", "cmp-sup"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--protocol", choices=sorted(PROTOCOL_NAMES) + ["default"], required=True)
    args = ap.parse_args()
    use_protocol(args.protocol)
    import boto3
    cw = boto3.client("cloudwatch", endpoint_url=args.endpoint, region_name="eu-west-1",
                      aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    spoken = cw.meta.service_model.resolved_protocol
    if args.protocol != "default" and spoken != PROTOCOL_NAMES[args.protocol]:
        print(f"client speaks {spoken}, not {args.protocol}")
        sys.exit(2)
    args.protocol = {v: k for k, v in PROTOCOL_NAMES.items()}[spoken]
    print(f"boto3 speaks {spoken}")
    chk = Checker(args.protocol)
    cw.meta.events.register("after-call.cloudwatch", chk.after_call)
    ns = f"Wire/{args.protocol}/{os.getpid()}"
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    t0 = now - datetime.timedelta(minutes=10 + now.minute % 2)  # on a two-minute boundary

    def check(cond, what):
        if not cond:
            chk.bad("semantics", "$", what)

    dims = [{"Name": "Service", "Value": "web"}, {"Name": "Cluster", "Value": "prod"}]
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0, "Value": 10.0, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + datetime.timedelta(seconds=5),
         "Values": [20.0, 30.0], "Counts": [1.0, 2.0], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0 + datetime.timedelta(minutes=1),
         "StatisticValues": {"SampleCount": 4, "Sum": 40, "Minimum": 5, "Maximum": 15}, "Unit": "Milliseconds",
         "StorageResolution": 1},
    ])
    # 520 metrics so that ListMetrics pages (500 a page).
    for base in range(0, 520, 260):
        cw.put_metric_data(Namespace=ns, MetricData=[
            {"MetricName": "Many", "Dimensions": [{"Name": "N", "Value": f"{i:04d}"}], "Timestamp": t0, "Value": float(i)}
            for i in range(base, base + 260)])

    r = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
                                 EndTime=t0 + datetime.timedelta(minutes=2), Period=60,
                                 Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])
    dps = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])
    check(len(dps) == 2, f"two one-minute datapoints, got {dps}")
    if len(dps) == 2:
        d = dps[0]
        check((d["SampleCount"], d["Sum"], d["Minimum"], d["Maximum"], d["Average"]) == (4.0, 90.0, 10.0, 30.0, 22.5),
              f"first minute statistics {d}")
        check(d["Unit"] == "Milliseconds", f"unit {d.get('Unit')}")
        check(dps[1]["Average"] == 10.0, f"second minute {dps[1]}")
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
                                 EndTime=t0 + datetime.timedelta(minutes=2), Period=120, Statistics=["Sum"])
    check([d["Sum"] for d in r["Datapoints"]] == [130.0], f"two-minute sum {r['Datapoints']}")
    # Percentiles (nearest rank) of the first minute's values 10, 20, 30,
    # 30: p50 is rank 2, 20; p99 is rank ceil(3.96) = 4, 30. The second
    # minute is a statistic set, which gives none.
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
                                 EndTime=t0 + datetime.timedelta(minutes=2), Period=60, ExtendedStatistics=["p50", "p99"])
    dps = sorted(r["Datapoints"], key=lambda d: d["Timestamp"])
    check(len(dps) == 2 and dps[0].get("ExtendedStatistics") == {"p50": 20.0, "p99": 30.0}
          and "ExtendedStatistics" not in dps[1] and "Sum" not in dps[0], f"percentiles {dps}")
    r = cw.get_metric_data(StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=2), MetricDataQueries=[
        {"Id": "p", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                   "Period": 60, "Stat": "p50"}}])
    check(r["MetricDataResults"][0]["Values"] == [20.0], f"p50 by GetMetricData {r['MetricDataResults']}")
    # Paging: MaxDatapoints 3 over two results of two datapoints each.
    qs = [{"Id": "n", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                     "Period": 60, "Stat": "SampleCount"}},
          {"Id": "s", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                     "Period": 60, "Stat": "Sum"}}]
    kw = dict(StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=2), ScanBy="TimestampAscending", MetricDataQueries=qs, MaxDatapoints=3)
    r = cw.get_metric_data(**kw)
    got = [(x["Id"], x["Values"], x["StatusCode"]) for x in r["MetricDataResults"]]
    check(got == [("n", [4.0, 4.0], "Complete"), ("s", [90.0], "PartialData")] and "NextToken" in r, f"first page {got}")
    r = cw.get_metric_data(NextToken=r.get("NextToken", ""), **kw)
    got = [(x["Id"], x["Values"], x["StatusCode"]) for x in r["MetricDataResults"]]
    check(got == [("n", [], "Complete"), ("s", [40.0], "Complete")] and "NextToken" not in r, f"second page {got}")

    r = cw.get_metric_data(StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=2), ScanBy="TimestampAscending",
                           MetricDataQueries=[
                               {"Id": "lat", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                                            "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                               {"Id": "cnt", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                                            "Period": 60, "Stat": "SampleCount"}, "ReturnData": False},
                               {"Id": "avg", "Expression": "lat / cnt", "Label": "mean latency"},
                               {"Id": "tot", "Expression": "SUM(METRICS())"},
                           ])
    res = {x["Id"]: x for x in r["MetricDataResults"]}
    check(set(res) == {"avg", "tot"}, f"returned ids {set(res)}")
    if "avg" in res:
        check(res["avg"]["Values"] == [22.5, 10.0] and res["avg"]["Label"] == "mean latency" and res["avg"]["StatusCode"] == "Complete",
              f"avg {res['avg']}")
    if "tot" in res:
        check(res["tot"]["Values"] == [94.0, 44.0], f"tot {res['tot']}")

    r = cw.list_metrics(Namespace=ns, MetricName="Many")
    check(len(r["Metrics"]) == 500 and "NextToken" in r, f"first page {len(r['Metrics'])}")
    r2 = cw.list_metrics(Namespace=ns, MetricName="Many", NextToken=r.get("NextToken", ""))
    check(len(r2["Metrics"]) == 20 and "NextToken" not in r2, f"second page {len(r2['Metrics'])}")
    r = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Service", "Value": "web"}])
    check([m["MetricName"] for m in r["Metrics"]] == ["Latency"], f"dimension filter {r['Metrics']}")
    r = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Cluster"}], RecentlyActive="PT3H")
    check(len(r["Metrics"]) == 1, f"name-only dimension filter {r['Metrics']}")

    cw.put_metric_alarm(AlarmName="lat-high", MetricName="Latency", Namespace=ns, Dimensions=dims, Statistic="Average",
                        Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=100.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
                        AlarmActions=["arn:aws:sns:eu-west-1:123456789012:topic"], AlarmDescription="too slow",
                        Tags=[{"Key": "team", "Value": "web"}])
    cw.put_metric_alarm(AlarmName="lat-math", EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="LessThanThreshold",
                        Metrics=[{"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                                                             "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                                 {"Id": "e", "Expression": "m * 2", "ReturnData": True}])
    r = cw.describe_alarms(AlarmNames=["lat-high"])
    a = r["MetricAlarms"][0] if r["MetricAlarms"] else {}
    check(a.get("AlarmArn") == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:lat-high", f"arn {a.get('AlarmArn')}")
    check(a.get("StateValue") in ("INSUFFICIENT_DATA", "OK"), f"new alarm state {a.get('StateValue')}")
    check(a.get("DatapointsToAlarm") == 2 and a.get("Threshold") == 100.0 and a.get("ActionsEnabled") is True, f"alarm {a}")
    r = cw.describe_alarms(AlarmNamePrefix="lat-", MaxRecords=1)
    check(len(r["MetricAlarms"]) == 1 and "NextToken" in r, "first alarm page")
    r = cw.describe_alarms(AlarmNamePrefix="lat-", MaxRecords=1, NextToken=r.get("NextToken", ""))
    check([x["AlarmName"] for x in r["MetricAlarms"]] == ["lat-math"], f"second alarm page {r['MetricAlarms']}")
    check(r["MetricAlarms"][0]["Metrics"][1]["Expression"] == "m * 2", "math alarm metrics")
    r = cw.describe_alarms_for_metric(MetricName="Latency", Namespace=ns, Dimensions=list(reversed(dims)))
    check([x["AlarmName"] for x in r["MetricAlarms"]] == ["lat-high"], f"alarms for metric {r['MetricAlarms']}")
    cw.disable_alarm_actions(AlarmNames=["lat-high"])
    check(cw.describe_alarms(AlarmNames=["lat-high"])["MetricAlarms"][0]["ActionsEnabled"] is False, "disable actions")
    cw.enable_alarm_actions(AlarmNames=["lat-high"])
    check(cw.describe_alarms(AlarmNames=["lat-high"])["MetricAlarms"][0]["ActionsEnabled"] is True, "enable actions")
    cw.set_alarm_state(AlarmName="lat-high", StateValue="ALARM", StateReason="testing by hand",
                       StateReasonData='{"why": "test"}')
    r = cw.describe_alarms(StateValue="ALARM", AlarmNames=["lat-high"])
    check(len(r["MetricAlarms"]) == 1 and r["MetricAlarms"][0]["StateReason"] == "testing by hand", "set alarm state")
    r = cw.describe_alarm_history(AlarmName="lat-high")
    kinds = [h["HistoryItemType"] for h in r["AlarmHistoryItems"]]
    check("ConfigurationUpdate" in kinds and "StateUpdate" in kinds and "Action" in kinds, f"history kinds {kinds}")
    r = cw.describe_alarm_history(AlarmName="lat-high", HistoryItemType="StateUpdate", MaxRecords=1, ScanBy="TimestampAscending")
    check(len(r["AlarmHistoryItems"]) == 1, "history page")
    # Paging one item a page through all of lat-high's history, oldest first.
    pages, token = [], None
    for _ in range(20):
        kw = {"NextToken": token} if token else {}
        r = cw.describe_alarm_history(AlarmName="lat-high", MaxRecords=1, ScanBy="TimestampAscending", **kw)
        pages += r["AlarmHistoryItems"]
        token = r.get("NextToken")
        if not token:
            break
    check(len(pages) == len(kinds) and [h["Timestamp"] for h in pages] == sorted(h["Timestamp"] for h in pages)
          and pages[0]["HistoryItemType"] == "ConfigurationUpdate", f"history pages {[h['HistoryItemType'] for h in pages]}")
    r = cw.describe_alarm_history(AlarmName="lat-high", HistoryItemType="Action")
    check([h["HistoryItemType"] for h in r["AlarmHistoryItems"]] == ["Action"], f"Action history {r['AlarmHistoryItems']}")
    r = cw.describe_alarm_history(AlarmName="lat-high", HistoryItemType="AlarmContributorStateUpdate")
    check(r["AlarmHistoryItems"] == [], "contributor history (none in berth)")

    composite_alarms(cw, chk, ns, check)

    expect_error(chk, cw.delete_alarms, "ResourceNotFound", AlarmNames=["no-such-alarm"])
    expect_error(chk, cw.put_metric_data, "InvalidParameterValue", Namespace="AWS/EC2",
                 MetricData=[{"MetricName": "m", "Value": 1.0}])
    expect_error(chk, cw.put_metric_data, "InvalidParameterCombination", Namespace=ns,
                 MetricData=[{"MetricName": "m", "Value": 1.0, "Values": [1.0]}])
    expect_error(chk, cw.get_metric_statistics, "InvalidParameterValue", Namespace=ns, MetricName="Latency",
                 StartTime=t0, EndTime=now, Period=7, Statistics=["Sum"])
    expect_error(chk, cw.get_metric_statistics, "InvalidParameterValue", Namespace=ns, MetricName="Latency",
                 StartTime=t0, EndTime=now, Period=60, ExtendedStatistics=["p101"])
    expect_error(chk, cw.set_alarm_state, "InvalidFormat", AlarmName="lat-high", StateValue="OK",
                 StateReason="x", StateReasonData="{not json")
    expect_error(chk, cw.set_alarm_state, "ResourceNotFound", AlarmName="nope", StateValue="OK", StateReason="x")
    expect_error(chk, cw.describe_alarms, "InvalidNextToken", NextToken="garbage!")
    expect_error(chk, cw.get_metric_data, "InvalidNextToken", NextToken="garbage!", StartTime=t0, EndTime=now,
                 MetricDataQueries=qs)
    cw.delete_alarms(AlarmNames=["lat-high", "lat-math"])
    check(cw.describe_alarms(AlarmNamePrefix="lat-")["MetricAlarms"] == [], "deleted")

    want = {"PutMetricData", "GetMetricStatistics", "GetMetricData", "ListMetrics", "PutMetricAlarm", "DescribeAlarms",
            "DescribeAlarmsForMetric", "DescribeAlarmHistory", "DeleteAlarms", "EnableAlarmActions",
            "DisableAlarmActions", "SetAlarmState", "PutCompositeAlarm"}
    missing = want - chk.succeeded
    if missing:
        chk.bad("coverage", "$", f"operations never succeeded: {sorted(missing)}")
    for op, path, msg in chk.violations:
        print(f"VIOLATION {op} {path}: {msg}")
    if chk.violations:
        sys.exit(1)
    print(f"cloudwatch wire ok ({args.protocol}, {len(chk.succeeded)} operations)")


if __name__ == "__main__":
    main()
