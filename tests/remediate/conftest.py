"""Fixtures of the remediate.yml tests: one in-process lab per pytest worker, a write recorder, worlds closed after each test."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# fixtures are found by name; the lab is importable only after the path insert
from lab.pytest_plugin import fresh_lab, lab_world, scenario_worlds  # noqa: E402,F401,F811  # pylint: disable=wrong-import-position,unused-import

from remediate_harness import ExposureRecorder  # noqa: E402  # pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def remediate_lab(lab_world):  # noqa: F811  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """The session lab (AWS twin, public internet) that ``make_world`` resets for each test."""
    return lab_world


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
    with fresh_lab(remediate_lab), scenario_worlds(remediate_lab, default_cluster=False) as build:
        yield build
