#!/usr/bin/env python
"""AWS state the aws_trust_check target needs and amazon.aws cannot build (plain boto3).

amazon.aws has no IAM OIDC provider module, no account-level Block Public
Access and no CloudFront origin access control; this helper creates and
deletes those. Endpoint, region and credentials come from the environment
(AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...). Output is one JSON object.

Usage::

    aws_world.py provider-create URL [--client-id ID ...]        -> {"arn"}
    aws_world.py provider-delete ARN [ARN ...]                    -> {"deleted": [...]}
    aws_world.py account-bpa-put FLAG [FLAG ...]                  -> {"account", "flags"}
    aws_world.py account-bpa-delete                               -> {"account"}
    aws_world.py distribution-create NAME ORIGIN_DOMAIN [--oac | --oai] [--disabled]
                                                                  -> {"id", "arn", "domain", "oac_id", "oai_id"}
    aws_world.py distribution-delete ID [--oac-id X] [--oai-id Y] -> {"deleted": ID}
"""

import argparse
import ipaddress
import json
import sys
import time
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _strip_account_prefix(request, **_kwargs):
    """s3control puts the account id before the endpoint host; a loopback endpoint has no such name."""
    scheme, rest = request.url.split("://", 1)
    host, dummy, path = rest.partition("/")
    label, dummy, remainder = host.partition(".")
    try:
        ipaddress.ip_address(urlsplit("http://" + remainder).hostname or "")
    except ValueError:
        return
    if label.isdigit():
        request.url = f"{scheme}://{remainder}/{path}"


def s3control():
    """An s3control client usable against a loopback endpoint."""
    client = boto3.client("s3control")
    client.meta.events.register("before-sign.s3-control.*", _strip_account_prefix)
    return client


def account_id():
    """The caller's account."""
    return boto3.client("sts").get_caller_identity()["Account"]


def provider_create(args):
    """An IAM OIDC provider for ``https://URL``."""
    client_ids = args.client_id or ["openshift", "sts.amazonaws.com"]
    arn = boto3.client("iam").create_open_id_connect_provider(
        Url="https://" + args.url, ClientIDList=client_ids, ThumbprintList=["A" * 40])["OpenIDConnectProviderArn"]
    return {"arn": arn}


def provider_delete(args):
    """Delete providers (missing ones are fine)."""
    iam = boto3.client("iam")
    for arn in args.arns:
        try:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity":
                raise
    return {"deleted": args.arns}


def account_bpa_put(args):
    """Set the account-level Block Public Access flags named (the others off)."""
    account = account_id()
    names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    flags = {name: name in args.flags for name in names}
    s3control().put_public_access_block(AccountId=account, PublicAccessBlockConfiguration=flags)
    return {"account": account, "flags": flags}


def account_bpa_delete(_args):
    """Remove the account-level Block Public Access."""
    account = account_id()
    s3control().delete_public_access_block(AccountId=account)
    return {"account": account}


def distribution_create(args):
    """A distribution with one S3 origin, behind a new OAC, a new OAI, or nothing."""
    client = boto3.client("cloudfront")
    oac_id, oai_id, oai_path = "", "", ""
    if args.oac:
        oac_id = client.create_origin_access_control(OriginAccessControlConfig={
            "Name": args.name, "Description": "aws_trust_check integration target", "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    if args.oai:
        oai_id = client.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
            "CallerReference": args.name, "Comment": args.name})["CloudFrontOriginAccessIdentity"]["Id"]
        oai_path = "origin-access-identity/cloudfront/" + oai_id
    origin_id = "https://" + args.origin
    config = {
        "CallerReference": args.name,
        "Comment": args.name,
        "Enabled": not args.disabled,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id, "DomainName": args.origin, "OriginPath": "",
            "OriginAccessControlId": oac_id, "S3OriginConfig": {"OriginAccessIdentity": oai_path}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin_id, "ViewerProtocolPolicy": "https-only", "CachePolicyId": CACHING_DISABLED,
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}},
    }
    distribution = client.create_distribution(DistributionConfig=config)["Distribution"]
    return {"id": distribution["Id"], "arn": distribution["ARN"], "domain": distribution["DomainName"],
            "oac_id": oac_id, "oai_id": oai_id}


def distribution_delete(args, attempts=30):
    """Disable if needed, wait until deployed, delete; then delete its OAC/OAI."""
    client = boto3.client("cloudfront")
    try:
        current = client.get_distribution_config(Id=args.id)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchDistribution":
            return {"deleted": args.id}
        raise
    etag = current["ETag"]
    if current["DistributionConfig"]["Enabled"]:
        config = dict(current["DistributionConfig"], Enabled=False)
        etag = client.update_distribution(Id=args.id, IfMatch=etag, DistributionConfig=config)["ETag"]
    for _attempt in range(attempts):
        try:
            client.delete_distribution(Id=args.id, IfMatch=etag)
            break
        except ClientError as error:
            if error.response["Error"]["Code"] != "DistributionNotDisabled":
                raise
            time.sleep(1)
    if args.oac_id:
        etag = client.get_origin_access_control(Id=args.oac_id)["ETag"]
        client.delete_origin_access_control(Id=args.oac_id, IfMatch=etag)
    if args.oai_id:
        etag = client.get_cloud_front_origin_access_identity(Id=args.oai_id)["ETag"]
        client.delete_cloud_front_origin_access_identity(Id=args.oai_id, IfMatch=etag)
    return {"deleted": args.id}


def main(argv=None):
    """Parse the command line and print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("provider-create")
    cmd.add_argument("url")
    cmd.add_argument("--client-id", action="append")
    cmd.set_defaults(func=provider_create)
    cmd = sub.add_parser("provider-delete")
    cmd.add_argument("arns", nargs="*")
    cmd.set_defaults(func=provider_delete)
    cmd = sub.add_parser("account-bpa-put")
    cmd.add_argument("flags", nargs="+")
    cmd.set_defaults(func=account_bpa_put)
    cmd = sub.add_parser("account-bpa-delete")
    cmd.set_defaults(func=account_bpa_delete)
    cmd = sub.add_parser("distribution-create")
    cmd.add_argument("name")
    cmd.add_argument("origin")
    group = cmd.add_mutually_exclusive_group()
    group.add_argument("--oac", action="store_true")
    group.add_argument("--oai", action="store_true")
    cmd.add_argument("--disabled", action="store_true")
    cmd.set_defaults(func=distribution_create)
    cmd = sub.add_parser("distribution-delete")
    cmd.add_argument("id")
    cmd.add_argument("--oac-id")
    cmd.add_argument("--oai-id")
    cmd.set_defaults(func=distribution_delete)
    args = parser.parse_args(argv)
    json.dump(args.func(args), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
