"""Unit tests of the policy evaluator and the trust-policy matcher of the AWS trust inspection."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_iam as I
from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_policy as P

HP = "mycluster-oidc.s3.us-east-2.amazonaws.com"
OLD = "old-oidc.s3.us-east-1.amazonaws.com"
ARN = "arn:aws:iam::123456789012:oidc-provider/" + HP
OLD_ARN = "arn:aws:iam::123456789012:oidc-provider/" + OLD
SA = "system:serviceaccount:openshift-image-registry:registry"
SA2 = "system:serviceaccount:openshift-machine-api:machine-api-controllers"


def trust(condition=None, federated=ARN, effect="Allow", action="sts:AssumeRoleWithWebIdentity", **extra):
    statement = {"Effect": effect, "Principal": {"Federated": federated}, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return statement


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def evaluate(document, subjects=(SA,), audience="openshift"):
    return I.evaluate_trust(document, ARN, HP, list(subjects), audience)


# ---------------------------------------------------------------- basics
@pytest.mark.parametrize("pattern, value, result", [
    ("system:serviceaccount:ns:*", "system:serviceaccount:ns:sa", True),
    ("system:serviceaccount:*:sa", "system:serviceaccount:other:sa", True),
    ("system:serviceaccount:ns:s?", "system:serviceaccount:ns:sa", True),
    ("system:serviceaccount:ns:s?", "system:serviceaccount:ns:saa", False),
    ("system:serviceaccount:ns:[sa]", "system:serviceaccount:ns:s", False),
    ("system:serviceaccount:n.:sa", "system:serviceaccount:ns:sa", False),
    ("*", "", True),
])
def test_wildcard_match(pattern, value, result):
    assert P.wildcard_match(pattern, value) is result


def test_load_policy_accepts_dict_json_and_url_encoded_json():
    document = doc(trust({"StringEquals": {HP + ":sub": SA}}))
    text = json.dumps(document)
    assert P.load_policy(document) is document
    assert P.load_policy(text) == document
    assert P.load_policy(quote(text)) == document
    with pytest.raises(P.PolicyError):
        P.load_policy("[1, 2]")
    with pytest.raises(P.PolicyError):
        P.load_policy("not json")


def test_condition_operators_three_valued():
    def resolve(key):
        return {"a:sub": (P.PRESENT, ["x"]), "b:sub": (P.MISSING, None)}.get(key, (P.UNKNOWN, None))
    assert P.condition_holds("StringEquals", "A:SUB", "x", resolve) is True          # keys are case-insensitive
    assert P.condition_holds("StringEquals", "a:sub", "X", resolve) is False         # values are not
    assert P.condition_holds("StringEqualsIgnoreCase", "a:sub", "X", resolve) is True
    assert P.condition_holds("StringNotEquals", "a:sub", ["y", "z"], resolve) is True
    assert P.condition_holds("StringEquals", "b:sub", "x", resolve) is False         # missing key
    assert P.condition_holds("StringNotEquals", "b:sub", "x", resolve) is True       # negated on missing key
    assert P.condition_holds("StringEqualsIfExists", "b:sub", "x", resolve) is True
    assert P.condition_holds("ForAllValues:StringEquals", "b:sub", "x", resolve) is True
    assert P.condition_holds("ForAnyValue:StringEquals", "b:sub", "x", resolve) is False
    assert P.condition_holds("Null", "b:sub", "true", resolve) is True
    assert P.condition_holds("Null", "a:sub", "true", resolve) is False
    assert P.condition_holds("StringEquals", "aws:sourceip", "x", resolve) is None   # unknown
    assert P.condition_holds("NumericLessThan", "a:sub", "1", resolve) is None       # unsupported operator


# ---------------------------------------------------------------- trust matcher
def test_ccoctl_policy_admits_its_service_accounts_and_no_others():
    document = doc(trust({"StringEquals": {HP + ":sub": [SA, SA2]}}))
    result = evaluate(document, [SA, SA2, "system:serviceaccount:ns:other"])
    assert result["provider_trusted"] is True
    assert result["federated"] == [ARN]
    assert result["subjects"][SA]["allowed"] and result["subjects"][SA2]["allowed"]
    other = result["subjects"]["system:serviceaccount:ns:other"]
    assert other["allowed"] is False
    assert "StringEquals" in other["reason"] and SA in other["reason"]
    assert result["audience_ok"] is True


def test_string_value_and_list_value_are_equivalent():
    assert evaluate(doc(trust({"StringEquals": {HP + ":sub": SA}})))["subjects"][SA]["allowed"]
    assert evaluate(doc(trust({"StringEquals": {HP + ":sub": [SA]}})))["subjects"][SA]["allowed"]


def test_semantic_comparison_ignores_formatting_and_action_case():
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":["%s"]},' \
           '"Action":["STS:AssumeRoleWithWebIdentity"],"Condition":{"StringEquals":{"%s:SUB":"%s"}}}}' % (ARN, HP.upper(), SA)
    document = P.load_policy(quote(text))
    assert evaluate(document)["subjects"][SA]["allowed"]


@pytest.mark.parametrize("operator, value, allowed", [
    ("StringLike", "system:serviceaccount:openshift-image-registry:*", True),
    ("StringLike", ["system:serviceaccount:other:*", "system:serviceaccount:openshift-*:registry"], True),
    ("StringLike", "system:serviceaccount:openshift-image-registry:reg?stry", True),
    ("StringLike", "system:serviceaccount:kube-system:*", False),
    ("StringEquals", "system:serviceaccount:openshift-image-registry:*", False),   # no wildcards in StringEquals
    ("ForAnyValue:StringLike", "system:serviceaccount:openshift-image-registry:*", True),
    ("ForAnyValue:StringEquals", [SA, SA2], True),
    ("ForAllValues:StringEquals", [SA2], False),
    ("StringNotEquals", SA, False),
    ("StringNotLike", "system:serviceaccount:kube-system:*", True),
])
def test_sub_condition_variants(operator, value, allowed):
    result = evaluate(doc(trust({operator: {HP + ":sub": value}})))
    assert result["subjects"][SA]["allowed"] is allowed


def test_other_provider_is_a_provider_mismatch():
    result = evaluate(doc(trust({"StringEquals": {OLD + ":sub": SA}}, federated=OLD_ARN)))
    assert result["provider_trusted"] is False
    assert result["federated"] == [OLD_ARN]
    assert result["subjects"] == {}


def test_condition_key_of_old_issuer_is_a_subject_mismatch():
    result = evaluate(doc(trust({"StringEquals": {OLD + ":sub": SA}})))
    assert result["provider_trusted"] is True
    verdict = result["subjects"][SA]
    assert verdict["allowed"] is False
    assert "another issuer" in verdict["reason"] and OLD + ":sub" in verdict["reason"]


def test_two_providers_in_one_statement_with_both_sub_keys_fails():
    """One statement for the old and the new provider: both :sub keys must hold, and a token has only one."""
    document = doc(trust({"StringEquals": {OLD + ":sub": SA, HP + ":sub": SA}}, federated=[OLD_ARN, ARN]))
    result = evaluate(document)
    assert result["provider_trusted"] is True
    assert result["federated"] == [OLD_ARN, ARN]
    assert result["subjects"][SA]["allowed"] is False
    assert "another issuer" in result["subjects"][SA]["reason"]


def test_two_providers_in_one_statement_with_own_key_only_passes():
    document = doc(trust({"StringEquals": {HP + ":sub": SA}}, federated=[OLD_ARN, ARN]))
    assert evaluate(document)["subjects"][SA]["allowed"] is True


def test_multiple_statements_any_allow_suffices():
    document = doc(trust({"StringEquals": {OLD + ":sub": SA}}, federated=OLD_ARN),
                   trust({"StringEquals": {HP + ":sub": SA2}}),
                   trust({"StringLike": {HP + ":sub": "system:serviceaccount:openshift-image-registry:*"}}))
    result = evaluate(document, [SA, SA2])
    assert result["subjects"][SA]["allowed"] and result["subjects"][SA2]["allowed"]
    assert result["federated"] == [OLD_ARN, ARN]


def test_explicit_deny_wins():
    document = doc(trust({"StringLike": {HP + ":sub": "system:serviceaccount:*"}}, Sid="AllowAll"),
                   trust({"StringEquals": {HP + ":sub": SA}}, effect="Deny", Sid="DenyRegistry"))
    result = evaluate(document, [SA, SA2])
    assert result["subjects"][SA]["allowed"] is False
    assert "DenyRegistry" in result["subjects"][SA]["reason"]
    assert result["subjects"][SA2]["allowed"] is True


def test_deny_with_unknown_condition_is_not_counted():
    document = doc(trust({"StringEquals": {HP + ":sub": SA}}),
                   trust({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, effect="Deny"))
    assert evaluate(document)["subjects"][SA]["allowed"] is True


def test_allow_with_unknown_extra_condition_is_counted():
    document = doc(trust({"StringEquals": {HP + ":sub": SA, "aws:RequestTag/team": "x"}}))
    assert evaluate(document)["subjects"][SA]["allowed"] is True


def test_audience_condition_excluding_openshift():
    document = doc(trust({"StringEquals": {HP + ":sub": SA, HP + ":aud": "sts.amazonaws.com"}}))
    result = evaluate(document)
    assert result["audience_ok"] is False
    assert result["subjects"][SA]["reason"] == "audience"
    assert result["audience_conditions"] == [{"StringEquals": {HP + ":aud": "sts.amazonaws.com"}}]


def test_audience_condition_admitting_openshift_and_no_subjects():
    document = doc(trust({"StringEquals": {HP + ":aud": ["openshift", "sts.amazonaws.com"]}}))
    result = evaluate(document, [])
    assert result["audience_ok"] is True and result["subjects"] == {}
    assert evaluate(doc(trust({"StringEquals": {HP + ":aud": "sts.amazonaws.com"}})), [])["audience_ok"] is False


def test_wrong_action_or_effect_or_principal_type():
    assert not evaluate(doc(trust({}, action="sts:AssumeRole")))["provider_trusted"]
    assert evaluate(doc(trust({}, action="sts:*")))["provider_trusted"]
    assert not evaluate(doc({"Effect": "Allow", "Principal": {"AWS": ARN}, "Action": "sts:AssumeRoleWithWebIdentity"}))[
        "provider_trusted"]
    assert not evaluate({"Statement": "garbage"})["provider_trusted"]


def test_statement_is_public():
    assert P.statement_is_public({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})
    assert P.statement_is_public({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject"})
    assert not P.statement_is_public({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}})
    assert not P.statement_is_public({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                      "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/E"}}})
    assert P.statement_is_public({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                  "Condition": {"Bool": {"aws:SecureTransport": "true"}}})


@pytest.mark.parametrize("value, expected", [
    ("system:serviceaccount:ns:sa", "system:serviceaccount:ns:sa"),
    ({"namespace": "ns", "name": "sa"}, "system:serviceaccount:ns:sa"),
])
def test_normalize_subject(value, expected):
    assert I.normalize_subject(value) == expected


@pytest.mark.parametrize("value", ["ns:sa", "system:serviceaccount:ns", {"namespace": "ns"},
                                   {"namespace": "ns", "name": "a", "x": 1}, 42])
def test_normalize_subject_rejects(value):
    with pytest.raises(ValueError):
        I.normalize_subject(value)


def test_parse_role_arn_and_partitions():
    assert I.parse_role_arn("arn:aws:iam::123456789012:role/a/b/name") == {
        "partition": "aws", "account": "123456789012", "name": "name", "path": "/a/b/"}
    assert I.parse_role_arn("arn:aws-us-gov:iam::123456789012:role/r")["partition"] == "aws-us-gov"
    with pytest.raises(ValueError):
        I.parse_role_arn("arn:aws:iam::123456789012:user/r")
    assert [I.partition_for_region(r) for r in ("us-gov-west-1", "cn-north-1", "eusc-de-east-1", "eu-west-1", None)] == [
        "aws-us-gov", "aws-cn", "aws-eusc", "aws", "aws"]


def test_find_provider_exact_and_near_misses():
    arns = ["arn:aws:iam::1:oidc-provider/" + HP + "/", "arn:aws:iam::1:oidc-provider/" + HP.upper(),
            "arn:aws:iam::1:oidc-provider/unrelated.example.com"]
    assert I.find_provider(arns, HP) == (None, [HP + "/", HP.upper()])
    assert I.find_provider(arns + [ARN], HP)[0] == ARN


def test_condition_key_with_unknown_prefix_is_never_present():
    """A key that is neither aws:, sts: nor this issuer's (a typo, an unrendered template) never holds."""
    result = evaluate(doc(trust({"StringEquals": {"{{ issuer_host }}:sub": SA}})))
    assert result["subjects"][SA]["allowed"] is False
    assert "{{ issuer_host }}:sub belongs to another issuer" in result["subjects"][SA]["reason"]
    assert evaluate(doc(trust({"StringEquals": {HP + ":sub": SA, "sts:RoleSessionName": "x"}})))["subjects"][SA]["allowed"]
