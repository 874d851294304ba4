"""Unit tests of the IAM OIDC provider module_util (_iam_oidc), with botocore's Stubber: exactly the calls expected."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _iam_oidc as oidc

ACCOUNT = "123456789012"
URL = "oidc.example.com/cluster"
ARN = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, URL)
THUMB_A = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
THUMB_B = "A" * 40
CREATED = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


@pytest.fixture
def iam():
    """An IAM client whose calls are stubbed (no network, dummy credentials)."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def provider_answer(url=URL, client_ids=("openshift",), thumbprints=(THUMB_A,), tags=None):
    """A GetOpenIDConnectProvider answer."""
    answer = {"Url": url, "ClientIDList": list(client_ids), "ThumbprintList": list(thumbprints), "CreateDate": CREATED}
    if tags is not None:
        answer["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return answer


def current(client_ids=("openshift",), thumbprints=(THUMB_A,), tags=None):
    """The normalized provider of :func:`provider_answer`."""
    return oidc.normalize_provider(ARN, provider_answer(client_ids=client_ids, thumbprints=thumbprints, tags=tags or {}))


# ---------------------------------------------------------------- URL, thumbprints, client IDs
@pytest.mark.parametrize("url, expected", [
    ("https://oidc.example.com/cluster", "oidc.example.com/cluster"),
    ("oidc.example.com/cluster", "oidc.example.com/cluster"),
    ("https://oidc.example.com/cluster/", "oidc.example.com/cluster/"),
    ("https://d111111abcdef8.cloudfront.net", "d111111abcdef8.cloudfront.net"),
    ("https://Bucket-A.s3.us-east-1.amazonaws.com/Path", "Bucket-A.s3.us-east-1.amazonaws.com/Path"),
])
def test_normalize_url(url, expected):
    """IAM's form: no scheme; path, case and trailing slash kept (exact match)."""
    assert oidc.normalize_provider_url(url) == expected


@pytest.mark.parametrize("url, message", [
    ("http://oidc.example.com", "https scheme"),
    ("HTTPS://oidc.example.com", "https scheme"),
    ("https://oidc.example.com:443/x", "port"),
    ("https://oidc.example.com/x?a=b", "query"),
    ("https://oidc.example.com/x#frag", "fragment"),
    ("https://user@oidc.example.com", "user information"),
    ("https://", "valid host"),
    ("https:///path", "valid host"),
    ("https://bad..host", "valid host"),
    ("", "non-empty"),
    (" https://oidc.example.com", "white space"),
    ("https://oidc.example.com/a b", "white space"),
    ("https://h.example.com/" + "p" * 240, "at most 255"),
])
def test_normalize_url_rejects(url, message):
    """What IAM rejects (and what moto would wrongly accept) fails before any call."""
    with pytest.raises(ValueError, match=message):
        oidc.normalize_provider_url(url)


def test_thumbprints_and_client_ids():
    """40 hex characters, at most 5, case-insensitive duplicates dropped; client IDs deduplicated in order."""
    assert oidc.validate_thumbprints(None) is None
    assert oidc.validate_thumbprints([THUMB_A, THUMB_A.upper()]) == [THUMB_A]
    with pytest.raises(ValueError, match="40 hexadecimal"):
        oidc.validate_thumbprints(["9E:99:A4"])
    with pytest.raises(ValueError, match="at most 5"):
        oidc.validate_thumbprints(["%040x" % i for i in range(6)])
    assert oidc.validate_client_ids(["openshift", "sts.amazonaws.com", "openshift"]) == ["openshift", "sts.amazonaws.com"]
    with pytest.raises(ValueError, match="1 to 255"):
        oidc.validate_client_ids([""])
    with pytest.raises(ValueError, match="at most 100"):
        oidc.validate_client_ids(["id%d" % i for i in range(101)])


# ---------------------------------------------------------------- finding
def test_find_matches_url_exactly(iam):
    """Providers of a parent path, a trailing slash or another host are never taken."""
    client, stubber = iam
    others = ["arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, url)
              for url in ("oidc.example.com", URL + "/", "oidc.example.com/cluster2", "other.example.com/" + URL)]
    stubber.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": a} for a in others + [ARN]]})
    stubber.add_response("get_open_id_connect_provider", provider_answer(tags={"a": "1"}), {"OpenIDConnectProviderArn": ARN})
    found = oidc.find_oidc_provider(client, URL)
    assert found == {"arn": ARN, "url": URL, "issuer": "https://" + URL, "client_ids": ["openshift"],
                     "thumbprints": [THUMB_A], "tags": {"a": "1"}, "create_date": CREATED.isoformat()}


def test_find_none_and_partition(iam):
    """No provider of the URL: ``None``. A China-partition ARN keeps its partition."""
    client, stubber = iam
    stubber.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [
        {"Arn": "arn:aws:iam::%s:oidc-provider/oidc.example.com" % ACCOUNT}]})
    assert oidc.find_oidc_provider(client, URL) is None
    cn_arn = "arn:aws-cn:iam::%s:oidc-provider/%s" % (ACCOUNT, URL)
    stubber.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": cn_arn}]})
    stubber.add_response("get_open_id_connect_provider", provider_answer(), {"OpenIDConnectProviderArn": cn_arn})
    assert oidc.find_oidc_provider(client, URL)["arn"] == cn_arn
    assert oidc.partition_of(cn_arn) == "aws-cn"


