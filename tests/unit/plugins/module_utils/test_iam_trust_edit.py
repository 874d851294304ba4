"""Unit tests of the role names and trust-policy edits of iam_role_trust (pure functions)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _iam_trust_edit as E

ACCOUNT = "123456789012"
NEW_HOST = "d111111abcdef8.cloudfront.net"
OLD_HOST = "mycluster-oidc.s3.us-east-2.amazonaws.com"
NEW = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, NEW_HOST)
OLD = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, OLD_HOST)
THIRD = "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC" % ACCOUNT
SUBS = ["system:serviceaccount:openshift-machine-api:machine-api-controllers"]
SUBS2 = ["system:serviceaccount:openshift-image-registry:cluster-image-registry-operator",
         "system:serviceaccount:openshift-image-registry:registry"]

# ccoctl's trust policy, as create-iam-roles.go formats it (field notes §6.7).
CCOCTL_TEMPLATE = ('{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "Federated": "%s" }, '
                   '"Action": "sts:AssumeRoleWithWebIdentity", "Condition":  { "StringEquals": { "%s:sub": %s } } } ] }')


def ccoctl_text(provider, subjects):
    """ccoctl's document text for a provider and subjects (its list formatting included)."""
    listing = "[ " + " , ".join('"%s"' % item for item in subjects) + " ]"
    return CCOCTL_TEMPLATE % (provider, provider.split("oidc-provider/", 1)[1], listing)


def ccoctl(provider, subjects):
    """ccoctl's document, parsed."""
    return json.loads(ccoctl_text(provider, subjects))


def statement(provider, subjects, operator="StringEquals", **extra):
    """A trust statement for a provider."""
    host = provider.split("oidc-provider/", 1)[1]
    result = {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {operator: {host + ":sub": subjects}}}
    result.update(extra)
    return result


