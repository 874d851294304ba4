"""Fixtures of the integration driver: a running lab for the targets that need one."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lab.world import Lab  # noqa: E402  # pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def lab_world_for_targets(tmp_path_factory):
    """One lab (AWS twin, public internet) per test process; targets name their resources uniquely."""
    lab = Lab(state_dir=str(tmp_path_factory.mktemp("lab")))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def lab_env(lab_world_for_targets):  # pylint: disable=redefined-outer-name
    """The environment a user's shell or AAP would give ansible-playbook for this lab."""
    return dict(lab_world_for_targets.env())
