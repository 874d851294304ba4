"""Fixtures of the diagnose.yml tests: one in-process lab per pytest worker, worlds closed after each test.

They are the lab's own fixtures (:mod:`lab.pytest_plugin`) under the names these tests use.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# fixtures are found by name; the lab is importable only after the path insert
from lab.pytest_plugin import aws_lab, lab_scenario, lab_world  # noqa: E402,F401,F811  # pylint: disable=wrong-import-position,unused-import

# ``make_world(scenario, params=None, cluster=True) -> lab.scenarios.World`` in the reset lab; every world built is
# closed (its cluster twin stopped) after the test, and the lab's faults are cleared.
make_world = lab_scenario


@pytest.fixture(scope="session")
def diagnose_lab(lab_world):  # noqa: F811  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """The session lab (AWS twin, public internet) that ``make_world`` resets for each test."""
    return lab_world
