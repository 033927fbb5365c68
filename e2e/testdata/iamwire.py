#!/usr/bin/env python3
"""IAM and STS through boto3, every operation, with a wire-shape check.

Drives a berth server with boto3's iam and sts clients through every
operation berth serves for them (roles, trust policies, inline and managed
policies and their versions, AWS-managed policies, users, access keys,
instance profiles, OpenID Connect providers, server certificates;
GetCallerIdentity, AssumeRole,
GetSessionToken) and their error paths, uses the keys and temporary
credentials berth issues, and checks every raw XML answer against
botocore's iam and sts models (elbwire.Checker). Prints VIOLATION lines
and "iam wire ok" at the end.

    python3 iamwire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError

from elbwire import Checker, expect_error

REGION = "eu-west-1"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
ONLY_ECS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"}]}


def client(name, endpoint, ck, **creds):
    if not creds:
        creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    c = boto3.client(name, endpoint_url=endpoint, region_name=REGION, **creds)
    c.meta.events.register("after-call", ck.after_call)
    return c


def run_roles(iam):
    r = iam.create_role(RoleName="ecsTaskExecutionRole", Path="/svc/", AssumeRolePolicyDocument=json.dumps(TRUST),
                        Description="exec", Tags=[{"Key": "team", "Value": "web"}])["Role"]
    assert r["Arn"] == "arn:aws:iam::123456789012:role/svc/ecsTaskExecutionRole", r["Arn"]
    assert r["RoleId"].startswith("AROA") and len(r["RoleId"]) == 21, r["RoleId"]
    assert r["AssumeRolePolicyDocument"] == TRUST, r["AssumeRolePolicyDocument"]  # boto3 URL-decodes and parses it
    expect_error(iam.create_role, "EntityAlreadyExists", RoleName="ECSTASKEXECUTIONROLE", AssumeRolePolicyDocument=json.dumps(TRUST))
    expect_error(iam.create_role, "MalformedPolicyDocument", RoleName="bad", AssumeRolePolicyDocument="{not json")
    expect_error(iam.create_role, "ValidationError", RoleName="bad name!", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(ONLY_ECS), MaxSessionDuration=7200)
    g = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]
    assert g["Tags"] == [{"Key": "team", "Value": "web"}] and g["Description"] == "exec", g
    expect_error(iam.get_role, "NoSuchEntity", RoleName="nope")
    p1 = iam.list_roles(MaxItems=1)
    assert len(p1["Roles"]) == 1 and p1["IsTruncated"] and p1["Marker"], p1
    p2 = iam.list_roles(Marker=p1["Marker"])
    assert {x["RoleName"] for x in p1["Roles"] + p2["Roles"]} == {"app", "ecsTaskExecutionRole"}, p2
    assert [x["RoleName"] for x in iam.list_roles(PathPrefix="/svc/")["Roles"]] == ["ecsTaskExecutionRole"]
    iam.update_role(RoleName="app", Description="the app", MaxSessionDuration=3600)
    assert iam.update_role_description(RoleName="app", Description="app v2")["Role"]["Description"] == "app v2"
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(TRUST))
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"] == TRUST
    iam.tag_role(RoleName="app", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName="app", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="app")["Tags"] == [{"Key": "b", "Value": "2"}]

    iam.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=json.dumps(READ))
    assert iam.get_role_policy(RoleName="app", PolicyName="read")["PolicyDocument"] == READ
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["read"]
    expect_error(iam.put_role_policy, "MalformedPolicyDocument", RoleName="app", PolicyName="x",
                 PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}))
    expect_error(iam.get_role_policy, "NoSuchEntity", RoleName="app", PolicyName="nope")
    exec_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=exec_arn)
    att = iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]
    assert att == [{"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": exec_arn}], att
    expect_error(iam.attach_role_policy, "NoSuchEntity", RoleName="app", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    pol = iam.get_policy(PolicyArn=exec_arn)["Policy"]
    assert pol["AttachmentCount"] == 1 and pol["Path"] == "/service-role/", pol
    doc = iam.get_policy_version(PolicyArn=exec_arn, VersionId=pol["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert "ecr:GetAuthorizationToken" in doc["Statement"][0]["Action"], doc
    expect_error(iam.delete_role, "DeleteConflict", RoleName="ecsTaskExecutionRole")
    return exec_arn


def run_policies(iam):
    arn = iam.create_policy(PolicyName="read-ecs", PolicyDocument=json.dumps(READ), Description="reads",
                            Tags=[{"Key": "k", "Value": "v"}])["Policy"]["Arn"]
    assert arn == "arn:aws:iam::123456789012:policy/read-ecs", arn
    expect_error(iam.create_policy, "EntityAlreadyExists", PolicyName="read-ecs", PolicyDocument=json.dumps(READ))
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ), SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"], v2
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ))
    vs = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in vs] == ["v3", "v2", "v1"], vs
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    expect_error(iam.delete_policy_version, "DeleteConflict", PolicyArn=arn, VersionId="v2")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ))
    expect_error(iam.create_policy_version, "LimitExceeded", PolicyArn=arn, PolicyDocument=json.dumps(READ))
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["read-ecs"], local
    aws = iam.list_policies(Scope="AWS", MaxItems=200)["Policies"]
    assert any(p["PolicyName"] == "AmazonEC2ContainerRegistryReadOnly" for p in aws), aws
    assert [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True)["Policies"]] == ["AmazonECSTaskExecutionRolePolicy"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "x", "Value": "y"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["k"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "x", "Value": "y"}]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    expect_error(iam.delete_policy, "DeleteConflict", PolicyArn=arn)
    iam.detach_role_policy(RoleName="app", PolicyArn=arn)
    expect_error(iam.detach_role_policy, "NoSuchEntity", RoleName="app", PolicyArn=arn)
    for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not v["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
    iam.delete_policy(PolicyArn=arn)
    expect_error(iam.get_policy, "NoSuchEntity", PolicyArn=arn)


def run_users(iam, endpoint, ck):
    u = iam.create_user(UserName="alice", Tags=[{"Key": "t", "Value": "1"}])["User"]
    assert u["Arn"] == "arn:aws:iam::123456789012:user/alice" and u["UserId"].startswith("AIDA"), u
    expect_error(iam.create_user, "EntityAlreadyExists", UserName="alice")
    assert iam.get_user(UserName="alice")["User"]["Tags"] == [{"Key": "t", "Value": "1"}]
    assert [x["UserName"] for x in iam.list_users()["Users"]] == ["alice"]
    iam.tag_user(UserName="alice", Tags=[{"Key": "u", "Value": "2"}])
    iam.untag_user(UserName="alice", TagKeys=["t"])
    assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "u", "Value": "2"}]
    iam.put_user_policy(UserName="alice", PolicyName="read", PolicyDocument=json.dumps(READ))
    assert iam.get_user_policy(UserName="alice", PolicyName="read")["PolicyDocument"] == READ
    assert iam.list_user_policies(UserName="alice")["PolicyNames"] == ["read"]
    ro = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    iam.attach_user_policy(UserName="alice", PolicyArn=ro)
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"][0]["PolicyArn"] == ro
    k = iam.create_access_key(UserName="alice")["AccessKey"]
    assert k["AccessKeyId"].startswith("AKIA") and len(k["AccessKeyId"]) == 20 and len(k["SecretAccessKey"]) == 40, k
    # The key berth issued signs requests berth then accepts.
    as_alice = client("sts", endpoint, ck, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
    me = as_alice.get_caller_identity()
    assert me["Arn"] == u["Arn"] and me["UserId"] == u["UserId"], me
    iam_alice = client("iam", endpoint, ck, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
    assert iam_alice.get_user()["User"]["UserName"] == "alice"  # no UserName: the caller
    bad = client("sts", endpoint, ck, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key="x" * 40)
    expect_error(bad.get_caller_identity, "SignatureDoesNotMatch")
    iam.create_access_key(UserName="alice")
    expect_error(iam.create_access_key, "LimitExceeded", UserName="alice")
    keys = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert len(keys) == 2 and all("SecretAccessKey" not in x for x in keys), keys
    iam.update_access_key(UserName="alice", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    expect_error(as_alice.get_caller_identity, "InvalidClientTokenId")
    expect_error(iam.delete_user, "DeleteConflict", UserName="alice")
    for x in keys:
        iam.delete_access_key(UserName="alice", AccessKeyId=x["AccessKeyId"])
    expect_error(iam.delete_access_key, "NoSuchEntity", UserName="alice", AccessKeyId=k["AccessKeyId"])
    iam.delete_user_policy(UserName="alice", PolicyName="read")
    iam.detach_user_policy(UserName="alice", PolicyArn=ro)
    iam.delete_user(UserName="alice")
    expect_error(iam.get_user, "NoSuchEntity", UserName="alice")


def run_profiles(iam):
    ip = iam.create_instance_profile(InstanceProfileName="ecs-instance", Path="/")["InstanceProfile"]
    assert ip["Arn"] == "arn:aws:iam::123456789012:instance-profile/ecs-instance" and ip["Roles"] == [], ip
    expect_error(iam.create_instance_profile, "EntityAlreadyExists", InstanceProfileName="ecs-instance")
    iam.add_role_to_instance_profile(InstanceProfileName="ecs-instance", RoleName="app")
    expect_error(iam.add_role_to_instance_profile, "LimitExceeded", InstanceProfileName="ecs-instance", RoleName="ecsTaskExecutionRole")
    assert iam.get_instance_profile(InstanceProfileName="ecs-instance")["InstanceProfile"]["Roles"][0]["RoleName"] == "app"
    assert len(iam.list_instance_profiles()["InstanceProfiles"]) == 1
    assert len(iam.list_instance_profiles_for_role(RoleName="app")["InstanceProfiles"]) == 1
    expect_error(iam.delete_role, "DeleteConflict", RoleName="app")
    expect_error(iam.delete_instance_profile, "DeleteConflict", InstanceProfileName="ecs-instance")
    iam.remove_role_from_instance_profile(InstanceProfileName="ecs-instance", RoleName="app")
    iam.delete_instance_profile(InstanceProfileName="ecs-instance")
    expect_error(iam.get_instance_profile, "NoSuchEntity", InstanceProfileName="ecs-instance")

    arn = iam.create_open_id_connect_provider(Url="https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])["OpenIDConnectProviderArn"]
    assert arn == "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC", arn
    o = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert o["ClientIDList"] == ["sts.amazonaws.com"] and o["Url"] == "oidc.eks.eu-west-1.amazonaws.com/id/ABC", o
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]
    expect_error(iam.create_open_id_connect_provider, "EntityAlreadyExists", Url="https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                 ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    expect_error(iam.get_open_id_connect_provider, "NoSuchEntity", OpenIDConnectProviderArn=arn)


def self_signed(name):
    """A self-signed EC certificate for name and its key (PEM strings)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
            cert.not_valid_after_utc)