DENY = {"Sid": "NoOldPods", "Effect": "Deny", "Principal": {"Federated": OLD}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {OLD_HOST + ":sub": "system:serviceaccount:kube-system:*"}}}
ADMIN = {"Sid": "BreakGlass", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole"}
SAML = {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::%s:saml-provider/corp" % ACCOUNT},
        "Action": "sts:AssumeRoleWithSAML", "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}


# ---------------------------------------------------------------- names
def test_ccoctl_name_is_cut_to_64_characters():
    """The field notes' example: ccoctl cuts, without a hash."""
    assert E.ccoctl_role_name("jdiaz-stsfull", "openshift-image-registry", "installer-cloud-credentials") == \
        "jdiaz-stsfull-openshift-image-registry-installer-cloud-credentia"
    assert E.ccoctl_role_name("c", "ns", "s") == "c-ns-s"


def test_hashed_name_is_short_stable_and_distinct():
    """55 characters, '-', 8 hex digits of the full name's SHA-256; different full names, different names."""
    one = E.hashed_role_name("jdiaz-stsfull", "openshift-image-registry", "installer-cloud-credentials")
    two = E.hashed_role_name("jdiaz-stsfull", "openshift-image-registry", "installer-cloud-credentials-2")
    assert one == E.hashed_role_name("jdiaz-stsfull", "openshift-image-registry", "installer-cloud-credentials")
    assert len(one) <= 64 and len(two) <= 64
    assert one[:-9] == two[:-9] and one != two
    assert one.startswith("jdiaz-stsfull-openshift-image-registry-installer-cloud")
    assert E.role_name_problem(one) is None
    assert E.hashed_role_name("c", "ns", "s").startswith("c-ns-s-")


def test_hashed_name_does_not_end_the_cut_with_a_dash():
    """A cut that ends on '-' is trimmed so the name has no '--'."""
    prefix = "p" * 54
    name = E.hashed_role_name(prefix, "ns", "secret")  # the cut at 55 characters is the prefix and "-"
    assert name.startswith(prefix + "-") and "--" not in name and len(name) == 63


def _role(namespace, secret, name=None):
    return {"name": name, "namespace": namespace, "secret_name": secret}


def test_plan_without_collision_offers_ccoctl_then_hashed_name():
    """Each derived role may take ccoctl's name (the module falls back to the hashed one)."""
    plans = E.plan_names([_role("openshift-machine-api", "aws-cloud-credentials"),
                          _role("ns", "s", name="explicit-role")], "mycluster")
    assert plans[0]["source"] == "derived"
    assert plans[0]["candidates"] == ["mycluster-openshift-machine-api-aws-cloud-credentials",
                                      E.hashed_role_name("mycluster", "openshift-machine-api", "aws-cloud-credentials")]
    assert plans[1] == {"name": "explicit-role", "source": "given"}


def test_two_requests_with_the_same_64_character_name_both_get_hashed_names():
    """ccoctl would give both the same role; here each gets its own stable name, whatever the order."""
    prefix = "a-very-long-infrastructure-name-x7k2p"
    first = _role("openshift-cloud-credential-operator", "cloud-credential-operator-iam-ro-creds")
    second = _role("openshift-cloud-credential-operator", "cloud-credential-operator-iam-ro-creds-2")
    assert E.ccoctl_role_name(prefix, first["namespace"], first["secret_name"]) == \
        E.ccoctl_role_name(prefix, second["namespace"], second["secret_name"])
    plans = E.plan_names([first, second], prefix)
    names = [plan["candidates"] for plan in plans]
    assert all(len(candidates) == 1 for candidates in names)
    assert names[0] != names[1]
    assert all(plan["collision"] for plan in plans)
    assert [p["candidates"] for p in E.plan_names([second, first], prefix)] == names[::-1]


def test_a_derived_name_equal_to_a_given_name_is_hashed():
    """A derived name must not take a role named explicitly in the same call."""
    plans = E.plan_names([_role("ns", "s", name="c-ns-s"), _role("ns", "s")], "c")
    assert plans[1]["candidates"] == [E.hashed_role_name("c", "ns", "s")]


@pytest.mark.parametrize("roles, prefix, message", [
    ([_role("ns", "s"), _role("ns", "s")], "c", "listed twice"),
    ([_role("ns", "s", name="r"), _role("x", "y", name="r")], "c", "listed twice"),
    ([_role("ns", "s")], None, "needs name_prefix"),
    ([_role("ns", None)], "c", "needs name_prefix"),
    ([_role("ns", "s", name="bad name")], None, "not a valid IAM role name"),
    ([_role("ns", "s", name="x" * 65)], None, "not a valid IAM role name"),
    ([_role("ns", "s/ash")], "c", "not a valid IAM role name"),
])
def test_plan_refuses_duplicates_and_underivable_names(roles, prefix, message):
    """Duplicates and names that cannot be derived fail before anything is done."""
    with pytest.raises(ValueError, match=message):
        E.plan_names(roles, prefix)


def test_cluster_ownership_from_tags():
    """ccoctl's tag, this collection's prefix tag, or all the given cluster tags."""
    assert E.belongs_to_cluster([{"Key": "openshift.io/cloud-credential-operator/c", "Value": "owned"}], "c", {})
    assert not E.belongs_to_cluster([{"Key": "openshift.io/cloud-credential-operator/d", "Value": "owned"}], "c", {})
    assert E.belongs_to_cluster({E.NAME_PREFIX_TAG: "c"}, "c", {})
    assert E.belongs_to_cluster({"team": "x", "cluster": "c"}, None, {"cluster": "c"})
    assert not E.belongs_to_cluster({"cluster": "c"}, None, {"cluster": "c", "team": "x"})
    assert not E.belongs_to_cluster([], "c", {})


def test_only_roles_created_by_the_module_for_this_cluster_may_be_deleted():
    """The created-by mark is required; prefix and cluster tags must agree."""
    tags = E.creation_tags("c", {"openshift_sts.oidc/cluster": "one"})
    assert tags[E.CREATED_BY_TAG] == "iam_role_trust"
    assert tags["openshift.io/cloud-credential-operator/c"] == "owned" and tags["Name"] == "c"
    assert E.created_by_module(tags, "c", {"openshift_sts.oidc/cluster": "one"})
    assert E.created_by_module(tags, None, {})
    assert not E.created_by_module(tags, "other", {})
    assert not E.created_by_module(tags, "c", {"openshift_sts.oidc/cluster": "two"})
    assert not E.created_by_module({"openshift.io/cloud-credential-operator/c": "owned"}, "c", {})


# ---------------------------------------------------------------- documents
def test_new_role_documents_have_ccoctl_shape():
    """Trust policy and inline policy as ccoctl writes them."""
    assert E.trust_document(NEW, SUBS2) == ccoctl(NEW, SUBS2)
    entries = [{"effect": "Allow", "action": ["ec2:DescribeInstances"], "resource": "*", "policy_condition": None},
               {"effect": "Allow", "action": ["kms:Decrypt"], "resource": "*",
                "policy_condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}]
    assert E.permissions_document(entries) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}]}
    assert E.subjects("ns", ["a", "b", "a"]) == ["system:serviceaccount:ns:a", "system:serviceaccount:ns:b"]


# ---------------------------------------------------------------- replace
def test_replace_rewrites_a_ccoctl_document_to_the_new_provider():
    """The old provider's statement becomes the new one's, in its place."""
    edited = E.edit_trust(ccoctl(OLD, SUBS2), "replace", NEW, SUBS2)
    assert edited == ccoctl(NEW, SUBS2)


def test_replace_keeps_other_statements_and_their_order():
    """Deny, AWS principals and SAML stay; the new statement takes the first removed one's place."""
    document = {"Version": "2012-10-17", "Id": "keep-me",
                "Statement": [ADMIN, statement(OLD, SUBS), DENY, SAML, statement(THIRD, SUBS)]}
    edited = E.edit_trust(document, "replace", NEW, SUBS)
    assert edited["Id"] == "keep-me"
    assert edited["Statement"] == [ADMIN, E.trust_statement(NEW, SUBS), DENY, SAML]
    assert document["Statement"][1] == statement(OLD, SUBS), "the input is not modified"


def test_replace_appends_when_no_provider_statement_exists():
    """A role trusting only an AWS principal gets the statement at the end."""
    edited = E.edit_trust({"Version": "2012-10-17", "Statement": ADMIN}, "replace", NEW, SUBS)
    assert edited["Statement"] == [ADMIN, E.trust_statement(NEW, SUBS)]


def test_replace_splits_a_statement_naming_two_providers():
    """The old provider and its condition keys leave; the new provider's part is refreshed."""
    mixed = {"Effect": "Allow", "Principal": {"Federated": [OLD, NEW]}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {OLD_HOST + ":sub": SUBS, NEW_HOST + ":sub": SUBS}}}
    edited = E.edit_trust({"Statement": [mixed]}, "replace", NEW, SUBS)
    assert edited["Statement"] == [E.trust_statement(NEW, SUBS)]


