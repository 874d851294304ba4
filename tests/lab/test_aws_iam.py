"""IAM OIDC provider client-ID calls moto lacks (field notes §3.2, §9.4)."""

import pytest


def test_add_and_remove_client_id_are_idempotent_and_visible(aws_lab):
    iam = aws_lab.client("iam")
    arn = iam.create_open_id_connect_provider(Url="https://issuer.example.com", ClientIDList=["openshift"],
                                              ThumbprintList=["A" * 40])["OpenIDConnectProviderArn"]
    assert arn == "arn:aws:iam::123456789012:oidc-provider/issuer.example.com"
    for dummy in range(2):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["Url"] == "issuer.example.com"
    assert provider["ClientIDList"] == ["openshift", "sts.amazonaws.com"]
    for dummy in range(2):
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="openshift")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com"]
    log = aws_lab.log.entries(kind="api", operation="AddClientIDToOpenIDConnectProvider")
    assert [r["status"] for r in log] == [200, 200]


def test_client_id_call_on_unknown_provider_is_no_such_entity(aws_lab):
    iam = aws_lab.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn="arn:aws:iam::123456789012:oidc-provider/nope.example.com", ClientID="x")
