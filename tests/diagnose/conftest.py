"""Fixtures of the diagnose.yml tests: one in-process lab per pytest worker, worlds closed after each test."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lab.scenarios import build_world  # noqa: E402  # pylint: disable=wrong-import-position
from lab.world import Lab  # noqa: E402  # pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def diagnose_lab(tmp_path_factory):
    """One lab (AWS twin, public internet) per pytest worker; each test resets it."""
    lab = Lab(state_dir=str(tmp_path_factory.mktemp("lab")))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def make_world(diagnose_lab):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """A factory building scenario worlds in the reset lab: ``make_world("broken-private-bucket", cluster=True)``.

    Signature: ``make_world(scenario, params=None, cluster=True) -> lab.scenarios.World``. Every world
    built is closed (its cluster twin stopped) after the test, and the lab's faults are cleared.
    """
    diagnose_lab.reset()
    diagnose_lab.aws.cloudfront.deploy_seconds = 0.0
    diagnose_lab.aws.sts.idp_timeout = 5.0
    diagnose_lab.aws.sts.max_keys = 100
    worlds = []

    def build(scenario, params=None, cluster=True):
        world = build_world(diagnose_lab, scenario, params, cluster=cluster)
        worlds.append(world)
        return world

    try:
        yield build
    finally:
        for world in worlds:
            world.close()
        diagnose_lab.faults.clear()
