#!/usr/bin/env python3
"""ELBv2 through boto3, every operation, with a wire-shape check.

Drives a berth server with boto3's elbv2 client through every operation
berth serves (load balancers, attributes, target groups, targets, health,
listeners, rules, priorities, tags, pagination) and their error paths, and
checks every raw XML response against botocore's elbv2 model: the document
element, every member name, value types (integer, boolean, timestamp),
enum values, list <member> wrapping, and error codes the operation
declares. Prints VIOLATION lines and "elb wire ok" at the end.

    python3 elbwire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import datetime
import sys
import xml.etree.ElementTree as ET

import boto3
from botocore.exceptions import ClientError

REGION = "eu-west-1"
COMMON_ERRORS = {"ValidationError", "InvalidAction", "MissingAction", "InternalFailure", "AccessDenied",
                 "InvalidClientTokenId", "SignatureDoesNotMatch", "MalformedQueryString"}


def local(tag):
    return tag.rsplit("}", 1)[-1]


class Checker:
    def __init__(self):
        self.violations = []
        self.succeeded = set()

    def bad(self, op, path, msg):
        self.violations.append((op, path, msg))

    def after_call(self, http_response, model, **_):
        op = model.name
        raw = http_response.content or b""
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as e:
            self.bad(op, "$", f"not XML ({e}): {raw[:200]!r}")
            return
        status = http_response.status_code
        if status >= 300:
            if local(root.tag) != "ErrorResponse":
                self.bad(op, "$", f"error document element {local(root.tag)}")
                return
            code = root.findtext("{*}Error/{*}Code") or root.findtext("Error/Code")
            declared = {s.metadata.get("error", {}).get("code", s.name) for s in model.error_shapes}
            if code not in declared and code not in COMMON_ERRORS:
                self.bad(op, "$.Error.Code", f"{code} is not declared by {op} ({sorted(declared)})")
            if not (root.findtext("{*}Error/{*}Message") or ""):
                self.bad(op, "$.Error.Message", "empty message")
            return
        self.succeeded.add(op)
        if local(root.tag) != op + "Response":
            self.bad(op, "$", f"document element {local(root.tag)}, want {op}Response")
        result = [c for c in root if local(c.tag) == op + "Result"]
        if len(result) != 1:
            self.bad(op, "$", f"want one {op}Result")
            return
        if not any(local(c.tag) == "ResponseMetadata" for c in root):
            self.bad(op, "$", "no ResponseMetadata")
        if model.output_shape is not None:
            self.check(op, model.output_shape, result[0], "$")

    def check(self, op, shape, el, path):
        t = shape.type_name
        text = (el.text or "").strip()
        if t == "structure":
            for c in el:
                name = local(c.tag)
                if name not in shape.members:
                    self.bad(op, f"{path}.{name}", f"not a member of {shape.name}")
                    continue
                self.check(op, shape.members[name], c, f"{path}.{name}")
            names = {local(c.tag) for c in el}
            for req in shape.required_members:
                if req not in names:
                    self.bad(op, f"{path}.{req}", f"required member of {shape.name} missing")
        elif t == "list":
            for i, c in enumerate(el):
                if local(c.tag) != "member":
                    self.bad(op, f"{path}[{i}]", f"list item <{local(c.tag)}>, want <member>")
                    continue
                self.check(op, shape.member, c, f"{path}[{i}]")
        elif t in ("integer", "long"):
            try:
                int(text)
            except ValueError:
                self.bad(op, path, f"{text!r} is not an integer")
        elif t == "boolean":
            if text not in ("true", "false"):
                self.bad(op, path, f"{text!r} is not a boolean")
        elif t == "timestamp":
            try:
                datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                self.bad(op, path, f"{text!r} is not an ISO 8601 timestamp")
        elif t == "string":
            enum = shape.enum
            if enum and text not in enum:
                self.bad(op, path, f"{text!r} is not one of {enum}")


def expect_error(fn, code, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__}: want {code}, got {got}: {e}"
        return e
    raise AssertionError(f"{fn.__name__} {kw}: want {code}, got success")


def run(elb):
    lb = elb.create_load_balancer(Name="web-alb", Type="application", Subnets=["subnet-a", "subnet-b"],
                                  SecurityGroups=["sg-alb"], Tags=[{"Key": "env", "Value": "test"}])["LoadBalancers"][0]
    assert lb["State"]["Code"] in ("provisioning", "active"), lb
    assert lb["DNSName"].endswith(".eu-west-1.elb.localhost"), lb["DNSName"]
    lb_arn = lb["LoadBalancerArn"]
    assert ":loadbalancer/app/web-alb/" in lb_arn
    again = elb.create_load_balancer(Name="web-alb", Type="application", Subnets=["subnet-a", "subnet-b"],
                                     SecurityGroups=["sg-alb"])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == lb_arn, "CreateLoadBalancer is idempotent"
    expect_error(elb.create_load_balancer, "DuplicateLoadBalancerName", Name="web-alb", Type="network", Subnets=["subnet-a"])
    expect_error(elb.create_load_balancer, "InvalidConfigurationRequest", Name="one-subnet", Subnets=["subnet-a"])
    expect_error(elb.create_load_balancer, "ValidationError", Name="-bad-", Subnets=["subnet-a", "subnet-b"])
    nlb = elb.create_load_balancer(Name="tcp-nlb", Type="network", Subnets=["subnet-a"])["LoadBalancers"][0]
    nlb_arn = nlb["LoadBalancerArn"]
    assert ":loadbalancer/net/tcp-nlb/" in nlb_arn

    # pagination
    p1 = elb.describe_load_balancers(PageSize=1)
    assert len(p1["LoadBalancers"]) == 1 and p1.get("NextMarker"), p1
    p2 = elb.describe_load_balancers(PageSize=1, Marker=p1["NextMarker"])
    assert len(p2["LoadBalancers"]) == 1 and not p2.get("NextMarker"), p2
    names = [x["LoadBalancerName"] for x in elb.get_paginator("describe_load_balancers").paginate(PageSize=1).build_full_result()["LoadBalancers"]]
    assert names == ["tcp-nlb", "web-alb"], names
    expect_error(elb.describe_load_balancers, "LoadBalancerNotFound", Names=["nope"])
    expect_error(elb.describe_load_balancers, "ValidationError", LoadBalancerArns=["not-an-arn"])

    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb_arn)["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "60" and attrs["deletion_protection.enabled"] == "false", attrs
    out = elb.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "30"}, {"Key": "deletion_protection.enabled", "Value": "true"}])
    attrs = {a["Key"]: a["Value"] for a in out["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "30", attrs
    expect_error(elb.modify_load_balancer_attributes, "ValidationError", LoadBalancerArn=lb_arn,
                 Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "0"}])
    expect_error(elb.modify_load_balancer_attributes, "ValidationError", LoadBalancerArn=lb_arn,
                 Attributes=[{"Key": "no.such.key", "Value": "1"}])
    expect_error(elb.delete_load_balancer, "OperationNotPermitted", LoadBalancerArn=lb_arn)
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])

    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=8080, TargetType="ip", VpcId="vpc-1",
                                 HealthCheckPath="/health", HealthCheckIntervalSeconds=5)["TargetGroups"][0]
    tg_arn = tg["TargetGroupArn"]
    assert tg["HealthCheckTimeoutSeconds"] < 5 and tg["Matcher"]["HttpCode"] == "200" and tg["HealthyThresholdCount"] == 5, tg
    tg2 = elb.create_target_group(Name="web-tg2", Protocol="HTTP", Port=8081, TargetType="ip", VpcId="vpc-1")["TargetGroups"][0]
    tg2_arn = tg2["TargetGroupArn"]
    assert tg2["HealthCheckIntervalSeconds"] == 30 and tg2["HealthCheckTimeoutSeconds"] == 5 and tg2["HealthCheckPath"] == "/", tg2
    tcp = elb.create_target_group(Name="tcp-tg", Protocol="TCP", Port=9000, TargetType="ip", VpcId="vpc-1")["TargetGroups"][0]
    tcp_arn = tcp["TargetGroupArn"]
    assert tcp["HealthCheckProtocol"] == "TCP" and tcp["HealthCheckTimeoutSeconds"] == 10 and "Matcher" not in tcp, tcp
    expect_error(elb.create_target_group, "DuplicateTargetGroupName", Name="web-tg", Protocol="HTTP", Port=9999, VpcId="vpc-1")
    expect_error(elb.create_target_group, "ValidationError", Name="x", Protocol="HTTP", Port=80, VpcId="vpc-1", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=20)
    m = elb.modify_target_group(TargetGroupArn=tg2_arn, HealthCheckPath="/ready", Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
    assert m["HealthCheckPath"] == "/ready" and m["Matcher"]["HttpCode"] == "200-299", m
    tattrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg_arn)["Attributes"]}
    assert tattrs["deregistration_delay.timeout_seconds"] == "300" and tattrs["load_balancing.algorithm.type"] == "round_robin", tattrs
    out = elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"},
        {"Key": "slow_start.duration_seconds", "Value": "30"},
        {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"},
        {"Key": "stickiness.enabled", "Value": "true"}])
    tattrs = {a["Key"]: a["Value"] for a in out["Attributes"]}
    assert tattrs["load_balancing.algorithm.type"] == "least_outstanding_requests" and tattrs["stickiness.enabled"] == "true", tattrs
    expect_error(elb.modify_target_group_attributes, "ValidationError", TargetGroupArn=tg_arn,
                 Attributes=[{"Key": "slow_start.duration_seconds", "Value": "10"}])
    pg = elb.describe_target_groups(PageSize=2)
    assert len(pg["TargetGroups"]) == 2 and pg.get("NextMarker"), pg
    expect_error(elb.describe_target_groups, "TargetGroupNotFound", Names=["nope"])

    # targets
    elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "172.31.0.7", "Port": 8080}, {"Id": "10.0.0.9"}])
    th = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    assert [(x["Target"]["Id"], x["Target"]["Port"]) for x in th] == [("10.0.0.9", 8080), ("172.31.0.7", 8080)], th
    assert all(x["TargetHealth"]["State"] == "unused" and x["TargetHealth"]["Reason"] == "Target.NotInUse" for x in th), th
    expect_error(elb.register_targets, "InvalidTarget", TargetGroupArn=tg_arn, Targets=[{"Id": "8.8.8.8"}])
    expect_error(elb.register_targets, "InvalidTarget", TargetGroupArn=tg_arn, Targets=[{"Id": "not-an-ip"}])
    expect_error(elb.deregister_targets, "InvalidTarget", TargetGroupArn=tg_arn, Targets=[{"Id": "10.9.9.9"}])
    one = elb.describe_target_health(TargetGroupArn=tg_arn, Targets=[{"Id": "10.1.1.1", "Port": 80}])["TargetHealthDescriptions"]
    assert one[0]["TargetHealth"]["Reason"] == "Target.NotRegistered", one

    # listeners
    ln = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=18080,
                             DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]
    ln_arn = ln["ListenerArn"]
    assert ln["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"] == tg_arn, ln
    th = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    assert all(x["TargetHealth"]["State"] in ("initial", "healthy", "unhealthy") for x in th), th
    assert elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]["LoadBalancerArns"] == [lb_arn]
    expect_error(elb.create_listener, "DuplicateListener", LoadBalancerArn=lb_arn, Protocol="HTTP", Port=18080,
                 DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
    expect_error(elb.create_listener, "IncompatibleProtocols", LoadBalancerArn=lb_arn, Protocol="HTTP", Port=18081,
                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_arn}])
    expect_error(elb.create_listener, "TargetGroupNotFound", LoadBalancerArn=lb_arn, Protocol="HTTP", Port=18081,
                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn[:-16] + "0123456789abcdef"}])
    expect_error(elb.create_listener, "ValidationError", LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=18443,
                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])  # no certificate
    expect_error(elb.create_listener, "IncompatibleProtocols", LoadBalancerArn=nlb_arn, Protocol="UDP", Port=18443,
                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_arn}])
    nln = elb.create_listener(LoadBalancerArn=nlb_arn, Protocol="TCP", Port=19000,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_arn}])["Listeners"][0]
    expect_error(elb.create_listener, "InvalidLoadBalancerAction", LoadBalancerArn=nlb_arn, Protocol="TCP", Port=19001,
                 DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])
    ml = elb.modify_listener(ListenerArn=ln_arn, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": 80}, {"TargetGroupArn": tg2_arn, "Weight": 20}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}}])["Listeners"][0]
    fc = ml["DefaultActions"][0]["ForwardConfig"]
    assert [t["Weight"] for t in fc["TargetGroups"]] == [80, 20] and fc["TargetGroupStickinessConfig"]["DurationSeconds"] == 60, ml
    ls = elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    assert [x["Port"] for x in ls] == [18080], ls
    expect_error(elb.describe_listeners, "ListenerNotFound", ListenerArns=[ln_arn[:-16] + "0123456789abcdef"])
    expect_error(elb.delete_target_group, "ResourceInUse", TargetGroupArn=tg2_arn)

    # rules
    conds = [{"Field": "path-pattern", "Values": ["/api/*"]}]
    r1 = elb.create_rule(ListenerArn=ln_arn, Priority=10, Conditions=conds,
                         Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain", "MessageBody": "api"}}])["Rules"][0]
    assert r1["Priority"] == "10" and r1["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*"], r1
    r2 = elb.create_rule(ListenerArn=ln_arn, Priority=20, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["blue"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "Port": "8443", "StatusCode": "HTTP_301"}}])["Rules"][0]
    assert r2["Actions"][0]["RedirectConfig"]["Host"] == "#{host}", r2
    expect_error(elb.create_rule, "PriorityInUse", ListenerArn=ln_arn, Priority=10, Conditions=conds,
                 Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    expect_error(elb.create_rule, "ValidationError", ListenerArn=ln_arn, Priority=30, Conditions=[{"Field": "path-pattern", "Values": ["/a", "/b", "/c", "/d", "/e", "/f"]}],
                 Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    expect_error(elb.create_rule, "ValidationError", ListenerArn=ln_arn, Priority=30, Conditions=[{"Field": "source-ip", "SourceIpConfig": {"Values": ["nope"]}}],
                 Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    rules = elb.describe_rules(ListenerArn=ln_arn)["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "20", "default"] and rules[-1]["IsDefault"], rules
    default_arn = rules[-1]["RuleArn"]
    mr = elb.modify_rule(RuleArn=r1["RuleArn"], Conditions=[{"Field": "path-pattern", "Values": ["/v2/*"]}])["Rules"][0]
    assert mr["Conditions"][0]["Values"] == ["/v2/*"], mr
    sp = elb.set_rule_priorities(RulePriorities=[{"RuleArn": r1["RuleArn"], "Priority": 20}, {"RuleArn": r2["RuleArn"], "Priority": 10}])["Rules"]
    assert sorted(r["Priority"] for r in sp) == ["10", "20"], sp
    expect_error(elb.set_rule_priorities, "PriorityInUse", RulePriorities=[{"RuleArn": r1["RuleArn"], "Priority": 10}])
    expect_error(elb.delete_rule, "OperationNotPermitted", RuleArn=default_arn)
    pr = elb.describe_rules(ListenerArn=ln_arn, PageSize=1)
    assert len(pr["Rules"]) == 1 and pr.get("NextMarker"), pr
    elb.delete_rule(RuleArn=r2["RuleArn"])
    expect_error(elb.describe_rules, "RuleNotFound", RuleArns=[r2["RuleArn"]])

    # tags
    elb.add_tags(ResourceArns=[lb_arn, tg_arn, ln_arn, r1["RuleArn"]], Tags=[{"Key": "team", "Value": "web"}])
    td = elb.describe_tags(ResourceArns=[lb_arn, tg_arn, ln_arn, r1["RuleArn"]])["TagDescriptions"]
    assert {t["Key"] for t in td[0]["Tags"]} == {"env", "team"} and all(any(t["Key"] == "team" for t in d["Tags"]) for d in td), td
    elb.remove_tags(ResourceArns=[lb_arn], TagKeys=["env"])
    assert [t["Key"] for t in elb.describe_tags(ResourceArns=[lb_arn])["TagDescriptions"][0]["Tags"]] == ["team"]
    expect_error(elb.add_tags, "LoadBalancerNotFound", ResourceArns=[lb_arn[:-16] + "0123456789abcdef"], Tags=[{"Key": "a", "Value": "b"}])

    # deregistration drains (delay 5 s), then the target leaves
    elb.deregister_targets(TargetGroupArn=tg_arn, Targets=[{"Id": "10.0.0.9"}])
    th = {x["Target"]["Id"]: x["TargetHealth"] for x in elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]}
    assert th["10.0.0.9"]["State"] == "draining" and th["10.0.0.9"]["Reason"] == "Target.DeregistrationInProgress", th

    # deletes
    elb.delete_listener(ListenerArn=nln["ListenerArn"])
    elb.delete_target_group(TargetGroupArn=tcp_arn)
    elb.delete_target_group(TargetGroupArn=tcp_arn)  # deleting again succeeds, as on AWS
    expect_error(elb.describe_target_groups, "TargetGroupNotFound", TargetGroupArns=[tcp_arn])
    elb.delete_load_balancer(LoadBalancerArn=nlb_arn)
    elb.delete_load_balancer(LoadBalancerArn=nlb_arn)  # deleting again succeeds, as on AWS
    expect_error(elb.describe_load_balancers, "LoadBalancerNotFound", LoadBalancerArns=[nlb_arn])
    return lb_arn, tg_arn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    elb = boto3.client("elbv2", endpoint_url=args.endpoint, region_name=REGION,
                       aws_access_key_id="test", aws_secret_access_key="test")
    ck = Checker()
    elb.meta.events.register("after-call", ck.after_call)
    run(elb)
    ops = ["CreateLoadBalancer", "DescribeLoadBalancers", "DeleteLoadBalancer", "DescribeLoadBalancerAttributes",
           "ModifyLoadBalancerAttributes", "CreateTargetGroup", "DescribeTargetGroups", "ModifyTargetGroup",
           "DeleteTargetGroup", "DescribeTargetGroupAttributes", "ModifyTargetGroupAttributes", "RegisterTargets",
           "DeregisterTargets", "DescribeTargetHealth", "CreateListener", "DescribeListeners", "ModifyListener",
           "DeleteListener", "CreateRule", "DescribeRules", "ModifyRule", "DeleteRule", "SetRulePriorities",
           "AddTags", "RemoveTags", "DescribeTags"]
    for op in ops:
        if op not in ck.succeeded:
            ck.bad(op, "$", "never succeeded in the sequence")
    for op, path, msg in ck.violations:
        print(f"VIOLATION {op} {path}: {msg}")
    if ck.violations:
        sys.exit(1)
    print(f"elb wire ok: {len(ck.succeeded)} operations checked")


if __name__ == "__main__":
    main()
