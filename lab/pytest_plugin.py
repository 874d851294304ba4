"""pytest fixtures for the lab (AWS twin).

Use it from a conftest with ``pytest_plugins = ["lab.pytest_plugin"]`` (top-level
conftest) or by importing the fixtures::

    from lab.pytest_plugin import aws_lab, lab_world  # noqa: F401

* ``lab_world`` (session): one in-process :class:`lab.world.Lab` per pytest
  worker, started once, its state directory under pytest's temporary directory.
* ``aws_lab`` (function): the same lab reset to an empty world, wrapped in an
  :class:`AwsLab` with client factories.
* ``lab_scenario`` (function): a factory building scenario worlds
  (:func:`lab.scenarios.build_world`) in that reset lab, closed after the test.

Suites that need another shape of fixture build it from :func:`fresh_lab` (reset
before, faults and CloudFront delay cleared after) and :func:`scenario_worlds`
(a world factory whose worlds are closed after).
"""

import contextlib

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


def reset_lab(lab):
    """Back to an empty world with the test defaults: no CloudFront deploy delay, STS IdP timeout 5 s, 100 JWKS keys."""
    lab.reset()
    lab.aws.cloudfront.deploy_seconds = 0.0
    lab.aws.sts.idp_timeout = 5.0
    lab.aws.sts.max_keys = 100


@contextlib.contextmanager
def fresh_lab(lab):
    """Reset ``lab`` (:func:`reset_lab`) for one test; afterwards clear its faults and CloudFront deploy delay."""
    reset_lab(lab)
    try:
        yield lab
    finally:
        lab.faults.clear()
        lab.aws.cloudfront.deploy_seconds = 0.0


@contextlib.contextmanager
def scenario_worlds(lab, default_cluster=True):
    """Yields ``build(scenario, params=None, cluster=default_cluster) -> lab.scenarios.World``; every world built is closed after."""
    from lab.scenarios import build_world  # pylint: disable=import-outside-toplevel  # the AWS fixtures do not need it

    worlds = []

    def build(scenario, params=None, cluster=default_cluster):
        world = build_world(lab, scenario, params, cluster=cluster)
        worlds.append(world)
        return world

    try:
        yield build
    finally:
        for world in worlds:
            world.close()


@pytest.fixture(scope="session")
def lab_world(tmp_path_factory):
    """One lab (AWS twin, public internet) per pytest worker; function fixtures reset it."""
    with Lab(state_dir=str(tmp_path_factory.mktemp("lab"))) as lab:
        yield lab


@pytest.fixture
def aws_lab(lab_world):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """The session lab, reset to an empty world for this test."""
    with fresh_lab(lab_world):
        yield AwsLab(lab_world)


@pytest.fixture
def lab_scenario(aws_lab):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """A factory building scenario worlds in the (reset) session lab: ``lab_scenario("broken-private-bucket")``.

    Signature: ``lab_scenario(scenario, params=None, cluster=True) -> lab.scenarios.World``; every world
    built is closed (its cluster twin stopped) after the test, before the lab's faults are cleared.
    """
    with scenario_worlds(aws_lab.lab) as build:
        yield build
