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

Independent calls run concurrently in a bounded thread pool (:meth:`Calls.run_all`, :meth:`Calls.fork`);
their findings are merged in the order of the calls, so the result is the same as when they run one after
the other.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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

# How many AWS calls of one inspection may be in flight at once (the ``concurrency`` option of aws_trust_check).
DEFAULT_CONCURRENCY = 32

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
    """Runs inspection calls and turns their failures into findings.

    ``concurrency`` bounds the calls :meth:`run_all` runs at once (1 runs them one after the other). The
    functions it runs must be thread-safe: boto3 clients are, once created (create them before).
    """

    def __init__(self, concurrency=DEFAULT_CONCURRENCY, _shared=None):
        self.findings = []
        self.skipped = []
        self.concurrency = max(1, int(concurrency or 1))
        # Shared by a recorder and its children: ``stop`` is set when a call found no credentials (the calls not
        # yet started are not made); ``slots`` bounds the calls in flight across every pool and branch.
        self._shared = _shared or {"stop": threading.Event(), "slots": threading.BoundedSemaphore(self.concurrency)}
        self._stop = self._shared["stop"]

    def _child(self):
        """A recorder for one call or branch run in another thread (shares the stop flag and the slots)."""
        return Calls(self.concurrency, self._shared)

    def merge(self, child):
        """Add the findings and skipped permissions of ``child`` (a recorder of calls run elsewhere) to these."""
        self.findings.extend(child.findings)
        self.skipped.extend(child.skipped)

    def run_all(self, jobs):
        """Run independent calls concurrently; their results, in the order of ``jobs``.

        Each job is ``(func, args, kwargs)`` as for :meth:`run`. Findings and skipped permissions are recorded in
        the order of ``jobs``, whatever the order the calls finish in. :class:`CredentialsMissing` from any call
        stops the calls not yet started and is raised once all started calls have ended.
        """
        jobs = list(jobs)
        if self.concurrency == 1 or len(jobs) < 2:
            return [self.run(func, *args, **kwargs) for func, args, kwargs in jobs]
        children = [self._child() for _job in jobs]

        def work(child, func, args, kwargs):
            if self._stop.is_set():
                raise CredentialsMissing("stopped: no usable AWS credentials")
            return child.run(func, *args, **dict(kwargs))
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
            futures = [pool.submit(work, child, func, args, kwargs) for child, (func, args, kwargs) in zip(children, jobs)]
        results = [future.result() for future in futures]  # raises the first failure, in the order of jobs
        for child in children:
            self.merge(child)
        return results

    def fork(self, func, *args):
        """Start ``func(calls, *args)`` in a thread, with its own recorder; returns a :class:`Branch` to join."""
        return Branch(self, self._child(), func, args)

    def run(self, func, *args, **kwargs):
        """Run ``func(*args)``.

        Keyword arguments: ``permission`` (the IAM action, e.g. ``s3:GetBucketPolicy``), ``subject`` (what was
        inspected), ``purpose`` (what the result was needed for, for the finding), ``missing`` (error codes
        that mean "not there": the call returns None), ``optional`` (a shortcut whose caller falls back on the
        calls it replaces: a denial or failure is not recorded).
        Returns the result, or None when missing. On denial or failure it records a finding, adds
        ``permission`` to :attr:`skipped` and returns :data:`UNAVAILABLE`.
        """
        optional = kwargs.pop("optional", False)
        permission = kwargs.pop("permission")
        subject = kwargs.pop("subject")
        purpose = kwargs.pop("purpose")
        missing = kwargs.pop("missing", ())
        try:
            with self._shared["slots"]:
                return func(*args)
        except AnsibleAWSError as error:  # TrustCheckError, and amazon.aws' own (AnsibleIAMError from IAMErrorHandler)
            cause = error.exception
            if _no_credentials(cause):
                self._stop.set()
                raise CredentialsMissing(str(cause))
            code = error_code(cause)
            if code in missing:
                return None
            if code in CREDENTIAL_CODES:
                self._stop.set()
                raise CredentialsMissing("%s: %s" % (code, error_message(cause)))
            if optional:
                return UNAVAILABLE
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


class Branch(object):
    """A sequence of calls running in its own thread (see :meth:`Calls.fork`)."""

    def __init__(self, parent, calls, func, args):
        self._parent = parent
        self._calls = calls
        self._result = self._error = None
        self._thread = threading.Thread(target=self._main, args=(func, args), name="aws-trust-branch", daemon=True)
        self._thread.start()

    def _main(self, func, args):
        try:
            self._result = func(self._calls, *args)
        except BaseException as error:  # pylint: disable=broad-exception-caught  # re-raised in the caller's thread by join()
            self._error = error

    def wait(self):
        """Wait for the branch to end, ignoring its result and what it raised."""
        self._thread.join()

    def join(self):
        """Wait for the branch; merge its findings into the parent's (now, in the caller's order); its result.

        Re-raises what the branch raised.
        """
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._parent.merge(self._calls)
        return self._result


class _Unavailable(object):
    """The result of a call that failed (denied or errored); falsy."""

    def __bool__(self):
        return False

    __nonzero__ = __bool__

    def __repr__(self):
        return "UNAVAILABLE"


UNAVAILABLE = _Unavailable()