# ---------------------------------------------------------------- add
def test_add_keeps_the_old_provider_and_appends_the_new_one():
    """Live migration: both issuers' tokens work."""
    edited = E.edit_trust(ccoctl(OLD, SUBS2), "add", NEW, SUBS2)
    assert edited["Statement"] == [ccoctl(OLD, SUBS2)["Statement"][0], E.trust_statement(NEW, SUBS2)]
    assert E.same_meaning(E.edit_trust(edited, "add", NEW, SUBS2), edited)


def test_add_refreshes_the_new_statement_in_place_keeping_sid_action_and_other_conditions():
    """Subjects are set; Sid, Action, the :aud and aws: conditions stay; another provider's key goes."""
    stale = {"Sid": "NewIssuer", "Effect": "Allow", "Principal": {"Federated": NEW},
             "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
             "Condition": {"StringEquals": {NEW_HOST + ":aud": "openshift", OLD_HOST + ":sub": SUBS},
                           "StringLike": {NEW_HOST + ":sub": "system:serviceaccount:openshift-machine-api:*"},
                           "Bool": {"aws:SecureTransport": "true"}}}
    edited = E.edit_trust({"Version": "2012-10-17", "Statement": [stale, statement(OLD, SUBS)]}, "add", NEW, SUBS)
    assert edited["Statement"][1] == statement(OLD, SUBS)
    assert edited["Statement"][0] == {
        "Sid": "NewIssuer", "Effect": "Allow", "Principal": {"Federated": NEW},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        "Condition": {"StringEquals": {NEW_HOST + ":aud": "openshift", NEW_HOST + ":sub": SUBS},
                      "Bool": {"aws:SecureTransport": "true"}}}


