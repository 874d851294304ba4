# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the issuer is hosted: an S3 bucket read anonymously, or CloudFront in front of a bucket (private module_util).

S3 serves an anonymous ``GET`` when the bucket policy allows ``s3:GetObject`` to ``Principal: "*"`` (or a
``public-read`` object ACL with ACLs enabled), no ``Deny`` matches, and Block Public Access
(account OR bucket level) does not neutralise it: ``RestrictPublicBuckets`` cancels public policies,
``IgnorePublicAcls`` public ACLs. CloudFront reads a private bucket with origin access control (OAC:
``Service cloudfront.amazonaws.com`` + ``AWS:SourceArn`` of the distribution) or a legacy origin access
identity (OAI: ``arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity <id>``), and must use the
bucket's regional REST endpoint.
"""

from __future__ import annotations

import re

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_policy as policy
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import UNAVAILABLE, TrustCheckErrorHandler, retry
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

DISCOVERY_KEY = ".well-known/openid-configuration"
JWKS_KEY = "keys.json"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
BPA_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"
OAI_PREFIX = "origin-access-identity/cloudfront/"
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+$")
_ANONYMOUS_UNKNOWN = ("aws:sourceip", "aws:useragent", "aws:referer", "aws:currenttime", "aws:epochtime",
                      "aws:requestedregion", "aws:tagkeys")


# ---------------------------------------------------------------- host names
def parse_s3_host(host, path=""):
    """Describe an S3 REST or website endpoint, or return None.

    Returns ``{"bucket", "region", "prefix", "endpoint"}``; ``endpoint`` is ``virtual``, ``path``, ``global``
    (``<bucket>.s3.amazonaws.com``) or ``website``; ``region`` is None when the host does not name one;
    ``prefix`` is the object key prefix (``""`` or ending with ``/``).
    """
    host = (host or "").lower().rstrip(".")
    if not (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")):
        return None
    labels = host.split(".")
    for index, label in enumerate(labels):
        if label == "s3" or label.startswith("s3-"):
            break
    else:
        return None
    rest = labels[index + 1:]
    region = None
    endpoint = "virtual"
    if label.startswith("s3-website"):
        endpoint = "website"
        region = label[len("s3-website-"):] or None
    elif label.startswith("s3-") and _REGION.match(label[3:]):
        region = label[3:]
    for item in rest:
        if _REGION.match(item):
            region = item
        elif item == "s3-website":
            endpoint = "website"
    path = (path or "").strip("/")
    if index == 0:
        bucket, dummy, key_path = path.partition("/")
        if not bucket:
            return None
        endpoint = "path"
    else:
        bucket, key_path = ".".join(labels[:index]), path
        if region is None and endpoint == "virtual" and rest[:1] == ["amazonaws"]:
            endpoint = "global"
    return {"bucket": bucket, "region": region, "prefix": key_path + "/" if key_path else "", "endpoint": endpoint}


def classify_issuer(issuer):
    """``{"kind": "s3"|"cloudfront"|"other", "host", "path", ...}`` from the issuer URL's host name."""
    rest = issuer.split("://", 1)[-1]
    host, dummy, path = rest.partition("/")
    host = host.split("@")[-1].split(":")[0].lower()
    info = {"kind": "other", "host": host, "path": path.strip("/"), "bucket": None, "region": None, "prefix": ""}
    s3 = parse_s3_host(host, path)
    if s3 is not None:
        info.update(s3)
        info["kind"] = "s3"
    elif host.endswith(".cloudfront.net"):
        info["kind"] = "cloudfront"
    return info


def issuer_keys(prefix):
    """The object keys of the discovery document and the JWKS under ``prefix`` (ccoctl's layout)."""
    return [prefix + DISCOVERY_KEY, prefix + JWKS_KEY]


# ---------------------------------------------------------------- API helpers
@TrustCheckErrorHandler.common_error_handler("get the location of bucket {bucket}")
@retry
def get_bucket_location(client, bucket):
    """The bucket's region (``GetBucketLocation``; empty means us-east-1, ``EU`` eu-west-1)."""
    location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else location


