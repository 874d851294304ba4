"""Fixtures and helpers for the OpenShift twin's tests: a pytest plugin of tests/lab/test_openshift_*.py.

Fixture names carry an ``ocp_`` prefix so that they never clash with fixtures
of a tests/lab/conftest.py. PYTEST_DONT_REWRITE (test modules import helpers
from here before pytest registers the plugin; there are no assertions here).

Tests talk to the twin only through the plain kubernetes client, requests,
PyJWT and cryptography, never through the collection's code.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from kubernetes import client  # noqa: E402  pylint: disable=wrong-import-position

from lab.ca import LabCA  # noqa: E402  pylint: disable=wrong-import-position
from lab.openshift import ClusterTwin, generate_key  # noqa: E402  pylint: disable=wrong-import-position

ISSUER = "https://lab-oidc.s3.us-east-2.amazonaws.com"
NEW_ISSUER = "https://d1a2b3c4d5e6f7.cloudfront.net"


@pytest.fixture(scope="session")
def ocp_ca():
    """One CA for the session."""
    return LabCA()


@pytest.fixture(scope="session")
def ocp_keys():
    """Keys generated once: [previous, current, spare]."""
    return [generate_key(), generate_key(), generate_key()]


@pytest.fixture()
def ocp_twin(ocp_ca, ocp_keys, tmp_path):  # pylint: disable=redefined-outer-name  # pytest fixtures
    """A started twin (current key = ocp_keys[1], previous trusted = ocp_keys[0]); stopped after the test."""
    instance = ClusterTwin(ocp_ca, issuer=ISSUER, signing_keys=[ocp_keys[1]], previous_keys=[ocp_keys[0]],
                           rollout_seconds=0.3)
    instance.start()
    instance.test_env = instance.env(str(tmp_path / "env"))
    yield instance
    instance.stop()


def api_client(twin_instance, token=None):
    """A kubernetes ApiClient for the twin with ``token`` (admin by default)."""
    configuration = client.Configuration()
    configuration.host = twin_instance.url
    configuration.ssl_ca_cert = twin_instance.test_env["K8S_AUTH_SSL_CA_CERT"]
    configuration.verify_ssl = True
    if token != "":
        configuration.api_key = {"authorization": "Bearer " + (token or twin_instance.admin_token)}
    return client.ApiClient(configuration)


@pytest.fixture()
def ocp_kube(ocp_twin):  # pylint: disable=redefined-outer-name  # pytest fixtures
    """An admin ApiClient."""
    api = api_client(ocp_twin)
    yield api
    api.close()
