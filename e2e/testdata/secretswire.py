#!/usr/bin/env python3
"""Secrets Manager and SSM Parameter Store through boto3, with a wire check.

Drives a berth server with boto3's secretsmanager and ssm clients through
every operation berth serves for them and their error paths (versions and
staging labels, scheduled deletion and restore, force delete, filters,
tags, resource policies; String/StringList/SecureString parameters,
versions, labels, paths, history, tags), checking every raw JSON answer
against botocore's models (wireshape.Checker). Prints VIOLATION lines and
"secrets wire ok" at the end.

    python3 secretswire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError

from wireshape import Checker

REGION = "eu-west-1"


def expect(fn, code, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{fn.__name__} {kw}: want {code}, got {got}: {e}"
        return e
    raise AssertionError(f"{fn.__name__} {kw}: want {code}, got success")


def run_secrets(sm):
    c = sm.create_secret(Name="prod/db-password", SecretString="s3cr3t", Description="db",
                         Tags=[{"Key": "env", "Value": "prod"}], ClientRequestToken="11111111-1111-4111-8111-111111111111")
    arn = c["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-password-") and len(arn.rsplit("-", 1)[1]) == 6, arn
    # The same token and value is the same request.
    again = sm.create_secret(Name="prod/db-password", SecretString="s3cr3t", ClientRequestToken="11111111-1111-4111-8111-111111111111")
    assert again["ARN"] == arn and again["VersionId"] == c["VersionId"], again
    expect(sm.create_secret, "ResourceExistsException", Name="prod/db-password", SecretString="other")
    expect(sm.create_secret, "InvalidParameterException", Name="bad name!", SecretString="x")
    sm.create_secret(Name="api/token", SecretBinary=b"\x00\x01binary", Tags=[{"Key": "team", "Value": "api"}])
    sm.create_secret(Name="empty")
    expect(sm.get_secret_value, "ResourceNotFoundException", SecretId="empty")

    for sid in ("prod/db-password", arn, arn[:-7]):  # name, full ARN, ARN without the suffix
        v = sm.get_secret_value(SecretId=sid)
        assert v["SecretString"] == "s3cr3t" and v["VersionStages"] == ["AWSCURRENT"] and v["ARN"] == arn, (sid, v)
    assert sm.get_secret_value(SecretId="api/token")["SecretBinary"] == b"\x00\x01binary"
    expect(sm.get_secret_value, "ResourceNotFoundException", SecretId="nope")

    v2 = sm.put_secret_value(SecretId=arn, SecretString="n3w")
    assert v2["VersionStages"] == ["AWSCURRENT"], v2
    prev = sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")
    assert prev["SecretString"] == "s3cr3t" and prev["VersionId"] == c["VersionId"], prev
    assert sm.get_secret_value(SecretId=arn, VersionId=v2["VersionId"])["SecretString"] == "n3w"
    expect(sm.get_secret_value, "ResourceNotFoundException", SecretId=arn, VersionStage="AWSPENDING")
    pend = sm.put_secret_value(SecretId=arn, SecretString="p", VersionStages=["AWSPENDING"])
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "n3w"
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=pend["VersionId"], RemoveFromVersionId=v2["VersionId"])
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "p"
    assert sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == "n3w"
    u = sm.update_secret(SecretId=arn, Description="the db", SecretString="u")
    assert u["VersionId"] and sm.get_secret_value(SecretId=arn)["SecretString"] == "u"
    d = sm.describe_secret(SecretId=arn)
    assert d["Description"] == "the db" and d["Tags"] == [{"Key": "env", "Value": "prod"}], d
    stages = {k: sorted(v) for k, v in d["VersionIdsToStages"].items()}
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPENDING", "AWSPREVIOUS"]] or len(stages) >= 2, stages
    ids = sm.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)["Versions"]
    assert len(ids) == 4, ids

    sm.tag_resource(SecretId=arn, Tags=[{"Key": "owner", "Value": "ops"}])
    sm.untag_resource(SecretId=arn, TagKeys=["env"])
    assert sm.describe_secret(SecretId=arn)["Tags"] == [{"Key": "owner", "Value": "ops"}]

    names = lambda **kw: sorted(s["Name"] for s in sm.list_secrets(**kw)["SecretList"])
    assert names() == ["api/token", "empty", "prod/db-password"], names()
    assert names(Filters=[{"Key": "name", "Values": ["prod/"]}]) == ["prod/db-password"]
    assert names(Filters=[{"Key": "name", "Values": ["!prod"]}]) == ["api/token", "empty"]
    assert names(Filters=[{"Key": "tag-key", "Values": ["team"]}]) == ["api/token"]
    assert names(Filters=[{"Key": "description", "Values": ["THE"]}]) == ["prod/db-password"]
    assert names(Filters=[{"Key": "all", "Values": ["ops"]}]) == ["prod/db-password"]
    p1 = sm.list_secrets(MaxResults=2)
    assert len(p1["SecretList"]) == 2 and p1["NextToken"], p1
    assert len(sm.list_secrets(NextToken=p1["NextToken"])["SecretList"]) == 1

    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                                 "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=pol)
    assert json.loads(sm.get_resource_policy(SecretId=arn)["ResourcePolicy"]) == json.loads(pol)
    expect(sm.put_resource_policy, "MalformedPolicyDocumentException", SecretId=arn, ResourcePolicy="{")
    public = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                    "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    v = sm.validate_resource_policy(SecretId=arn, ResourcePolicy=public)
    assert not v["PolicyValidationPassed"] and v["ValidationErrors"][0]["CheckName"], v
    assert sm.validate_resource_policy(ResourcePolicy=pol)["PolicyValidationPassed"]
    expect(sm.validate_resource_policy, "MalformedPolicyDocumentException", ResourcePolicy="{")
    expect(sm.validate_resource_policy, "ResourceNotFoundException", SecretId="nope", ResourcePolicy=pol)
    expect(sm.put_resource_policy, "PublicPolicyException", SecretId=arn, ResourcePolicy=public, BlockPublicPolicy=True)
    sm.delete_resource_policy(SecretId=arn)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=arn)

    b = sm.batch_get_secret_value(SecretIdList=[arn, "api/token", "nope"])
    assert len(b["SecretValues"]) == 2 and b["Errors"][0]["ErrorCode"] == "ResourceNotFoundException", b

    expect(sm.delete_secret, "InvalidParameterException", SecretId=arn, RecoveryWindowInDays=3)
    expect(sm.delete_secret, "InvalidParameterException", SecretId=arn, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    dl = sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    assert dl["DeletionDate"], dl
    expect(sm.get_secret_value, "InvalidRequestException", SecretId=arn)
    expect(sm.create_secret, "InvalidRequestException", Name="prod/db-password", SecretString="x")
    assert "prod/db-password" not in names() and "prod/db-password" in names(IncludePlannedDeletion=True)
    assert sm.describe_secret(SecretId=arn)["DeletedDate"]
    sm.restore_secret(SecretId=arn)
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "u"
    sm.delete_secret(SecretId="empty", ForceDeleteWithoutRecovery=True)
    expect(sm.describe_secret, "ResourceNotFoundException", SecretId="empty")
    sm.create_secret(Name="empty", SecretString="reborn")


def run_ssm(ssm):
    assert ssm.put_parameter(Name="/prod/api-key", Type="SecureString", Value="k3y", Description="api")["Version"] == 1
    ssm.put_parameter(Name="/prod/db/host", Type="String", Value="db.internal", Tags=[{"Key": "env", "Value": "prod"}])
    ssm.put_parameter(Name="/prod/db/ports", Type="StringList", Value="5432,5433")
    ssm.put_parameter(Name="plain", Type="String", Value="v1")
    expect(ssm.put_parameter, "ParameterAlreadyExists", Name="plain", Type="String", Value="x")
    expect(ssm.put_parameter, "ValidationException", Name="awsreserved", Type="String", Value="x")
    expect(ssm.put_parameter, "ValidationException", Name="no/leading", Type="String", Value="x")
    expect(ssm.put_parameter, "ValidationException", Name="new", Value="x")
    expect(ssm.put_parameter, "ParameterPatternMismatchException", Name="pat", Type="String", Value="abc", AllowedPattern="^[0-9]+$")
    assert ssm.put_parameter(Name="plain", Type="String", Value="v2", Overwrite=True)["Version"] == 2
    assert ssm.put_parameter(Name="plain", Value="v3", Overwrite=True)["Version"] == 3

    g = ssm.get_parameter(Name="/prod/api-key", WithDecryption=True)["Parameter"]
    assert g["Value"] == "k3y" and g["Type"] == "SecureString" and g["ARN"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key", g
    enc = ssm.get_parameter(Name="/prod/api-key")["Parameter"]["Value"]
    assert enc != "k3y" and "k3y" not in enc, enc
    assert ssm.get_parameter(Name="plain")["Parameter"]["Value"] == "v3"
    assert ssm.get_parameter(Name="plain:1")["Parameter"]["Value"] == "v1"
    expect(ssm.get_parameter, "ParameterNotFound", Name="/nope")
    expect(ssm.get_parameter, "ParameterVersionNotFound", Name="plain:9")

    lv = ssm.label_parameter_version(Name="plain", ParameterVersion=2, Labels=["stable", "aws-bad", "1bad"])
    assert lv["ParameterVersion"] == 2 and sorted(lv["InvalidLabels"]) == ["1bad", "aws-bad"], lv
    assert ssm.get_parameter(Name="plain:stable")["Parameter"]["Value"] == "v2"
    ssm.label_parameter_version(Name="plain", Labels=["stable"])  # moves to the latest
    assert ssm.get_parameter(Name="plain:stable")["Parameter"]["Value"] == "v3"
    ul = ssm.unlabel_parameter_version(Name="plain", ParameterVersion=3, Labels=["stable", "never"])
    assert ul["RemovedLabels"] == ["stable"] and ul["InvalidLabels"] == ["never"], ul
    h = ssm.get_parameter_history(Name="plain")["Parameters"]
    assert [x["Value"] for x in h] == ["v1", "v2", "v3"], h

    gp = ssm.get_parameters(Names=["/prod/api-key", "plain", "/missing"], WithDecryption=True)
    assert sorted(p["Name"] for p in gp["Parameters"]) == ["/prod/api-key", "plain"] and gp["InvalidParameters"] == ["/missing"], gp
    one = sorted(p["Name"] for p in ssm.get_parameters_by_path(Path="/prod")["Parameters"])
    assert one == ["/prod/api-key"], one
    rec = sorted(p["Name"] for p in ssm.get_parameters_by_path(Path="/prod", Recursive=True)["Parameters"])
    assert rec == ["/prod/api-key", "/prod/db/host", "/prod/db/ports"], rec
    pg = ssm.get_parameters_by_path(Path="/prod", Recursive=True, MaxResults=2)
    assert len(pg["Parameters"]) == 2 and pg["NextToken"], pg
    assert len(ssm.get_parameters_by_path(Path="/prod", Recursive=True, NextToken=pg["NextToken"])["Parameters"]) == 1
    expect(ssm.get_parameters_by_path, "ValidationException", Path="prod")

    d = ssm.describe_parameters(ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])["Parameters"]
    assert [x["Name"] for x in d] == ["/prod/api-key"] and d[0]["KeyId"] == "alias/aws/ssm", d
    d = ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/prod/db"]}])["Parameters"]
    assert sorted(x["Name"] for x in d) == ["/prod/db/host", "/prod/db/ports"], d
    d = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/prod/db/h"]}])["Parameters"]
    assert [x["Name"] for x in d] == ["/prod/db/host"], d
    d = ssm.describe_parameters(ParameterFilters=[{"Key": "tag:env", "Values": ["prod"]}])["Parameters"]
    assert [x["Name"] for x in d] == ["/prod/db/host"], d
    expect(ssm.describe_parameters, "InvalidFilterKey", ParameterFilters=[{"Key": "Colour", "Values": ["x"]}])

    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/prod/db/host", Tags=[{"Key": "team", "Value": "db"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/prod/db/host", TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/prod/db/host")["TagList"] == [{"Key": "team", "Value": "db"}]

    ssm.delete_parameter(Name="plain")
    expect(ssm.delete_parameter, "ParameterNotFound", Name="plain")
    dp = ssm.delete_parameters(Names=["/prod/db/ports", "/gone"])
    assert dp["DeletedParameters"] == ["/prod/db/ports"] and dp["InvalidParameters"] == ["/gone"], dp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    ck = Checker()
    kw = dict(endpoint_url=args.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    sm, ssm = boto3.client("secretsmanager", **kw), boto3.client("ssm", **kw)
    ck.hook(sm)
    ck.hook(ssm)
    run_secrets(sm)
    run_ssm(ssm)
    served = {"secretsmanager": ["CreateSecret", "GetSecretValue", "BatchGetSecretValue", "PutSecretValue", "UpdateSecret", "DescribeSecret",
                                 "ListSecrets", "ListSecretVersionIds", "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource",
                                 "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "ValidateResourcePolicy",
                                 "UpdateSecretVersionStage"],
              "ssm": ["PutParameter", "GetParameter", "GetParameters", "GetParametersByPath", "GetParameterHistory", "DescribeParameters",
                      "DeleteParameter", "DeleteParameters", "LabelParameterVersion", "UnlabelParameterVersion", "AddTagsToResource",
                      "RemoveTagsFromResource", "ListTagsForResource"]}
    for svc, ops in served.items():
        for op in ops:
            if (svc, op) not in ck.succeeded:
                ck.bad(svc, op, "$", "never succeeded in the sequence")
    for svc, op, path, msg in ck.violations:
        print(f"VIOLATION {svc}.{op} {path}: {msg}")
    if ck.violations:
        sys.exit(1)
    print(f"secrets wire ok: {len(ck.succeeded)} operations checked")


if __name__ == "__main__":
    main()
