"""pytest fixtures for the lab (AWS twin).

Use it from a conftest with ``pytest_plugins = ["lab.pytest_plugin"]`` (top-level
conftest) or by importing the fixtures::

    from lab.pytest_plugin import aws_lab, lab_world  # noqa: F401

* ``lab_world`` (session): one in-process :class:`lab.world.Lab`, started once.
* ``aws_lab`` (function): the same lab reset to an empty world, wrapped in an
  :class:`AwsLab` with client factories.
* ``lab_scenario`` (function): a factory building scenario worlds
  (:func:`lab.scenarios.build_world`) in that reset lab, closed after the test.
"""

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from lab.world import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, Lab


class AwsLab:
    """Handles for tests: boto3 clients, an HTTP session through the lab's internet, the lab's knobs."""

    def __init__(self, lab):
        self.lab = lab
        self.env = lab.env()
        self.region = lab.region
        self.endpoint_url = lab.aws.url
        self.proxy_url = lab.internet.proxy_url
        self.ca_bundle = lab.ca_bundle
        self.log = lab.log
        self.faults = lab.faults
        self.clock = lab.clock
        self.internet = lab.internet
        self.aws = lab.aws

    def client(self, service, region=None, unsigned=False, max_attempts=1, **kwargs):
        """A boto3 client for the twin (dummy credentials; ``unsigned`` sends no signature).

        Retries default to one attempt so injected faults are seen as they are.
        """
        config = Config(retries={"total_max_attempts": max_attempts, "mode": "standard"},
                        signature_version=botocore.UNSIGNED if unsigned else None)
        session = boto3.session.Session(aws_access_key_id=DUMMY_ACCESS_KEY, aws_secret_access_key=DUMMY_SECRET_KEY,
                                        region_name=region or self.region)
        client = session.client(service, endpoint_url=self.endpoint_url, config=config, **kwargs)
        if service == "s3control":
            client.meta.events.register("before-sign.s3-control.*", _strip_account_prefix)
        return client

    def http(self):
        """A requests session that reaches the lab's public internet (proxy + CA bundle)."""
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"https": self.proxy_url, "http": self.proxy_url}
        session.verify = self.ca_bundle
        return session

    def get(self, url, **kwargs):
        """``GET url`` through the lab's public internet."""
        with self.http() as session:
            return session.get(url, timeout=kwargs.pop("timeout", 10), **kwargs)


def _strip_account_prefix(request, **_kwargs):
    """s3control prefixes the host with the account id; the loopback endpoint has no such name."""
    url = request.url
    scheme, rest = url.split("://", 1)
    host, path = rest.partition("/")[::2]
    if host.split(".", 1)[0].isdigit() and host.count(".") > 3:
        request.url = f"{scheme}://{host.split('.', 1)[1]}/{path}"


@pytest.fixture(scope="session")
def lab_world():
    """One lab for the whole session."""
    lab = Lab()
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def aws_lab(lab_world):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """The session lab, reset to an empty world for this test."""
    lab_world.reset()
    lab_world.aws.cloudfront.deploy_seconds = 0.0
    lab_world.aws.sts.idp_timeout = 5.0
    lab_world.aws.sts.max_keys = 100
    yield AwsLab(lab_world)
    lab_world.faults.clear()


@pytest.fixture
def lab_scenario(aws_lab):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """A factory building scenario worlds in the (reset) session lab: ``lab_scenario("broken-private-bucket")``.

    Signature: ``lab_scenario(scenario, params=None, cluster=True) -> lab.scenarios.World``; every world
    built is closed (its cluster twin stopped) after the test.
    """
    from lab.scenarios import build_world  # pylint: disable=import-outside-toplevel  # the AWS fixtures do not need it

    worlds = []

    def build(scenario, params=None, cluster=True):
        world = build_world(aws_lab.lab, scenario, params, cluster=cluster)
        worlds.append(world)
        return world

    yield build
    for world in worlds:
        world.close()
