#!/usr/bin/env python
"""CloudFront distributions in front of S3 issuer buckets, for the issuer_probe target (plain boto3).

amazon.aws/community.aws have no origin access control (OAC) support, so
this helper creates and deletes what the target needs; the bucket policy
that grants the distribution is set by the target with amazon.aws.s3_bucket.
The AWS endpoint, region and credentials come from the environment.

Usage::

    cloudfront_issuer.py create NAME ORIGIN_DOMAIN [--oac]  -> {"id", "arn", "domain", "oac_id"}
    cloudfront_issuer.py delete ID [--oac-id OAC_ID]        -> {"deleted": ID}
"""

import argparse
import json
import sys
import time

import boto3

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def create(client, name, origin_domain, with_oac):
    """A distribution with one S3 origin (optionally behind a new OAC); its id, ARN and domain."""
    oac_id = ""
    if with_oac:
        oac_id = client.create_origin_access_control(OriginAccessControlConfig={
            "Name": name, "Description": "issuer_probe integration target", "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    origin_id = "https://" + origin_domain
    config = {
        "CallerReference": name,
        "Comment": name,
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id, "DomainName": origin_domain, "OriginPath": "",
            "OriginAccessControlId": oac_id, "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin_id, "ViewerProtocolPolicy": "https-only", "CachePolicyId": CACHING_DISABLED,
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}},
    }
    distribution = client.create_distribution(DistributionConfig=config)["Distribution"]
    return {"id": distribution["Id"], "arn": distribution["ARN"], "domain": distribution["DomainName"], "oac_id": oac_id}


def delete(client, distribution_id, oac_id=None, attempts=60):
    """Disable, wait until deployed, delete; then delete the OAC."""
    answer = client.get_distribution_config(Id=distribution_id)
    config = answer["DistributionConfig"]
    if config["Enabled"]:
        config["Enabled"] = False
        client.update_distribution(Id=distribution_id, DistributionConfig=config, IfMatch=answer["ETag"])
    for _attempt in range(attempts):
        answer = client.get_distribution(Id=distribution_id)
        if answer["Distribution"]["Status"] == "Deployed":
            break
        time.sleep(0.5)
    client.delete_distribution(Id=distribution_id, IfMatch=answer["ETag"])
    if oac_id:
        etag = client.get_origin_access_control(Id=oac_id)["ETag"]
        client.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    return {"deleted": distribution_id}


def main(argv=None):
    """Parse the command line, act, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("create")
    make.add_argument("name")
    make.add_argument("origin_domain")
    make.add_argument("--oac", action="store_true")
    drop = sub.add_parser("delete")
    drop.add_argument("id")
    drop.add_argument("--oac-id")
    args = parser.parse_args(argv)
    client = boto3.client("cloudfront")
    if args.command == "create":
        result = create(client, args.name, args.origin_domain, args.oac)
    else:
        result = delete(client, args.id, args.oac_id)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
