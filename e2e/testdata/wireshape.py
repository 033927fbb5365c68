#!/usr/bin/env python3
"""Wire-shape fidelity check of berth against AWS's own service models.

botocore ships the ECS and ECR service models (service-2.json) that AWS
generates its SDKs from. This script drives a berth server with boto3
through a realistic sequence of ECS and ECR calls, hooks botocore's
after-call event to see every raw HTTP response body, and checks each one
against the operation's shapes in the model:

  * a success body against the output shape: every key is a member (no
    invented or misspelled keys), every value has the member's type
    (string, integer/long in range, boolean, timestamp as epoch number,
    blob as base64, list, map, structure), enum values are among the
    model's, required members are present, and nothing is JSON null;
  * an error body: __type names an error shape the operation declares (or a
    common AWS error), the body's keys are members of that shape, the
    message is present, and the HTTP status matches client/server fault;
  * every response: the awsJson1.1 Content-Type and an x-amzn-RequestId.

It then probes every operation of the models with an empty request to learn
which ones berth implements (the others answer UnknownOperationException);
their error answers are checked too, and each implemented operation must
have succeeded at least once in the sequence unless it is listed in
NOT_EXERCISED with a reason.

Every violation is printed with the operation and a JSON path; the exit
status is 1 if there is any. e2e/wireshape_test.go runs this against a
berth binary started with --driver fake.

    python3 wireshape.py --endpoint http://127.0.0.1:4566 --seed ../../testdata/seed/task-def.json

--moto URL additionally runs a few of the calls against a moto_server and
prints where the member names of berth's and moto's answers differ (a
sanity check only: the botocore model is the authority).
"""

import argparse
import datetime
import base64
import binascii
import copy
import difflib
import hashlib
import json
import os
import socket
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from wireshape_tasksets import run_task_sets  # the script's directory is on sys.path

REGION = "eu-west-1"

# Errors any AWS JSON service may answer with, whether or not the operation
# lists them (AWS's "common errors").
COMMON_ERRORS = {
    "AccessDeniedException", "IncompleteSignatureException", "InternalFailure",
    "InvalidSignatureException", "MissingAuthenticationTokenException",
    "NotAuthorized", "RequestExpired", "SerializationException",
    "ServiceUnavailable", "ThrottlingException", "UnknownOperationException",
    "UnrecognizedClientException", "ValidationException",
}

# Implemented operations the sequence does not make succeed, and why.
NOT_EXERCISED = {
    # A deployment stays in progress long enough to stop only on Docker
    # (a health check that never passes): e2e TestServiceStopDeployment
    # makes it succeed; here only its errors are checked.
    ("ecs", "StopServiceDeployment"): "needs a deployment that stays in progress (Docker e2e)",
}

I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)


class Checker:
    """Checks every response a hooked client receives."""

    def __init__(self):
        self.violations = []  # (service, operation, path, message)
        self.succeeded = set()  # (service, operation)
        self.calls = 0
        self.last = None  # (status, parsed raw body) of the last response
        self.dump = open(os.environ["WIRESHAPE_DUMP"], "w") if os.environ.get("WIRESHAPE_DUMP") else None
        # The Content-Type of answers: awsJson1.1 here, application/json
        # for restJson1 services (ekswire.py sets it).
        self.content_type = "application/x-amz-json-1.1"

    def hook(self, client):
        client.meta.events.register("after-call", self.after_call)

    def bad(self, svc, op, path, msg):
        self.violations.append((svc, op, path, msg))

    def after_call(self, http_response, parsed, model, **_):
        svc = model.service_model.service_name
        op = model.name
        self.calls += 1
        status = http_response.status_code
        raw = http_response.content or b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError) as e:
            self.bad(svc, op, "$", f"HTTP {status} body is not JSON ({e}): {raw[:200]!r}")
            self.last = (status, None)
            return
        self.last = (status, body)
        if self.dump:
            self.dump.write(json.dumps({"op": f"{svc}.{op}", "status": status, "body": body}) + "\n")
        ctype = http_response.headers.get("content-type", "")
        if status != 204 and ctype.split(";")[0].strip() != self.content_type:
            self.bad(svc, op, "$", f"Content-Type {ctype!r}, want {self.content_type}")
        if not http_response.headers.get("x-amzn-requestid"):
            self.bad(svc, op, "$", "no x-amzn-RequestId header (the SDKs' ResponseMetadata.RequestId)")
        if status >= 300:
            self.check_error(svc, model, status, body)
            return
        if status != 200:
            self.bad(svc, op, "$", f"HTTP status {status} on success, want 200")
        self.succeeded.add((svc, op))
        if body is None:
            body = {}
        if model.output_shape is None:
            if body != {}:
                self.bad(svc, op, "$", f"operation has no output shape but the body is {body!r}")
            return
        check_value(model.output_shape, body, "$", lambda p, m: self.bad(svc, op, p, m))

    def check_error(self, svc, model, status, body):
        op = model.name
        def bad(p, m):
            self.bad(svc, op, p, m)
        if not isinstance(body, dict):
            bad("$", f"HTTP {status} error body is not a JSON object: {body!r}")
            return
        typ = body.get("__type")
        if not isinstance(typ, str) or not typ:
            bad("$.__type", f"missing or not a string in error body {body!r}")
            return
        code = typ.rsplit("#", 1)[-1].split(":", 1)[0]
        declared = {s.metadata.get("error", {}).get("code", s.name): s for s in model.error_shapes}
        if code in declared:
            shape = declared[code]
            rest = {k: v for k, v in body.items() if k != "__type"}
            check_value(shape, rest, "$", bad)
            fault = shape.metadata.get("fault", False)
            if fault and status < 500:
                bad("$", f"{code} is a server fault but HTTP status is {status}")
            if not fault and status >= 500:
                bad("$", f"{code} is a client error but HTTP status is {status}")
            msg_keys = [k for k in shape.members if k.lower() == "message"]
            if msg_keys and msg_keys[0] not in body:
                bad("$", f"{code} error body has no {msg_keys[0]!r}: {body!r}")
        elif code in COMMON_ERRORS:
            for k in body:
                if k not in ("__type", "message", "Message"):
                    bad(f"$.{k}", f"unexpected key in common error {code}")
            if "message" not in body and "Message" not in body:
                bad("$", f"{code} error body has no message: {body!r}")
        else:
            bad("$.__type", f"error {code!r} is not declared by {op} (declares {sorted(declared)}) nor a common AWS error")
        for k in ("message", "Message"):
            if k in body and not isinstance(body[k], str):
                bad(f"$.{k}", f"message is {type(body[k]).__name__}, want string")


def jtype(v):
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            int: "integer", float: "number"}.get(type(v), type(v).__name__)


