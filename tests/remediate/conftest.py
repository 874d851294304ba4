"""Fixtures of the remediate.yml tests: one in-process lab per pytest worker, a write recorder, worlds closed after each test."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lab.scenarios import build_world  # noqa: E402  # pylint: disable=wrong-import-position
from lab.world import Lab  # noqa: E402  # pylint: disable=wrong-import-position

from remediate_harness import ExposureRecorder  # noqa: E402  # pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def remediate_lab(tmp_path_factory):
    """One lab (AWS twin, public internet) per pytest worker; each test resets it."""
    lab = Lab(state_dir=str(tmp_path_factory.mktemp("lab")))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def exposure(remediate_lab):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """Records the bodies of every S3 call of the lab that could make a bucket or object public (see ExposureRecorder)."""
    recorder = ExposureRecorder(remediate_lab)
    recorder.install()
    try:
        yield recorder
    finally:
        recorder.uninstall()


@pytest.fixture
def make_world(remediate_lab, exposure):  # pylint: disable=redefined-outer-name,unused-argument  # fixture order: recorder first
    """``make_world(scenario, params=None) -> lab.scenarios.World`` built before install (no cluster twin) in the reset lab.

    Every world built is closed after the test; the lab's faults, CloudFront deploy delay and clock are reset.
    """
    remediate_lab.reset()
    remediate_lab.aws.cloudfront.deploy_seconds = 0.0
    remediate_lab.aws.sts.idp_timeout = 5.0
    remediate_lab.aws.sts.max_keys = 100
    worlds = []

    def build(scenario, params=None):
        world = build_world(remediate_lab, scenario, params, cluster=False)
        worlds.append(world)
        return world

    try:
        yield build
    finally:
        for world in worlds:
            world.close()
        remediate_lab.faults.clear()
        remediate_lab.aws.cloudfront.deploy_seconds = 0.0