def test_add_merges_several_statements_for_the_new_provider():
    """One statement per service account becomes one statement, at the first one's place."""
    document = {"Statement": [statement(NEW, SUBS2[:1]), ADMIN, statement(NEW, SUBS2[1:])]}
    edited = E.edit_trust(document, "add", NEW, SUBS2)
    assert edited["Statement"] == [E.trust_statement(NEW, SUBS2), ADMIN]


def test_add_splits_a_two_provider_statement_keeping_the_old_part():
    """The old provider's part of a mixed statement stays, without the new provider's keys."""
    mixed = {"Effect": "Allow", "Principal": {"Federated": [OLD, NEW]}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {OLD_HOST + ":sub": SUBS, NEW_HOST + ":sub": SUBS}}}
    edited = E.edit_trust({"Statement": [mixed]}, "add", NEW, SUBS)
    assert edited["Statement"] == [E.trust_statement(NEW, SUBS), statement(OLD, SUBS)]


def test_add_keeps_a_deny_for_the_new_provider():
    """Deny statements are never touched, even for the new provider."""
    deny_new = dict(DENY, Principal={"Federated": NEW}, Condition={"StringLike": {NEW_HOST + ":sub": "system:serviceaccount:x:*"}})
    edited = E.edit_trust({"Statement": [deny_new]}, "add", NEW, SUBS)
    assert edited["Statement"] == [deny_new, E.trust_statement(NEW, SUBS)]


# ---------------------------------------------------------------- remove_other_providers
def test_remove_other_providers_after_add_gives_the_replace_result():
    """Cleanup: the old provider leaves, everything else stays."""
    document = {"Version": "2012-10-17", "Statement": [ADMIN, statement(OLD, SUBS), DENY, statement(NEW, SUBS), SAML]}
    edited = E.edit_trust(document, "remove_other_providers", NEW, SUBS)
    assert edited["Statement"] == [ADMIN, DENY, statement(NEW, SUBS), SAML]


def test_remove_other_providers_keeps_the_new_statement_as_written():
    """No refresh in cleanup: a StringLike statement that admits the subjects stays as it is."""
    like = statement(NEW, "system:serviceaccount:openshift-machine-api:*", operator="StringLike", Sid="Wild")
    edited = E.edit_trust({"Statement": [statement(OLD, SUBS), like]}, "remove_other_providers", NEW, SUBS)
    assert edited["Statement"] == [like]


def test_remove_other_providers_refuses_to_cut_a_role_off():
    """Without a statement for the new provider, or one not admitting a subject, nothing is removed."""
    with pytest.raises(E.TrustEditError, match="no Allow statement trusts the new provider"):
        E.edit_trust(ccoctl(OLD, SUBS), "remove_other_providers", NEW, SUBS)
    with pytest.raises(E.TrustEditError, match="do not admit system:serviceaccount:openshift-image-registry:registry"):
        E.edit_trust({"Statement": [statement(OLD, SUBS2), statement(NEW, SUBS2[:1])]}, "remove_other_providers", NEW, SUBS2)


