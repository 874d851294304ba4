#!/usr/bin/env python
"""IAM OIDC identity providers for the sts_assume_check target (plain boto3: amazon.aws has no module for them).

The AWS endpoint, region and credentials come from the environment.

Usage::

    oidc_provider.py create ISSUER [ISSUER ...] [--client-id openshift]  -> {"ISSUER": "provider ARN", ...}
    oidc_provider.py delete ARN [ARN ...]                                 -> {"deleted": [ARN, ...]}
"""

import argparse
import json
import sys

import boto3


def main(argv=None):
    """Parse the command line, act, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create")
    create.add_argument("issuers", nargs="+")
    create.add_argument("--client-id", action="append", default=None)
    delete = sub.add_parser("delete")
    delete.add_argument("arns", nargs="*")
    args = parser.parse_args(argv)
    iam = boto3.client("iam")
    if args.command == "create":
        result = {}
        for issuer in args.issuers:
            answer = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=args.client_id or ["openshift"],
                                                         ThumbprintList=["0" * 40])
            result[issuer] = answer["OpenIDConnectProviderArn"]
    else:
        for arn in args.arns:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        result = {"deleted": args.arns}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