def check_value(shape, value, path, bad):
    """Checks value (parsed JSON) against shape; calls bad(path, message)."""
    if value is None:
        bad(path, "JSON null (AWS omits absent members)")
        return
    t = shape.type_name
    want = None
    if t == "structure":
        if getattr(shape, "is_document_type", False):
            return
        if not isinstance(value, dict):
            want = "object"
        else:
            wire = {m.serialization.get("name", k): m for k, m in shape.members.items()}
            for k, v in value.items():
                p = f"{path}.{k}"
                m = wire.get(k)
                if m is None:
                    close = [w for w in wire if w.lower() == k.lower()] or difflib.get_close_matches(k, list(wire), 1, 0.75)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    bad(p, f"{k!r} is not a member of {shape.name}{hint}")
                    continue
                check_value(m, v, p, bad)
            for r in shape.required_members:
                rn = shape.members[r].serialization.get("name", r)
                if rn not in value:
                    bad(path, f"required member {rn!r} of {shape.name} is missing")
            if shape.metadata.get("union") and len(value) != 1:
                bad(path, f"union {shape.name} must set exactly one member, has {sorted(value)}")
    elif t == "list":
        if not isinstance(value, list):
            want = "array"
        else:
            for i, v in enumerate(value):
                check_value(shape.member, v, f"{path}[{i}]", bad)
    elif t == "map":
        if not isinstance(value, dict):
            want = "object"
        else:
            for k, v in value.items():
                check_value(shape.key, k, f"{path}{{{k}}}", bad)
                check_value(shape.value, v, f"{path}.{k}", bad)
    elif t == "string":
        if not isinstance(value, str):
            want = "string"
        elif shape.enum and value not in shape.enum:
            bad(path, f"{value!r} is not a {shape.name} value {shape.enum}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            want = t
        else:
            lo, hi = I32 if t == "integer" else I64
            if not lo <= value <= hi:
                bad(path, f"{value} is out of range of {t}")
    elif t in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            want = t
    elif t == "boolean":
        if not isinstance(value, bool):
            want = "boolean"
    elif t == "timestamp":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            want = "timestamp (epoch seconds number)"
    elif t == "blob":
        if not isinstance(value, str):
            want = "blob (base64 string)"
        else:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                bad(path, "blob is not valid base64")
    else:
        bad(path, f"unhandled shape type {t} ({shape.name})")
    if want:
        bad(path, f"{jtype(value)} {json.dumps(value)[:80]}, want {want} ({shape.name})")


class Session:
    """Runs calls and records unexpected outcomes as violations."""

    def __init__(self, checker, ecs, ecr):
        self.ck = checker
        self.ecs = ecs
        self.ecr = ecr

    def call(self, client, op, expect=None, **kw):
        """Calls op; expect is the error code the call must fail with ("*":
        any error, "?": an error or success)."""
        svc = client.meta.service_model.service_name
        name = client.meta.method_to_api_mapping.get(op, op)
        try:
            out = getattr(client, op)(**kw)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if expect is None:
                self.ck.bad(svc, name, "-", f"unexpected error {code}: {e.response['Error'].get('Message')}")
            elif code != expect and expect not in ("*", "?"):
                self.ck.bad(svc, name, "-", f"error {code}, want {expect}: {e.response['Error'].get('Message')}")
            return None
        except Exception as e:  # a body botocore could not even parse
            self.ck.bad(svc, name, "-", f"client failed: {type(e).__name__}: {e}")
            return None
        if expect is not None and expect != "?":
            self.ck.bad(svc, name, "-", f"succeeded, want error {expect}")
        return out

    def poll(self, fn, ok, timeout=30):
        deadline = time.time() + timeout
        while True:
            out = fn()
            if out is not None and ok(out):
                return out
            if time.time() > deadline:
                return out
            time.sleep(0.2)


def rich_task_definition():
    """A task definition that sets most members berth keeps."""
    return dict(
        family="wire-rich",
        taskRoleArn="arn:aws:iam::123456789012:role/task",
        executionRoleArn="arn:aws:iam::123456789012:role/exec",
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        cpu="256", memory="512",
        pidMode="task", ipcMode="task",
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
        volumes=[
            {"name": "data", "host": {"sourcePath": "/srv/data"}},
            {"name": "scratch", "dockerVolumeConfiguration": {"scope": "task", "driver": "local",
                                                            "driverOpts": {"type": "tmpfs"}, "labels": {"a": "b"}}},
        ],
        tags=[{"key": "team", "value": "wire"}],
        containerDefinitions=[
            {
                "name": "app", "image": "busybox:latest", "cpu": 128, "memory": 256, "memoryReservation": 128,
                "essential": True,
                "entryPoint": ["/bin/sh", "-c"], "command": ["sleep 3600"],
                "workingDirectory": "/", "user": "1000", "hostname": "app",
                "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"}],
                "environment": [{"name": "A", "value": "1"}],
                "environmentFiles": [{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}],
                "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}],
                "volumesFrom": [{"sourceContainer": "side", "readOnly": True}],
                "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                                    "initProcessEnabled": True, "sharedMemorySize": 64,
                                    "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["rw"]}],
                                    "devices": [{"hostPath": "/dev/null", "containerPath": "/dev/null2", "permissions": ["read"]}],
                                    "maxSwap": 0, "swappiness": 10},
                "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/s"}],
                "dependsOn": [{"containerName": "side", "condition": "START"}],
                "startTimeout": 60, "stopTimeout": 30,
                "disableNetworking": False, "privileged": False, "readonlyRootFilesystem": True,
                "dnsServers": ["10.0.0.2"], "dnsSearchDomains": ["internal"],
                "extraHosts": [{"hostname": "db", "ipAddress": "10.0.0.3"}],
                "dockerSecurityOptions": ["no-new-privileges"],
                "interactive": False, "pseudoTerminal": False,
                "dockerLabels": {"com.example": "x"},
                "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
                "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "1m"}},
                "healthCheck": {"command": ["CMD", "true"], "interval": 10, "timeout": 5, "retries": 2, "startPeriod": 1},
                "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
                "restartPolicy": {"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
                "versionConsistency": "disabled",
            },
            {"name": "side", "image": "busybox:latest", "memory": 64, "essential": False},
        ],
    )


