"""``make bench`` runs ``pytest -q -s tests/bench``: collect the ``bench_*.py`` files as test modules.

pytest only collects ``test_*.py`` by default; the benchmarks are named
``bench_*.py`` so that ``make test`` (which never looks here) and readers
can tell them apart. Files named on the command line or already matched by
``python_files`` are left to pytest.
"""

import fnmatch

import pytest


def pytest_collect_file(file_path, parent):
    """A Module for every ``bench_*.py`` not already collected through ``python_files``."""
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    if parent.session.isinitpath(file_path):
        return None  # named on the command line: pytest collects it itself
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in parent.config.getini("python_files")):
        return None
    return pytest.Module.from_parent(parent, path=file_path)
