"""Every finding code of the catalogue is asserted by some integration target (or diagnosis end-to-end test).

A static guard against forgetting: the targets themselves provoke the codes
in the lab and check message and evidence; this test only makes sure that
each code of ``plugins/module_utils/findings.py`` ``CATALOGUE`` appears
where a target *asserts* something, so a new code cannot be added without a
target that expects it.

A code counts as asserted when its name occurs, as a whole word:

* in an ``assert`` task of a target's ``tasks/*.yml`` (its ``that``,
  ``fail_msg`` and ``vars``, where findings are usually selected by code);
* under a key named ``code``, ``codes`` or ``expected_codes`` anywhere in a
  target's task file (the scenario lists of looped probe cases, which an
  included task file asserts one by one);
* in a YAML file under ``tests/diagnose/`` in the same places, or inside an
  ``assert`` statement of a Python file there.

Comments, task names, ``when:`` conditions and module arguments do not count.
The catalogue is read with :mod:`ast` from the module's source, so this test
imports nothing from plugins/.
"""

import ast
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FINDINGS = ROOT / "plugins" / "module_utils" / "findings.py"
TARGETS_DIR = ROOT / "tests" / "integration" / "targets"
DIAGNOSE_DIR = ROOT / "tests" / "diagnose"
ASSERT_MODULES = ("assert", "ansible.builtin.assert", "ansible.legacy.assert")
CODE_KEYS = ("code", "codes", "expected_codes")


def catalogue_codes():
    """The keys of ``CATALOGUE`` in findings.py, in source order."""
    tree = ast.parse(FINDINGS.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CATALOGUE" for t in node.targets):
            return [key.value for key in node.value.keys if isinstance(key, ast.Constant)]
    raise AssertionError("no CATALOGUE in %s" % FINDINGS)


def _strings(value):
    """Every string inside ``value`` (nested lists and dicts, keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _under_code_keys(value):
    """Strings found under a key named code/codes/expected_codes, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CODE_KEYS:
                yield from _strings(item)
            else:
                yield from _under_code_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _under_code_keys(item)


def _tasks(value):
    """Every mapping of a task file that looks like a task, blocks and rescue/always included."""
    if isinstance(value, list):
        for item in value:
            yield from _tasks(item)
    elif isinstance(value, dict):
        yield value
        for key in ("block", "rescue", "always"):
            yield from _tasks(value.get(key))


def _assert_texts(task):
    """The asserted text of an assert task (that, fail_msg/msg, vars), else nothing."""
    module = next((name for name in ASSERT_MODULES if name in task), None)
    if module is None:
        return
    args = task[module]
    if isinstance(args, dict):
        yield from _strings(args.get("that"))
        yield from _strings(args.get("fail_msg"))
        yield from _strings(args.get("msg"))
    yield from _strings(task.get("vars"))


def yaml_evidence(path):
    """The strings of a task file that assert something."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts = list(_under_code_keys(data))
    for task in _tasks(data):
        texts.extend(_assert_texts(task))
    return texts


def python_evidence(path):
    """The string constants inside ``assert`` statements of a Python test file."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assert):
            texts.extend(sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant) and isinstance(sub.value, str))
    return texts


def evidence():
    """``{file (relative to the repo): [asserted strings]}`` over the targets and tests/diagnose."""
    found = {}
    for path in sorted(TARGETS_DIR.glob("*/tasks/*.yml")):
        found[str(path.relative_to(ROOT))] = yaml_evidence(path)
    if DIAGNOSE_DIR.is_dir():
        for path in sorted(DIAGNOSE_DIR.rglob("*")):
            if path.suffix in (".yml", ".yaml"):
                found[str(path.relative_to(ROOT))] = yaml_evidence(path)
            elif path.suffix == ".py":
                found[str(path.relative_to(ROOT))] = python_evidence(path)
    return found


def where_asserted(code, found):
    """The files whose asserted strings name ``code`` as a whole word."""
    word = re.compile(r"(?<![A-Z0-9_])%s(?![A-Z0-9_])" % re.escape(code))
    return [name for name, texts in found.items() if any(word.search(text) for text in texts)]


def test_catalogue_is_read():
    """The catalogue parses and holds the codes every module shares."""
    codes = catalogue_codes()
    assert len(codes) == len(set(codes)) > 40
    assert "DISCOVERY_ACCESS_DENIED" in codes and "AWS_PERMISSION_MISSING" in codes


def test_the_guard_ignores_what_does_not_assert(tmp_path):
    """Comments, task names, when: and module arguments are not assertions; that:, vars and code lists are."""
    path = tmp_path / "main.yml"
    path.write_text(
        "# DISCOVERY_NOT_FOUND in a comment\n"
        "- name: JWKS_INVALID in a name\n"
        "  some.module: {issuer: TOKEN_INVALID}\n"
        "  when: \"'STS_ERROR' in codes\"\n"
        "- name: cases\n"
        "  ansible.builtin.include_tasks: probe_cases.yml\n"
        "  vars:\n"
        "    cases: [{code: ISSUER_SLOW}, {codes: [JWKS_KID_MISSING]}]\n"
        "- block:\n"
        "    - ansible.builtin.assert:\n"
        "        that: [\"x.code == 'ROLE_NOT_FOUND'\"]\n"
        "      vars:\n"
        "        found: \"{{ r.findings | selectattr('code', 'equalto', 'CLOUDFRONT_DISABLED') }}\"\n",
        encoding="utf-8")
    found = {"main.yml": yaml_evidence(path)}
    asserted = [code for code in catalogue_codes() if where_asserted(code, found)]
    assert sorted(asserted) == ["CLOUDFRONT_DISABLED", "ISSUER_SLOW", "JWKS_KID_MISSING", "ROLE_NOT_FOUND"]


@pytest.fixture(scope="module")
def asserted_texts():
    """The asserted strings of every target and diagnosis test file, read once."""
    return evidence()


@pytest.mark.parametrize("code", catalogue_codes())
def test_code_is_asserted_by_a_target(code, asserted_texts):  # pylint: disable=redefined-outer-name  # pytest fixture
    """Some target (or diagnosis test) asserts ``code``; the lab provokes it there."""
    files = where_asserted(code, asserted_texts)
    assert files, (
        "finding code %s is asserted by no integration target: provoke it in the lab in the target of the module that "
        "emits it (tests/integration/targets/<module>/tasks/) and assert its code, message, expected and actual" % code)