@TrustCheckErrorHandler.common_error_handler("get the public access block of bucket {bucket}")
@retry
def get_bucket_public_access_block(client, bucket):
    """The bucket's Block Public Access flags."""
    return client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]


@TrustCheckErrorHandler.common_error_handler("get the public access block of account {account}")
@retry
def get_account_public_access_block(client, account):
    """The account's Block Public Access flags (s3control)."""
    return client.get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]


@TrustCheckErrorHandler.common_error_handler("get the policy status of bucket {bucket}")
@retry
def get_bucket_policy_status(client, bucket):
    """``IsPublic`` of the bucket policy."""
    return bool(client.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"].get("IsPublic"))


@TrustCheckErrorHandler.common_error_handler("get the policy of bucket {bucket}")
@retry
def get_bucket_policy(client, bucket):
    """The bucket policy as a JSON string."""
    return client.get_bucket_policy(Bucket=bucket)["Policy"]


@TrustCheckErrorHandler.common_error_handler("get the ownership controls of bucket {bucket}")
@retry
def get_bucket_ownership(client, bucket):
    """The Object Ownership rule (``BucketOwnerEnforced`` disables ACLs)."""
    rules = client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"].get("Rules") or [{}]
    return rules[0].get("ObjectOwnership")


@TrustCheckErrorHandler.common_error_handler("get the ACL of bucket {bucket}")
@retry
def get_bucket_acl(client, bucket):
    """The bucket ACL grants."""
    return client.get_bucket_acl(Bucket=bucket).get("Grants") or []


@TrustCheckErrorHandler.common_error_handler("get the ACL of object {key} in bucket {bucket}")
@retry
def get_object_acl(client, bucket, key):
    """The object ACL grants."""
    return client.get_object_acl(Bucket=bucket, Key=key).get("Grants") or []


@TrustCheckErrorHandler.common_error_handler("get the encryption of bucket {bucket}")
@retry
def get_bucket_encryption(client, bucket):
    """The default encryption rules of the bucket."""
    return client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"].get("Rules") or []


@TrustCheckErrorHandler.common_error_handler("list the CloudFront distributions")
@retry
def list_distributions(client):
    """Every distribution summary of the account (``ListDistributions``, all pages)."""
    items, marker = [], None
    while True:
        page = client.list_distributions(**({"Marker": marker} if marker else {}))["DistributionList"]
        items.extend(page.get("Items") or [])
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return items


@TrustCheckErrorHandler.common_error_handler("get the CloudFront distribution {dist_id}")
@retry
def get_distribution(client, dist_id):
    """``GetDistribution``."""
    return client.get_distribution(Id=dist_id)["Distribution"]


@TrustCheckErrorHandler.common_error_handler("get the CloudFront origin access identity {oai_id}")
@retry
def get_origin_access_identity(client, oai_id):
    """``GetCloudFrontOriginAccessIdentity`` (for its S3 canonical user id)."""
    return client.get_cloud_front_origin_access_identity(Id=oai_id)["CloudFrontOriginAccessIdentity"]


# ---------------------------------------------------------------- analysis helpers
def _grants_public_read(grants):
    for grant in grants or []:
        grantee = grant.get("Grantee") or {}
        if grantee.get("URI") in (ALL_USERS, AUTHENTICATED_USERS) and grant.get("Permission") in ("READ", "FULL_CONTROL"):
            return True
    return False


def _resolver(known):
    """Context of a request from outside AWS (anonymous or CloudFront): HTTPS, no VPC, no org, no tags."""
    known = dict((key.lower(), value) for key, value in known.items())
    known.setdefault("aws:securetransport", ["true"])

    def resolve(key):
        if key in known:
            return policy.PRESENT, known[key]
        if key in _ANONYMOUS_UNKNOWN or key.startswith("s3:") or not key.startswith("aws:"):
            return policy.UNKNOWN, None
        return policy.MISSING, None
    return resolve


def _label(document, statement):
    items = policy.statements(document)
    return policy.statement_label(statement, items.index(statement) if statement in items else None)


def _flag_levels(facts, flag):
    """Which levels (``account BPA``, ``bucket BPA``) set a Block Public Access flag."""
    levels = []
    for level, block in (("account BPA", facts["account_public_access_block"]),
                         ("bucket BPA", facts["public_access_block"])):
        if isinstance(block, dict) and block.get(flag):
            levels.append(level)
    return levels


class HostingInspector(object):
    """Gathers the facts of buckets and distributions (each fetched once) and checks them."""

    def __init__(self, calls, client, partition, account_id, region):
        """``client(service, region=None)`` returns a boto3 client; ``account_id()`` the account (or None)."""
        self.calls = calls
        self.client = client
        self.partition = partition
        self.account_id = account_id
        self.region = region
        self._buckets = {}
        self._distributions = None

    def _run(self, func, *args, **kwargs):
        return self.calls.run(func, *args, **kwargs)

    # ------------------------------------------------------------ S3 facts
    def bucket_facts(self, bucket, region_hint, object_keys=()):
        """Settings of a bucket, fetched once per bucket (object ACLs once per key)."""
        facts = self._buckets.get(bucket)
        subject = "s3://%s" % bucket
        if facts is None:
            facts = {"bucket": bucket, "exists": True, "region": None, "object_acls": {}}
            self._buckets[bucket] = facts
            region = self._run(get_bucket_location, self.client("s3", region_hint or self.region), bucket,
                               permission="s3:GetBucketLocation", subject=subject, missing=("NoSuchBucket",),
                               purpose="the region and existence of bucket %s" % bucket)
            if region is None:
                facts["exists"] = False
                return facts
            facts["region"] = region or region_hint
            # The settings do not depend on each other: they are fetched concurrently, with the clients created first.
            s3 = self.client("s3", facts["region"] or self.region)
            account = self.account_id()
            names, jobs = [], []
            facts["account_public_access_block"] = UNAVAILABLE
            if account:
                names.append("account_public_access_block")
                jobs.append((get_account_public_access_block, (self.client("s3control", self.region), account), dict(
                    permission="s3:GetAccountPublicAccessBlock", subject="account %s" % account,
                    missing=("NoSuchPublicAccessBlockConfiguration",), purpose="the account-level Block Public Access")))
            for name, func, permission, missing, purpose in (
                    ("public_access_block", get_bucket_public_access_block, "s3:GetBucketPublicAccessBlock",
                     ("NoSuchPublicAccessBlockConfiguration",), "the bucket's Block Public Access"),
                    ("policy_is_public", get_bucket_policy_status, "s3:GetBucketPolicyStatus", ("NoSuchBucketPolicy",),
                     "whether the bucket policy is public"),
                    ("policy_text", get_bucket_policy, "s3:GetBucketPolicy", ("NoSuchBucketPolicy",), "the bucket policy"),
                    ("object_ownership", get_bucket_ownership, "s3:GetBucketOwnershipControls",
                     ("OwnershipControlsNotFoundError", "NoSuchOwnershipControls"), "the bucket's Object Ownership"),
                    ("acl", get_bucket_acl, "s3:GetBucketAcl", (), "the bucket ACL"),
                    ("encryption", get_bucket_encryption, "s3:GetEncryptionConfiguration",
                     ("ServerSideEncryptionConfigurationNotFoundError",), "the bucket's default encryption")):
                names.append(name)
                jobs.append((func, (s3, bucket), dict(permission=permission, subject=subject, missing=missing, purpose=purpose)))
            facts.update(zip(names, self.calls.run_all(jobs)))
            facts["policy"] = None
            if facts["policy_text"]:
                try:
                    facts["policy"] = policy.load_policy(facts["policy_text"])
                except policy.PolicyError:
                    facts["policy"] = None
            elif facts["policy_text"] is UNAVAILABLE:
                facts["policy"] = UNAVAILABLE
        if facts["exists"] and facts.get("object_ownership") != "BucketOwnerEnforced":
            s3 = self.client("s3", facts["region"] or self.region)
            keys = []
            for key in object_keys:
                if key not in facts["object_acls"] and key not in keys:
                    keys.append(key)
            acls = self.calls.run_all(
                (get_object_acl, (s3, bucket, key), dict(permission="s3:GetObjectAcl", subject="s3://%s/%s" % (bucket, key),
                                                         missing=("NoSuchKey", "404"), purpose="the ACL of object %s" % key))
                for key in keys)
            facts["object_acls"].update(zip(keys, acls))
        return facts

    @staticmethod
    def settings(facts):
        """The inspected settings of a bucket, for the ``hosting`` result."""
        def value(item):
            return None if item is UNAVAILABLE else item
        kms = [rule.get("ApplyServerSideEncryptionByDefault", {}) for rule in (value(facts.get("encryption")) or [])]
        return {
            "exists": facts["exists"],
            "account_public_access_block": value(facts.get("account_public_access_block")),
            "public_access_block": value(facts.get("public_access_block")),
            "policy_is_public": value(facts.get("policy_is_public")),
            "policy": value(facts.get("policy")),
            "object_ownership": value(facts.get("object_ownership")),
            "acl_public": _grants_public_read(value(facts.get("acl"))),
            "object_acls_public": dict((key, _grants_public_read(grants)) for key, grants in facts["object_acls"].items()
                                       if grants not in (None, UNAVAILABLE)),
            "encryption": [item.get("SSEAlgorithm") for item in kms] or None,
            "kms_key_ids": [item["KMSMasterKeyID"] for item in kms if item.get("KMSMasterKeyID")],
        }

    def _kms(self, facts):
        rules = facts.get("encryption")
        if rules in (None, UNAVAILABLE):
            return None
        for rule in rules:
            algorithm = (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "")
            if algorithm.startswith("aws:kms"):
                return algorithm
        return None

    # ------------------------------------------------------------ anonymous reads
    def anonymous_block_reasons(self, facts, keys):
        """Why anonymous ``GET`` of ``keys`` is blocked: a list of reasons (empty when readable or unknown)."""
        document = facts.get("policy")
        restrict = _flag_levels(facts, "RestrictPublicBuckets")
        ignore_acls = _flag_levels(facts, "IgnorePublicAcls")
        block_policy = _flag_levels(facts, "BlockPublicPolicy")
        reasons = []
        for key in keys:
            resource = "arn:%s:s3:::%s/%s" % (self.partition, facts["bucket"], key)
            if document is UNAVAILABLE:
                if facts.get("policy_is_public") is True and not restrict:
                    continue
                if facts.get("policy_is_public") is True:
                    reasons.extend("%s RestrictPublicBuckets=true: it neutralises the public bucket policy" % level
                                   for level in restrict)
                continue
            verdict = policy.evaluate(document or {}, policy.ANONYMOUS, "s3:GetObject", resource, _resolver({}),
                                      neutralise_public=bool(restrict))
            if verdict["decision"] == "deny":
                reasons.append("explicit deny: %s of the bucket policy denies anonymous s3:GetObject on %s" % (
                    ", ".join(_label(document, item) for item in verdict["denied_by"]), key))
                continue
            if verdict["decision"] == "allow":
                continue
            grants = facts["object_acls"].get(key)
            acl_public = _grants_public_read(grants) if grants not in (None, UNAVAILABLE) else False
            acls_enabled = facts.get("object_ownership") != "BucketOwnerEnforced"
            if verdict["neutralised"]:
                reasons.extend("%s RestrictPublicBuckets=true: it neutralises the public bucket policy grant (%s)" % (
                    level, ", ".join(_label(document, item) for item in verdict["neutralised"])) for level in restrict)
            if acl_public and acls_enabled:
                if not ignore_acls:
                    continue
                reasons.extend("%s IgnorePublicAcls=true: it ignores the public-read ACL of %s" % (level, key)
                               for level in ignore_acls)
            if not verdict["neutralised"] and not (acl_public and acls_enabled):
                reason = "no public grant: the bucket policy has no Allow for Principal * on s3:GetObject of %s" % key
                reason += " and ACLs are disabled (BucketOwnerEnforced)" if not acls_enabled else " and the object has no public-read ACL"
                if block_policy:
                    reason += " (%s BlockPublicPolicy=true would also reject a public policy)" % " and ".join(block_policy)
                reasons.append(reason)
        return sorted(set(reasons), key=reasons.index)

    # ------------------------------------------------------------ S3 issuer
    def check_s3_issuer(self, issuer, info):
        """Findings for an issuer served straight from S3."""
        bucket = info["bucket"]
        keys = issuer_keys(info["prefix"])
        facts = self.bucket_facts(bucket, info["region"], keys)
        hosting = {"kind": "s3", "host": info["host"], "bucket": bucket, "region": facts["region"] or info["region"],
                   "prefix": info["prefix"], "endpoint": info["endpoint"], "settings": self.settings(facts)}
        if not facts["exists"]:
            return [self._bucket_missing(bucket, issuer)], hosting
        reasons = self.anonymous_block_reasons(facts, keys)
        if not reasons:
            return [], hosting
        return [finding(
            "ISSUER_BUCKET_PRIVATE", "s3://%s/%s" % (bucket, info["prefix"]),
            "Anonymous reads of the issuer documents in bucket %s are blocked (%s), so STS cannot fetch the keys."
            % (bucket, ", ".join(sorted(set(item.split(":")[0] for item in reasons), key=[item.split(":")[0] for item in reasons].index))),
            expected="anonymous s3:GetObject allowed on %s: a bucket-policy Allow for Principal * (as ccoctl writes), "
                     "not neutralised by RestrictPublicBuckets at account or bucket level, and no Deny" % ", ".join(keys),
            actual="; ".join(reasons),
            remediation=self._private_remediation(reasons, bucket))], hosting

    @staticmethod
    def _private_remediation(reasons, bucket):
        text = " ".join(reasons)
        if text.startswith("explicit deny"):
            return "Remove the Deny statement for anonymous s3:GetObject from the policy of bucket %s." % bucket
        steps = []
        if "account BPA" in text:
            steps.append("turn RestrictPublicBuckets (and IgnorePublicAcls for ACL grants) off in the account's Block Public "
                         "Access (aws s3control put-public-access-block) if your organisation allows it")
        if "bucket BPA" in text:
            steps.append("set RestrictPublicBuckets=false and BlockPublicPolicy=false on bucket %s, as ccoctl does" % bucket)
        if "no public grant" in text:
            steps.append("add ccoctl's AllowReadPublicAccess statement (Principal *, s3:GetObject on arn:aws:s3:::%s/*)" % bucket)
        return ("Serve the issuer through CloudFront with origin access control and keep the bucket private "
                "(ccoctl --create-private-s3-bucket or this collection's CloudFront hosting); or " + "; ".join(steps) + ".")

    def _bucket_missing(self, bucket, subject):
        return finding(
            "ISSUER_BUCKET_NOT_FOUND", "s3://%s" % bucket,
            "The bucket %s that serves %s does not exist, so the issuer cannot be read (and anyone may create the bucket)."
            % (bucket, subject),
            expected="an existing bucket %s holding the issuer documents" % bucket,
            actual="NoSuchBucket: %s" % bucket)

    # ------------------------------------------------------------ CloudFront
    def distributions(self):
        """The distribution summaries of the account (listed once)."""
        if self._distributions is None:
            self._distributions = self._run(list_distributions, self.client("cloudfront", self.region),
                                            permission="cloudfront:ListDistributions", subject="CloudFront",
                                            purpose="which CloudFront distribution serves the issuer")
        return self._distributions

    def find_distribution(self, host):
        """The summary of the distribution whose DomainName or Aliases is ``host``; None; or UNAVAILABLE."""
        summaries = self.distributions()
        if summaries is UNAVAILABLE:
            return UNAVAILABLE
        for summary in summaries or []:
            aliases = [item.lower() for item in (summary.get("Aliases") or {}).get("Items") or []]
            if (summary.get("DomainName") or "").lower() == host or host in aliases:
                return summary
        return None

    def check_cloudfront_issuer(self, issuer, info, summary):
        """Findings for an issuer served by the CloudFront distribution ``summary``."""
        dist_id = summary["Id"]
        dist = self._run(get_distribution, self.client("cloudfront", self.region), dist_id,
                         permission="cloudfront:GetDistribution", subject=summary.get("ARN") or dist_id,
                         missing=("NoSuchDistribution",), purpose="the configuration of distribution %s" % dist_id)
        if not dist:
            dist = {"Id": dist_id, "ARN": summary.get("ARN"), "Status": summary.get("Status"),
                    "DomainName": summary.get("DomainName"),
                    "DistributionConfig": dict((key, summary.get(key)) for key in (
                        "Enabled", "Origins", "DefaultCacheBehavior", "CacheBehaviors", "Aliases"))}
        config = dist.get("DistributionConfig") or {}
        arn = dist.get("ARN") or summary.get("ARN") or "arn:%s:cloudfront::%s:distribution/%s" % (
            self.partition, self.account_id() or "<account>", dist_id)
        subject = arn
        findings = []
        hosting = {"kind": "cloudfront", "host": info["host"], "bucket": None, "region": None, "prefix": info["path"],
                   "distribution": {"id": dist_id, "arn": arn, "domain_name": dist.get("DomainName"),
                                    "status": dist.get("Status"), "enabled": config.get("Enabled"),
                                    "aliases": (config.get("Aliases") or {}).get("Items") or [], "origins": []},
                   "settings": {}}
        if config.get("Enabled") is False:
            findings.append(finding(
                "CLOUDFRONT_DISABLED", subject,
                "The CloudFront distribution %s serving %s is disabled, so it does not answer requests." % (dist_id, issuer),
                expected="Enabled true", actual="Enabled false",
                remediation="Enable distribution %s (aws cloudfront update-distribution with Enabled=true) and wait until "
                            "it is Deployed." % dist_id))
        if dist.get("Status") and dist.get("Status") != "Deployed":
            findings.append(finding(
                "CLOUDFRONT_NOT_DEPLOYED", subject,
                "The CloudFront distribution %s is not deployed yet (Status %s), so some edges may not serve the issuer."
                % (dist_id, dist.get("Status")),
                expected="Status Deployed", actual="Status %s" % dist.get("Status"),
                remediation="Wait until distribution %s is Deployed (aws cloudfront wait distribution-deployed --id %s), "
                            "then check again." % (dist_id, dist_id)))
        paths = [(info["path"] + "/" if info["path"] else "") + key for key in (DISCOVERY_KEY, JWKS_KEY)]
        origins = dict((origin.get("Id"), origin) for origin in (config.get("Origins") or {}).get("Items") or [])
        used = {}
        for path in paths:
            origin_id = self._behaviour_origin(config, path)
            used.setdefault(origin_id, []).append(path)
        for origin_id, origin_paths in used.items():
            origin = origins.get(origin_id)
            if origin is None:
                continue
            origin_findings, origin_info = self._check_origin(dist_id, arn, origin, origin_paths)
            findings.extend(origin_findings)
            hosting["distribution"]["origins"].append(origin_info)
            if origin_info.get("bucket") and hosting["bucket"] is None:
                hosting["bucket"], hosting["region"] = origin_info["bucket"], origin_info.get("bucket_region")
                hosting["settings"] = origin_info.pop("settings", {})
            origin_info.pop("settings", None)
        return findings, hosting

    @staticmethod
    def _behaviour_origin(config, path):
        for behaviour in (config.get("CacheBehaviors") or {}).get("Items") or []:
            if policy.wildcard_match(behaviour.get("PathPattern", "").lstrip("/"), path):
                return behaviour.get("TargetOriginId")
        return (config.get("DefaultCacheBehavior") or {}).get("TargetOriginId")

    def _check_origin(self, dist_id, dist_arn, origin, paths):
        domain = (origin.get("DomainName") or "").lower()
        oac = origin.get("OriginAccessControlId") or ""
        oai = ((origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or "")
        origin_info = {"id": origin.get("Id"), "domain_name": domain, "origin_path": origin.get("OriginPath") or "",
                       "origin_access_control_id": oac or None, "origin_access_identity": oai or None,
                       "bucket": None, "bucket_region": None}
        s3 = parse_s3_host(domain)
        if s3 is None:
            return [finding(
                "HOSTING_NOT_INSPECTED", dist_arn,
                "The origin %s of distribution %s is not an S3 bucket, so it is not inspected." % (domain, dist_id),
                expected="an S3 origin (<bucket>.s3.<region>.amazonaws.com)", actual="origin domain %s" % domain)], origin_info
        bucket = s3["bucket"]
        origin_path = (origin.get("OriginPath") or "").strip("/")
        keys = [(origin_path + "/" if origin_path else "") + path for path in paths]
        anonymous = not oac and not oai
        facts = self.bucket_facts(bucket, s3["region"], keys if anonymous else ())
        origin_info.update(bucket=bucket, bucket_region=facts["region"], settings=self.settings(facts))
        subject = dist_arn
        if not facts["exists"]:
            return [self._bucket_missing(bucket, "distribution %s" % dist_id)], origin_info
        findings = []
        region = facts["region"]
        if region and (s3["endpoint"] == "global" and region != "us-east-1" or s3["region"] and s3["region"] != region):
            findings.append(finding(
                "CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT", subject,
                "The origin of distribution %s is %s, but bucket %s is in %s, so S3 answers PermanentRedirect." % (
                    dist_id, domain, bucket, region),
                expected="%s.s3.%s.amazonaws.com%s" % (bucket, region, ".cn" if domain.endswith(".cn") else ""),
                actual=domain,
                remediation="Change the origin domain of distribution %s to %s.s3.%s.amazonaws.com (the bucket's regional "
                            "REST endpoint)." % (dist_id, bucket, region)))
        if anonymous:
            reasons = self.anonymous_block_reasons(facts, keys)
            if reasons:
                findings.append(self._access_missing(dist_id, subject, bucket, "the origin has neither origin access control "
                                                     "nor an origin access identity, and the bucket is not public: "
                                                     + "; ".join(reasons), dist_arn))
            return findings, origin_info
        document = facts.get("policy")
        if document is UNAVAILABLE:
            return findings, origin_info
        if oac:
            principal = {"type": "Service", "id": CLOUDFRONT_SERVICE}
            resolve = _resolver({"aws:SourceArn": [dist_arn], "aws:SourceAccount": [dist_arn.split(":")[4]]})
            who = "origin access control %s" % oac
        else:
            oai_id = oai[len(OAI_PREFIX):] if oai.startswith(OAI_PREFIX) else oai
            principal = {"type": "AWS", "id": "arn:%s:iam::cloudfront:user/CloudFront Origin Access Identity %s" % (
                self.partition, oai_id)}
            if "CanonicalUser" in str(document):
                identity = self._run(get_origin_access_identity, self.client("cloudfront", self.region), oai_id,
                                     permission="cloudfront:GetCloudFrontOriginAccessIdentity", subject=dist_arn,
                                     purpose="the canonical user of origin access identity %s" % oai_id)
                if identity:
                    principal["canonical"] = identity.get("S3CanonicalUserId")
            resolve = _resolver({})
            who = "origin access identity %s" % oai_id
        missing = []
        for key in keys:
            resource = "arn:%s:s3:::%s/%s" % (self.partition, bucket, key)
            verdict = policy.evaluate(document or {}, principal, "s3:GetObject", resource, resolve)
            if verdict["decision"] == "deny":
                missing.append("%s of the bucket policy denies %s on %s" % (
                    ", ".join(_label(document, item) for item in verdict["denied_by"]), who, key))
            elif verdict["decision"] != "allow":
                missing.append("the policy of bucket %s has no Allow of s3:GetObject on %s for %s%s" % (
                    bucket, key, who, " with AWS:SourceArn %s" % dist_arn if oac else ""))
        if missing:
            findings.append(self._access_missing(dist_id, subject, bucket, "; ".join(sorted(set(missing), key=missing.index)),
                                                 dist_arn, oac=bool(oac), grants=self._cloudfront_grants(document)))
        kms = self._kms(facts)
        if oai and kms:
            findings.append(finding(
                "CLOUDFRONT_OAI_WITH_KMS", subject,
                "Distribution %s reads bucket %s through a legacy origin access identity, which cannot read objects "
                "encrypted with %s." % (dist_id, bucket, kms),
                expected="origin access control (OAC) with a KMS key policy granting cloudfront.amazonaws.com, or SSE-S3",
                actual="origin access identity %s; bucket default encryption %s%s" % (
                    oai, kms, " with key %s" % ", ".join(self.settings(facts)["kms_key_ids"]) if self.settings(facts)["kms_key_ids"] else ""),
                remediation="Switch the origin of distribution %s to origin access control and grant cloudfront.amazonaws.com "
                            "kms:Decrypt in the key policy, or use SSE-S3 (AES256) for the issuer objects." % dist_id))
        return findings, origin_info

    @staticmethod
    def _cloudfront_grants(document):
        """The SourceArn values and OAI principals the bucket policy grants, to show next to a missing grant."""
        found = []
        for statement in policy.statements(document or {}):
            if statement.get("Effect") != "Allow":
                continue
            spec = statement.get("Principal")
            if isinstance(spec, dict) and CLOUDFRONT_SERVICE in [policy.stringify(item) for item in policy.as_list(spec.get("Service"))]:
                arns = []
                for pairs in (statement.get("Condition") or {}).values():
                    if isinstance(pairs, dict):
                        for key, values in pairs.items():
                            if policy.stringify(key).lower() == "aws:sourcearn":
                                arns.extend(policy.as_list(values))
                found.append("cloudfront.amazonaws.com with AWS:SourceArn %s" % (", ".join(arns) or "(none)"))
            elif isinstance(spec, dict):
                found.extend(item for item in policy.as_list(spec.get("AWS")) if "CloudFront Origin Access Identity" in str(item))
        return found

    def _access_missing(self, dist_id, subject, bucket, what, dist_arn, oac=True, grants=None):
        actual = what
        if grants:
            actual += "; the bucket policy grants: %s" % "; ".join(grants)
        return finding(
            "CLOUDFRONT_ORIGIN_ACCESS_MISSING", subject,
            "CloudFront distribution %s cannot read the issuer documents from bucket %s." % (dist_id, bucket),
            expected="origin access control on the origin and a bucket-policy Allow of s3:GetObject on arn:%s:s3:::%s/* "
                     "for Service cloudfront.amazonaws.com with AWS:SourceArn %s" % (self.partition, bucket, dist_arn),
            actual=actual,
            remediation="Add to the policy of bucket %s the statement {\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
                        "\"cloudfront.amazonaws.com\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"arn:%s:s3:::%s/*\", "
                        "\"Condition\": {\"StringEquals\": {\"AWS:SourceArn\": \"%s\"}}}%s." % (
                            bucket, self.partition, bucket, dist_arn,
                            "" if oac else ", with origin access control attached to the origin"))

    # ------------------------------------------------------------ entry point
    def inspect(self, issuer):
        """``(findings, hosting)`` for the issuer's hosting."""
        info = classify_issuer(issuer)
        if info["kind"] == "s3":
            return self.check_s3_issuer(issuer, info)
        summary = self.find_distribution(info["host"])
        if summary:
            return self.check_cloudfront_issuer(issuer, info, summary)
        hosting = {"kind": info["kind"], "host": info["host"], "bucket": None, "region": None, "prefix": info["path"],
                   "settings": {}}
        if summary is UNAVAILABLE:
            return [], hosting
        if info["kind"] == "cloudfront":
            return [finding(
                "HOSTING_NOT_INSPECTED", issuer,
                "No CloudFront distribution of this account serves %s, so its origin is not inspected (it may belong to "
                "another account or have been deleted)." % info["host"],
                expected="a distribution of this account with DomainName %s" % info["host"],
                actual="%d distribution(s) listed, none with that domain name or alias" % len(self.distributions() or []),
                severity="warning",
                remediation="Run the check with credentials of the account that owns the distribution.")], hosting
        return [finding(
            "HOSTING_NOT_INSPECTED", issuer,
            "The issuer host %s is neither an S3 endpoint nor a CloudFront distribution of this account, so its hosting "
            "is not inspected." % info["host"],
            expected="an S3 bucket endpoint or a CloudFront distribution (DomainName or alias)",
            actual="host %s" % info["host"],
            remediation="Nothing to do if you host the issuer yourself; issuer_probe checks that it is publicly readable.")], hosting
