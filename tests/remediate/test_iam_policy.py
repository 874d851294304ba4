"""docs/iam-policy.json holds exactly the IAM actions the diagnose and remediate playbooks call.

Static half: every boto3 operation called in plugins/ (found with ``ast``: ``<anything>.<operation>(...)`` and
``get_paginator("<operation>")``, where ``<operation>`` is an operation of the S3, S3 Control, CloudFront, IAM,
KMS or STS model of the installed botocore) maps to an action of the policy, or to one of MODULE_ONLY: actions
of the modules' ``state: absent`` and optional paths that the playbooks never take, documented in
docs/iam-permissions.md. Every action of the policy is accounted for: one of those calls, or one of the calls of
the amazon.aws modules the roles use (AMAZON_AWS), observed in the lab's request log.

Dynamic half: :func:`assert_calls_allowed`, used by test_remediate_scenarios.py, checks every call the lab
recorded during a remediation against the policy.
"""

import ast
import json
import pathlib
import re

import botocore.session
from botocore import xform_name

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY_PATH = ROOT / "docs" / "iam-policy.json"
DOC_PATH = ROOT / "docs" / "iam-permissions.md"
PLUGINS = ROOT / "plugins"
SERVICES = ("s3", "s3control", "cloudfront", "iam", "kms", "sts")
DIAGNOSE_SID = "OidcDiagnoseReadOnly"
REMEDIATE_SID = "OidcRemediateBeforeInstall"
# The read-only inspection (aws_trust_check) lives in these module_utils.
DIAGNOSE_FILES = ("_aws_hosting.py", "_aws_iam.py")

# API operation -> IAM action name(s) where they differ (service authorization reference).
IAM_NAMES = {
    "s3": {
        "ListBuckets": ["ListAllMyBuckets"], "ListObjects": ["ListBucket"], "ListObjectsV2": ["ListBucket"],
        "HeadBucket": ["ListBucket"], "HeadObject": ["GetObject"], "CopyObject": ["PutObject"],
        "GetPublicAccessBlock": ["GetBucketPublicAccessBlock"], "PutPublicAccessBlock": ["PutBucketPublicAccessBlock"],
        "DeletePublicAccessBlock": ["PutBucketPublicAccessBlock"],
        "GetBucketEncryption": ["GetEncryptionConfiguration"], "PutBucketEncryption": ["PutEncryptionConfiguration"],
        "DeleteBucketEncryption": ["PutEncryptionConfiguration"],
        "DeleteBucketOwnershipControls": ["PutBucketOwnershipControls"], "DeleteBucketTagging": ["PutBucketTagging"],
    },
    "s3control": {"GetPublicAccessBlock": ["GetAccountPublicAccessBlock"],
                  "PutPublicAccessBlock": ["PutAccountPublicAccessBlock"]},
    "cloudfront": {"CreateDistributionWithTags": ["CreateDistribution", "TagResource"]},
    "iam": {"CreateRole": ["CreateRole", "TagRole"],
            "CreateOpenIDConnectProvider": ["CreateOpenIDConnectProvider", "TagOpenIDConnectProvider"]},
}
IAM_PREFIX = {"s3control": "s3"}
# Calls that need no IAM permission (unsigned; the role's trust policy decides).
NO_PERMISSION = {("sts", "AssumeRoleWithWebIdentity")}

# Module paths the playbooks never take (state: absent, purge options, thumbprints): not in the policy, listed in
# docs/iam-permissions.md for users of the modules.
MODULE_ONLY = {
    "cloudfront:DeleteDistribution", "cloudfront:DeleteOriginAccessControl", "cloudfront:UntagResource",
    "iam:DeleteOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:DeleteRole",
    "iam:DeleteRolePolicy",
}
# Calls of the amazon.aws modules the roles use (s3_bucket_info, s3_bucket, s3_object; kms_key_info and kms_key
# with oidc_kms_key_arn), as the lab's request log shows them (KMS: from the modules' source).
AMAZON_AWS = {
    "s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "s3:GetObjectTagging", "s3:GetBucketTagging",
    "s3:GetBucketVersioning", "s3:GetBucketLogging", "s3:GetBucketPolicy", "s3:GetBucketOwnershipControls",
    "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:GetBucketAcl", "s3:CreateBucket",
    "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutEncryptionConfiguration",
    "s3:PutBucketPolicy", "s3:PutBucketTagging", "s3:PutObject",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeyPolicies", "kms:ListAliases", "kms:ListGrants",
    "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
}
# What S3 asks KMS for on the caller's behalf with an SSE-KMS key (oidc_kms_key_arn): a data key to encrypt each
# uploaded document, and decryption of the documents read back to compare them. No API call of ours shows them, and
# the lab does not model KMS authorisation; real S3 refuses the upload or the read without them.
S3_ON_CALLERS_BEHALF = {"kms:GenerateDataKey", "kms:Decrypt"}

_OPERATIONS = None


def operations():
    """``{python method name: [(service, API operation)]}`` for the services of the policy, from botocore's models."""
    global _OPERATIONS  # pylint: disable=global-statement  # a module-level cache
    if _OPERATIONS is None:
        session = botocore.session.get_session()
        _OPERATIONS = {}
        for service in SERVICES:
            for operation in session.get_service_model(service).operation_names:
                _OPERATIONS.setdefault(xform_name(operation), []).append((service, operation))
    return _OPERATIONS


