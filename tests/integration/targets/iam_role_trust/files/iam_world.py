#!/usr/bin/env python
"""IAM and STS state for the iam_role_trust target (plain boto3, independent of the collection's code).

Roles are created and read with their *exact* trust policy text (botocore's decoding of IAM policy documents is
switched off), so the target can compare documents byte for byte. The AWS endpoint, region and credentials come
from the environment. Output is one JSON object; credentials and tokens are never printed.

Usage::

    iam_world.py provider-create URL [URL ...]                     -> {"URL": "provider ARN", ...}
    iam_world.py provider-delete ARN [ARN ...]                     -> {"deleted": [...]}
    iam_world.py role-put NAME TEXT_FILE [--tag KEY=VALUE ...]     -> {"arn"} (trust policy = the file's exact text)
    iam_world.py role-show NAME [NAME ...]                         -> {NAME: {"exists", "trust", "tags", "inline", "description",
                                                                             "max_session_duration", "boundary"}, ...}
    iam_world.py role-delete NAME [NAME ...]                       -> {"deleted": [...]} (inline policies first; missing is fine)
    iam_world.py assume ROLE_ARN TOKEN_FILE                        -> {"ok", "code", "message", "provider", "audience", "subject"}
"""

import argparse
import json
import sys
from urllib.parse import unquote

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.handlers import json_decode_policies


def iam():
    """An IAM client that returns policy documents as IAM stores them (URL-encoded text)."""
    client = boto3.client("iam")
    client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client


def provider_create(args):
    """IAM OIDC providers for the issuers (client ID openshift)."""
    client = iam()
    return {url: client.create_open_id_connect_provider(Url=url, ClientIDList=["openshift"], ThumbprintList=["0" * 40])[
        "OpenIDConnectProviderArn"] for url in args.urls}


def provider_delete(args):
    """Delete providers (missing ones are fine)."""
    client = iam()
    for arn in args.arns:
        try:
            client.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity":
                raise
    return {"deleted": args.arns}


def role_put(args):
    """A role whose trust policy is exactly the file's text."""
    with open(args.text_file, encoding="utf-8") as handle:
        text = handle.read()
    tags = [{"Key": item.split("=", 1)[0], "Value": item.split("=", 1)[1]} for item in args.tag or []]
    role = iam().create_role(RoleName=args.name, AssumeRolePolicyDocument=text, Tags=tags)["Role"]
    return {"arn": role["Arn"]}


def role_show(args):
    """Each role's exact trust text, tags, inline policies and settings."""
    client = iam()
    return {name: _show(client, name) for name in args.names}


def _show(client, role_name):
    try:
        role = client.get_role(RoleName=role_name)["Role"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return {"exists": False}
        raise
    inline = {}
    for name in client.list_role_policies(RoleName=role_name)["PolicyNames"]:
        inline[name] = unquote(client.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
    return {
        "exists": True, "arn": role["Arn"], "trust": unquote(role["AssumeRolePolicyDocument"]),
        "tags": {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])}, "inline": inline,
        "description": role.get("Description"), "max_session_duration": role.get("MaxSessionDuration"),
        "boundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
    }


def role_delete(args):
    """Delete roles and their inline policies (missing roles are fine)."""
    client = iam()
    deleted = []
    for name in args.names:
        try:
            for policy in client.list_role_policies(RoleName=name)["PolicyNames"]:
                client.delete_role_policy(RoleName=name, PolicyName=policy)
            client.delete_role(RoleName=name)
            deleted.append(name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity":
                raise
    return {"deleted": deleted}


def assume(args):
    """AssumeRoleWithWebIdentity, unsigned as pods call it; the outcome without the credentials."""
    with open(args.token_file, encoding="ascii") as handle:
        token = handle.read().strip()
    client = boto3.client("sts", config=Config(signature_version=UNSIGNED))
    try:
        answer = client.assume_role_with_web_identity(RoleArn=args.role_arn, RoleSessionName="iam-role-trust-test",
                                                      WebIdentityToken=token)
    except ClientError as error:
        return {"ok": False, "code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    return {"ok": True, "code": None, "message": None, "provider": answer.get("Provider"),
            "audience": answer.get("Audience"), "subject": answer.get("SubjectFromWebIdentityToken"),
            "assumed_role": answer["AssumedRoleUser"]["Arn"]}


def main(argv=None):
    """Parse the command line, act, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("provider-create").add_argument("urls", nargs="+")
    sub.add_parser("provider-delete").add_argument("arns", nargs="*")
    put = sub.add_parser("role-put")
    put.add_argument("name")
    put.add_argument("text_file")
    put.add_argument("--tag", action="append")
    sub.add_parser("role-show").add_argument("names", nargs="+")
    sub.add_parser("role-delete").add_argument("names", nargs="*")
    sts = sub.add_parser("assume")
    sts.add_argument("role_arn")
    sts.add_argument("token_file")
    args = parser.parse_args(argv)
    handler = {"provider-create": provider_create, "provider-delete": provider_delete, "role-put": role_put,
               "role-show": role_show, "role-delete": role_delete, "assume": assume}[args.command]
    json.dump(handler(args), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
