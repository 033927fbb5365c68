#!/usr/bin/env python3
"""Application Auto Scaling through boto3, every operation, with a wire-shape check.

Drives a berth server with boto3's application-autoscaling client through
every operation berth serves (scalable targets with suspended state,
target tracking and step scaling policies, scheduled actions with cron,
rate and at schedules and time zones, activities, tags, pagination) and
their error paths, and checks every raw JSON response against botocore's
application-autoscaling model with wireshape.py's Checker. A one-time
scheduled action a few seconds ahead must raise the ECS service's desired
count to its new minimum, with AWS's activity wording. Prints VIOLATION
lines and "appscaling wire ok" at the end.

    python3 appscalingwire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from wireshape import Checker  # noqa: E402

OPS = ["RegisterScalableTarget", "DeregisterScalableTarget", "DescribeScalableTargets", "PutScalingPolicy",
       "DeleteScalingPolicy", "DescribeScalingPolicies", "DescribeScalingActivities", "PutScheduledAction",
       "DeleteScheduledAction", "DescribeScheduledActions", "TagResource", "UntagResource", "ListTagsForResource"]

failures = []
NS, DIM = "ecs", "ecs:service:DesiredCount"


def expect(cond, what):
    if not cond:
        failures.append(what)


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    ck = Checker()
    kw = dict(endpoint_url=args.endpoint, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
    aas = boto3.client("application-autoscaling", **kw)
    ecs = boto3.client("ecs", **kw)
    ck.hook(aas)

    ecs.create_cluster(clusterName="prod-cluster")
    ecs.register_task_definition(family="web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
                                 containerDefinitions=[{"name": "web", "image": "busybox", "essential": True}])
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    for name in ("web-service", "api", "worker"):
        ecs.create_service(cluster="prod-cluster", serviceName=name, taskDefinition="web", desiredCount=2,
                           launchType="FARGATE", networkConfiguration=net)
    rid = "service/prod-cluster/web-service"
    key = dict(ServiceNamespace=NS, ResourceId=rid, ScalableDimension=DIM)

    # Scalable targets.
    r = aas.register_scalable_target(MinCapacity=2, MaxCapacity=20, Tags={"team": "web"}, **key)
    arn = r.get("ScalableTargetARN", "")
    expect(arn.startswith("arn:aws:application-autoscaling:eu-west-1:"), f"target ARN {arn}")
    for svc in ("api", "worker"):
        aas.register_scalable_target(ServiceNamespace=NS, ResourceId=f"service/prod-cluster/{svc}", ScalableDimension=DIM,
                                     MinCapacity=1, MaxCapacity=4, RoleARN="arn:aws:iam::123456789012:role/custom")
    expect(error_code(aas.register_scalable_target, MinCapacity=5, MaxCapacity=2, **key) == "ValidationException", "min > max")
    expect(error_code(aas.register_scalable_target, ServiceNamespace=NS, ResourceId="service/prod-cluster/missing",
                      ScalableDimension=DIM, MinCapacity=1, MaxCapacity=2) == "ValidationException", "missing service")
    expect(error_code(aas.register_scalable_target, ServiceNamespace=NS, ResourceId="service/prod-cluster/web-service",
                      ScalableDimension="ecs:service:Nope", MinCapacity=1, MaxCapacity=2) == "ValidationException", "bad dimension")
    expect(error_code(aas.register_scalable_target, ServiceNamespace=NS, ResourceId="service/prod-cluster/api",
                      ScalableDimension=DIM) is None, "update without capacities")
    aas.register_scalable_target(SuspendedState={"DynamicScalingInSuspended": True}, **key)
    t = aas.describe_scalable_targets(ServiceNamespace=NS, ResourceIds=[rid])["ScalableTargets"]
    expect(len(t) == 1 and t[0]["MinCapacity"] == 2 and t[0]["MaxCapacity"] == 20, f"target {t}")
    expect(t and t[0]["SuspendedState"] == {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
                                            "ScheduledScalingSuspended": False}, f"suspended {t and t[0]['SuspendedState']}")
    expect(t and t[0]["RoleARN"].endswith(":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"),
           "service-linked role")
    aas.register_scalable_target(SuspendedState={"DynamicScalingInSuspended": False}, **key)
    page = aas.describe_scalable_targets(ServiceNamespace=NS, MaxResults=2)
    expect(len(page["ScalableTargets"]) == 2 and "NextToken" in page, "targets page 1")
    all_t = aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace=NS, PaginationConfig={"PageSize": 1}).build_full_result()
    expect(len(all_t["ScalableTargets"]) == 3, f"paginated targets {len(all_t['ScalableTargets'])}")
    expect(error_code(aas.describe_scalable_targets, ServiceNamespace="dynamodb") == "ValidationException", "other namespace")

    # Tags.
    aas.tag_resource(ResourceARN=arn, Tags={"env": "prod"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["team"])
    expect(aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "prod"}, "tags")
    expect(error_code(aas.list_tags_for_resource, ResourceARN=arn[:-4] + "0000") == "ResourceNotFoundException", "tags of a missing target")

    # Policies.
    r = aas.put_scaling_policy(PolicyName="cpu-target-tracking", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={"TargetValue": 60.0,
                                   "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                                   "ScaleOutCooldown": 60, "ScaleInCooldown": 120}, **key)
    expect(":scalingPolicy:" in r["PolicyARN"] and r["PolicyARN"].endswith(":resource/ecs/service/prod-cluster/web-service:policyName/cpu-target-tracking"),
           f"policy ARN {r['PolicyARN']}")
    aas.put_scaling_policy(PolicyName="custom-math", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={"TargetValue": 100.0, "CustomizedMetricSpecification": {"Metrics": [
                               {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "MyApp", "MetricName": "Backlog",
                                   "Dimensions": [{"Name": "Queue", "Value": "jobs"}]}, "Stat": "Sum"}, "ReturnData": False},
                               {"Id": "e1", "Expression": "m1 / 2", "Label": "per task", "ReturnData": True}]}}, **key)
    aas.put_scaling_policy(PolicyName="web-app-cpu-gt-75", PolicyType="StepScaling",
                           StepScalingPolicyConfiguration={"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 2,
                               "Cooldown": 60, "MetricAggregationType": "Average", "StepAdjustments": [
                                   {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 10},
                                   {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 30}]}, **key)
    expect(error_code(aas.put_scaling_policy, PolicyName="alb", PolicyType="TargetTrackingScaling",
                      TargetTrackingScalingPolicyConfiguration={"TargetValue": 100.0, "PredefinedMetricSpecification": {
                          "PredefinedMetricType": "ALBRequestCountPerTarget"}}, **key) == "ValidationException", "ALB without label")
    aas.put_scaling_policy(PolicyName="alb", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={"TargetValue": 100.0, "PredefinedMetricSpecification": {
                               "PredefinedMetricType": "ALBRequestCountPerTarget",
                               "ResourceLabel": "app/web/0123456789abcdef/targetgroup/web/fedcba9876543210"}, "DisableScaleIn": True}, **key)
    expect(error_code(aas.put_scaling_policy, PolicyName="gap", PolicyType="StepScaling",
                      StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
                          {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
                          {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 2}]}, **key) == "ValidationException", "step gap")
    expect(error_code(aas.put_scaling_policy, PolicyName="x", PolicyType="StepScaling", ServiceNamespace=NS,
                      ResourceId="service/prod-cluster/nothing", ScalableDimension=DIM,
                      StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [{"ScalingAdjustment": 1}]})
           == "ObjectNotFoundException", "policy without target")
    ps = aas.describe_scaling_policies(ServiceNamespace=NS, ResourceId=rid)["ScalingPolicies"]
    expect([p["PolicyName"] for p in ps] == ["cpu-target-tracking", "custom-math", "web-app-cpu-gt-75", "alb"], f"policies {[p['PolicyName'] for p in ps]}")
    one = aas.describe_scaling_policies(ServiceNamespace=NS, PolicyNames=["web-app-cpu-gt-75"])["ScalingPolicies"]
    expect(len(one) == 1 and one[0]["StepScalingPolicyConfiguration"]["StepAdjustments"][1] == {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 30},
           f"step policy {one}")
    pg = aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace=NS, PaginationConfig={"PageSize": 3}).build_full_result()
    expect(len(pg["ScalingPolicies"]) == 4, "paginated policies")
    aas.delete_scaling_policy(PolicyName="custom-math", **key)
    expect(error_code(aas.delete_scaling_policy, PolicyName="custom-math", **key) == "ObjectNotFoundException", "policy deleted")

    # Scheduled actions.
    aas.put_scheduled_action(ScheduledActionName="weekday-morning", Schedule="cron(0 8 ? * MON-FRI *)", Timezone="America/New_York",
                             ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 20}, **key)
    aas.put_scheduled_action(ScheduledActionName="every-hour", Schedule="rate(1 hour)",
                             StartTime=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
                             EndTime=datetime.datetime(2030, 2, 1, tzinfo=datetime.timezone.utc),
                             ScalableTargetAction={"MaxCapacity": 10}, **key)
    expect(error_code(aas.put_scheduled_action, ScheduledActionName="bad", Schedule="cron(0 8 * * *)",
                      ScalableTargetAction={"MinCapacity": 1}, **key) == "ValidationException", "bad cron")
    expect(error_code(aas.put_scheduled_action, ScheduledActionName="bad", Schedule="cron(0 8 * * ? *)", Timezone="Nowhere/City",
                      ScalableTargetAction={"MinCapacity": 1}, **key) == "ValidationException", "bad time zone")
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    aas.put_scheduled_action(ScheduledActionName="soon", Schedule=f"at({at})", ScalableTargetAction={"MinCapacity": 5}, **key)
    sa = aas.describe_scheduled_actions(ServiceNamespace=NS, ResourceId=rid)["ScheduledActions"]
    expect([a["ScheduledActionName"] for a in sa] == ["weekday-morning", "every-hour", "soon"], f"scheduled {[a['ScheduledActionName'] for a in sa]}")
    expect(sa and sa[0]["Timezone"] == "America/New_York" and sa[0]["ScalableTargetAction"] == {"MinCapacity": 4, "MaxCapacity": 20}, f"action {sa and sa[0]}")
    expect(":scheduledAction:" in sa[0]["ScheduledActionARN"] and sa[0]["ScheduledActionARN"].endswith(":scheduledActionName/weekday-morning"), "action ARN")
    one = aas.describe_scheduled_actions(ServiceNamespace=NS, ScheduledActionNames=["every-hour"], MaxResults=1)["ScheduledActions"]
    expect(len(one) == 1 and one[0]["StartTime"].year == 2030, f"one action {one}")
    deadline = time.time() + 30
    count = 0
    while time.time() < deadline:
        count = ecs.describe_services(cluster="prod-cluster", services=["web-service"])["services"][0]["desiredCount"]
        if count == 5:
            break
        time.sleep(0.3)
    expect(count == 5, f"the at() action did not raise the desired count to 5 (it is {count})")
    acts = aas.describe_scaling_activities(ServiceNamespace=NS, ResourceId=rid)["ScalingActivities"]
    got = [(a["Description"], a["Cause"], a["StatusCode"]) for a in acts]
    expect(got[:2] == [("Setting desired count to 5.", "minimum capacity was set to 5", "Successful"),
                       ("Setting min capacity to 5", "scheduled action name soon was triggered", "Successful")], f"activities {got}")
    expect(acts and acts[0]["StatusMessage"] == "Successfully set desired count to 5. Change successfully fulfilled by ecs.", "status message")
    t = aas.describe_scalable_targets(ServiceNamespace=NS, ResourceIds=[rid])["ScalableTargets"]
    expect(t and t[0]["MinCapacity"] == 5, f"min after the action {t}")
    expect(len(aas.describe_scaling_activities(ServiceNamespace=NS, MaxResults=1)["ScalingActivities"]) == 1, "activities page")
    aas.delete_scheduled_action(ScheduledActionName="every-hour", **key)
    expect(error_code(aas.delete_scheduled_action, ScheduledActionName="every-hour", **key) == "ObjectNotFoundException", "action deleted")

    # Deregister takes the policies and actions with it.
    aas.deregister_scalable_target(**key)
    expect(error_code(aas.deregister_scalable_target, **key) == "ObjectNotFoundException", "deregistered")
    expect(aas.describe_scaling_policies(ServiceNamespace=NS, ResourceId=rid)["ScalingPolicies"] == [], "policies gone")
    expect(aas.describe_scheduled_actions(ServiceNamespace=NS, ResourceId=rid)["ScheduledActions"] == [], "actions gone")

    missing = [op for op in OPS if ("application-autoscaling", op) not in ck.succeeded]
    for op in missing:
        print(f"VIOLATION application-autoscaling {op} $ never succeeded")
    for v in ck.violations:
        print("VIOLATION", *v)
    for f in failures:
        print("VIOLATION behaviour", f)
    print(f"{ck.calls} calls")
    if ck.violations or failures or missing:
        return 1
    print("appscaling wire ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
