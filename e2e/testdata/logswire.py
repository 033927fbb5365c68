#!/usr/bin/env python3
"""CloudWatch Logs through boto3, every operation, with a wire-shape check.

Drives a berth server with boto3's logs client through every operation
berth serves (groups, retention, tags, streams, PutLogEvents with its batch
rules, GetLogEvents paging both ways, FilterLogEvents patterns and
pagination, StartLiveTail's event stream) and their error paths, and checks every raw JSON response
against botocore's logs model with wireshape.py's Checker. Prints
VIOLATION lines and "logs wire ok" at the end.

    python3 logswire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from wireshape import Checker, check_value  # noqa: E402

OPS = ["CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy",
       "TagLogGroup", "UntagLogGroup", "ListTagsLogGroup", "TagResource", "UntagResource", "ListTagsForResource",
       "CreateLogStream", "DeleteLogStream", "DescribeLogStreams", "PutLogEvents", "GetLogEvents", "FilterLogEvents"]

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def live_tail(endpoint, hooked, ck):
    """StartLiveTail with boto3 (botocore reads the event stream): checks
    the raw events' headers and JSON payloads against the model's event
    shapes, the filter pattern, and a missing group's error."""
    from botocore.config import Config
    logs = boto3.client("logs", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(inject_host_prefix=False))
    # Error answers are plain JSON: checked by the Checker (a success is a
    # stream that its after-call hook must not read to the end).
    errs = boto3.client("logs", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(inject_host_prefix=False))
    ck.hook(errs)
    g = "/ecs/live"
    hooked.create_log_group(logGroupName=g)
    hooked.create_log_stream(logGroupName=g, logStreamName="web/1")
    expect(error_code(errs.start_live_tail, logGroupIdentifiers=["/ecs/nope"]) == "ResourceNotFoundException", "live tail missing group")
    expect(error_code(errs.start_live_tail, logGroupIdentifiers=[g, "/ecs/x"], logStreamNames=["a"]) == "InvalidParameterException",
           "live tail streams with two groups")
    arn = f"arn:aws:logs:eu-west-1:123456789012:log-group:{g}"
    resp = logs.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="ERROR")
    stream = resp["responseStream"]
    model = logs.meta.service_model.shape_for("StartLiveTailResponseStream")
    bad = lambda p, m: failures.append(f"StartLiveTail {p}: {m}")
    got, seen_start, put = [], False, False
    deadline = time.time() + 30
    for msg in stream._event_generator:  # the raw messages botocore parses
        h = msg.headers
        if h.get(":message-type") != "event" or h.get(":content-type") != "application/json":
            bad("headers", f"{h}")
            break
        kind = h.get(":event-type")
        if kind not in model.members:
            bad(":event-type", f"{kind!r} is not a member of StartLiveTailResponseStream")
            break
        body = json.loads(msg.payload)
        check_value(model.members[kind], body, f"$.{kind}", bad)
        if kind == "sessionStart":
            seen_start = True
            expect(body.get("logGroupIdentifiers") == [arn] and body.get("logEventFilterPattern") == "ERROR", f"sessionStart {body}")
        elif not put:
            now = int(time.time() * 1000)
            hooked.put_log_events(logGroupName=g, logStreamName="web/1",
                                  logEvents=[{"timestamp": now, "message": "INFO fine"}, {"timestamp": now + 1, "message": "ERROR live"}])
            put = True
        else:
            got += [(r["logStreamName"], r["logGroupIdentifier"], r["message"]) for r in body.get("sessionResults", [])]
        if got or time.time() > deadline:
            break
    stream.close()
    expect(seen_start, "live tail: no sessionStart")
    expect(got == [("web/1", arn, "ERROR live")], f"live tail results {got}")
    hooked.delete_log_group(logGroupName=g)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    ck = Checker()
    logs = boto3.client("logs", endpoint_url=args.endpoint, region_name="eu-west-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    ck.hook(logs)

    g = "/ecs/wire"
    logs.create_log_group(logGroupName=g, tags={"team": "a"})
    expect(error_code(logs.create_log_group, logGroupName=g) == "ResourceAlreadyExistsException", "duplicate group")
    expect(error_code(logs.create_log_group, logGroupName="bad name!") == "InvalidParameterException", "bad group name")
    for i in range(7):
        logs.create_log_group(logGroupName=f"/other/g{i}")
    page = logs.describe_log_groups(limit=3)
    expect(len(page["logGroups"]) == 3 and "nextToken" in page, "describe groups page 1")
    names = [x["logGroupName"] for x in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 3}).build_full_result()["logGroups"]]
    expect(len(names) == 8, f"paginated groups {names}")
    expect([x["logGroupName"] for x in logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]] == [g], "prefix")
    expect(len(logs.describe_log_groups(logGroupNamePattern="OTHER")["logGroups"]) == 7, "pattern")
    expect(error_code(logs.describe_log_groups, logGroupNamePrefix="/a", logGroupNamePattern="b") == "InvalidParameterException", "prefix+pattern")

    logs.put_retention_policy(logGroupName=g, retentionInDays=7)
    expect(logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["retentionInDays"] == 7, "retention")
    expect(error_code(logs.put_retention_policy, logGroupName=g, retentionInDays=8) == "InvalidParameterException", "bad retention")
    logs.delete_retention_policy(logGroupName=g)
    expect("retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0], "retention removed")
    expect(error_code(logs.put_retention_policy, logGroupName="/nope", retentionInDays=7) == "ResourceNotFoundException", "retention missing group")

    logs.tag_log_group(logGroupName=g, tags={"env": "prod"})
    logs.untag_log_group(logGroupName=g, tags=["team"])
    expect(logs.list_tags_log_group(logGroupName=g)["tags"] == {"env": "prod"}, "legacy tags")
    arn = logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"k": "v"})
    logs.untag_resource(resourceArn=arn, tagKeys=["env"])
    expect(logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}, "resource tags")

    logs.create_log_stream(logGroupName=g, logStreamName="web/a")
    logs.create_log_stream(logGroupName=g, logStreamName="web/b")
    expect(error_code(logs.create_log_stream, logGroupName=g, logStreamName="web/a") == "ResourceAlreadyExistsException", "dup stream")
    expect(error_code(logs.create_log_stream, logGroupName="/nope", logStreamName="x") == "ResourceNotFoundException", "stream in missing group")
    expect(error_code(logs.create_log_stream, logGroupName=g, logStreamName="a:b") == "InvalidParameterException", "bad stream name")

    now = int(time.time() * 1000)
    evs = [{"timestamp": now + i, "message": (json.dumps({"level": "ERROR" if i % 5 == 0 else "INFO", "n": i}))} for i in range(100)]
    r = logs.put_log_events(logGroupName=g, logStreamName="web/a", logEvents=evs)
    expect("rejectedLogEventsInfo" not in r, "clean batch")
    hour = 3600 * 1000
    r = logs.put_log_events(logGroupName=g, logStreamName="web/b", sequenceToken="ignored",
                            logEvents=[{"timestamp": now - 14 * 24 * hour - hour, "message": "old"},
                                       {"timestamp": now - 14 * 24 * hour + hour, "message": "oldest kept"}])
    expect(r.get("rejectedLogEventsInfo") == {"tooOldLogEventEndIndex": 1}, f"rejected old {r}")
    r = logs.put_log_events(logGroupName=g, logStreamName="web/b",
                            logEvents=[{"timestamp": now, "message": "ERROR b now"},
                                       {"timestamp": now + 3 * hour, "message": "future"}])
    expect(r.get("rejectedLogEventsInfo") == {"tooNewLogEventStartIndex": 1}, f"rejected new {r}")
    expect(error_code(logs.put_log_events, logGroupName=g, logStreamName="web/a",
                      logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]) == "InvalidParameterException", "out of order")
    expect(error_code(logs.put_log_events, logGroupName=g, logStreamName="nope",
                      logEvents=[{"timestamp": now, "message": "x"}]) == "ResourceNotFoundException", "missing stream")

    st = logs.describe_log_streams(logGroupName=g)["logStreams"]
    expect([s["logStreamName"] for s in st] == ["web/a", "web/b"], "streams")
    st = logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", descending=True)["logStreams"]
    expect(st[0]["logStreamName"] == "web/a", f"order by last event {[s['logStreamName'] for s in st]}")
    expect(error_code(logs.describe_log_streams, logGroupName=g, orderBy="LastEventTime", logStreamNamePrefix="w") == "InvalidParameterException", "order+prefix")

    got = logs.get_log_events(logGroupName=g, logStreamName="web/a", startFromHead=True, limit=30)
    msgs = [e["message"] for e in got["events"]]
    tok = got["nextForwardToken"]
    while True:
        nxt = logs.get_log_events(logGroupName=g, logStreamName="web/a", nextToken=tok, limit=30)
        msgs += [e["message"] for e in nxt["events"]]
        if nxt["nextForwardToken"] == tok:
            break
        tok = nxt["nextForwardToken"]
    expect(len(msgs) == 100, f"forward paging got {len(msgs)}")
    last = logs.get_log_events(logGroupName=g, logStreamName="web/a", limit=10)
    expect(json.loads(last["events"][-1]["message"])["n"] == 99, "latest page")
    back = logs.get_log_events(logGroupName=g, logStreamName="web/a", limit=10, nextToken=last["nextBackwardToken"])
    expect(json.loads(back["events"][-1]["message"])["n"] == 89, "backward page")
    expect(error_code(logs.get_log_events, logGroupName=g, logStreamName="web/a", nextToken="junk") == "InvalidParameterException", "bad token")

    r = logs.filter_log_events(logGroupName=g, filterPattern='{ $.level = "ERROR" }')
    expect(len(r["events"]) == 20, f"json filter {len(r['events'])}")
    r = logs.filter_log_events(logGroupName=g, filterPattern='{ $.level = "ERROR" && $.n >= 50 }')
    expect(len(r["events"]) == 10, "json &&")
    r = logs.filter_log_events(logGroupName=g, filterPattern="ERROR", logStreamNames=["web/b"])
    expect([e["message"] for e in r["events"]] == ["ERROR b now"], "term filter one stream")
    evs = logs.get_paginator("filter_log_events").paginate(logGroupIdentifier=arn, PaginationConfig={"PageSize": 7}).build_full_result()["events"]
    expect(len(evs) == 102 and len({e["eventId"] for e in evs}) == 102, f"filter pages {len(evs)}")
    expect(all(evs[i]["timestamp"] <= evs[i + 1]["timestamp"] for i in range(len(evs) - 1)), "interleaved")
    expect(error_code(logs.filter_log_events, logGroupName=g, filterPattern="{ $.x = ") == "InvalidParameterException", "bad pattern")

    live_tail(args.endpoint, logs, ck)

    logs.delete_log_stream(logGroupName=g, logStreamName="web/b")
    expect(error_code(logs.delete_log_stream, logGroupName=g, logStreamName="web/b") == "ResourceNotFoundException", "stream deleted")
    logs.delete_log_group(logGroupName=g)
    expect(error_code(logs.delete_log_group, logGroupName=g) == "ResourceNotFoundException", "group deleted")

    # The logs model's exception shapes declare no members, yet AWS's own
    # answers carry "message" (botocore reads it generically into
    # Error.Message): that one key is allowed on memberless error shapes.
    ck.violations = [v for v in ck.violations
                     if not (v[2] == "$.message" and "'message' is not a member of" in v[3]
                             and not logs.meta.service_model.shape_for(v[3].rsplit(" ", 1)[-1]).members)]
    missing = [op for op in OPS if ("logs", op) not in ck.succeeded]
    for op in missing:
        print(f"VIOLATION logs {op} $ never succeeded")
    for v in ck.violations:
        print("VIOLATION", *v)
    for f in failures:
        print("VIOLATION behaviour", f)
    print(f"{ck.calls} calls")
    if ck.violations or failures or missing:
        return 1
    print("logs wire ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