def run_ecs(s, seed):
    ecs, ck = s.ecs, s.ck
    c = s.call
    # Clusters.
    a = c(ecs, "create_cluster", clusterName="wire-a",
          tags=[{"key": "env", "value": "test"}],
          settings=[{"name": "containerInsights", "value": "enabled"}],
          configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
          capacityProviders=["FARGATE", "FARGATE_SPOT"],
          defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1}])
    c(ecs, "create_cluster", clusterName="wire-b")
    c(ecs, "create_cluster", clusterName="bad name!", expect="InvalidParameterException")
    c(ecs, "describe_clusters", clusters=["wire-a", "wire-b", "missing"],
      include=["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"])
    c(ecs, "describe_clusters", clusters=["wire-a"])
    c(ecs, "describe_clusters")
    page = c(ecs, "list_clusters", maxResults=1)
    if page and page.get("nextToken"):
        c(ecs, "list_clusters", nextToken=page["nextToken"])
    c(ecs, "list_clusters", nextToken="garbage", expect="InvalidParameterException")
    c(ecs, "update_cluster", cluster="wire-a", settings=[{"name": "containerInsights", "value": "disabled"}],
      configuration={"executeCommandConfiguration": {"logging": "OVERRIDE",
                                                    "logConfiguration": {"cloudWatchLogGroupName": "g", "s3BucketName": "b"}}})
    c(ecs, "update_cluster_settings", cluster="wire-a", settings=[{"name": "containerInsights", "value": "enhanced"}])
    c(ecs, "update_cluster", cluster="missing", settings=[{"name": "containerInsights", "value": "enabled"}],
      expect="ClusterNotFoundException")
    c(ecs, "put_cluster_capacity_providers", cluster="wire-b", capacityProviders=["FARGATE"],
      defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 2}])
    c(ecs, "describe_capacity_providers")
    c(ecs, "describe_capacity_providers", capacityProviders=["FARGATE", "FARGATE_SPOT", "nope"], include=["TAGS"])
    c(ecs, "describe_capacity_providers", maxResults=1)

    # Account settings.
    c(ecs, "put_account_setting", name="containerInsights", value="enabled")
    c(ecs, "put_account_setting", name="fargateTaskRetirementWaitPeriod", value="7")
    c(ecs, "put_account_setting", name="awsvpcTrunking", value="enabled",
      principalArn="arn:aws:iam::123456789012:user/alice")
    c(ecs, "put_account_setting_default", name="taskLongArnFormat", value="enabled")
    c(ecs, "put_account_setting", name="noSuchSetting", value="enabled", expect="InvalidParameterException")
    c(ecs, "list_account_settings")
    c(ecs, "list_account_settings", effectiveSettings=True)
    c(ecs, "list_account_settings", name="containerInsights", effectiveSettings=True)
    c(ecs, "list_account_settings", principalArn="arn:aws:iam::123456789012:user/alice", maxResults=1)
    c(ecs, "delete_account_setting", name="awsvpcTrunking", principalArn="arn:aws:iam::123456789012:user/alice")
    c(ecs, "delete_account_setting", name="containerInsights")

    # Task definitions.
    td = c(ecs, "register_task_definition", **seed)
    c(ecs, "register_task_definition", **seed)
    rich = c(ecs, "register_task_definition", **rich_task_definition())
    ec2td = c(ecs, "register_task_definition", family="wire-ec2", networkMode="bridge",
              requiresCompatibilities=["EC2"],
              containerDefinitions=[{"name": "c", "image": "busybox", "memory": 64, "cpu": 64,
                                     "portMappings": [{"containerPort": 80, "hostPort": 8080}]}])
    c(ecs, "register_task_definition", family="bad", containerDefinitions=[], expect="ClientException")
    seed_family = seed["family"]
    c(ecs, "describe_task_definition", taskDefinition=f"{seed_family}:1", include=["TAGS"])
    if rich:
        c(ecs, "describe_task_definition", taskDefinition=rich["taskDefinition"]["taskDefinitionArn"], include=["TAGS"])
    c(ecs, "describe_task_definition", taskDefinition="missing:1", expect="ClientException")
    c(ecs, "list_task_definitions")
    c(ecs, "list_task_definitions", familyPrefix=seed_family, status="ACTIVE", sort="DESC", maxResults=1)
    c(ecs, "list_task_definition_families")
    c(ecs, "list_task_definition_families", familyPrefix="wire", status="ALL")

    # Tags.
    if a:
        arn = a["cluster"]["clusterArn"]
        c(ecs, "tag_resource", resourceArn=arn, tags=[{"key": "k1", "value": "v1"}, {"key": "k2", "value": ""}])
        c(ecs, "list_tags_for_resource", resourceArn=arn)
        c(ecs, "untag_resource", resourceArn=arn, tagKeys=["k2"])
    if td:
        c(ecs, "list_tags_for_resource", resourceArn=td["taskDefinition"]["taskDefinitionArn"])
    c(ecs, "list_tags_for_resource", resourceArn="arn:aws:ecs:eu-west-1:123456789012:cluster/missing", expect="*")
    c(ecs, "list_tags_for_resource", resourceArn="arn:aws:ecs:eu-west-1:000000000000:cluster/other-account", expect="*")
    c(ecs, "tag_resource", resourceArn="not-an-arn", tags=[{"key": "a", "value": "b"}],
      expect="InvalidParameterException")

    # Fargate-style tasks on the managed capacity (berth runs with --driver fake).
    run = c(ecs, "run_task", cluster="wire-a", taskDefinition=f"{seed_family}:1", count=2,
            launchType="FARGATE", startedBy="wireshape", group="family:web", tags=[{"key": "t", "value": "1"}],
            enableECSManagedTags=True, propagateTags="TASK_DEFINITION", enableExecuteCommand=False,
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"],
                                                          "assignPublicIp": "ENABLED"}},
            overrides={"containerOverrides": [{"name": "web", "environment": [{"name": "X", "value": "y"}],
                                               "command": ["serve", "--port", "8080"]}],
                       "cpu": "512", "memory": "1024"})
    c(ecs, "run_task", cluster="wire-a", taskDefinition="missing:1", launchType="FARGATE",
      expect="ClientException")
    c(ecs, "run_task", cluster="missing", taskDefinition=f"{seed_family}:1", launchType="FARGATE",
      networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
      expect="ClusterNotFoundException")
    arns = [t["taskArn"] for t in (run or {}).get("tasks", [])]
    if arns:
        s.poll(lambda: c(ecs, "describe_tasks", cluster="wire-a", tasks=arns, include=["TAGS"]),
               lambda o: all(t.get("lastStatus") == "RUNNING" for t in o["tasks"]))
        c(ecs, "describe_tasks", cluster="wire-a", tasks=arns + ["0123456789abcdef0123456789abcdef"])
        # The agent-facing reports, as the managed agent already sent them
        # (a repeated report changes nothing).
        c(ecs, "submit_container_state_change", cluster="wire-a", task=arns[0], containerName="web", status="RUNNING")
        c(ecs, "submit_task_state_change", cluster="wire-a", task=arns[0], status="RUNNING",
          containers=[{"containerName": "web", "status": "RUNNING"}])
        c(ecs, "submit_attachment_state_changes", cluster="wire-a",
          attachments=[{"attachmentArn": "arn:aws:ecs:eu-west-1:123456789012:attachment/00000000-0000-0000-0000-000000000000",
                        "status": "ATTACHED"}])
        c(ecs, "submit_task_state_change", cluster="wire-a", task="0123456789abcdef0123456789abcdef", status="RUNNING",
          expect="*")
    c(ecs, "list_tasks", cluster="wire-a")
    c(ecs, "list_tasks", cluster="wire-a", family=seed_family, desiredStatus="RUNNING", launchType="FARGATE",
      startedBy="wireshape", maxResults=1)
    c(ecs, "list_tasks", cluster="missing", expect="ClusterNotFoundException")
    c(ecs, "describe_clusters", clusters=["wire-a"], include=["STATISTICS"])
    c(ecs, "delete_cluster", cluster="wire-a", expect="ClusterContainsTasksException")
    for arn in arns:
        c(ecs, "stop_task", cluster="wire-a", task=arn, reason="wire shape check")
    if arns:
        s.poll(lambda: c(ecs, "describe_tasks", cluster="wire-a", tasks=arns),
               lambda o: all(t.get("lastStatus") == "STOPPED" for t in o["tasks"]))
        c(ecs, "list_tasks", cluster="wire-a", desiredStatus="STOPPED")
    c(ecs, "stop_task", cluster="wire-a", task="0123456789abcdef0123456789abcdef", expect="InvalidParameterException")

    # ECS Exec, on a cluster and task definition of its own: a session for
    # a running task started with enableExecuteCommand (its containers show
    # the ExecuteCommandAgent), ECS's refusals.
    c(ecs, "create_cluster", clusterName="wire-exec")
    c(ecs, "register_task_definition", family="wire-exec", networkMode="awsvpc", cpu="256", memory="512",
      requiresCompatibilities=["FARGATE"],
      containerDefinitions=[{"name": "web", "image": "busybox", "essential": True, "command": ["sleep", "600"]}])
    xrun = c(ecs, "run_task", cluster="wire-exec", taskDefinition="wire-exec", launchType="FARGATE",
             enableExecuteCommand=True,
             networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}})
    xarns = [t["taskArn"] for t in (xrun or {}).get("tasks", [])]
    if xarns:
        s.poll(lambda: c(ecs, "describe_tasks", cluster="wire-exec", tasks=xarns),
               lambda o: all(t.get("lastStatus") == "RUNNING" for t in o["tasks"]))
        c(ecs, "execute_command", cluster="wire-exec", task=xarns[0], container="web", interactive=True,
          command="/bin/sh")
        c(ecs, "execute_command", cluster="wire-exec", task=xarns[0], interactive=False,
          command="/bin/sh", expect="InvalidParameterException")
        c(ecs, "execute_command", cluster="wire-exec", task=xarns[0], container="nope", interactive=True,
          command="/bin/sh", expect="InvalidParameterException")
        c(ecs, "execute_command", cluster="missing", task=xarns[0], interactive=True, command="/bin/sh",
          expect="ClusterNotFoundException")
        c(ecs, "stop_task", cluster="wire-exec", task=xarns[0])
        s.poll(lambda: c(ecs, "describe_tasks", cluster="wire-exec", tasks=xarns),
               lambda o: all(t.get("lastStatus") == "STOPPED" for t in o["tasks"]))
        # A stopped task takes no exec: ECS's refusal.
        c(ecs, "execute_command", cluster="wire-exec", task=xarns[0], container="web", interactive=True,
          command="/bin/sh", expect="InvalidParameterException")

    # A container instance registered through the API, as an agent does.
    doc = json.dumps({"instanceId": "i-0123456789abcdef0", "instanceType": "t3.large",
                      "availabilityZone": "eu-west-1b", "architecture": "x86_64", "region": REGION,
                      "accountId": "123456789012", "privateIp": "10.0.0.9"})
    reg = c(ecs, "register_container_instance", cluster="wire-b", instanceIdentityDocument=doc,
            instanceIdentityDocumentSignature="sig",
            totalResources=[{"name": "CPU", "type": "INTEGER", "integerValue": 2048},
                            {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096},
                            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375"]},
                            {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []}],
            versionInfo={"agentVersion": "1.80.0", "agentHash": "abc", "dockerVersion": "DockerVersion: 24.0.0"},
            attributes=[{"name": "stack", "value": "blue"}, {"name": "ecs.capability.docker-remote-api.1.41"}],
            tags=[{"key": "role", "value": "worker"}])
    ci = reg["containerInstance"]["containerInstanceArn"] if reg else None
    c(ecs, "register_container_instance", cluster="missing", expect="ClusterNotFoundException")
    if ci:
        c(ecs, "describe_container_instances", cluster="wire-b", containerInstances=[ci, "0123456789abcdef0123456789abcdef"],
          include=["TAGS", "CONTAINER_INSTANCE_HEALTH"])
        c(ecs, "list_container_instances", cluster="wire-b")
        c(ecs, "list_container_instances", cluster="wire-b", filter="attribute:stack == blue", status="ACTIVE", maxResults=1)
        c(ecs, "list_container_instances", cluster="wire-b", filter="attribute:stack ==", expect="InvalidParameterException")
        c(ecs, "put_attributes", cluster="wire-b", attributes=[{"name": "zone", "value": "z1", "targetType": "container-instance", "targetId": ci}])
        c(ecs, "list_attributes", cluster="wire-b", targetType="container-instance")
        c(ecs, "list_attributes", cluster="wire-b", targetType="container-instance", attributeName="zone", attributeValue="z1", maxResults=1)
        c(ecs, "delete_attributes", cluster="wire-b", attributes=[{"name": "zone", "targetType": "container-instance", "targetId": ci}])
        c(ecs, "discover_poll_endpoint", containerInstance=ci, cluster="wire-b")
        c(ecs, "list_tags_for_resource", resourceArn=ci)
        # EC2 tasks: RunTask finds no connected instance (a placement failure
        # in failures[]), StartTask names the instance.
        if ec2td:
            c(ecs, "run_task", cluster="wire-b", taskDefinition="wire-ec2", launchType="EC2")
            st = c(ecs, "start_task", cluster="wire-b", taskDefinition="wire-ec2", containerInstances=[ci],
                   startedBy="wireshape", tags=[{"key": "s", "value": "1"}],
                   overrides={"containerOverrides": [{"name": "c", "command": ["true"]}]})
            tasks = (st or {}).get("tasks", [])
            if tasks:
                t = tasks[0]
                now = time.time()
                c(ecs, "submit_container_state_change", cluster="wire-b", task=t["taskArn"], containerName="c",
                  runtimeId="0123456789ab", status="RUNNING",
                  networkBindings=[{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080, "protocol": "tcp"}])
                c(ecs, "submit_task_state_change", cluster="wire-b", task=t["taskArn"], status="RUNNING",
                  containers=[{"containerName": "c", "runtimeId": "0123456789ab", "status": "RUNNING"}],
                  pullStartedAt=now - 2, pullStoppedAt=now - 1)
                c(ecs, "describe_tasks", cluster="wire-b", tasks=[t["taskArn"]], include=["TAGS"])
                c(ecs, "describe_container_instances", cluster="wire-b", containerInstances=[ci])
                c(ecs, "stop_task", cluster="wire-b", task=t["taskArn"])
        c(ecs, "update_container_instances_state", cluster="wire-b", containerInstances=[ci, "0123456789abcdef0123456789abcdef"],
          status="DRAINING")
        c(ecs, "update_container_instances_state", cluster="wire-b", containerInstances=[ci], status="BOGUS",
          expect="InvalidParameterException")
        c(ecs, "deregister_container_instance", cluster="wire-b", containerInstance=ci, force=True)
        c(ecs, "deregister_container_instance", cluster="wire-b", containerInstance="0123456789abcdef0123456789abcdef",
          expect="InvalidParameterException")

    # Retire the task definitions and the clusters.
    if rich:
        c(ecs, "deregister_task_definition", taskDefinition=rich["taskDefinition"]["taskDefinitionArn"])
        c(ecs, "list_task_definitions", status="INACTIVE")
        c(ecs, "delete_task_definitions", taskDefinitions=[rich["taskDefinition"]["taskDefinitionArn"], f"{seed_family}:2", "missing:9"])
    c(ecs, "deregister_task_definition", taskDefinition="missing:1", expect="ClientException")
    c(ecs, "delete_cluster", cluster="missing", expect="ClusterNotFoundException")
    c(ecs, "delete_cluster", cluster="wire-b")
    c(ecs, "describe_clusters", clusters=["wire-b"], include=["TAGS"])


