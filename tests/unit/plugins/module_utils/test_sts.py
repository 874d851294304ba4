# -*- coding: utf-8 -*-
"""Unit tests of module_utils/sts.py: classification, retries, concurrency, no secret in results."""

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from ansible_collections.openshift_sts.oidc.plugins.module_utils import sts
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

COULD_NOT = ("Couldn't retrieve verification key from your identity provider,  please reference "
             "AssumeRoleWithWebIdentity documentation for requirements")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2EuZXhhbXBsZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"


def client_error(code, message, status=400):
    return ClientError({"Error": {"Code": code, "Message": message, "Type": "Sender"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "AssumeRoleWithWebIdentity")


def success(role_arn="arn:aws:iam::123456789012:role/r"):
    return {
        "Credentials": {"AccessKeyId": "ASIAEXAMPLEEXAMPLE12", "SecretAccessKey": SECRET, "SessionToken": "FwoGZXIvYXdz" + "A" * 60},
        "AssumedRoleUser": {"Arn": role_arn.replace(":role/", ":assumed-role/") + "/s", "AssumedRoleId": "AROAEXAMPLE:s"},
        "Provider": "arn:aws:iam::123456789012:oidc-provider/a.example",
        "Audience": "openshift",
        "SubjectFromWebIdentityToken": "system:serviceaccount:ns:sa",
    }


class NoSleep(sts.Backoff):
    def __init__(self, attempts=5):
        self.slept = []
        super().__init__(attempts=attempts, sleep=self.slept.append, rand=lambda: 1.0)


@pytest.mark.parametrize("code,message,expected", [
    ("InvalidIdentityToken", COULD_NOT, "STS_INVALID_IDENTITY_TOKEN"),
    ("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://a.example", "STS_INVALID_IDENTITY_TOKEN"),
    ("InvalidIdentityToken", "Incorrect token audience", "STS_INVALID_IDENTITY_TOKEN"),
    ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", "STS_ACCESS_DENIED"),
    ("ExpiredTokenException", "Token expired: current date/time 1626271164 must be before the expiration date/time1626191469",
     "STS_EXPIRED_TOKEN"),
    ("IDPCommunicationError", "", "STS_IDP_COMMUNICATION_ERROR"),
    ("IDPRejectedClaim", "", "STS_IDP_REJECTED_CLAIM"),
    ("RegionDisabledException", "STS is not activated in this region", "STS_ERROR"),
])
def test_classify_error_maps_every_sts_error_to_its_code(code, message, expected):
    assert sts.classify_error(code, message)[0] == expected


def test_classify_error_explains_the_invalid_token_cause():
    _code, cause, fix = sts.classify_error("InvalidIdentityToken", COULD_NOT)
    assert "anonymously" in cause and "CloudFront" in fix
    _code, cause, fix = sts.classify_error("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://x")
    assert "IAM OIDC provider" in cause and "byte for byte" in fix


def test_session_name_is_valid_and_stable():
    name = sts.session_name("arn:aws:iam::123456789012:role/" + "r" * 64, "system:serviceaccount:ns:sa")
    assert 2 <= len(name) <= 64
    assert name == sts.session_name("arn:aws:iam::123456789012:role/" + "r" * 64, "system:serviceaccount:ns:sa")
    assert name != sts.session_name("arn:aws:iam::123456789012:role/other", "system:serviceaccount:ns:sa")


def test_transient_errors_are_retried_with_backoff_then_succeed():
    calls = []

    def assume(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise client_error("IDPCommunicationError", "try again")
        return success()

    backoff = NoSleep()
    response, error, attempts = sts.assume_one(assume, "arn:aws:iam::123456789012:role/r", TOKEN, 900, "s", backoff)
    assert error is None and attempts == 3 and response["Audience"] == "openshift"
    assert backoff.slept == [0.2, 0.4]
    assert calls[0]["DurationSeconds"] == 900 and calls[0]["WebIdentityToken"] == TOKEN


def test_transient_errors_give_up_after_the_last_attempt():
    def assume(**_kwargs):
        raise client_error("Throttling", "Rate exceeded")

    _response, error, attempts = sts.assume_one(assume, "arn:aws:iam::1:role/r", TOKEN, 900, backoff=NoSleep(attempts=4))
    assert error == ("Throttling", "Rate exceeded") and attempts == 4


def test_invalid_identity_token_is_not_retried():
    calls = []

    def assume(**_kwargs):
        calls.append(1)
        raise client_error("InvalidIdentityToken", COULD_NOT)

    _response, error, attempts = sts.assume_one(assume, "arn:aws:iam::1:role/r", TOKEN, 900, backoff=NoSleep())
    assert attempts == 1 and len(calls) == 1 and error[0] == "InvalidIdentityToken"


def test_check_roles_keeps_order_runs_concurrently_and_never_returns_secrets():
    active, peak, lock = [0], [0], threading.Lock()

    def assume(RoleArn, **_kwargs):  # pylint: disable=invalid-name
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        if RoleArn.endswith("bad"):
            raise client_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
        return success(RoleArn)

    arns = ["arn:aws:iam::123456789012:role/r%d%s" % (i, "bad" if i % 3 == 0 else "") for i in range(12)]
    entries = [dict(role_arn=arn, subject="system:serviceaccount:ns:sa%d" % i, token=TOKEN) for i, arn in enumerate(arns)]
    results = sts.check_roles(assume, entries, max_workers=6, describe_token=lambda token: {"iss": "https://a.example"})
    assert [r["role_arn"] for r in results] == arns
    assert peak[0] > 1 and peak[0] <= 6
    bad = [r for r in results if not r["ok"]]
    assert len(bad) == 4 and all(r["findings"][0]["code"] == "STS_ACCESS_DENIED" for r in bad)
    assert bad[0]["findings"][0]["actual"] == "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    good = [r for r in results if r["ok"]]
    assert good[0]["provider"].endswith("oidc-provider/a.example") and good[0]["claims"] == {"iss": "https://a.example"}
    text = json.dumps(results)
    assert SECRET not in text and TOKEN not in text and "FwoGZXIvYXdz" not in text and "ASIAEXAMPLE" not in text


def test_a_token_that_cannot_be_had_is_a_finding_not_a_call():
    def assume(**_kwargs):
        raise AssertionError("STS must not be called without a token")

    def unavailable():
        raise sts.TokenUnavailable(finding("TOKEN_INVALID", subject="system:serviceaccount:ns:sa",
                                           message="The service account does not exist.", actual="404 Not Found"))

    results = sts.check_roles(assume, [dict(role_arn="arn:aws:iam::1:role/r", token=unavailable)])
    assert results[0]["ok"] is False and results[0]["attempts"] == 0
    assert results[0]["findings"][0]["code"] == "TOKEN_INVALID"
    assert results[0]["findings"][0]["actual"] == "404 Not Found"


def test_network_errors_say_sts_was_not_reached():
    code, cause, fix = sts.classify_error("EndpointConnectionError", 'Could not connect to the endpoint URL: "http://127.0.0.1:9/"')
    assert code == "STS_ERROR" and cause == "STS could not be reached" and "HTTPS_PROXY" in fix
    result = sts.role_result("arn:aws:iam::1:role/r", None, None, ("EndpointConnectionError", "Could not connect"), 1)
    assert result["findings"][0]["message"] == "STS was not called for arn:aws:iam::1:role/r: STS could not be reached."


def test_adaptive_limit_grows_one_per_answer_up_to_the_ceiling_and_halves_for_good_on_throttling():
    limit = sts.AdaptiveLimit(4, 10)
    for _answer in range(3):
        limit.answered(False)
    assert limit.limit == 7
    for _answer in range(10):
        limit.answered(False)
    assert limit.limit == 10  # never above the ceiling
    limit.answered(True)
    assert limit.limit == 5 and limit.throttled == 1
    limit.answered(False)
    assert limit.limit == 5  # no growth after a throttle
    for _throttle in range(5):
        limit.answered(True)
    assert limit.limit == 1  # never below one
    assert sts.AdaptiveLimit(8).ceiling == 8  # without a ceiling, a fixed limit
    assert sts.AdaptiveLimit(8, 3).ceiling == 8  # a ceiling below the start is the start


def _peak_of(assume_behaviour, roles, start, ceiling):
    """Run check_roles with an ``assume`` that holds each call a moment; (results, peak in flight, limit)."""
    active, peak, lock = [0], [0], threading.Lock()

    def assume(RoleArn, **_kwargs):  # pylint: disable=invalid-name
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.02)
            return assume_behaviour(RoleArn)
        finally:
            with lock:
                active[0] -= 1
    entries = [dict(role_arn="arn:aws:iam::1:role/r%d" % i, token=TOKEN) for i in range(roles)]
    return sts.check_roles(assume, entries, max_workers=start, backoff=NoSleep(), ceiling=ceiling), peak[0]


def test_check_roles_starts_at_the_concurrency_and_grows_while_sts_answers():
    results, peak = _peak_of(success, 60, 4, 16)
    assert all(result["ok"] for result in results)
    assert 4 < peak <= 16  # it grew beyond the first burst, never beyond the ceiling

    results, peak = _peak_of(success, 30, 4, 4)
    assert peak <= 4  # max_concurrency == concurrency: a fixed number in flight


def test_check_roles_backs_off_when_sts_throttles():
    seen, lock = {}, threading.Lock()

    def throttle_first_try(role_arn):
        with lock:
            seen[role_arn] = seen.get(role_arn, 0) + 1
            first = seen[role_arn] == 1
        if first:
            raise client_error("Throttling", "Rate exceeded", 400)
        return success(role_arn)
    results, peak = _peak_of(throttle_first_try, 40, 8, 64)
    assert all(result["ok"] and result["attempts"] == 2 for result in results)  # every throttled call was retried
    assert peak <= 8  # throttled from the start: never above the first burst
