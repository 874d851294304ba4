#!/usr/bin/env python
"""IAM OIDC providers seen and made with plain boto3, independently of the module under test.

The AWS endpoint, region and credentials come from the environment.

Usage::

    oidc_providers.py list                                   -> {"<url without scheme>": {"arn", "client_ids", "thumbprints", "tags"}}
    oidc_providers.py create URL [--client-id ID] [--thumbprint T] [--tag KEY=VALUE]  -> {"arn": ARN}
    oidc_providers.py delete ARN [ARN ...]                   -> {"deleted": [ARN, ...]} (missing ones ignored)
"""

import argparse
import json
import sys

import boto3


def list_providers(iam):
    """Every provider of the account, keyed by its URL as IAM returns it."""
    result = {}
    for item in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        answer = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=item["Arn"])
        result[answer["Url"]] = {
            "arn": item["Arn"],
            "client_ids": answer.get("ClientIDList", []),
            "thumbprints": answer.get("ThumbprintList", []),
            "tags": {tag["Key"]: tag["Value"] for tag in answer.get("Tags", [])},
        }
    return result


def main(argv=None):
    """Parse the command line, act, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    create = sub.add_parser("create")
    create.add_argument("url")
    create.add_argument("--client-id", action="append", default=[])
    create.add_argument("--thumbprint", action="append", default=[])
    create.add_argument("--tag", action="append", default=[])
    delete = sub.add_parser("delete")
    delete.add_argument("arns", nargs="*")
    args = parser.parse_args(argv)
    iam = boto3.client("iam")
    if args.command == "list":
        result = list_providers(iam)
    elif args.command == "create":
        tags = [dict(zip(("Key", "Value"), item.split("=", 1))) for item in args.tag]
        answer = iam.create_open_id_connect_provider(Url=args.url, ClientIDList=args.client_id,
                                                     ThumbprintList=args.thumbprint, Tags=tags)
        result = {"arn": answer["OpenIDConnectProviderArn"]}
    else:
        for arn in args.arns:
            try:
                iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
            except iam.exceptions.NoSuchEntityException:
                pass
        result = {"deleted": args.arns}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
