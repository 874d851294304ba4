# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Web-identity role assumption, as an operator pod does it, for many roles at once.

``AssumeRoleWithWebIdentity`` is called unsigned (it needs no AWS credentials,
as in AWS), concurrently in a bounded pool, and retried only when AWS marks
the failure transient. Each outcome is classified into the findings
catalogue. Credentials returned by STS are dropped on the spot: they never
leave this module.
"""

import hashlib
import random
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

# Error codes AWS marks transient for this call (botocore retries
# IDPCommunicationError; throttling and 5xx are transient everywhere).
TRANSIENT_CODES = frozenset((
    "IDPCommunicationError", "IDPCommunicationErrorException",
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout",
    "ReadTimeoutError", "ConnectTimeoutError", "ConnectionClosedError",
))

# botocore exceptions raised before STS answered.
_NETWORK_ERRORS = frozenset((
    "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError", "SSLError",
    "ProxyConnectionError", "HTTPClientError",
))

_COULD_NOT_RETRIEVE = "Couldn't retrieve verification key"
_NO_PROVIDER = "No OpenIDConnect provider found"
_AUDIENCE = "Incorrect token audience"
_MISSING_AUD = "Missing a required claim: aud"
_NOT_JWT = "not a valid JWT"
_THUMBPRINT = "doesn't match configured thumbprint"

# (substring of the STS message, what it means, what to do) for InvalidIdentityToken.
_INVALID_TOKEN_CAUSES = (
    (_COULD_NOT_RETRIEVE,
     "STS could not read the issuer's discovery document or JWKS anonymously, or no published key verifies the token",
     "Make <issuer>/.well-known/openid-configuration and its jwks_uri publicly readable over HTTPS (for a private bucket: "
     "serve it through CloudFront with origin access control) and publish the signing key; run the diagnose playbook "
     "to see which request fails."),
    (_NO_PROVIDER,
     "no IAM OIDC provider in the role's account has exactly the token's issuer as its URL",
     "Create an IAM OIDC provider whose URL is the token's iss (byte for byte, no trailing slash), with client ID openshift."),
    (_AUDIENCE,
     "the token's audience is not among the IAM OIDC provider's client IDs",
     "Add the audience (openshift) to the provider's client IDs."),
    (_MISSING_AUD,
     "the token has no aud claim",
     "Request the token with the audience openshift."),
    (_NOT_JWT,
     "the token is not a signed JWT",
     "Use the projected service-account token, not another credential."),
    (_THUMBPRINT,
     "the issuer's TLS certificate does not match the provider's thumbprint",
     "Update the provider's thumbprint list, or serve the issuer with a publicly trusted certificate."),
)


def classify_error(code, message):
    """Map an STS error (code, message) to ``(finding_code, cause, remediation)``."""
    message = message or ""
    if code in ("InvalidIdentityToken", "InvalidIdentityTokenException"):
        for needle, cause, fix in _INVALID_TOKEN_CAUSES:
            if needle in message:
                return "STS_INVALID_IDENTITY_TOKEN", cause, fix
        return "STS_INVALID_IDENTITY_TOKEN", "STS rejected the token", None
    if code == "AccessDenied":
        return ("STS_ACCESS_DENIED", "the role's trust policy does not allow this provider, subject or audience",
                "Rewrite the role's trust policy: Federated principal = the issuer's provider ARN, "
                "<issuer host>:sub = system:serviceaccount:<namespace>:<name>.")
    if code in ("ExpiredTokenException", "ExpiredToken"):
        return ("STS_EXPIRED_TOKEN", "the token expired, or is older than STS accepts (check the clock)",
                "Use a fresh token and check that the cluster's clock is right.")
    if code in ("IDPCommunicationError", "IDPCommunicationErrorException"):
        return ("STS_IDP_COMMUNICATION_ERROR", "STS could not reach the identity provider (often transient)",
                "Retry; if it persists, check that the issuer answers quickly (under 5 s) from the internet.")
    if code in ("IDPRejectedClaim", "IDPRejectedClaimException"):
        return "STS_IDP_REJECTED_CLAIM", "the identity provider rejected the claim", None
    if code in _NETWORK_ERRORS:
        return ("STS_ERROR", "STS could not be reached",
                "Check the region or endpoint_url, the proxy settings (HTTPS_PROXY, NO_PROXY) and network access to STS.")
    return "STS_ERROR", "STS returned an error", None


def session_name(role_arn, subject):
    """A RoleSessionName (2-64 characters of ``[\\w+=,.@-]``) stable for a role and subject."""
    digest = hashlib.sha256(("%s|%s" % (role_arn, subject)).encode("utf-8")).hexdigest()[:16]
    return "openshift-sts-oidc-check-%s" % digest


def _error_parts(exc):
    """``(code, message)`` of a botocore ClientError, or of any other exception."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return error.get("Code") or "Unknown", error.get("Message") or ""
    return type(exc).__name__, str(exc)