def test_remove_other_providers_with_only_the_new_provider_changes_nothing():
    """Nothing to remove: the same document."""
    document = ccoctl(NEW, SUBS)
    assert E.edit_trust(document, "remove_other_providers", NEW, SUBS) == document


def test_remove_named_providers_only():
    """With remove_hosts, only the old issuer's provider leaves; another cluster's or tool's provider stays in place."""
    third_host = "oidc.eks.us-east-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    third = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, third_host)
    document = {"Statement": [statement(OLD, SUBS), statement(third, SUBS), DENY, statement(NEW, SUBS)]}
    edited = E.edit_trust(document, "remove_other_providers", NEW, SUBS, remove_hosts=[OLD_HOST])
    assert edited["Statement"] == [statement(third, SUBS), DENY, statement(NEW, SUBS)]
    # Without remove_hosts every other provider goes.
    assert E.edit_trust(document, "remove_other_providers", NEW, SUBS)["Statement"] == [DENY, statement(NEW, SUBS)]
    # Case and a trailing slash do not matter; a provider not named is never touched.
    assert E.edit_trust(document, "remove_other_providers", NEW, SUBS, remove_hosts=[OLD_HOST.upper() + "/"]) == edited
    assert E.edit_trust(document, "remove_other_providers", NEW, SUBS, remove_hosts=["elsewhere.example"]) == document


def test_remove_named_providers_splits_a_statement_naming_several():
    """A statement naming the old and another provider keeps the other one, without the old one's condition keys."""
    both = statement(OLD, SUBS)
    third = "arn:aws:iam::%s:oidc-provider/other.example.com" % ACCOUNT
    both["Principal"]["Federated"] = [OLD, third]
    both["Condition"]["StringEquals"]["other.example.com:sub"] = SUBS
    edited = E.edit_trust({"Statement": [both, statement(NEW, SUBS)]}, "remove_other_providers", NEW, SUBS, remove_hosts=[OLD_HOST])
    kept = edited["Statement"][0]
    assert kept["Principal"]["Federated"] == third
    assert kept["Condition"] == {"StringEquals": {"other.example.com:sub": SUBS}}
    assert edited["Statement"][1] == statement(NEW, SUBS)
    with pytest.raises(E.TrustEditError, match="no Allow statement trusts the new provider"):
        E.edit_trust({"Statement": [both]}, "remove_other_providers", NEW, SUBS, remove_hosts=[OLD_HOST])


# ---------------------------------------------------------------- semantic comparison
@pytest.mark.parametrize("variant", [
    pytest.param(lambda: ccoctl_text(NEW, SUBS2), id="ccoctl-text"),
    pytest.param(lambda: quote(ccoctl_text(NEW, SUBS2)), id="url-encoded"),
    pytest.param(lambda: json.dumps({"Statement": [statement(NEW, SUBS2[::-1])], "Version": "2012-10-17"}, indent=4),
                 id="order-and-indent"),
    pytest.param(lambda: json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": {"Federated": [NEW]}, "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {"StringEquals": {NEW_HOST + ":sub": SUBS2}}}}), id="lists-and-single-statement"),
    pytest.param(lambda: json.dumps({"Version": "2012-10-17", "Statement": [
        statement(NEW, SUBS2, operator="StringLike", Sid="Exact")]}), id="stringlike-without-wildcards"),
    pytest.param(lambda: json.dumps({"Version": "2012-10-17", "Statement": [
        statement(NEW, SUBS2, operator="ForAnyValue:StringEquals")]}), id="for-any-value"),
])
@pytest.mark.parametrize("mode", ["replace", "add"])
def test_a_document_that_already_means_the_right_thing_is_not_changed(variant, mode):
    """Whitespace, order, scalars, URL encoding and equivalent operators are no reason to rewrite."""
    current = E.policy.load_policy(variant())
    assert E.same_meaning(current, E.edit_trust(current, mode, NEW, SUBS2))


