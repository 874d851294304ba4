"""Fixtures of the integration driver: a running lab for the targets that need one."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lab.openshift import ClusterTwin  # noqa: E402  # pylint: disable=wrong-import-position
# one lab per test process, never reset: targets name their resources uniquely
from lab.pytest_plugin import lab_world  # noqa: E402,F401,F811  # pylint: disable=wrong-import-position,unused-import  # a fixture

OPENSHIFT_ISSUER = "https://lab-oidc-twin.s3.us-east-1.amazonaws.com"
# get/list/watch on what cluster_trust_info reads, except core Secrets.
NO_SECRETS_RULES = tuple((verb, group, resource) for verb in ("get", "list", "watch") for group, resource in (
    ("config.openshift.io", "*"), ("operator.openshift.io", "*"), ("cloudcredential.openshift.io", "*"),
    ("", "pods"), ("", "namespaces"), ("", "serviceaccounts"), ("", "configmaps")))


@pytest.fixture
def lab_env(lab_world):  # noqa: F811  # pylint: disable=redefined-outer-name
    """The environment a user's shell or AAP would give ansible-playbook for this lab."""
    return dict(lab_world.env())


@pytest.fixture
def openshift_env(lab_world, tmp_path):  # noqa: F811  # pylint: disable=redefined-outer-name
    """A fresh OpenShift twin for one target (aliases ``needs/openshift``), with the lab's CA and the default CredentialsRequests.

    Returns what AAP's OpenShift credential injects (``K8S_AUTH_*``) plus ``KUBECONFIG`` and ``LAB_OPENSHIFT_INFO``,
    the path of a JSON file describing the twin for the target's assertions: ``issuer``, ``credentials_requests``
    (name, secret_namespace, secret_name, service_accounts, role_name, role_arn) and ``kids`` (of /openid/v1/jwks),
    and ``LAB_OPENSHIFT_NO_SECRETS_TOKEN``, the bearer token of an identity that may read everything the chain needs
    but Secrets (HTTP 403 on them), for the targets' "insufficient RBAC" cases.
    """
    twin = ClusterTwin(lab_world.ca, issuer=OPENSHIFT_ISSUER, rollout_seconds=0.5)
    twin.start()
    try:
        directory = tmp_path / "openshift"
        env = twin.env(str(directory))
        summary = twin.add_credentials_requests("default")
        info = {"issuer": OPENSHIFT_ISSUER, "url": twin.url, "credentials_requests": summary,
                "kids": [key["kid"] for key in twin.jwks()["keys"]]}
        info_path = directory / "openshift.json"
        info_path.write_text(json.dumps(info, indent=2))
        env["LAB_OPENSHIFT_INFO"] = str(info_path)
        env["LAB_OPENSHIFT_NO_SECRETS_TOKEN"] = twin.add_token(NO_SECRETS_RULES, name="lab-no-secrets")
        yield env
    finally:
        twin.stop()