class Backoff:
    """Exponential backoff with full jitter, capped; ``sleep`` is injectable for tests."""

    def __init__(self, attempts=5, base=0.2, cap=5.0, sleep=time.sleep, rand=random.random):
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.rand = rand

    def wait(self, attempt):
        """Sleep before retry number ``attempt`` (1-based)."""
        self.sleep(min(self.cap, self.base * (2 ** (attempt - 1))) * self.rand())


def assume_one(assume, role_arn, token, duration_seconds, subject="", backoff=None):
    """Call ``assume`` (a bound ``sts.assume_role_with_web_identity``) for one role.

    Returns ``(response, None, attempts)`` on success or ``(None, (code, message), attempts)``.
    Only transient errors are retried.
    """
    backoff = backoff or Backoff()
    attempt = 0
    while True:
        attempt += 1
        try:
            response = assume(
                RoleArn=role_arn,
                RoleSessionName=session_name(role_arn, subject),
                WebIdentityToken=token,
                DurationSeconds=duration_seconds,
            )
            return response, None, attempt
        except Exception as exc:  # pylint: disable=broad-exception-caught  # classified, never raised
            code, message = _error_parts(exc)
            if code in TRANSIENT_CODES and attempt < backoff.attempts:
                backoff.wait(attempt)
                continue
            return None, (code, message), attempt


def role_result(role_arn, claims, response, error, attempts):
    """The per-role result returned to users: never the token, never credentials."""
    result = {
        "role_arn": role_arn,
        "ok": error is None,
        "attempts": attempts,
        "claims": claims,
        "error_code": None,
        "error_message": None,
        "assumed_role_arn": None,
        "provider": None,
        "audience": None,
        "subject_from_token": None,
        "findings": [],
    }
    if error is None:
        response = response or {}
        result["assumed_role_arn"] = (response.get("AssumedRoleUser") or {}).get("Arn")
        result["provider"] = response.get("Provider")
        result["audience"] = response.get("Audience")
        result["subject_from_token"] = response.get("SubjectFromWebIdentityToken")
        return result
    code, message = error
    finding_code, cause, fix = classify_error(code, message)
    result["error_code"] = code
    result["error_message"] = message
    result["findings"].append(finding(
        finding_code,
        subject=role_arn,
        message="%s: %s." % (("STS was not called for %s" if code in _NETWORK_ERRORS else "STS refused the token for %s") % role_arn,
                             cause),
        expected="AssumeRoleWithWebIdentity succeeds",
        actual="%s: %s%s" % (code, message, " (after %d attempts)" % attempts if attempts > 1 else ""),
        remediation=fix,
    ))
    return result


class TokenUnavailable(Exception):
    """No token could be had for a role; ``finding`` says why."""

    def __init__(self, finding_dict):
        super(TokenUnavailable, self).__init__(finding_dict.get("message"))
        self.finding = finding_dict


# How many roles are checked at once by default (the ``concurrency`` option of sts_assume_check).
DEFAULT_CONCURRENCY = 50


def check_roles(assume, entries, duration_seconds=900, max_workers=DEFAULT_CONCURRENCY, backoff=None, describe_token=None):
    """Assume every role of ``entries`` concurrently, in a bounded pool.

    ``entries`` is a list of dicts with ``role_arn``, ``subject`` (what the
    token stands for, e.g. a service account) and ``token``: the token text,
    or a callable returning it (run in the pool, so tokens minted through an
    API are fetched concurrently too) that may raise :class:`TokenUnavailable`.
    ``describe_token(token)`` returns the claims reported for a token.
    Results come back in the order of ``entries``.
    """
    results = [None] * len(entries)

    def work(index):
        entry = entries[index]
        try:
            token = entry["token"]() if callable(entry["token"]) else entry["token"]
        except TokenUnavailable as exc:
            result = role_result(entry["role_arn"], None, None, ("TokenUnavailable", exc.finding.get("actual") or ""), 0)
            result["findings"] = [exc.finding]
            results[index] = result
            return
        claims = describe_token(token) if describe_token else None
        response, error, attempts = assume_one(assume, entry["role_arn"], token, duration_seconds, entry.get("subject", ""), backoff)
        results[index] = role_result(entry["role_arn"], claims, response, error, attempts)

    if len(entries) <= 1:
        for index in range(len(entries)):
            work(index)
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(entries)))) as pool:
            list(pool.map(work, range(len(entries))))
    return results