def test_find_vanished_between_list_and_get(iam):
    """A provider deleted between the list and the get is simply not there."""
    client, stubber = iam
    stubber.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": ARN}]})
    stubber.add_client_error("get_open_id_connect_provider", "NoSuchEntity", http_status_code=404)
    assert oidc.find_oidc_provider(client, URL) is None


# ---------------------------------------------------------------- planning
def test_plan_client_ids_add_and_purge():
    """Missing IDs added, extra IDs removed only with purge; order of the result: kept, then added."""
    cur = current(client_ids=("openshift", "legacy"))
    plan = oidc.plan_provider_update(cur, ["openshift", "sts.amazonaws.com"], True, None, None, True)
    assert plan["add_client_ids"] == ["sts.amazonaws.com"] and plan["remove_client_ids"] == ["legacy"]
    assert plan["after"]["client_ids"] == ["openshift", "sts.amazonaws.com"] and plan["changed"]
    plan = oidc.plan_provider_update(cur, ["openshift", "sts.amazonaws.com"], False, None, None, True)
    assert plan["remove_client_ids"] == [] and plan["after"]["client_ids"] == ["openshift", "legacy", "sts.amazonaws.com"]
    plan = oidc.plan_provider_update(cur, ["legacy", "openshift"], True, None, None, True)
    assert not plan["changed"] and plan["after"] == cur


def test_plan_thumbprints():
    """Thumbprints replaced only when given and different (order and case ignored)."""
    cur = current(thumbprints=(THUMB_A, THUMB_B))
    assert not oidc.plan_provider_update(cur, None, True, None, None, True)["changed"]
    assert not oidc.plan_provider_update(cur, None, True, [THUMB_B.lower(), THUMB_A.upper()], None, True)["changed"]
    plan = oidc.plan_provider_update(cur, None, True, [THUMB_B], None, True)
    assert plan["thumbprints"] == [THUMB_B] and plan["after"]["thumbprints"] == [THUMB_B]


def test_plan_tags():
    """amazon.aws semantics: None leaves tags; purge removes unlisted keys except aws:*; values compared as text."""
    cur = current(tags={"keep": "1", "old": "x", "aws:cloudformation:stack-name": "s"})
    assert not oidc.plan_provider_update(cur, None, True, None, None, True)["changed"]
    plan = oidc.plan_provider_update(cur, None, True, None, {"keep": "1", "new": "2"}, True)
    assert plan["set_tags"] == {"new": "2"} and plan["unset_tags"] == ["old"]
    assert plan["after"]["tags"] == {"keep": "1", "new": "2", "aws:cloudformation:stack-name": "s"}
    plan = oidc.plan_provider_update(cur, None, True, None, {"new": "2"}, False)
    assert plan["unset_tags"] == [] and plan["after"]["tags"]["old"] == "x"


# ---------------------------------------------------------------- applying
def test_create_without_thumbprints(iam):
    """On create, no ThumbprintList is sent when none was given (IAM computes it); tags go with the create."""
    client, stubber = iam
    stubber.add_response("create_open_id_connect_provider", {"OpenIDConnectProviderArn": ARN},
                         {"Url": "https://" + URL, "ClientIDList": ["openshift", "sts.amazonaws.com"],
                          "Tags": [{"Key": "cluster", "Value": "c1"}]})
    stubber.add_response("get_open_id_connect_provider",
                         provider_answer(client_ids=("openshift", "sts.amazonaws.com"), tags={"cluster": "c1"}),
                         {"OpenIDConnectProviderArn": ARN})
    changed, provider = oidc.ensure_provider_present(client, False, URL, None, ["openshift", "sts.amazonaws.com"], True,
                                                     None, {"cluster": "c1"}, True)
    assert changed and provider["arn"] == ARN and provider["thumbprints"] == [THUMB_A]


