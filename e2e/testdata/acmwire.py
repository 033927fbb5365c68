#!/usr/bin/env python3
"""ACM and ELBv2's TLS operations through boto3, with a wire check.

Drives a berth server with boto3's acm client through every ACM
operation berth serves (request from berth's local CA, import, re-import,
describe, list with filters and paging, get, tags, delete and its
ResourceInUseException) and elbv2's TLS operations (an HTTPS listener,
DescribeSSLPolicies, Add/Describe/RemoveListenerCertificates), checking
every raw answer against botocore's models (wireshape.Checker for ACM's
JSON, elbwire.Checker for ELBv2's XML). Prints VIOLATION lines and
"acm wire ok" at the end.

    python3 acmwire.py --endpoint http://127.0.0.1:4566
"""

import argparse
import datetime
import sys

import boto3
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import elbwire
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


def self_signed(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def run(acm, elb):
    req = acm.request_certificate(DomainName="www.example.test", SubjectAlternativeNames=["api.example.test"],
                                  ValidationMethod="DNS", IdempotencyToken="tok1", Tags=[{"Key": "env", "Value": "dev"}])
    arn = req["CertificateArn"]
    assert acm.request_certificate(DomainName="www.example.test", IdempotencyToken="tok1")["CertificateArn"] == arn
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Status"] == "ISSUED" and d["Type"] == "AMAZON_ISSUED", d
    assert set(d["SubjectAlternativeNames"]) == {"www.example.test", "api.example.test"}, d
    g = acm.get_certificate(CertificateArn=arn)
    assert g["Certificate"].startswith("-----BEGIN CERTIFICATE-----") and g["CertificateChain"].startswith("-----BEGIN CERTIFICATE-----")
    expect(acm.describe_certificate, "InvalidArnException", CertificateArn="arn:aws:acm:eu-west-1:not-an-arn")
    expect(acm.describe_certificate, "ResourceNotFoundException",
           CertificateArn="arn:aws:acm:eu-west-1:000000000000:certificate/00000000-0000-4000-8000-000000000000")
    expect(acm.request_certificate, "InvalidParameterException", DomainName="bad..name")

    cert, key = self_signed("imported.example.test")
    imp = acm.import_certificate(Certificate=cert, PrivateKey=key, Tags=[{"Key": "src", "Value": "import"}])["CertificateArn"]
    cert2, key2 = self_signed("imported.example.test")
    assert acm.import_certificate(CertificateArn=imp, Certificate=cert2, PrivateKey=key2)["CertificateArn"] == imp
    _, other_key = self_signed("x.example.test")
    expect(acm.import_certificate, "ValidationException", Certificate=cert, PrivateKey=other_key)
    di = acm.describe_certificate(CertificateArn=imp)["Certificate"]
    assert di["Type"] == "IMPORTED" and di["KeyAlgorithm"] == "EC_prime256v1" and "ImportedAt" in di, di

    ls = acm.list_certificates()["CertificateSummaryList"]
    assert {c["CertificateArn"] for c in ls} == {arn, imp}, ls
    assert len(acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]) == 1
    page = acm.list_certificates(MaxItems=1, Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]})
    assert len(page["CertificateSummaryList"]) == 1 and page["NextToken"], page
    assert len(acm.list_certificates(CertificateStatuses=["EXPIRED"])["CertificateSummaryList"]) == 0

    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "team", "Value": "web"}])
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "env"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "team", "Value": "web"}]

    # ELBv2's TLS operations.
    lb = elb.create_load_balancer(Name="tls-alb", Type="application", Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tls-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    fwd = [{"Type": "forward", "TargetGroupArn": tg}]
    elbwire.expect_error(elb.create_listener, "ValidationError", LoadBalancerArn=lb, Protocol="HTTPS", Port=18443, DefaultActions=fwd)
    elbwire.expect_error(elb.create_listener, "SSLPolicyNotFound", LoadBalancerArn=lb, Protocol="HTTPS", Port=18443, DefaultActions=fwd,
                         Certificates=[{"CertificateArn": arn}], SslPolicy="NoSuchPolicy")
    elbwire.expect_error(elb.create_listener, "CertificateNotFound", LoadBalancerArn=lb, Protocol="HTTPS", Port=18443, DefaultActions=fwd,
                         Certificates=[{"CertificateArn": "arn:aws:acm:eu-west-1:000000000000:certificate/00000000-0000-4000-8000-000000000000"}])
    ln = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=18443, DefaultActions=fwd,
                             Certificates=[{"CertificateArn": arn}])["Listeners"][0]
    assert ln["SslPolicy"] == "ELBSecurityPolicy-2016-08" and ln["Certificates"][0]["CertificateArn"] == arn, ln
    pol = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-TLS13-1-2-2021-06"])["SslPolicies"][0]
    assert pol["SslProtocols"] == ["TLSv1.2", "TLSv1.3"] and pol["Ciphers"][0] == {"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1}, pol
    assert len(elb.describe_ssl_policies(LoadBalancerType="network")["SslPolicies"]) > 5
    elbwire.expect_error(elb.describe_ssl_policies, "SSLPolicyNotFound", Names=["NoSuchPolicy"])
    elb.add_listener_certificates(ListenerArn=ln["ListenerArn"], Certificates=[{"CertificateArn": imp}])
    lc = elb.describe_listener_certificates(ListenerArn=ln["ListenerArn"])["Certificates"]
    assert {(c["CertificateArn"], c["IsDefault"]) for c in lc} == {(arn, True), (imp, False)}, lc
    expect(acm.delete_certificate, "ResourceInUseException", CertificateArn=imp)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [lb]
    elb.remove_listener_certificates(ListenerArn=ln["ListenerArn"], Certificates=[{"CertificateArn": imp}])
    elb.modify_listener(ListenerArn=ln["ListenerArn"], SslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    acm.delete_certificate(CertificateArn=imp)
    expect(acm.get_certificate, "ResourceNotFoundException", CertificateArn=imp)
    elb.delete_listener(ListenerArn=ln["ListenerArn"])
    acm.delete_certificate(CertificateArn=arn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    acm, elb = boto3.client("acm", **kw), boto3.client("elbv2", **kw)
    ck, eck = Checker(), elbwire.Checker()
    ck.hook(acm)
    elb.meta.events.register("after-call", eck.after_call)
    run(acm, elb)
    for op in ["RequestCertificate", "ImportCertificate", "DescribeCertificate", "ListCertificates", "GetCertificate",
               "DeleteCertificate", "AddTagsToCertificate", "RemoveTagsFromCertificate", "ListTagsForCertificate"]:
        if ("acm", op) not in ck.succeeded:
            ck.bad("acm", op, "$", "never succeeded in the sequence")
    for op in ["DescribeSSLPolicies", "AddListenerCertificates", "DescribeListenerCertificates", "RemoveListenerCertificates"]:
        if op not in eck.succeeded:
            eck.bad(op, "$", "never succeeded in the sequence")
    for svc, op, path, msg in ck.violations:
        print(f"VIOLATION {svc}.{op} {path}: {msg}")
    for op, path, msg in eck.violations:
        print(f"VIOLATION elbv2.{op} {path}: {msg}")
    if ck.violations or eck.violations:
        sys.exit(1)
    print(f"acm wire ok: {len(ck.succeeded)} acm and {len(eck.succeeded)} elbv2 operations checked")


if __name__ == "__main__":
    main()