@pytest.mark.parametrize("subjects_now, operator", [
    (SUBS2[:1], "StringEquals"),
    (SUBS2 + ["system:serviceaccount:openshift-image-registry:extra"], "StringEquals"),
    ("system:serviceaccount:openshift-image-registry:*", "StringLike"),
])
def test_a_document_with_other_subjects_is_changed(subjects_now, operator):
    """Missing, extra or wildcard subjects are refreshed to the CredentialsRequest's service accounts."""
    current = {"Version": "2012-10-17", "Statement": [statement(NEW, subjects_now, operator=operator)]}
    edited = E.edit_trust(current, "add", NEW, SUBS2)
    assert not E.same_meaning(current, edited)
    assert edited["Statement"] == [E.trust_statement(NEW, SUBS2)]


def test_grants_exactly_rejects_foreign_keys_and_extra_principals():
    """Another provider's key or principal means the statement is not ccoctl's for this provider."""
    foreign = statement(NEW, SUBS)
    foreign["Condition"]["StringEquals"][OLD_HOST + ":sub"] = SUBS
    assert not E.grants_exactly(foreign, NEW, SUBS)
    assert not E.grants_exactly(dict(statement(NEW, SUBS), Principal={"Federated": NEW, "AWS": "*"}), NEW, SUBS)
    assert not E.grants_exactly(dict(statement(NEW, SUBS), Action="sts:AssumeRole"), NEW, SUBS)
    assert E.grants_exactly(dict(statement(NEW, SUBS), Action="sts:*"), NEW, SUBS)


def test_unknown_mode_is_refused():
    """Only the three modes exist."""
    with pytest.raises(ValueError):
        E.edit_trust({"Statement": []}, "merge", NEW, SUBS)


def test_pretty_and_dump():
    """Compact text for IAM; indented text for diffs (raw text when not JSON)."""
    assert E.dump({"a": [1]}) == '{"a":[1]}'
    assert E.pretty('{"a":1}') == '{\n  "a": 1\n}\n'
    assert E.pretty("not json") == "not json\n"


def test_roles_from_credentials_requests_keeps_the_secret_role_and_the_statement_entries():
    from ansible_collections.openshift_sts.oidc.plugins.module_utils._iam_trust_edit import roles_from_credentials_requests
    requests = [
        {"name": "openshift-machine-api-aws", "namespace": "openshift-machine-api", "secret_name": "aws-cloud-credentials",
         "service_accounts": ["machine-api-controllers"], "role_arn": "arn:aws:iam::123456789012:role/c-openshift-machine-api-aws",
         "policy_statements": [{"effect": "Allow", "action": ["ec2:CreateTags"], "resource": "*",
                                "policyCondition": {"StringEquals": {"aws:RequestTag/x": "y"}}}],
         "secret_found": True, "secret_manifest": "/install/manifests/x.yaml"},
        {"name": "openshift-ingress", "namespace": "openshift-ingress-operator", "secret_name": "cloud-credentials",
         "service_accounts": ["ingress-operator"], "role_arn": None, "policy_statements": []},
    ]
    roles = roles_from_credentials_requests(requests)
    assert roles[0] == {
        "name": "c-openshift-machine-api-aws", "namespace": "openshift-machine-api", "secret_name": "aws-cloud-credentials",
        "service_accounts": ["machine-api-controllers"],
        "policy_statements": [{"effect": "Allow", "action": ["ec2:CreateTags"], "resource": "*",
                               "policy_condition": {"StringEquals": {"aws:RequestTag/x": "y"}}}],
        "description": "OpenShift role for openshift-machine-api/aws-cloud-credentials"}
    assert roles[1]["name"] is None and roles[1]["secret_name"] == "cloud-credentials"
