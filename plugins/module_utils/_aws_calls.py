# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running read-only AWS calls for the inspection, amazon.aws style (private module_util).

Each API helper in ``_aws_iam`` and ``_aws_hosting`` is a small function decorated with
:meth:`TrustCheckErrorHandler.common_error_handler` (failures become :class:`TrustCheckError`) and
``AWSRetry.jittered_backoff`` (throttling is retried). :class:`Calls` runs them: a missing resource
becomes ``None``, ``AccessDenied`` becomes an ``AWS_PERMISSION_MISSING`` finding naming the IAM action,
any other failure an ``AWS_INSPECTION_FAILED`` finding, and the inspection goes on. Missing credentials
raise :class:`CredentialsMissing`, which stops everything.
"""

from __future__ import annotations

try:
    import botocore
except ImportError:  # pragma: no cover - the module reports the missing library
    pass

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

ACCESS_DENIED_CODES = frozenset((
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "403",
    "AllAccessDisabled", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
    "UnrecognizedClientException", "InvalidAccessKeyId",
))
CREDENTIAL_CODES = frozenset(("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
                              "UnrecognizedClientException", "InvalidAccessKeyId"))

# Throttling and transient errors are retried by amazon.aws' AWSRetry (botocore retries on top).
retry = AWSRetry.jittered_backoff(retries=6, delay=1, max_delay=15)


class TrustCheckError(AnsibleAWSError):
    """An AWS call of the inspection failed."""


class TrustCheckErrorHandler(AWSErrorHandler):
    """amazon.aws error handler raising :class:`TrustCheckError`."""

    _CUSTOM_EXCEPTION = TrustCheckError


class CredentialsMissing(Exception):
    """No AWS credentials: nothing on the AWS side can be inspected."""


def error_code(exception):
    """The AWS error code of a botocore exception (``ClientError``), or its class name."""
    response = getattr(exception, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if status:
            return str(status)
    return type(exception).__name__


def error_message(exception):
    """The AWS error message of a botocore exception (never request parameters or credentials)."""
    response = getattr(exception, "response", None)
    if isinstance(response, dict):
        message = (response.get("Error") or {}).get("Message")
        if message:
            return str(message)
    return str(exception)


def _no_credentials(exception):
    try:
        return isinstance(exception, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError))
    except NameError:  # pragma: no cover
        return False


class Calls:
    """Runs inspection calls and turns their failures into findings."""

    def __init__(self):
        self.findings = []
        self.skipped = []

    def run(self, func, *args, **kwargs):
        """Run ``func(*args)``.

        Keyword arguments: ``permission`` (the IAM action, e.g. ``s3:GetBucketPolicy``), ``subject`` (what was
        inspected), ``purpose`` (what the result was needed for, for the finding), ``missing`` (error codes
        that mean "not there": the call returns None).
        Returns the result, or None when missing. On denial or failure it records a finding, adds
        ``permission`` to :attr:`skipped` and returns :data:`UNAVAILABLE`.
        """
        permission = kwargs.pop("permission")
        subject = kwargs.pop("subject")
        purpose = kwargs.pop("purpose")
        missing = kwargs.pop("missing", ())
        try:
            return func(*args)
        except AnsibleAWSError as error:  # TrustCheckError, and amazon.aws' own (AnsibleIAMError from IAMErrorHandler)
            cause = error.exception
            if _no_credentials(cause):
                raise CredentialsMissing(str(cause))
            code = error_code(cause)
            if code in missing:
                return None
            if code in CREDENTIAL_CODES:
                raise CredentialsMissing("%s: %s" % (code, error_message(cause)))
            self.skipped.append(permission)
            if code in ACCESS_DENIED_CODES:
                self.findings.append(finding(
                    "AWS_PERMISSION_MISSING", subject,
                    "The AWS credentials may not call %s, so %s could not be checked." % (permission, purpose),
                    expected="permission %s on %s" % (permission, subject),
                    actual="%s: %s" % (code, error_message(cause)),
                    remediation="Grant %s to the identity running the check (read-only), or accept that %s is not "
                                "inspected; the other checks ran." % (permission, purpose)))
            else:
                self.findings.append(finding(
                    "AWS_INSPECTION_FAILED", subject,
                    "The AWS call %s failed, so %s could not be checked." % (permission, purpose),
                    expected="a successful %s call" % permission,
                    actual="%s: %s" % (code, error_message(cause))))
            return UNAVAILABLE


class _Unavailable(object):
    """The result of a call that failed (denied or errored); falsy."""

    def __bool__(self):
        return False

    __nonzero__ = __bool__

    def __repr__(self):
        return "UNAVAILABLE"


UNAVAILABLE = _Unavailable()
