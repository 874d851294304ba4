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
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding, sort_findings
from ansible_collections.openshift_sts.oidc.plugins.module_utils.service_account_tokens import token_error
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import TokenError, parse_token, read_token_file

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


THROTTLING_CODES = frozenset(("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"))


class AdaptiveLimit(object):  # pylint: disable=useless-object-inheritance
    """How many STS calls may be in flight: a context manager around each call.

    It starts at ``start`` and, like TCP's slow start, grows by one with each answer that was not throttling, up to
    ``ceiling``; when STS throttles, it halves (down to one) and stops growing. The first burst thus never exceeds
    ``start``, many roles are checked in a few round trips, and an account whose STS traffic is already high gets
    no more than it answers (botocore's "adaptive" retry mode likewise limits its rate only after a throttle).
    """

    def __init__(self, start, ceiling=None):
        self.limit = max(1, int(start))
        self.ceiling = max(self.limit, int(ceiling or start))
        self.peak = 0
        self.throttled = 0
        self._in_flight = 0
        self._grow = True
        self._cond = threading.Condition()

    def __enter__(self):
        with self._cond:
            while self._in_flight >= self.limit:
                self._cond.wait()
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        return self

    def __exit__(self, *exc):
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()
        return False

    def answered(self, throttled):
        """Record one answer: throttling halves the limit for good; any other answer grows it by one."""
        with self._cond:
            if throttled:
                self.throttled += 1
                self.limit = max(1, self.limit // 2)
                self._grow = False
            elif self._grow and self.limit < self.ceiling:
                self.limit += 1
                self._cond.notify_all()


class _Unlimited(object):  # pylint: disable=useless-object-inheritance
    """No limit (a call made outside :func:`check_roles`)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def answered(self, throttled):
        """Nothing to record."""


_NO_LIMIT = _Unlimited()


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


def assume_one(assume, role_arn, token, duration_seconds, subject="", backoff=None, limit=None):
    """Call ``assume`` (a bound ``sts.assume_role_with_web_identity``) for one role.

    Returns ``(response, None, attempts)`` on success or ``(None, (code, message), attempts)``.
    Only transient errors are retried. With ``limit`` (an :class:`AdaptiveLimit`), each attempt waits for a slot
    and reports whether STS throttled it.
    """
    backoff = backoff or Backoff()
    limit = limit or _NO_LIMIT
    attempt = 0
    while True:
        attempt += 1
        try:
            with limit:
                try:
                    response = assume(
                        RoleArn=role_arn,
                        RoleSessionName=session_name(role_arn, subject),
                        WebIdentityToken=token,
                        DurationSeconds=duration_seconds,
                    )
                except Exception as exc:  # pylint: disable=broad-exception-caught  # classified below
                    limit.answered(_error_parts(exc)[0] in THROTTLING_CODES)
                    raise
                limit.answered(False)
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


# The claims reported for each token (never the token itself).
CLAIMS = ("iss", "aud", "sub", "kid", "alg", "exp", "iat")


def describe_token(token):
    """The claims reported for a token; never the token itself."""
    try:
        summary = parse_token(token)
    except TokenError as exc:
        return {"error": str(exc)}
    return dict((name, summary.get(name)) for name in CLAIMS)


def role_entries(items, mint=None):
    """The ``entries`` of :func:`check_roles` for the ``roles`` option of sts_assume_check.

    Each item has ``role_arn`` and one of ``token`` (the text), ``token_file`` (read now; :class:`token.TokenFileError`
    when it cannot be) or ``service_account`` (``{namespace, name}``; the token is minted in the pool by
    ``mint(namespace, name)``, and a failure becomes a ``TOKEN_INVALID`` finding of that role).
    """
    entries = []
    for item in items:
        account = item.get("service_account")
        subject = "system:serviceaccount:%(namespace)s:%(name)s" % account if account else ""
        if item.get("token"):
            token = item["token"].strip()
        elif item.get("token_file"):
            token = read_token_file(item["token_file"])
        else:
            token = _minting(mint, account["namespace"], account["name"])
        entries.append(dict(role_arn=item["role_arn"], subject=subject, token=token))
    return entries


def _minting(mint, namespace, name):
    def token():
        try:
            return mint(namespace, name)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # reported as a finding
            raise TokenUnavailable(token_error(namespace, name, exc))
    return token


def client_config(concurrency):
    """The botocore config of the STS client: unsigned, one connection per call in flight, no botocore retries.

    :func:`check_roles` retries transient errors itself, so botocore must make exactly one call per attempt (its
    ``max_attempts`` counts retries, so 1 would still retry IDPCommunicationError and throttling once).
    """
    import botocore.config  # pylint: disable=import-outside-toplevel  # the modules report a missing botocore
    from botocore import UNSIGNED  # pylint: disable=import-outside-toplevel
    return botocore.config.Config(signature_version=UNSIGNED, max_pool_connections=max(10, concurrency),
                                  retries={"total_max_attempts": 1, "mode": "standard"})


def assume_findings(results):
    """Every finding of :func:`check_roles`' results, sorted, or a warning when no role was given."""
    found = sort_findings([item for result in results for item in result["findings"]])
    if not results:
        found.append(finding("STS_ERROR", subject="roles", message="No role was given to check.",
                             expected="at least one role", actual="none", severity="warning"))
    return found


# How many STS calls are in flight at first, by default (the ``concurrency`` option of sts_assume_check), and how far
# the limit may grow when STS keeps answering without throttling (``max_concurrency``).
DEFAULT_CONCURRENCY = 50
DEFAULT_MAX_CONCURRENCY = 250


def check_roles(assume, entries, duration_seconds=900, max_workers=DEFAULT_CONCURRENCY, backoff=None, describe_token=None,
                ceiling=None):
    """Assume every role of ``entries`` concurrently.

    ``entries`` is a list of dicts with ``role_arn``, ``subject`` (what the
    token stands for, e.g. a service account) and ``token``: the token text,
    or a callable returning it (run in the pool, so tokens minted through an
    API are fetched concurrently too) that may raise :class:`TokenUnavailable`.
    ``describe_token(token)`` returns the claims reported for a token.
    At most ``max_workers`` STS calls are in flight at first; an :class:`AdaptiveLimit` lets that grow up to
    ``ceiling`` (default ``max_workers``: no growth) while STS does not throttle. Tokens are minted in a pool of
    ``ceiling`` threads, beside the STS calls.
    Results come back in the order of ``entries``.
    """
    results = [None] * len(entries)
    limit = AdaptiveLimit(max_workers, ceiling)

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
        response, error, attempts = assume_one(assume, entry["role_arn"], token, duration_seconds, entry.get("subject", ""), backoff,
                                               limit)
        results[index] = role_result(entry["role_arn"], claims, response, error, attempts)

    if len(entries) <= 1:
        for index in range(len(entries)):
            work(index)
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(limit.ceiling, len(entries)))) as pool:
            list(pool.map(work, range(len(entries))))
    return results