def test_create_check_mode_makes_no_write_call(iam):
    """Check mode: only the read-only caller identity (for the predicted ARN, partition from it)."""
    client, stubber = iam
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="x")
    with Stubber(sts) as sts_stub:
        sts_stub.add_response("get_caller_identity", {"Arn": "arn:aws-us-gov:iam::%s:user/me" % ACCOUNT,
                                                      "Account": ACCOUNT, "UserId": "AIDA"})
        changed, provider = oidc.ensure_provider_present(client, True, URL, None, ["openshift"], True, None, None, True,
                                                         sts_client=sts)
    assert changed
    assert provider == {"arn": "arn:aws-us-gov:iam::%s:oidc-provider/%s" % (ACCOUNT, URL), "url": URL,
                        "issuer": "https://" + URL, "client_ids": ["openshift"], "thumbprints": [], "tags": {},
                        "create_date": None}


def test_predicted_arn_unknown(iam):
    """Without sts:GetCallerIdentity the predicted ARN is null, and check mode still works."""
    client, _stubber = iam
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="x")
    with Stubber(sts) as sts_stub:
        sts_stub.add_client_error("get_caller_identity", "AccessDenied", http_status_code=403)
        assert oidc.ensure_provider_present(client, True, URL, None, ["openshift"], True, None, None, True,
                                            sts_client=sts)[1]["arn"] is None


def test_update_applies_each_change(iam):
    """Add, remove, thumbprint, untag and tag calls, in that order, then a re-read."""
    client, stubber = iam
    cur = current(client_ids=("openshift", "legacy"), tags={"old": "x", "keep": "1"})
    stubber.add_response("add_client_id_to_open_id_connect_provider", {},
                         {"OpenIDConnectProviderArn": ARN, "ClientID": "sts.amazonaws.com"})
    stubber.add_response("remove_client_id_from_open_id_connect_provider", {},
                         {"OpenIDConnectProviderArn": ARN, "ClientID": "legacy"})
    stubber.add_response("update_open_id_connect_provider_thumbprint", {},
                         {"OpenIDConnectProviderArn": ARN, "ThumbprintList": [THUMB_B]})
    stubber.add_response("untag_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": ARN, "TagKeys": ["old"]})
    stubber.add_response("tag_open_id_connect_provider", {},
                         {"OpenIDConnectProviderArn": ARN, "Tags": [{"Key": "new", "Value": "2"}]})
    stubber.add_response("get_open_id_connect_provider",
                         provider_answer(client_ids=("openshift", "sts.amazonaws.com"), thumbprints=(THUMB_B,),
                                         tags={"keep": "1", "new": "2"}), {"OpenIDConnectProviderArn": ARN})
    changed, provider = oidc.ensure_provider_present(client, False, URL, cur, ["openshift", "sts.amazonaws.com"], True,
                                                     [THUMB_B], {"keep": "1", "new": "2"}, True)
    assert changed and provider["client_ids"] == ["openshift", "sts.amazonaws.com"]
    assert provider["tags"] == {"keep": "1", "new": "2"}


def test_update_check_mode_and_unchanged_make_no_call(iam):
    """Check mode returns the planned provider without any call; an identical provider makes no call either."""
    client, _stubber = iam
    cur = current(client_ids=("openshift", "legacy"))
    changed, after = oidc.ensure_provider_present(client, True, URL, cur, ["openshift"], True, [THUMB_B], {"t": "v"}, True)
    assert changed and after["client_ids"] == ["openshift"] and after["thumbprints"] == [THUMB_B]
    assert after["tags"] == {"t": "v"} and cur["client_ids"] == ["openshift", "legacy"]
    assert oidc.ensure_provider_present(client, False, URL, cur, ["openshift", "legacy"], True, None, None, True) == (False, cur)


def test_delete(iam):
    """Delete by ARN; already gone is not a change; check mode makes no call; errors become OIDCProviderError."""
    client, stubber = iam
    cur = current()
    assert not oidc.ensure_provider_absent(client, False, None)
    assert oidc.ensure_provider_absent(client, True, cur)
    stubber.add_response("delete_open_id_connect_provider", {}, {"OpenIDConnectProviderArn": ARN})
    assert oidc.ensure_provider_absent(client, False, cur)
    stubber.add_client_error("delete_open_id_connect_provider", "NoSuchEntity", http_status_code=404)
    assert not oidc.ensure_provider_absent(client, False, cur)
    stubber.add_client_error("delete_open_id_connect_provider", "AccessDenied", "no", http_status_code=403)
    with pytest.raises(oidc.OIDCProviderError, match="Failed to delete IAM OIDC provider " + ARN):
        oidc.ensure_provider_absent(client, False, cur)