def run_services(s, seed):
    """Services: create, describe (with TAGS and a missing one), list with
    pagination, update (scale, new revision, deployment configuration),
    tags, delete (refused while scaled, then forced) and the errors."""
    ecs = s.ecs
    c = s.call
    c(ecs, "create_cluster", clusterName="wire-svc")
    seed = dict(seed, family="wire-svc")
    # No secrets: the service's tasks must run whatever the secret stores
    # hold.
    seed["containerDefinitions"] = [{k: v for k, v in cd.items() if k != "secrets"} for cd in seed["containerDefinitions"]]
    td1 = c(ecs, "register_task_definition", **seed)
    td2 = c(ecs, "register_task_definition", **seed)
    if not td1 or not td2:
        return
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
    created = c(ecs, "create_service", cluster="wire-svc", serviceName="web", taskDefinition="wire-svc:1",
                desiredCount=2, launchType="FARGATE", networkConfiguration=net,
                loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
                healthCheckGracePeriodSeconds=10, propagateTags="SERVICE", enableECSManagedTags=True,
                deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                         "maximumPercent": 200, "minimumHealthyPercent": 50,
                                         "alarms": {"alarmNames": ["wire-guard"], "enable": True, "rollback": False}},
                tags=[{"key": "team", "value": "web"}], clientToken="wire-token-1")
    c(ecs, "create_service", cluster="wire-svc", serviceName="web", taskDefinition="wire-svc:1",
      desiredCount=2, launchType="FARGATE", networkConfiguration=net, clientToken="wire-token-1",
      loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}])
    c(ecs, "create_service", cluster="wire-svc", serviceName="other", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", networkConfiguration=net)
    c(ecs, "create_service", cluster="wire-svc", serviceName="web", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", networkConfiguration=net, expect="InvalidParameterException")
    c(ecs, "create_service", cluster="wire-svc", serviceName="bad", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", networkConfiguration=net,
      loadBalancers=[{"targetGroupArn": tg, "containerName": "nope", "containerPort": 8080}],
      expect="InvalidParameterException")
    c(ecs, "create_service", cluster="wire-svc", serviceName="bad", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", expect="InvalidParameterException")
    c(ecs, "create_service", cluster="missing", serviceName="web", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", networkConfiguration=net, expect="ClusterNotFoundException")
    c(ecs, "create_service", cluster="wire-svc", serviceName="cd", taskDefinition="wire-svc:1",
      desiredCount=1, launchType="FARGATE", networkConfiguration=net,
      deploymentController={"type": "CODE_DEPLOY"}, expect="UnsupportedFeatureException")
    s.poll(lambda: c(ecs, "describe_services", cluster="wire-svc", services=["web"]),
           lambda o: o["services"] and o["services"][0]["runningCount"] == 2
           and o["services"][0]["deployments"][0].get("rolloutState") == "COMPLETED")
    c(ecs, "describe_services", cluster="wire-svc", services=["web", "missing"], include=["TAGS"])
    page = c(ecs, "list_services", cluster="wire-svc", maxResults=1)
    if page and page.get("nextToken"):
        c(ecs, "list_services", cluster="wire-svc", nextToken=page["nextToken"])
    c(ecs, "list_services", cluster="wire-svc", launchType="FARGATE", schedulingStrategy="REPLICA")
    c(ecs, "list_services", cluster="missing", expect="ClusterNotFoundException")
    lt = c(ecs, "list_tasks", cluster="wire-svc", serviceName="web")
    svc_tasks = (lt or {}).get("taskArns", [])
    if svc_tasks:
        c(ecs, "update_task_protection", cluster="wire-svc", tasks=svc_tasks[:1] + ["0123456789abcdef0123456789abcdef"],
          protectionEnabled=True, expiresInMinutes=60)
        c(ecs, "get_task_protection", cluster="wire-svc", tasks=svc_tasks[:1])
        c(ecs, "get_task_protection", cluster="wire-svc")
        c(ecs, "update_task_protection", cluster="wire-svc", tasks=svc_tasks[:1], protectionEnabled=False)
    c(ecs, "update_task_protection", cluster="wire-svc", tasks=["x"], protectionEnabled=True, expiresInMinutes=0,
      expect="InvalidParameterException")
    c(ecs, "get_task_protection", cluster="missing", expect="ClusterNotFoundException")
    c(ecs, "update_service", cluster="wire-svc", service="web", desiredCount=3)
    c(ecs, "update_service", cluster="wire-svc", service="web", taskDefinition="wire-svc:2",
      deploymentConfiguration={"maximumPercent": 150}, healthCheckGracePeriodSeconds=5,
      enableExecuteCommand=False)
    c(ecs, "update_service", cluster="wire-svc", service="web", forceNewDeployment=True)
    c(ecs, "update_service", cluster="wire-svc", service="missing", desiredCount=1,
      expect="ServiceNotFoundException")
    c(ecs, "update_service", cluster="wire-svc", service="web", desiredCount=-1,
      expect="InvalidParameterException")
    if created:
        arn = created["service"]["serviceArn"]
        c(ecs, "tag_resource", resourceArn=arn, tags=[{"key": "k", "value": "v"}])
        c(ecs, "list_tags_for_resource", resourceArn=arn)
        c(ecs, "untag_resource", resourceArn=arn, tagKeys=["k"])
    c(ecs, "describe_services", cluster="wire-svc", services=["web"])
    # The deployment history.
    sds = c(ecs, "list_service_deployments", cluster="wire-svc", service="web")
    page = c(ecs, "list_service_deployments", cluster="wire-svc", service="web", maxResults=1)
    if page and page.get("nextToken"):
        c(ecs, "list_service_deployments", cluster="wire-svc", service="web", nextToken=page["nextToken"], maxResults=1)
    c(ecs, "list_service_deployments", cluster="wire-svc", service="web", status=["SUCCESSFUL", "STOPPED"],
      createdAt={"after": datetime.datetime(2020, 1, 1)})
    c(ecs, "list_service_deployments", cluster="wire-svc", service="missing", expect="ServiceNotFoundException")
    arns = [d["serviceDeploymentArn"] for d in (sds or {}).get("serviceDeployments", [])]
    if arns:
        s.poll(lambda: c(ecs, "describe_service_deployments", serviceDeploymentArns=arns),
               lambda o: o["serviceDeployments"] and o["serviceDeployments"][0]["status"] == "SUCCESSFUL")
        c(ecs, "describe_service_deployments",
          serviceDeploymentArns=[arns[-1], arns[0].rsplit("/", 1)[0] + "/1234567890123456789"])
    c(ecs, "describe_service_deployments", serviceDeploymentArns=["nope"], expect="InvalidParameterException")
    if arns:
        c(ecs, "stop_service_deployment", serviceDeploymentArn=arns[0], stopType="ROLLBACK", expect="ConflictException")
        c(ecs, "stop_service_deployment", serviceDeploymentArn=arns[0].rsplit("/", 1)[0] + "/1234567890123456789",
          expect="ServiceDeploymentNotFoundException")
    c(ecs, "delete_cluster", cluster="wire-svc", expect="ClusterContainsServicesException")
    c(ecs, "delete_service", cluster="wire-svc", service="web", expect="InvalidParameterException")
    c(ecs, "delete_service", cluster="wire-svc", service="web", force=True)
    c(ecs, "delete_service", cluster="wire-svc", service="web")  # DRAINING: described as it is
    c(ecs, "update_service", cluster="wire-svc", service="web", desiredCount=1,
      expect="ServiceNotActiveException")
    c(ecs, "update_service", cluster="wire-svc", service="other", desiredCount=0)
    c(ecs, "delete_service", cluster="wire-svc", service="other")
    s.poll(lambda: c(ecs, "describe_services", cluster="wire-svc", services=["web", "other"]),
           lambda o: all(x["status"] == "INACTIVE" for x in o["services"]))
    c(ecs, "delete_cluster", cluster="wire-svc")


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def upload_blob(s, repo, data, parts=2):
    ecr, c = s.ecr, s.call
    up = c(ecr, "initiate_layer_upload", repositoryName=repo)
    if not up:
        return None
    step = max(1, (len(data) + parts - 1) // parts)
    for first in range(0, len(data), step):
        chunk = data[first:first + step]
        c(ecr, "upload_layer_part", repositoryName=repo, uploadId=up["uploadId"],
          partFirstByte=first, partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
    done = c(ecr, "complete_layer_upload", repositoryName=repo, uploadId=up["uploadId"], layerDigests=[sha256(data)])
    return done and done["layerDigest"]


def manifest_for(s, repo, label):
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"l": label}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = ("layer " + label).encode() * 64
    cd = upload_blob(s, repo, config)
    ld = upload_blob(s, repo, layer)
    m = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": cd},
         "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer), "digest": ld}]}
    return json.dumps(m), cd, ld


def run_ecr(s):
    ecr, c = s.ecr, s.call
    c(ecr, "get_authorization_token")
    c(ecr, "get_authorization_token", registryIds=["123456789012"])
    repo = "wire/app"
    r = c(ecr, "create_repository", repositoryName=repo, tags=[{"Key": "team", "Value": "wire"}],
          imageTagMutability="MUTABLE", imageScanningConfiguration={"scanOnPush": True},
          encryptionConfiguration={"encryptionType": "AES256"})
    c(ecr, "create_repository", repositoryName="wire/other", imageTagMutability="IMMUTABLE")
    c(ecr, "create_repository", repositoryName=repo, expect="RepositoryAlreadyExistsException")
    c(ecr, "create_repository", repositoryName="Bad Name", expect="InvalidParameterException")
    c(ecr, "describe_repositories")
    page = c(ecr, "describe_repositories", maxResults=1)
    if page and page.get("nextToken"):
        c(ecr, "describe_repositories", maxResults=1, nextToken=page["nextToken"])
    c(ecr, "describe_repositories", repositoryNames=[repo])
    c(ecr, "describe_repositories", repositoryNames=["missing"], expect="RepositoryNotFoundException")
    c(ecr, "put_image_tag_mutability", repositoryName="wire/other", imageTagMutability="MUTABLE")
    c(ecr, "put_image_scanning_configuration", repositoryName=repo, imageScanningConfiguration={"scanOnPush": False})

    m1, cd1, ld1 = manifest_for(s, repo, "one")
    m2, _, _ = manifest_for(s, repo, "two")
    m3, _, _ = manifest_for(s, repo, "three")
    c(ecr, "batch_check_layer_availability", repositoryName=repo,
      layerDigests=[cd1, ld1, "sha256:" + "0" * 64])
    c(ecr, "get_download_url_for_layer", repositoryName=repo, layerDigest=ld1)
    c(ecr, "get_download_url_for_layer", repositoryName=repo, layerDigest="sha256:" + "1" * 64,
      expect="LayersNotFoundException")
    p1 = c(ecr, "put_image", repositoryName=repo, imageManifest=m1, imageTag="v1")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m1, imageTag="latest",
      imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m2, imageTag="v2")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m3)  # untagged
    c(ecr, "put_image", repositoryName=repo, imageManifest=m1, imageTag="v1", expect="ImageAlreadyExistsException")
    c(ecr, "put_image", repositoryName=repo, imageManifest="{not json", imageTag="x", expect="InvalidParameterException")
    # An OCI manifest and an OCI image index over two manifests.
    oci = json.loads(m2)
    oci["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    oci["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json"
    oci["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    oci = json.dumps(oci)
    c(ecr, "put_image", repositoryName=repo, imageManifest=oci, imageTag="oci",
      imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": len(oci), "digest": sha256(oci.encode()),
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": len(m1), "digest": sha256(m1.encode()),
         "platform": {"architecture": "arm64", "os": "linux"}}]}
    c(ecr, "put_image", repositoryName=repo, imageManifest=json.dumps(index), imageTag="multi")
    c(ecr, "describe_images", repositoryName=repo, imageIds=[{"imageTag": "multi"}, {"imageTag": "oci"}])
    c(ecr, "batch_get_image", repositoryName=repo, imageIds=[{"imageTag": "multi"}, {"imageTag": "oci"}])
    c(ecr, "batch_get_image", repositoryName=repo, imageIds=[{"imageTag": "multi"}],
      acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v1+json"])
    c(ecr, "list_images", repositoryName=repo)
    c(ecr, "list_images", repositoryName=repo, filter={"tagStatus": "UNTAGGED"}, maxResults=1)
    c(ecr, "describe_images", repositoryName=repo)
    c(ecr, "describe_images", repositoryName=repo, filter={"tagStatus": "TAGGED"}, maxResults=1)
    c(ecr, "describe_images", repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    c(ecr, "describe_images", repositoryName=repo, imageIds=[{"imageTag": "nope"}], expect="ImageNotFoundException")
    c(ecr, "describe_images", repositoryName="missing", expect="RepositoryNotFoundException")
    digest = p1 and p1["image"]["imageId"]["imageDigest"]
    c(ecr, "batch_get_image", repositoryName=repo,
      imageIds=[{"imageTag": "v1"}, {"imageDigest": digest or "sha256:" + "2" * 64}, {"imageTag": "nope"}],
      acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json",
                          "application/vnd.oci.image.manifest.v1+json"])

    # Lifecycle policy and its preview.
    policy = LIFECYCLE_POLICY
    c(ecr, "get_lifecycle_policy", repositoryName=repo, expect="LifecyclePolicyNotFoundException")
    c(ecr, "get_lifecycle_policy_preview", repositoryName=repo, expect="LifecyclePolicyPreviewNotFoundException")
    # A preview of a policy not yet set (berth applies a set policy at once,
    # so a preview after it would find nothing left to expire).
    c(ecr, "start_lifecycle_policy_preview", repositoryName=repo, lifecyclePolicyText=policy)
    pv = s.poll(lambda: c(ecr, "get_lifecycle_policy_preview", repositoryName=repo),
                lambda o: o.get("status") != "IN_PROGRESS")
    if not (pv or {}).get("previewResults"):
        s.ck.bad("ecr", "GetLifecyclePolicyPreview", "$.previewResults", "the sequence expected an expiring image to check its shape")
    c(ecr, "put_lifecycle_policy", repositoryName=repo, lifecyclePolicyText=policy)
    c(ecr, "put_lifecycle_policy", repositoryName=repo, lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "description": "an action ECR does not have",
                                                                     "selection": {"tagStatus": "any"}, "action": {"type": "keep"}}]}),
      expect="InvalidParameterException")
    c(ecr, "get_lifecycle_policy", repositoryName=repo)
    c(ecr, "start_lifecycle_policy_preview", repositoryName=repo)
    s.poll(lambda: c(ecr, "get_lifecycle_policy_preview", repositoryName=repo),
           lambda o: o.get("status") != "IN_PROGRESS")
    c(ecr, "get_lifecycle_policy_preview", repositoryName=repo, filter={"tagStatus": "TAGGED"}, maxResults=1)
    c(ecr, "delete_lifecycle_policy", repositoryName=repo)
    c(ecr, "delete_lifecycle_policy", repositoryName=repo, expect="LifecyclePolicyNotFoundException")

    # Repository policy.
    rp = REPO_POLICY
    c(ecr, "get_repository_policy", repositoryName=repo, expect="RepositoryPolicyNotFoundException")
    c(ecr, "set_repository_policy", repositoryName=repo, policyText=rp)
    c(ecr, "set_repository_policy", repositoryName=repo, policyText="nope", expect="InvalidParameterException")
    c(ecr, "get_repository_policy", repositoryName=repo)
    c(ecr, "delete_repository_policy", repositoryName=repo)
    c(ecr, "delete_repository_policy", repositoryName=repo, expect="RepositoryPolicyNotFoundException")

    # Tags.
    if r:
        arn = r["repository"]["repositoryArn"]
        c(ecr, "tag_resource", resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])
        c(ecr, "list_tags_for_resource", resourceArn=arn)
        c(ecr, "untag_resource", resourceArn=arn, tagKeys=["k"])
    c(ecr, "list_tags_for_resource", resourceArn="arn:aws:ecr:eu-west-1:000000000000:repository/missing",
      expect="RepositoryNotFoundException")

    # Deletions.
    c(ecr, "batch_delete_image", repositoryName=repo, imageIds=[{"imageTag": "v2"}, {"imageTag": "nope"}])
    c(ecr, "delete_repository", repositoryName=repo, expect="RepositoryNotEmptyException")
    c(ecr, "delete_repository", repositoryName=repo, force=True)
    c(ecr, "delete_repository", repositoryName="wire/other")
    c(ecr, "delete_repository", repositoryName="missing", expect="RepositoryNotFoundException")


