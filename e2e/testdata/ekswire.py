#!/usr/bin/env python3
"""EKS through boto3, every operation berth serves, with a wire-shape check.

Drives a berth server with boto3's eks client through clusters (create,
describe, list with paging, delete, the FAILED state of a berth without a
Kubernetes control plane), versions, tags, access entries and access
policies, and their error paths, and checks every raw JSON response
against botocore's eks model with wireshape.py's Checker. Prints VIOLATION
lines and "eks wire ok" at the end.

    python3 ekswire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from wireshape import Checker  # noqa: E402

# UpdateClusterConfig, UpdateClusterVersion and DescribeUpdate need an
# ACTIVE cluster, which needs a Kubernetes control plane: here they are
# checked on their error paths only.
OPS = ["CreateCluster", "DescribeCluster", "ListClusters", "DeleteCluster", "DescribeClusterVersions",
       "ListUpdates", "TagResource", "UntagResource", "ListTagsForResource", "CreateAccessEntry",
       "DescribeAccessEntry", "ListAccessEntries", "UpdateAccessEntry", "DeleteAccessEntry",
       "AssociateAccessPolicy", "DisassociateAccessPolicy", "ListAssociatedAccessPolicies", "ListAccessPolicies"]

ROLE = "arn:aws:iam::123456789012:role/eks-cluster-role"
VPC = {"subnetIds": ["subnet-a", "subnet-b"]}
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    ck = Checker()
    ck.content_type = "application/json"
    eks = boto3.client("eks", endpoint_url=args.endpoint, region_name="eu-west-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    ck.hook(eks)

    c = eks.create_cluster(name="wire", version="1.29", roleArn=ROLE, resourcesVpcConfig=VPC,
                           accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}, tags={"team": "a"},
                           logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]})["cluster"]
    expect(c["status"] == "CREATING" and c["version"] == "1.29", f"created {c['status']}")
    expect("endpoint" not in c and "certificateAuthority" not in c, "no endpoint before a control plane serves it")
    expect(error_code(eks.create_cluster, name="wire", roleArn=ROLE, resourcesVpcConfig=VPC) == "ResourceInUseException", "duplicate")
    expect(error_code(eks.create_cluster, name="bad name", roleArn=ROLE, resourcesVpcConfig=VPC) == "InvalidParameterException", "bad name")
    expect(error_code(eks.create_cluster, name="v", version="1.12", roleArn=ROLE, resourcesVpcConfig=VPC) == "InvalidParameterException", "bad version")
    expect(error_code(eks.create_cluster, name="s", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]}) == "InvalidParameterException", "one subnet")
    expect(error_code(eks.describe_cluster, name="nope") == "ResourceNotFoundException", "describe missing")
    deadline = time.time() + 30
    while eks.describe_cluster(name="wire")["cluster"]["status"] == "CREATING" and time.time() < deadline:
        time.sleep(0.2)
    c = eks.describe_cluster(name="wire")["cluster"]
    expect(c["status"] == "FAILED" and c["health"]["issues"], f"without a control plane: {c['status']}")
    for i in range(4):
        eks.create_cluster(name=f"page{i}", roleArn=ROLE, resourcesVpcConfig=VPC)
    names = eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2}).build_full_result()["clusters"]
    expect(names == ["page0", "page1", "page2", "page3", "wire"], f"paged list {names}")
    expect(error_code(eks.list_clusters, maxResults=101) == "InvalidParameterException", "maxResults")

    vs = eks.describe_cluster_versions(includeAll=True)["clusterVersions"]
    expect(any(v["clusterVersion"] == "1.29" for v in vs) and sum(v["defaultVersion"] for v in vs) == 1, "versions")

    expect(error_code(eks.update_cluster_version, name="wire", version="1.30") == "InvalidRequestException", "update of FAILED")
    expect(error_code(eks.update_cluster_config, name="wire", logging={"clusterLogging": [{"types": ["api"], "enabled": False}]}) == "InvalidRequestException", "config of FAILED")
    expect(error_code(eks.update_cluster_config, name="nope", accessConfig={"authenticationMode": "API"}) == "ResourceNotFoundException", "config of missing")
    expect(error_code(eks.describe_update, name="wire", updateId="x") == "ResourceNotFoundException", "missing update")
    expect(eks.list_updates(name="wire")["updateIds"] == [], "no updates")

    arn = c["arn"]
    eks.tag_resource(resourceArn=arn, tags={"env": "prod"})
    eks.untag_resource(resourceArn=arn, tagKeys=["team"])
    expect(eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}, "tags")
    expect(error_code(eks.list_tags_for_resource, resourceArn=arn + "x") == "NotFoundException", "tags of missing")
    expect(error_code(eks.tag_resource, resourceArn="arn:aws:s3:::b", tags={"a": "b"}) == "BadRequestException", "tags of non-EKS")

    role = "arn:aws:iam::123456789012:role/dev/viewer"
    e = eks.create_access_entry(clusterName="wire", principalArn=role, kubernetesGroups=["viewers"])["accessEntry"]
    expect(e["type"] == "STANDARD" and e["username"].startswith("arn:aws:sts::123456789012:assumed-role/viewer/"), f"entry {e}")
    expect(error_code(eks.create_access_entry, clusterName="wire", principalArn=role) == "ResourceInUseException", "dup entry")
    expect(error_code(eks.create_access_entry, clusterName="wire", principalArn="arn:aws:iam::123456789012:group/g") == "InvalidParameterException", "bad principal")
    expect(error_code(eks.create_access_entry, clusterName="page0", principalArn=role) == "InvalidRequestException", "CONFIG_MAP cluster")
    eks.describe_access_entry(clusterName="wire", principalArn=role)
    eks.update_access_entry(clusterName="wire", principalArn=role, kubernetesGroups=["a", "b"])
    eks.associate_access_policy(clusterName="wire", principalArn=role, policyArn=VIEW,
                                accessScope={"type": "namespace", "namespaces": ["default"]})
    expect(error_code(eks.associate_access_policy, clusterName="wire", principalArn=role, policyArn=VIEW + "x",
                      accessScope={"type": "cluster"}) == "InvalidParameterException", "unknown policy")
    got = eks.list_associated_access_policies(clusterName="wire", principalArn=role)["associatedAccessPolicies"]
    expect([p["policyArn"] for p in got] == [VIEW], "associated")
    expect(eks.list_access_entries(clusterName="wire", associatedPolicyArn=VIEW)["accessEntries"] == [role], "filtered entries")
    eks.disassociate_access_policy(clusterName="wire", principalArn=role, policyArn=VIEW)
    expect(error_code(eks.disassociate_access_policy, clusterName="wire", principalArn=role, policyArn=VIEW) == "ResourceNotFoundException", "disassociated")
    eks.delete_access_entry(clusterName="wire", principalArn=role)
    expect(error_code(eks.describe_access_entry, clusterName="wire", principalArn=role) == "ResourceNotFoundException", "deleted entry")
    pols = eks.get_paginator("list_access_policies").paginate(PaginationConfig={"PageSize": 5}).build_full_result()["accessPolicies"]
    expect(any(p["name"] == "AmazonEKSClusterAdminPolicy" for p in pols), "access policies")

    for n in ["wire", "page0", "page1", "page2", "page3"]:
        expect(eks.delete_cluster(name=n)["cluster"]["status"] == "DELETING", f"delete {n}")
    eks.get_waiter("cluster_deleted").wait(name="wire", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    expect(error_code(eks.delete_cluster, name="wire") == "ResourceNotFoundException", "deleted")

    missing = [op for op in OPS if ("eks", op) not in ck.succeeded]
    for op in missing:
        print(f"VIOLATION eks {op} $ never succeeded")
    for v in ck.violations:
        print("VIOLATION", *v)
    for f in failures:
        print("VIOLATION behaviour", f)
    print(f"{ck.calls} calls")
    if ck.violations or failures or missing:
        return 1
    print("eks wire ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