def run_server_certs(iam):
    cert, key, not_after = self_signed("www.example.test")
    _, other_key, _ = self_signed("other.example.test")
    up = iam.upload_server_certificate(ServerCertificateName="web-cert", Path="/cloudfront/", CertificateBody=cert,
                                       PrivateKey=key, CertificateChain=cert, Tags=[{"Key": "team", "Value": "web"}])
    m = up["ServerCertificateMetadata"]
    assert m["Arn"] == "arn:aws:iam::123456789012:server-certificate/cloudfront/web-cert", m
    assert m["ServerCertificateId"].startswith("ASCA") and len(m["ServerCertificateId"]) == 21, m
    assert m["Expiration"] == not_after.replace(microsecond=0), (m["Expiration"], not_after)
    assert up["Tags"] == [{"Key": "team", "Value": "web"}], up
    iam.upload_server_certificate(ServerCertificateName="api-cert", CertificateBody=cert, PrivateKey=key)
    expect_error(iam.upload_server_certificate, "EntityAlreadyExists", ServerCertificateName="web-cert", CertificateBody=cert, PrivateKey=key)
    expect_error(iam.upload_server_certificate, "KeyPairMismatch", ServerCertificateName="x", CertificateBody=cert, PrivateKey=other_key)
    expect_error(iam.upload_server_certificate, "MalformedCertificate", ServerCertificateName="x", CertificateBody="not a certificate", PrivateKey=key)
    expect_error(iam.upload_server_certificate, "ValidationError", ServerCertificateName="bad name!", CertificateBody=cert, PrivateKey=key)
    g = iam.get_server_certificate(ServerCertificateName="web-cert")["ServerCertificate"]
    assert g["CertificateBody"].strip() == cert.strip() and g["CertificateChain"].strip() == cert.strip(), g
    assert g["ServerCertificateMetadata"]["Arn"] == m["Arn"] and "PrivateKey" not in g, g
    expect_error(iam.get_server_certificate, "NoSuchEntity", ServerCertificateName="nope")
    p1 = iam.list_server_certificates(MaxItems=1)
    assert len(p1["ServerCertificateMetadataList"]) == 1 and p1["IsTruncated"], p1
    p2 = iam.list_server_certificates(Marker=p1["Marker"])
    names = [x["ServerCertificateName"] for x in p1["ServerCertificateMetadataList"] + p2["ServerCertificateMetadataList"]]
    assert names == ["api-cert", "web-cert"], names
    assert [x["ServerCertificateName"] for x in iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]] == ["web-cert"]
    iam.update_server_certificate(ServerCertificateName="web-cert", NewServerCertificateName="web-cert-2", NewPath="/")
    expect_error(iam.get_server_certificate, "NoSuchEntity", ServerCertificateName="web-cert")
    r = iam.get_server_certificate(ServerCertificateName="web-cert-2")["ServerCertificate"]["ServerCertificateMetadata"]
    assert r["Arn"] == "arn:aws:iam::123456789012:server-certificate/web-cert-2" and r["ServerCertificateId"] == m["ServerCertificateId"], r
    expect_error(iam.update_server_certificate, "EntityAlreadyExists", ServerCertificateName="web-cert-2", NewServerCertificateName="api-cert")
    iam.delete_server_certificate(ServerCertificateName="web-cert-2")
    iam.delete_server_certificate(ServerCertificateName="api-cert")
    expect_error(iam.delete_server_certificate, "NoSuchEntity", ServerCertificateName="api-cert")
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []


def run_sts(sts, iam, endpoint, ck):
    me = sts.get_caller_identity()
    assert me == {**me, "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root", "UserId": "123456789012"}, me
    arn = "arn:aws:iam::123456789012:role/svc/ecsTaskExecutionRole"
    out = sts.assume_role(RoleArn=arn, RoleSessionName="deploy", DurationSeconds=900)
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and c["SessionToken"], c
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/deploy", out
    role_id = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]["RoleId"]
    assert out["AssumedRoleUser"]["AssumedRoleId"] == role_id + ":deploy", out
    creds = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"], "aws_session_token": c["SessionToken"]}
    as_role = client("sts", endpoint, ck, **creds)
    who = as_role.get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"] and who["UserId"] == role_id + ":deploy", who
    wrong = client("sts", endpoint, ck, **{**creds, "aws_session_token": "forged"})
    expect_error(wrong.get_caller_identity, "InvalidClientTokenId")
    expect_error(as_role.get_session_token, "AccessDenied")
    # The role "app-only" trusts only ECS tasks: the account may not assume it.
    iam.create_role(RoleName="ecs-only", AssumeRolePolicyDocument=json.dumps(ONLY_ECS))
    e = expect_error(sts.assume_role, "AccessDenied", RoleArn="arn:aws:iam::123456789012:role/ecs-only", RoleSessionName="xx")
    assert "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ecs-only" in str(e), e
    expect_error(sts.assume_role, "AccessDenied", RoleArn="arn:aws:iam::123456789012:role/none", RoleSessionName="xx")
    expect_error(sts.assume_role, "ValidationError", RoleArn=arn, RoleSessionName="xx", DurationSeconds=7200)
    t = sts.get_session_token(DurationSeconds=900)["Credentials"]
    as_root = client("sts", endpoint, ck, aws_access_key_id=t["AccessKeyId"], aws_secret_access_key=t["SecretAccessKey"],
                     aws_session_token=t["SessionToken"])
    assert as_root.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    ck = Checker()
    iam = client("iam", args.endpoint, ck)
    sts = client("sts", args.endpoint, ck)
    run_roles(iam)
    run_policies(iam)
    run_users(iam, args.endpoint, ck)
    run_profiles(iam)
    run_server_certs(iam)
    run_sts(sts, iam, args.endpoint, ck)
    served = ["CreateRole", "GetRole", "ListRoles", "UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy",
              "TagRole", "UntagRole", "ListRoleTags", "PutRolePolicy", "GetRolePolicy", "ListRolePolicies",
              "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies", "CreatePolicy", "GetPolicy", "DeletePolicy",
              "ListPolicies", "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions", "DeletePolicyVersion",
              "SetDefaultPolicyVersion", "TagPolicy", "UntagPolicy", "ListPolicyTags", "CreateUser", "GetUser", "ListUsers",
              "DeleteUser", "TagUser", "UntagUser", "ListUserTags", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy",
              "ListUserPolicies", "AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies", "CreateAccessKey",
              "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey", "CreateInstanceProfile", "GetInstanceProfile",
              "ListInstanceProfiles", "ListInstanceProfilesForRole", "DeleteInstanceProfile", "AddRoleToInstanceProfile",
              "RemoveRoleFromInstanceProfile", "CreateOpenIDConnectProvider", "GetOpenIDConnectProvider",
              "ListOpenIDConnectProviders", "DeleteOpenIDConnectProvider", "UploadServerCertificate",
              "GetServerCertificate", "ListServerCertificates", "UpdateServerCertificate", "DeleteServerCertificate", "GetCallerIdentity", "AssumeRole", "GetSessionToken"]
    for op in served:
        if op not in ck.succeeded:
            ck.bad(op, "$", "never succeeded in the sequence")
    for op, path, msg in ck.violations:
        print(f"VIOLATION {op} {path}: {msg}")
    if ck.violations:
        sys.exit(1)
    print(f"iam wire ok: {len(ck.succeeded)} operations checked")


if __name__ == "__main__":
    main()
