"""The AWS trust inspection runs independent calls concurrently: bounded, and with the same result as one by one."""

from __future__ import annotations

import collections
import random
import threading
import time

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_hosting as H
from ansible_collections.openshift_sts.oidc.plugins.module_utils import aws_trust as T
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import Calls, CredentialsMissing
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.aws_trust_fakes import (
    ACCOUNT, FakeAws, ccoctl_public_policy, ccoctl_trust, public_read_grant)

BUCKET = "mycluster-oidc"
HP = BUCKET + ".s3.us-east-2.amazonaws.com"
ISSUER = "https://" + HP
SA = "system:serviceaccount:openshift-image-registry:registry"
OPEN_BPA = dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=False, RestrictPublicBuckets=False)


class InFlight:
    """A fake hook counting the calls in flight (each held ``delay`` seconds), the peak, and what overlapped."""

    def __init__(self, delay=0.01, barrier=None, barrier_calls=0):
        self.delay = delay
        self.lock = threading.Lock()
        self.current = collections.Counter()
        self.peak = 0
        self.overlaps = set()  # (a call, another call in flight at the same time)
        self.barrier = barrier
        self.barrier_calls = barrier_calls

    def __call__(self, name):
        with self.lock:
            for other in self.current:
                self.overlaps.add((name, other))
                self.overlaps.add((other, name))
            self.current[name] += 1
            self.peak = max(self.peak, sum(self.current.values()))
            wait = self.barrier is not None and name == "iam.GetRole" and self.barrier_calls > 0
            if wait:
                self.barrier_calls -= 1
        try:
            if wait:
                # Returns only when barrier.parties GetRole calls are in flight together: proof of concurrency.
                self.barrier.wait(timeout=10)
            time.sleep(self.delay)
        finally:
            with self.lock:
                self.current[name] -= 1
                if not self.current[name]:
                    del self.current[name]


def world(roles=20, broken=()):
    """A healthy public-bucket issuer and ``roles`` roles (``broken``: indexes whose trust names another subject)."""
    aws = FakeAws()
    provider = aws.add_provider(HP)
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET), ownership="ObjectWriter",
                   objects={".well-known/openid-configuration": [public_read_grant()], "keys.json": [public_read_grant()]})
    arns = []
    for index in range(roles):
        subject = "system:serviceaccount:ns:other" if index in broken else SA
        arns.append({"role_arn": aws.add_role("role-%03d" % index, ccoctl_trust(provider, HP, [subject])), "service_accounts": [SA]})
    return aws, arns


def run(aws, roles, concurrency):
    return T.inspect_trust(aws.clients, ISSUER, T.normalize_roles(roles), "openshift", "us-east-2", concurrency=concurrency)


def test_get_role_calls_run_together_and_never_more_than_the_bound():
    aws, roles = world(roles=24)
    aws.denied.add("iam.ListRoles")  # every role is then read with GetRole
    hook = InFlight(delay=0.01, barrier=threading.Barrier(4), barrier_calls=4)
    aws.hook = hook
    result = run(aws, roles, concurrency=4)
    assert not hook.barrier.broken  # 4 GetRole calls were in flight at once
    assert hook.peak == 4  # and never more than the bound, hosting calls included
    assert result["findings"] == [] and all(role["trust_ok"] for role in result["roles"])
    # The hosting side runs beside the IAM side.
    assert any(a.startswith("s3.") and b.startswith("iam.") for a, b in hook.overlaps)


def test_concurrency_one_makes_one_call_at_a_time():
    aws, roles = world(roles=6)
    hook = InFlight(delay=0.001)
    aws.hook = hook
    run(aws, roles, concurrency=1)
    assert hook.peak == 1


