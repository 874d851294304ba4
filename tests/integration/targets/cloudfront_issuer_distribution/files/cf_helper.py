#!/usr/bin/env python
"""CloudFront state and evidence for the cloudfront_issuer_distribution target (plain boto3, never the collection).

Endpoint, region and credentials come from the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID...).
Output is one JSON object.

Usage::

    cf_helper.py oac-create NAME                 -> {"id"}           (idempotent by name)
    cf_helper.py oac-delete NAME                 -> {"deleted": [ids]}
    cf_helper.py config ID                       -> {"config", "etag", "status", "tags"}
    cf_helper.py serving HOST                    -> {"ids": [...]}   distributions with an origin on HOST
    cf_helper.py foreign-create HOST OAC_ID      -> {"id", "etag"}   a distribution WITHOUT the marker tag
    cf_helper.py delete ID                       -> {"deleted"}      disable, wait for Deployed, delete
"""

import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def cloudfront():
    """A CloudFront client on the lab."""
    return boto3.client("cloudfront")


def oac_create(name):
    """Create (or find) an S3 origin access control, sigv4, always sign."""
    client = cloudfront()
    for item in client.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []:
        if item["Name"] == name:
            return {"id": item["Id"]}
    answer = client.create_origin_access_control(OriginAccessControlConfig={
        "Name": name, "Description": "issuer bucket", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})
    return {"id": answer["OriginAccessControl"]["Id"]}


def oac_delete(name):
    """Delete the origin access controls called NAME."""
    client = cloudfront()
    deleted = []
    for item in client.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []:
        if item["Name"] == name:
            etag = client.get_origin_access_control(Id=item["Id"])["ETag"]
            client.delete_origin_access_control(Id=item["Id"], IfMatch=etag)
            deleted.append(item["Id"])
    return {"deleted": deleted}


def config(dist_id):
    """The configuration, ETag, status and tags of a distribution (``{"exists": false}`` if gone)."""
    client = cloudfront()
    try:
        answer = client.get_distribution_config(Id=dist_id)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchDistribution":
            return {"exists": False}
        raise
    dist = client.get_distribution(Id=dist_id)["Distribution"]
    tags = client.list_tags_for_resource(Resource=dist["ARN"])["Tags"].get("Items") or []
    return {"exists": True, "config": answer["DistributionConfig"], "etag": answer["ETag"], "status": dist["Status"],
            "tags": {t["Key"]: t["Value"] for t in tags}}


def serving(host):
    """Ids of the distributions with an origin on HOST."""
    items = cloudfront().list_distributions()["DistributionList"].get("Items") or []
    return {"ids": sorted(d["Id"] for d in items
                          if any(o["DomainName"] == host for o in (d.get("Origins") or {}).get("Items") or []))}


def foreign_create(host, oac_id):
    """A distribution serving HOST that this collection did not create (no marker tag)."""
    answer = cloudfront().create_distribution_with_tags(DistributionConfigWithTags={"DistributionConfig": {
        "CallerReference": "someone-else-%s" % time.time(), "Comment": "made by hand", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "hand", "DomainName": host, "OriginAccessControlId": oac_id,
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "hand", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": CACHING_DISABLED}},
        "Tags": {"Items": [{"Key": "owner", "Value": "someone-else"}]}})
    return {"id": answer["Distribution"]["Id"], "etag": answer["ETag"]}


def delete(dist_id, timeout=60):
    """Disable, wait for Deployed, delete."""
    client = cloudfront()
    try:
        answer = client.get_distribution_config(Id=dist_id)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchDistribution":
            return {"deleted": None}
        raise
    etag = answer["ETag"]
    if answer["DistributionConfig"]["Enabled"]:
        answer["DistributionConfig"]["Enabled"] = False
        etag = client.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=answer["DistributionConfig"])["ETag"]
    deadline = time.monotonic() + timeout
    while client.get_distribution(Id=dist_id)["Distribution"]["Status"] != "Deployed" and time.monotonic() < deadline:
        time.sleep(0.5)
    client.delete_distribution(Id=dist_id, IfMatch=etag)
    return {"deleted": dist_id}


def main(argv):
    """Dispatch a subcommand and print its JSON answer."""
    commands = {"oac-create": oac_create, "oac-delete": oac_delete, "config": config, "serving": serving,
                "foreign-create": foreign_create, "delete": delete}
    print(json.dumps(commands[argv[0]](*argv[1:]), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
