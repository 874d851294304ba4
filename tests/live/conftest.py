"""Fixtures of the live remediation tests: the diagnose tests' in-process lab per pytest worker, reused."""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIAGNOSE = os.path.join(ROOT, "tests", "diagnose")
REMEDIATE = os.path.join(ROOT, "tests", "remediate")  # remediate_harness.run_and_kill (kills a run's process group)
for _path in (ROOT, DIAGNOSE, REMEDIATE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

_SPEC = importlib.util.spec_from_file_location("diagnose_fixtures", os.path.join(DIAGNOSE, "conftest.py"))
_FIXTURES = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_FIXTURES)

lab_world = _FIXTURES.lab_world
aws_lab = _FIXTURES.aws_lab
diagnose_lab = _FIXTURES.diagnose_lab
make_world = _FIXTURES.make_world