def test_result_and_calls_are_the_same_as_one_by_one_whatever_the_finishing_order(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # InternalError is retried with backoff

    def jitter(_name):
        for _spin in range(random.randint(0, 2000)):  # shuffles the finishing order without time.sleep
            pass

    outcomes = []
    for concurrency in (1, 8, 32):
        random.seed(concurrency)
        aws, roles = world(roles=30, broken=(3, 17, 29))
        roles.insert(5, {"role_arn": "arn:aws:iam::%s:role/missing" % ACCOUNT, "service_accounts": [SA]})
        aws.denied.update(["s3.GetBucketPolicyStatus", "s3.GetObjectAcl"])
        aws.errors["s3.GetBucketAcl"] = "InternalError"
        aws.hook = jitter
        result = run(aws, roles, concurrency)
        outcomes.append((result, collections.Counter(aws.calls)))
    (serial, serial_calls), others = outcomes[0], outcomes[1:]
    assert [item["code"] for item in serial["findings"]].count("ROLE_TRUST_SUBJECT_MISMATCH") == 3
    assert "ROLE_NOT_FOUND" in [item["code"] for item in serial["findings"]]
    assert serial["complete"] is False
    for result, calls in others:
        assert result == serial
        assert calls == serial_calls


def test_missing_credentials_stop_the_calls_not_started():
    aws, roles = world(roles=40)
    aws.denied.add("iam.ListRoles")
    aws.errors["iam.GetRole"] = "InvalidClientTokenId"
    aws.hook = InFlight(delay=0.005)
    result = run(aws, roles, concurrency=4)
    assert [item["code"] for item in result["findings"]] == ["AWS_CREDENTIALS_MISSING"]
    assert aws.count("iam.GetRole") < 40


def test_run_all_keeps_the_order_of_jobs_for_results_and_findings():
    calls = Calls(concurrency=8)
    aws = FakeAws()
    aws.denied.update(["s3.GetBucketAcl"])
    aws.add_bucket("b1")

    def slow_then(value):
        def func(*_args):
            time.sleep(0.02 if value % 2 == 0 else 0)
            return value
        return func
    jobs = [(slow_then(index), (), dict(permission="p%d" % index, subject="s", purpose="x")) for index in range(6)]
    assert calls.run_all(jobs) == list(range(6))
    s3 = aws.clients("s3")
    results = calls.run_all([(H.get_bucket_acl, (s3, "b1"), dict(permission="s3:GetBucketAcl", subject="s3://b1", purpose="acl")),
                             (H.get_bucket_policy, (s3, "b1"), dict(permission="s3:GetBucketPolicy", subject="s3://b1",
                                                                    missing=("NoSuchBucketPolicy",), purpose="policy"))])
    assert results[1] is None and not results[0]
    assert calls.skipped == ["s3:GetBucketAcl"]
    assert [item["code"] for item in calls.findings] == ["AWS_PERMISSION_MISSING"]


def test_credentials_missing_is_raised_in_the_callers_thread():
    aws = FakeAws()
    aws.no_credentials = True
    aws.add_bucket("b1")
    s3 = aws.clients("s3")
    calls = Calls(concurrency=4)
    jobs = [(H.get_bucket_acl, (s3, "b1"), dict(permission="s3:GetBucketAcl", subject="s3://b1", purpose="acl"))] * 3
    with pytest.raises(CredentialsMissing):
        calls.run_all(jobs)


def test_many_roles_are_read_with_list_roles_and_only_unlisted_ones_with_get_role():
    aws, roles = world(roles=T.LIST_ROLES_FROM + 5, broken=(2,))
    aws.list_page_size = 10  # three pages
    roles.insert(4, {"role_arn": "arn:aws:iam::%s:role/missing" % ACCOUNT, "service_accounts": [SA]})
    listed = run(aws, roles, concurrency=8)
    assert aws.count("iam.ListRoles") == 3
    assert aws.count("iam.GetRole") == 1  # the role ListRoles did not show
    assert [role["role_arn"] for role in listed["roles"]] == [role["role_arn"] for role in roles]
    assert sorted(item["code"] for item in listed["findings"]) == ["ROLE_NOT_FOUND", "ROLE_TRUST_SUBJECT_MISMATCH"]

    fallback_aws, fallback_roles = world(roles=T.LIST_ROLES_FROM + 5, broken=(2,))
    fallback_roles.insert(4, {"role_arn": "arn:aws:iam::%s:role/missing" % ACCOUNT, "service_accounts": [SA]})
    fallback_aws.denied.add("iam.ListRoles")
    by_get_role = run(fallback_aws, fallback_roles, concurrency=8)
    assert fallback_aws.count("iam.GetRole") == len(fallback_roles)
    # Without iam:ListRoles the answer is the same, and the denial is no finding: GetRole is the documented permission.
    assert by_get_role == listed


def test_few_roles_are_read_with_get_role():
    aws, roles = world(roles=T.LIST_ROLES_FROM - 1)
    result = run(aws, roles, concurrency=8)
    assert aws.count("iam.ListRoles") == 0
    assert aws.count("iam.GetRole") == len(roles)
    assert all(role["trust_ok"] for role in result["roles"])


def test_list_roles_without_credentials_stops_the_inspection():
    aws, roles = world(roles=T.LIST_ROLES_FROM)
    aws.errors["iam.ListRoles"] = "ExpiredToken"
    result = run(aws, roles, concurrency=8)
    assert [item["code"] for item in result["findings"]] == ["AWS_CREDENTIALS_MISSING"]
    assert aws.count("iam.GetRole") == 0
