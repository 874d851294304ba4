#!/usr/bin/env python
"""CloudFront origin access controls and distributions seen and made with plain boto3, independently of the module.

The AWS endpoint, region and credentials come from the environment.

Usage::

    origin_access_controls.py list                  -> {"<name>": {"id", "etag", "config"}}
    origin_access_controls.py create NAME           -> {"id": ID}  (another OAC, made behind the module's back)
    origin_access_controls.py distribution BUCKET OAC_ID  -> {"id": ID, "etag": ETAG}  (an S3 origin using the OAC)
    origin_access_controls.py delete-distribution ID      -> {}  (disable, then delete, with IfMatch)
    origin_access_controls.py delete ID [ID ...]    -> {"deleted": [...]} (missing ones ignored)
"""

import argparse
import json
import sys
import time

import boto3


def list_oacs(cloudfront):
    """Every OAC, keyed by name, with its ETag and config."""
    result = {}
    for page in cloudfront.get_paginator("list_origin_access_controls").paginate():
        for item in page["OriginAccessControlList"].get("Items", []):
            answer = cloudfront.get_origin_access_control(Id=item["Id"])
            result[item["Name"]] = {"id": item["Id"], "etag": answer["ETag"],
                                    "config": answer["OriginAccessControl"]["OriginAccessControlConfig"]}
    return result


def create_distribution(cloudfront, bucket, oac_id):
    """A distribution whose only origin is the bucket's regional endpoint, signed by the OAC."""
    origin_id = "issuer"
    config = {
        "CallerReference": "oac-target-%s-%s" % (bucket, time.time()),
        "Comment": "cloudfront_origin_access_control target",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id, "DomainName": "%s.s3.us-east-1.amazonaws.com" % bucket,
            "OriginAccessControlId": oac_id, "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "https-only",
                                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
    }
    answer = cloudfront.create_distribution(DistributionConfig=config)
    return {"id": answer["Distribution"]["Id"], "etag": answer["ETag"]}


def delete_distribution(cloudfront, dist_id):
    """Disable the distribution, then delete it (the lab wants it disabled and deployed first)."""
    answer = cloudfront.get_distribution_config(Id=dist_id)
    config = answer["DistributionConfig"]
    etag = answer["ETag"]
    if config["Enabled"]:
        config["Enabled"] = False
        etag = cloudfront.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=config)["ETag"]
    for _attempt in range(50):
        if cloudfront.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed":
            break
        time.sleep(0.1)
    cloudfront.delete_distribution(Id=dist_id, IfMatch=etag)


def main(argv=None):
    """Parse the command line, act, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    create = sub.add_parser("create")
    create.add_argument("name")
    distribution = sub.add_parser("distribution")
    distribution.add_argument("bucket")
    distribution.add_argument("oac_id")
    delete_dist = sub.add_parser("delete-distribution")
    delete_dist.add_argument("id")
    delete = sub.add_parser("delete")
    delete.add_argument("ids", nargs="*")
    args = parser.parse_args(argv)
    cloudfront = boto3.client("cloudfront")
    result = {}
    if args.command == "list":
        result = list_oacs(cloudfront)
    elif args.command == "create":
        answer = cloudfront.create_origin_access_control(OriginAccessControlConfig={
            "Name": args.name, "Description": "not managed by the target", "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})
        result = {"id": answer["OriginAccessControl"]["Id"]}
    elif args.command == "distribution":
        result = create_distribution(cloudfront, args.bucket, args.oac_id)
    elif args.command == "delete-distribution":
        delete_distribution(cloudfront, args.id)
    else:
        for oac_id in args.ids:
            try:
                etag = cloudfront.get_origin_access_control(Id=oac_id)["ETag"]
                cloudfront.delete_origin_access_control(Id=oac_id, IfMatch=etag)
            except cloudfront.exceptions.NoSuchOriginAccessControl:
                pass
        result = {"deleted": args.ids}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
