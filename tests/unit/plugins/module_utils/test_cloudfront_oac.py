"""Unit tests of the CloudFront origin access control module_util (_cloudfront_oac), with botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _cloudfront_oac as oac_utils

OAC_ID = "E2QWRUHAPOMQZL"


@pytest.fixture
def cloudfront():
    """A CloudFront client whose calls are stubbed (no network, dummy credentials)."""
    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="AKIDTEST", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def config(name="c1-oidc", description="d", behavior="always", origin_type="s3"):
    """An OriginAccessControlConfig."""
    return {"Name": name, "Description": description, "SigningProtocol": "sigv4", "SigningBehavior": behavior,
            "OriginAccessControlOriginType": origin_type}


def oac(cfg=None, oac_id=OAC_ID):
    """An OriginAccessControl."""
    return {"Id": oac_id, "OriginAccessControlConfig": cfg or config()}


def summary(name, oac_id):
    """An OriginAccessControlSummary."""
    return dict(config(name=name), Id=oac_id)


def listing(*items, next_marker=None):
    """A ListOriginAccessControls page."""
    page = {"Marker": "", "MaxItems": 100, "IsTruncated": bool(next_marker), "Quantity": len(items), "Items": list(items)}
    if next_marker:
        page["NextMarker"] = next_marker
    return {"OriginAccessControlList": page}


def client_error(stubber, operation, code, status):
    """Queue a ClientError."""
    stubber.add_client_error(operation, code, code, http_status_code=status)


# ---------------------------------------------------------------- finding
def test_find_by_name_across_pages(cloudfront):
    """The OAC named exactly so, from any page, read with its ETag."""
    client, stubber = cloudfront
    stubber.add_response("list_origin_access_controls", listing(summary("c1-oidc-old", "E1"), next_marker="m"))
    stubber.add_response("list_origin_access_controls", listing(summary("c1-oidc", OAC_ID)), {"Marker": "m"})
    stubber.add_response("get_origin_access_control", {"OriginAccessControl": oac(), "ETag": "ETAG1"}, {"Id": OAC_ID})
    found = oac_utils.find_origin_access_control(client, "c1-oidc")
    assert found == (oac(), "ETAG1")
    assert oac_utils.normalize_origin_access_control(*found) == {
        "id": OAC_ID, "name": "c1-oidc", "etag": "ETAG1",
        "config": {"name": "c1-oidc", "description": "d", "signing_protocol": "sigv4", "signing_behavior": "always",
                   "origin_type": "s3"}}


def test_find_none_empty_and_duplicates(cloudfront):
    """An empty list (no Items key) finds nothing; two OACs of one name fail rather than pick one."""
    client, stubber = cloudfront
    stubber.add_response("list_origin_access_controls", {"OriginAccessControlList": {
        "Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}})
    assert oac_utils.find_origin_access_control(client, "c1-oidc") is None
    stubber.add_response("list_origin_access_controls", listing(summary("c1-oidc", "E1"), summary("c1-oidc", "E2")))
    with pytest.raises(oac_utils.CloudFrontOACError, match=r"Several .* \(E1, E2\)"):
        oac_utils.find_origin_access_control(client, "c1-oidc")


# ---------------------------------------------------------------- planning
def test_plan_config_update():
    """Only the differing keys, with before and after; description None keeps the current one."""
    cur = config()
    wanted = oac_utils.desired_config("c1-oidc", None, "s3", "always", "sigv4", cur)
    assert wanted == cur and oac_utils.plan_config_update(cur, wanted) == {}
    wanted = oac_utils.desired_config("c1-oidc", "new", "s3", "no-override", "sigv4", cur)
    assert oac_utils.plan_config_update(cur, wanted) == {
        "description": {"before": "d", "after": "new"},
        "signing_behavior": {"before": "always", "after": "no-override"}}
    assert oac_utils.desired_config("n", None, "s3", "always", "sigv4")["Description"] == ""


# ---------------------------------------------------------------- applying
def test_create_and_check_mode(cloudfront):
    """Create sends the whole config; check mode makes no call and returns what would be created."""
    client, stubber = cloudfront
    changed, planned = oac_utils.ensure_origin_access_control_present(client, True, None, "c1-oidc", None, "s3",
                                                                      "always", "sigv4")
    assert changed and planned["id"] is None and planned["etag"] is None and planned["config"]["description"] == ""
    stubber.add_response("create_origin_access_control", {"OriginAccessControl": oac(config(description="")), "ETag": "E0"},
                         {"OriginAccessControlConfig": config(description="")})
    changed, created = oac_utils.ensure_origin_access_control_present(client, False, None, "c1-oidc", None, "s3",
                                                                      "always", "sigv4")
    assert changed and created["id"] == OAC_ID and created["etag"] == "E0"


def test_update_with_if_match(cloudfront):
    """An update sends IfMatch = the ETag read; unchanged and check mode make no call."""
    client, stubber = cloudfront
    found = (oac(), "ETAG1")
    assert oac_utils.ensure_origin_access_control_present(client, False, found, "c1-oidc", "d", "s3", "always",
                                                          "sigv4")[0] is False
    changed, planned = oac_utils.ensure_origin_access_control_present(client, True, found, "c1-oidc", "d", "s3", "never",
                                                                      "sigv4")
    assert changed and planned["config"]["signing_behavior"] == "never" and planned["etag"] == "ETAG1"
    stubber.add_response("update_origin_access_control",
                         {"OriginAccessControl": oac(config(behavior="never")), "ETag": "ETAG2"},
                         {"Id": OAC_ID, "IfMatch": "ETAG1", "OriginAccessControlConfig": config(behavior="never")})
    changed, updated = oac_utils.ensure_origin_access_control_present(client, False, found, "c1-oidc", "d", "s3", "never",
                                                                      "sigv4")
    assert changed and updated["etag"] == "ETAG2" and updated["config"]["signing_behavior"] == "never"


def test_update_precondition_failed_rereads(cloudfront):
    """PreconditionFailed: read again for the new ETag, recompute, write again."""
    client, stubber = cloudfront
    client_error(stubber, "update_origin_access_control", "PreconditionFailed", 412)
    stubber.add_response("get_origin_access_control", {"OriginAccessControl": oac(config(description="other")),
                                                       "ETag": "ETAG9"}, {"Id": OAC_ID})
    stubber.add_response("update_origin_access_control", {"OriginAccessControl": oac(config(behavior="never",
                                                                                            description="other")),
                                                          "ETag": "ETAG10"},
                         {"Id": OAC_ID, "IfMatch": "ETAG9",
                          "OriginAccessControlConfig": config(behavior="never", description="other")})
    changed, updated = oac_utils.ensure_origin_access_control_present(client, False, (oac(), "ETAG1"), "c1-oidc", None,
                                                                      "s3", "never", "sigv4")
    assert changed and updated["etag"] == "ETAG10"


def test_update_precondition_failed_then_already_right(cloudfront):
    """If the other writer already made the change, nothing more is written."""
    client, stubber = cloudfront
    client_error(stubber, "update_origin_access_control", "PreconditionFailed", 412)
    stubber.add_response("get_origin_access_control", {"OriginAccessControl": oac(config(behavior="never")),
                                                       "ETag": "ETAG9"}, {"Id": OAC_ID})
    changed, result = oac_utils.ensure_origin_access_control_present(client, False, (oac(), "ETAG1"), "c1-oidc", "d",
                                                                     "s3", "never", "sigv4")
    assert changed is False and result["etag"] == "ETAG9"


def test_update_other_error_raised(cloudfront):
    """Other errors are not retried and carry the action in their message."""
    client, stubber = cloudfront
    client_error(stubber, "update_origin_access_control", "AccessDenied", 403)
    with pytest.raises(oac_utils.CloudFrontOACError, match="Failed to update CloudFront origin access control " + OAC_ID):
        oac_utils.ensure_origin_access_control_present(client, False, (oac(), "ETAG1"), "c1-oidc", "d", "s3", "never",
                                                       "sigv4")


def test_delete_flows(cloudfront):
    """Delete with IfMatch; missing is not a change; check mode makes no call; a stale ETag is refreshed."""
    client, stubber = cloudfront
    found = (oac(), "ETAG1")
    assert oac_utils.ensure_origin_access_control_absent(client, False, None) is False
    assert oac_utils.ensure_origin_access_control_absent(client, True, found) is True
    stubber.add_response("delete_origin_access_control", {}, {"Id": OAC_ID, "IfMatch": "ETAG1"})
    assert oac_utils.ensure_origin_access_control_absent(client, False, found) is True
    client_error(stubber, "delete_origin_access_control", "NoSuchOriginAccessControl", 404)
    assert oac_utils.ensure_origin_access_control_absent(client, False, found) is False
    client_error(stubber, "delete_origin_access_control", "PreconditionFailed", 412)
    stubber.add_response("get_origin_access_control", {"OriginAccessControl": oac(), "ETag": "ETAG2"}, {"Id": OAC_ID})
    stubber.add_response("delete_origin_access_control", {}, {"Id": OAC_ID, "IfMatch": "ETAG2"})
    assert oac_utils.ensure_origin_access_control_absent(client, False, found) is True


def test_delete_in_use_fails_clearly(cloudfront):
    """OriginAccessControlInUse becomes a message telling what to do."""
    client, stubber = cloudfront
    client_error(stubber, "delete_origin_access_control", "OriginAccessControlInUse", 409)
    with pytest.raises(oac_utils.OriginAccessControlInUse, match="in use by a distribution"):
        oac_utils.ensure_origin_access_control_absent(client, False, (oac(), "ETAG1"))