REPO_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
                          "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                          "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
LIFECYCLE_POLICY = json.dumps({"rules": [
    {"rulePriority": 1, "description": "expire untagged", "selection": {"tagStatus": "untagged",
     "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
    {"rulePriority": 2, "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
     "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
]})


def run_errors(s, loose_ecs, loose_ecr):
    """Error paths: missing or wrong resources for every operation berth
    implements. The codes are checked against each operation's declared
    errors in after_call; expect="*" takes any error."""
    ecs, ecr, c = s.ecs, s.ecr, s.call
    MISSING_ID = "0123456789abcdef0123456789abcdef"
    acct = "123456789012"
    cl = c(ecs, "create_cluster", clusterName="wire-err")
    if cl:
        acct = cl["cluster"]["clusterArn"].split(":")[4]
    for op, kw in [
        ("update_cluster", dict(settings=[{"name": "containerInsights", "value": "enabled"}])),
        ("update_cluster_settings", dict(settings=[{"name": "containerInsights", "value": "enabled"}])),
        ("put_cluster_capacity_providers", dict(capacityProviders=[], defaultCapacityProviderStrategy=[])),
        ("delete_cluster", {}),
        ("describe_tasks", dict(tasks=[MISSING_ID])),
        ("list_tasks", {}),
        ("stop_task", dict(task=MISSING_ID)),
        ("start_task", dict(taskDefinition="wire-ec2", containerInstances=[MISSING_ID])),
        ("deregister_container_instance", dict(containerInstance=MISSING_ID)),
        ("describe_container_instances", dict(containerInstances=[MISSING_ID])),
        ("list_container_instances", {}),
        ("update_container_instances_state", dict(containerInstances=[MISSING_ID], status="ACTIVE")),
        ("put_attributes", dict(attributes=[{"name": "a", "value": "b", "targetType": "container-instance", "targetId": MISSING_ID}])),
        ("delete_attributes", dict(attributes=[{"name": "a", "targetType": "container-instance", "targetId": MISSING_ID}])),
        ("list_attributes", dict(targetType="container-instance")),
        ("submit_task_state_change", dict(task=MISSING_ID, status="RUNNING")),
        ("submit_container_state_change", dict(task=MISSING_ID, containerName="c", status="RUNNING")),
        ("describe_capacity_providers", dict(capacityProviders=["nope"])),
    ]:
        c(ecs, op, cluster="missing-cluster", expect="?", **kw)
        c(ecs, op, cluster="wire-b", expect="?", **kw)  # deleted: INACTIVE
    c(ecs, "run_task", cluster="wire-b", taskDefinition="wire-ec2", launchType="EC2", expect="*")
    c(ecs, "register_container_instance", cluster="wire-b", expect="*")
    for op, kw in [
        ("stop_task", dict(task=MISSING_ID)),
        ("put_attributes", dict(attributes=[{"name": "a", "value": "b", "targetType": "container-instance", "targetId": MISSING_ID}])),
        ("delete_attributes", dict(attributes=[{"name": "a", "targetType": "container-instance", "targetId": MISSING_ID}])),
        ("submit_task_state_change", dict(task=MISSING_ID, status="RUNNING")),
        ("submit_container_state_change", dict(task=MISSING_ID, containerName="c", status="RUNNING")),
        ("submit_task_state_change", dict(task="not an id", status="RUNNING")),
        ("start_task", dict(taskDefinition="missing:1", containerInstances=[MISSING_ID])),
        ("run_task", dict(taskDefinition="wire-ec2", launchType="EC2", count=11)),
        ("run_task", dict(taskDefinition="wire-ec2", launchType="NOPE")),
        ("update_container_instances_state", dict(containerInstances=[], status="ACTIVE")),
        ("list_tasks", dict(desiredStatus="NOPE")),
        ("list_container_instances", dict(status="NOPE")),
        ("describe_tasks", dict(tasks=[])),
    ]:
        c(loose_ecs, op, cluster="wire-err", expect="*", **kw)
    for arn in [f"arn:aws:ecs:{REGION}:{acct}:cluster/missing-cluster",
                f"arn:aws:ecs:{REGION}:{acct}:task-definition/missing:1",
                f"arn:aws:ecs:{REGION}:{acct}:task/wire-err/{MISSING_ID}",
                f"arn:aws:ecs:{REGION}:{acct}:container-instance/wire-err/{MISSING_ID}",
                f"arn:aws:ecs:{REGION}:{acct}:service/wire-err/nope",
                f"arn:aws:ecs:{REGION}:{acct}:task/{MISSING_ID}",
                "arn:aws:s3:::bucket"]:
        c(ecs, "list_tags_for_resource", resourceArn=arn, expect="*")
        c(ecs, "tag_resource", resourceArn=arn, tags=[{"key": "a", "value": "b"}], expect="*")
        c(ecs, "untag_resource", resourceArn=arn, tagKeys=["a"], expect="*")
    if cl:
        arn = cl["cluster"]["clusterArn"]
        c(ecs, "tag_resource", resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(51)], expect="*")
        c(ecs, "tag_resource", resourceArn=arn, tags=[{"key": "aws:x", "value": "v"}], expect="*")
    c(ecs, "put_account_setting", name="containerInsights", value="bogus", expect="*")
    c(ecs, "delete_account_setting", name="bogus", expect="*")
    c(ecs, "list_account_settings", name="bogus", expect="*")
    c(ecs, "register_task_definition", family="bad", containerDefinitions=[{"name": "a", "image": "x", "memory": 4}],
      cpu="nope", expect="*")
    c(ecs, "register_task_definition", family="bad", containerDefinitions=[{"name": "a", "image": "x"}],
      requiresCompatibilities=["FARGATE"], networkMode="bridge", expect="*")
    c(ecs, "delete_task_definitions", taskDefinitions=["wire-ec2:1"], expect="?")
    c(ecs, "delete_task_definitions", taskDefinitions=["missing"], expect="?")
    c(ecs, "list_task_definitions", status="NOPE", expect="*")
    c(ecs, "list_task_definitions", nextToken="garbage", expect="*")
    c(ecs, "describe_clusters", include=["NOPE"], expect="*")
    c(ecs, "describe_task_definition", taskDefinition="arn:aws:ecs:eu-west-1:1:nope", expect="*")
    c(ecs, "discover_poll_endpoint", containerInstance=MISSING_ID, cluster="missing-cluster")
    c(ecs, "submit_attachment_state_changes", cluster="wire-err", attachments=[], expect="*")
    c(ecs, "delete_cluster", cluster="wire-err")

    # ECR: a missing repository for every repository operation, and the
    # layer, image and policy errors.
    miss = dict(repositoryName="missing-repo")
    for op, kw in [
        ("describe_images", {}), ("list_images", {}), ("batch_get_image", dict(imageIds=[{"imageTag": "a"}])),
        ("batch_delete_image", dict(imageIds=[{"imageTag": "a"}])),
        ("put_image", dict(imageManifest="{}" , imageTag="a")),
        ("batch_check_layer_availability", dict(layerDigests=["sha256:" + "0" * 64])),
        ("initiate_layer_upload", {}),
        ("upload_layer_part", dict(uploadId="u", partFirstByte=0, partLastByte=0, layerPartBlob=b"x")),
        ("complete_layer_upload", dict(uploadId="u", layerDigests=["sha256:" + "0" * 64])),
        ("get_download_url_for_layer", dict(layerDigest="sha256:" + "0" * 64)),
        ("put_image_tag_mutability", dict(imageTagMutability="MUTABLE")),
        ("put_image_scanning_configuration", dict(imageScanningConfiguration={"scanOnPush": True})),
        ("set_repository_policy", dict(policyText=REPO_POLICY)), ("get_repository_policy", {}),
        ("delete_repository_policy", {}),
        ("put_lifecycle_policy", dict(lifecyclePolicyText=LIFECYCLE_POLICY)), ("get_lifecycle_policy", {}),
        ("delete_lifecycle_policy", {}), ("start_lifecycle_policy_preview", {}),
        ("get_lifecycle_policy_preview", {}), ("delete_repository", {}),
    ]:
        c(loose_ecr, op, expect="RepositoryNotFoundException", **miss, **kw)
    repo = "wire/err"
    r = c(ecr, "create_repository", repositoryName=repo, imageTagMutability="IMMUTABLE")
    c(loose_ecr, "upload_layer_part", repositoryName=repo, uploadId="nope", partFirstByte=0, partLastByte=0,
      layerPartBlob=b"x", expect="UploadNotFoundException")
    c(loose_ecr, "complete_layer_upload", repositoryName=repo, uploadId="nope",
      layerDigests=["sha256:" + "0" * 64], expect="UploadNotFoundException")
    up = c(ecr, "initiate_layer_upload", repositoryName=repo)
    if up:
        c(ecr, "complete_layer_upload", repositoryName=repo, uploadId=up["uploadId"],
          layerDigests=["sha256:" + "0" * 64], expect="EmptyUploadException")
        c(ecr, "upload_layer_part", repositoryName=repo, uploadId=up["uploadId"], partFirstByte=5, partLastByte=9,
          layerPartBlob=b"hello", expect="InvalidLayerPartException")
        c(ecr, "upload_layer_part", repositoryName=repo, uploadId=up["uploadId"], partFirstByte=0, partLastByte=4,
          layerPartBlob=b"hello")
        c(ecr, "complete_layer_upload", repositoryName=repo, uploadId=up["uploadId"],
          layerDigests=["sha256:" + "0" * 64], expect="InvalidLayerException")
    m, cd, ld = manifest_for(s, repo, "err")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m, imageTag="t1")
    m2, _, _ = manifest_for(s, repo, "err2")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m2, imageTag="t1", expect="ImageTagAlreadyExistsException")
    c(ecr, "put_image", repositoryName=repo, imageManifest=m2, imageTag="t2", imageDigest="sha256:" + "3" * 64,
      expect="ImageDigestDoesNotMatchException")
    bad = json.loads(m)
    bad["layers"][0]["digest"] = "sha256:" + "4" * 64
    c(ecr, "put_image", repositoryName=repo, imageManifest=json.dumps(bad), imageTag="t3",
      expect="LayersNotFoundException")
    c(ecr, "start_lifecycle_policy_preview", repositoryName=repo, expect="LifecyclePolicyNotFoundException")
    c(ecr, "get_download_url_for_layer", repositoryName=repo, layerDigest="nope", expect="*")
    c(ecr, "batch_get_image", repositoryName=repo, imageIds=[{"imageDigest": "nope"}, {}])
    c(ecr, "batch_delete_image", repositoryName=repo, imageIds=[{"imageDigest": "sha256:" + "5" * 64}, {"imageTag": "nope"}])
    c(ecr, "describe_images", repositoryName=repo, imageIds=[{"imageDigest": "nope"}], expect="*")
    c(ecr, "list_images", repositoryName=repo, nextToken="garbage", expect="*")
    c(ecr, "describe_repositories", nextToken="garbage", expect="*")
    c(loose_ecr, "create_repository", repositoryName="wire/x", imageTagMutability="NOPE", expect="*")
    c(loose_ecr, "create_repository", repositoryName="wire/x", encryptionConfiguration={"encryptionType": "NOPE"},
      expect="*")
    c(ecr, "create_repository", repositoryName="wire/x", tags=[{"Key": "aws:x", "Value": "v"}],
      expect="InvalidTagParameterException")
    if r:
        arn = r["repository"]["repositoryArn"]
        c(ecr, "tag_resource", resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
          expect="TooManyTagsException")
        c(ecr, "tag_resource", resourceArn=arn, tags=[{"Key": "aws:x", "Value": "v"}], expect="InvalidTagParameterException")
    for arn in [f"arn:aws:ecr:{REGION}:{acct}:repository/missing-repo", "arn:aws:s3:::bucket", "nope"]:
        c(ecr, "list_tags_for_resource", resourceArn=arn, expect="*")
        c(ecr, "tag_resource", resourceArn=arn, tags=[{"Key": "a", "Value": "b"}], expect="*")
        c(ecr, "untag_resource", resourceArn=arn, tagKeys=["a"], expect="*")
    c(ecr, "set_repository_policy", repositoryName=repo, policyText=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Maybe", "Principal": "*", "Action": "ecr:*"}]}), expect="*")
    c(loose_ecr, "get_authorization_token", registryIds=["not-an-id"], expect="*")
    c(ecr, "delete_repository", repositoryName=repo, force=True)


def probe(ck, clients):
    """Calls every model operation with an empty request (no client-side
    validation). Returns the operations berth implements."""
    implemented = set()
    for client in clients:
        svc = client.meta.service_model.service_name
        for op in client.meta.service_model.operation_names:
            method = getattr(client, _snake(client, op))
            try:
                method()
            except ClientError as e:
                if e.response["Error"]["Code"] == "UnknownOperationException":
                    continue
            except Exception as e:
                ck.bad(svc, op, "-", f"probe: client failed: {type(e).__name__}: {e}")
            implemented.add((svc, op))
    return implemented


def _snake(client, op):
    for k, v in client.meta.method_to_api_mapping.items():
        if v == op:
            return k
    raise KeyError(op)


def keyset(v, path="$", out=None):
    """All JSON paths of object keys in v (list indexes collapsed)."""
    if out is None:
        out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(f"{path}.{k}")
            keyset(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        for x in v:
            keyset(x, f"{path}[]", out)
    return out


def compare_moto(berth_url, moto_url, seed):
    """Prints the member-name differences of a few answers (not a test)."""
    bodies = {}
    for name, url in (("berth", berth_url), ("moto", moto_url)):
        ck = Checker()
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
        ecs, ecr = boto3.client("ecs", **kw), boto3.client("ecr", **kw)
        got = {}
        def grab(label, client, op, **a):
            try:
                getattr(client, op)(**a)
            except ClientError:
                pass
            got[label] = ck.last[1] if ck.last else None
        ck.hook(ecs)
        ck.hook(ecr)
        grab("CreateCluster", ecs, "create_cluster", clusterName="moto-cmp", tags=[{"key": "a", "value": "b"}])
        grab("DescribeClusters", ecs, "describe_clusters", clusters=["moto-cmp"], include=["TAGS", "SETTINGS"])
        grab("RegisterTaskDefinition", ecs, "register_task_definition", **seed)
        grab("DescribeTaskDefinition", ecs, "describe_task_definition", taskDefinition=seed["family"])
        grab("ListAccountSettings", ecs, "list_account_settings", effectiveSettings=True)
        grab("CreateRepository", ecr, "create_repository", repositoryName="moto-cmp")
        grab("DescribeRepositories", ecr, "describe_repositories", repositoryNames=["moto-cmp"])
        grab("GetAuthorizationToken", ecr, "get_authorization_token")
        grab("DescribeImages(error)", ecr, "describe_images", repositoryName="moto-cmp", imageIds=[{"imageTag": "x"}])
        grab("DeleteRepository", ecr, "delete_repository", repositoryName="moto-cmp")
        grab("DeleteCluster", ecs, "delete_cluster", cluster="moto-cmp")
        bodies[name] = got
        for v in ck.violations:
            print(f"  [{name}] {v[0]} {v[1]} {v[2]}: {v[3]}")
    for label in bodies["berth"]:
        b, m = keyset(bodies["berth"][label]), keyset(bodies["moto"][label])
        print(f"{label}: only berth {sorted(b - m)}; only moto {sorted(m - b)}")


SEED_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def prepare_account(kw, seed):
    """Sets up what the tutorial's account has before it runs the seed, as
    its reader would: the execution and task roles (trusting
    ecs-tasks.amazonaws.com) and the secret, whose real ARN replaces the
    tutorial's placeholder "arn:aws:secretsmanager:...:secret:db-password"
    (a task whose secret cannot be resolved stops, as on AWS)."""
    iam = boto3.client("iam", **kw)
    for key in ("executionRoleArn", "taskRoleArn"):
        if not seed.get(key):
            continue
        name = seed[key].rsplit("/", 1)[1]
        try:
            seed[key] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            seed[key] = iam.get_role(RoleName=name)["Role"]["Arn"]
    sm = boto3.client("secretsmanager", **kw)
    for cd in seed.get("containerDefinitions", []):
        for sec in cd.get("secrets") or []:
            vf = sec["valueFrom"]
            if ":secret:" not in vf:
                continue
            name = vf.split(":secret:", 1)[1].split(":", 1)[0]
            try:
                arn = sm.create_secret(Name=name, SecretString="wireshape-" + name)["ARN"]
            except sm.exceptions.ResourceExistsException:
                arn = sm.describe_secret(SecretId=name)["ARN"]
            sec["valueFrom"] = arn


def run_bluegreen(s, seed):
    """Blue/green, linear and canary services: their deployment
    configuration and advancedConfiguration described back, the
    revisions (DescribeServiceRevisions), and the refusals (lifecycle
    hooks, a missing alternate target group, out-of-range steps)."""
    ecs = s.ecs
    c = s.call
    c(ecs, "create_cluster", clusterName="wire-bg")
    seed = dict(seed, family="wire-bg")
    seed["containerDefinitions"] = [{k: v for k, v in cd.items() if k != "secrets"} for cd in seed["containerDefinitions"]]
    if not c(ecs, "register_task_definition", **seed):
        return
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    # ECS checks that the groups and the listener rules exist on one load
    # balancer: real ones (an ELBv2 client outside the checker: its wire
    # is the query protocol's, checked by elbwire.py).
    elb = boto3.client("elbv2", endpoint_url=ecs.meta.endpoint_url, region_name=REGION,
                       aws_access_key_id="test", aws_secret_access_key="test")
    lbarn = elb.create_load_balancer(Name="wire-bg", Type="application",
                                     Subnets=["subnet-private-1a", "subnet-private-1b"])["LoadBalancers"][0]["LoadBalancerArn"]
    blue, green = (elb.create_target_group(Name=n, Protocol="HTTP", Port=8080, TargetType="ip", VpcId="vpc-1")
                   ["TargetGroups"][0]["TargetGroupArn"] for n in ("wire-bg-blue", "wire-bg-green"))
    fwd = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 1},
                                                                  {"TargetGroupArn": green, "Weight": 0}]}}]
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    lis = elb.create_listener(LoadBalancerArn=lbarn, Protocol="HTTP", Port=port, DefaultActions=fwd)["Listeners"][0]["ListenerArn"]
    prod = elb.create_rule(ListenerArn=lis, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                           Actions=fwd)["Rules"][0]["RuleArn"]
    test = [r["RuleArn"] for r in elb.describe_rules(ListenerArn=lis)["Rules"] if r["IsDefault"]][0]
    lb = {"targetGroupArn": blue, "containerName": "web", "containerPort": 8080,
          "advancedConfiguration": {"alternateTargetGroupArn": green,
                                    "productionListenerRule": prod,
                                    "testListenerRule": test,
                                    "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"}}
    for name, dc in (("bg", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}),
                     ("linear", {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2}}),
                     ("canary", {"strategy": "CANARY", "bakeTimeInMinutes": 1})):
        c(ecs, "create_service", cluster="wire-bg", serviceName=name, taskDefinition="wire-bg:1", desiredCount=0,
          launchType="FARGATE", networkConfiguration=net, loadBalancers=[lb], deploymentConfiguration=dc)
    c(ecs, "describe_services", cluster="wire-bg", services=["bg", "linear", "canary"])
    c(ecs, "update_service", cluster="wire-bg", service="canary",
      deploymentConfiguration={"canaryConfiguration": {"canaryPercent": 10.5, "canaryBakeTimeInMinutes": 3}})
    hooks = [{"hookTargetArn": "arn:aws:lambda:eu-west-1:123456789012:function:check", "roleArn": "arn:aws:iam::123456789012:role/hook",
              "lifecycleStages": ["POST_SCALE_UP"]}]
    c(ecs, "create_service", cluster="wire-bg", serviceName="hooks", taskDefinition="wire-bg:1", desiredCount=0,
      launchType="FARGATE", networkConfiguration=net, loadBalancers=[lb],
      deploymentConfiguration={"strategy": "BLUE_GREEN", "lifecycleHooks": hooks}, expect="InvalidParameterException")
    norule = copy.deepcopy(lb)
    norule["advancedConfiguration"]["productionListenerRule"] = prod.rsplit("/", 1)[0] + "/0123456789abcdef"
    c(ecs, "create_service", cluster="wire-bg", serviceName="norule", taskDefinition="wire-bg:1", desiredCount=0,
      launchType="FARGATE", networkConfiguration=net, loadBalancers=[norule],
      deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, expect="InvalidParameterException")
    c(ecs, "create_service", cluster="wire-bg", serviceName="nobake", taskDefinition="wire-bg:1", desiredCount=0,
      launchType="FARGATE", networkConfiguration=net, loadBalancers=[lb],
      deploymentConfiguration={"strategy": "BLUE_GREEN"}, expect="InvalidParameterException")
    c(ecs, "create_service", cluster="wire-bg", serviceName="noalt", taskDefinition="wire-bg:1", desiredCount=0,
      launchType="FARGATE", networkConfiguration=net, loadBalancers=[{k: v for k, v in lb.items() if k != "advancedConfiguration"}],
      deploymentConfiguration={"strategy": "BLUE_GREEN"}, expect="InvalidParameterException")
    c(ecs, "update_service", cluster="wire-bg", service="linear",
      deploymentConfiguration={"linearConfiguration": {"stepPercent": 1.0}}, expect="InvalidParameterException")
    sds = c(ecs, "list_service_deployments", cluster="wire-bg", service="bg")
    revs = [d["targetServiceRevisionArn"] for d in (sds or {}).get("serviceDeployments", [])]
    if revs:
        c(ecs, "describe_service_revisions", serviceRevisionArns=revs + [revs[0].rsplit("/", 1)[0] + "/1234567890123456789"])
        c(ecs, "describe_service_deployments", serviceDeploymentArns=[d["serviceDeploymentArn"] for d in sds["serviceDeployments"]])
    c(ecs, "describe_service_revisions", serviceRevisionArns=["nope"], expect="InvalidParameterException")
    for name in ("bg", "linear", "canary"):
        c(ecs, "delete_service", cluster="wire-bg", service=name, force=True)
    s.poll(lambda: c(ecs, "describe_services", cluster="wire-bg", services=["bg", "linear", "canary"]),
           lambda o: all(x["status"] == "INACTIVE" for x in o["services"]))
    c(ecs, "delete_cluster", cluster="wire-bg")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--seed", required=True, help="the tutorial's task-def.json")
    ap.add_argument("--moto", help="also compare a few answers with this moto_server URL")
    args = ap.parse_args()
    with open(args.seed) as f:
        seed = json.load(f)
    if args.moto:
        compare_moto(args.endpoint, args.moto, copy.deepcopy(seed))
        return 0

    ck = Checker()
    kw = dict(endpoint_url=args.endpoint, region_name=REGION, aws_access_key_id="test",
              aws_secret_access_key="test")
    strict = Config(retries={"total_max_attempts": 1})
    loose = Config(retries={"total_max_attempts": 1}, parameter_validation=False)
    ecs, ecr = boto3.client("ecs", config=strict, **kw), boto3.client("ecr", config=strict, **kw)
    pecs, pecr = boto3.client("ecs", config=loose, **kw), boto3.client("ecr", config=loose, **kw)
    for cl in (ecs, ecr, pecs, pecr):
        ck.hook(cl)
    s = Session(ck, ecs, ecr)
    # The seed's awslogs group exists, as in the tutorial's account: ECS
    # fails a task whose group is missing unless awslogs-create-group is set.
    for cd in seed.get("containerDefinitions", []):
        o = (cd.get("logConfiguration") or {}).get("options") or {}
        if o.get("awslogs-group"):
            lg = boto3.client("logs", **dict(kw, region_name=o.get("awslogs-region", REGION)))
            try:
                lg.create_log_group(logGroupName=o["awslogs-group"])
            except lg.exceptions.ResourceAlreadyExistsException:
                pass
    prepare_account(kw, seed)
    run_ecs(s, copy.deepcopy(seed))
    run_services(s, copy.deepcopy(seed))
    run_bluegreen(s, copy.deepcopy(seed))
    run_task_sets(s, copy.deepcopy(seed))
    run_ecr(s)
    run_errors(s, pecs, pecr)
    implemented = probe(ck, [pecs, pecr])
    for svc, op in sorted(implemented - ck.succeeded):
        if (svc, op) not in NOT_EXERCISED:
            ck.bad(svc, op, "-", "berth implements this operation but the sequence never made it succeed")
    for svc, op in sorted(NOT_EXERCISED):
        if (svc, op) not in implemented:
            ck.bad(svc, op, "-", "listed in NOT_EXERCISED but berth does not implement it")

    print(f"{ck.calls} responses checked; berth implements {len(implemented)} operations, "
          f"{len(ck.succeeded & implemented)} exercised successfully")
    for svc, op in sorted(implemented):
        print(f"  implemented: {svc} {op}{'' if (svc, op) in ck.succeeded else ' (not exercised)'}")
    for svc, op, path, msg in ck.violations:
        print(f"VIOLATION {svc} {op} {path}: {msg}")
    if ck.violations:
        print(f"{len(ck.violations)} violations")
        return 1
    print("wire shapes ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