def iam_actions(service, operation):
    """The IAM actions one API call needs (empty for unsigned calls)."""
    if (service, operation) in NO_PERMISSION:
        return []
    names = IAM_NAMES.get(service, {}).get(operation, [operation])
    return ["%s:%s" % (IAM_PREFIX.get(service, service), name) for name in names]


def policy():
    """docs/iam-policy.json, parsed."""
    return json.loads(POLICY_PATH.read_text(encoding="utf-8"))


def statement_actions(sid=None):
    """The actions of one statement (by Sid) or of all."""
    found = set()
    for statement in policy()["Statement"]:
        if sid is None or statement.get("Sid") == sid:
            actions = statement["Action"]
            found.update([actions] if isinstance(actions, str) else actions)
    return found


def _file_services(path, text):
    """Services a source file works with: those it makes clients for (``client("iam")``), else those its name says.

    (A module_util handed its client, like ``_cloudfront_distribution.py``, is named after its service.) An empty
    set means "any service with an operation of that name".
    """
    services = {name for name in re.findall(r"""client\(\s*["']([a-z0-9]+)["']""", text) if name in SERVICES}
    return services or {name for name in SERVICES if re.search(r"(^|_)%s(_|\.|$)" % name, path.name)}


def plugin_calls(files=None):
    """``{(service, operation): [file:line]}`` of every boto3 call in plugins/ (or in ``files``, basenames)."""
    ops = operations()
    found = {}
    for path in sorted(PLUGINS.rglob("*.py")):
        if files is not None and path.name not in files:
            continue
        text = path.read_text(encoding="utf-8")
        services = _file_services(path, text)
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            names = [node.func.attr]
            if node.func.attr == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                names = [node.args[0].value]
            for name in names:
                candidates = ops.get(name, [])
                scoped = [c for c in candidates if c[0] in services] or candidates
                for candidate in scoped:
                    found.setdefault(candidate, []).append("%s:%d" % (path.relative_to(ROOT), node.lineno))
    return found


def assert_calls_allowed(calls):
    """Every ``(service, operation)`` call (from the lab's request log) is allowed by the policy's statements."""
    allowed = statement_actions()
    missing = sorted({(service, operation, action) for service, operation in calls
                      for action in iam_actions(service, operation) if action not in allowed})
    assert not missing, "docs/iam-policy.json lacks actions the playbooks called: %s" % missing


def test_policy_shape():
    """Two statements with Sids, Allow, sorted unique actions of the form service:Action."""
    document = policy()
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == [DIAGNOSE_SID, REMEDIATE_SID]
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        assert actions == sorted(set(actions)), "%s: keep the actions sorted and unique" % statement["Sid"]
        assert all(re.match(r"^(s3|cloudfront|iam|kms|sts):[A-Z][A-Za-z0-9]+$", a) for a in actions), actions
    assert not statement_actions(DIAGNOSE_SID) & statement_actions(REMEDIATE_SID)
    assert not statement_actions() & MODULE_ONLY


def test_diagnose_statement_is_read_only():
    """The diagnosis statement only reads, and covers every call of the read-only inspection."""
    diagnose = statement_actions(DIAGNOSE_SID)
    assert all(re.match(r"^[a-z0-9]+:(Get|List|Describe)", action) for action in diagnose), diagnose
    needed = {action for (service, operation) in plugin_calls(DIAGNOSE_FILES)
              for action in iam_actions(service, operation)}
    assert needed, "no boto3 call found in %s: the scan is broken" % (DIAGNOSE_FILES,)
    assert needed <= diagnose, sorted(needed - diagnose)


def test_every_plugin_call_is_covered():
    """Every boto3 call in plugins/ maps to the policy, or to a documented module-only action."""
    calls = plugin_calls()
    assert len(calls) >= 30, "the scan found only %d calls: is it still finding them?" % len(calls)
    allowed = statement_actions() | MODULE_ONLY
    missing = {action: where for (service, operation), where in calls.items()
               for action in iam_actions(service, operation) if action not in allowed}
    assert not missing, "boto3 calls whose IAM action is neither in docs/iam-policy.json nor in MODULE_ONLY: %s" % missing


def test_every_policy_action_is_used():
    """Nothing in the policy that neither plugins/ nor the amazon.aws modules the roles use call."""
    used = ({action for (service, operation) in plugin_calls() for action in iam_actions(service, operation)}
            | AMAZON_AWS | S3_ON_CALLERS_BEHALF)
    extra = statement_actions() - used
    assert not extra, "actions in docs/iam-policy.json that nothing calls: %s" % sorted(extra)


def test_sse_kms_needs_what_s3_asks_kms_for():
    """The remediation statement lets S3 encrypt and decrypt the SSE-KMS documents for the caller."""
    assert S3_ON_CALLERS_BEHALF <= statement_actions(REMEDIATE_SID)


def test_permissions_doc_lists_everything():
    """docs/iam-permissions.md names every action of the policy and every module-only action."""
    text = DOC_PATH.read_text(encoding="utf-8")
    absent = sorted(action for action in statement_actions() | MODULE_ONLY if action not in text)
    assert not absent, "docs/iam-permissions.md does not mention %s" % absent
