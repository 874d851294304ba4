# openshift_sts.oidc: one entry point for setup, tests, demo and benchmarks.
#
#   make demo   run the main job against the lab (the embedded default world)
#   make test   every test: sanity, units, lint, galaxy-importer, lab, integration, molecule
#   make bench  print the benchmark figures
#
# Setup is implicit: every target depends on the venv, which is created once
# (Python 3.12) and refreshed only when a requirements or constraints file
# changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
BUILD := $(ROOT)/build
# ansible-playbook, molecule and ansible-runner find this collection here
# (a link to the checkout, so edits are seen at once) and the dependency
# collections in the venv's site-packages (from the `ansible` package).
COLLECTIONS := $(BUILD)/collections
# ansible-test needs the collection and its dependencies in one tree, as
# real files: a copy refreshed before each ansible-test run.
TEST_TREE := $(BUILD)/ansible-test/ansible_collections
TEST_COLLECTION := $(TEST_TREE)/openshift_sts/oidc
DEPENDENCY_COLLECTIONS := amazon/aws community/aws kubernetes/core
SITE := $(VENV)/lib/python3.12/site-packages

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help
help:
	@echo "make demo    diagnose (and fix) a broken world in the lab"
	@echo "make test    run every test"
	@echo "make bench   print benchmark figures"
	@echo "make venv    create or refresh .venv (done by every target)"
	@echo "make clean   remove .venv, build/ and test output"

# ---------------------------------------------------------------- setup
$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt scripts/find-python
	@if [ ! -x $(PY) ]; then \
	  py=$$(scripts/find-python 3.12) && echo "creating .venv with $$py" && "$$py" -m venv $(VENV); \
	fi
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed $(COLLECTIONS)/ansible_collections/openshift_sts/oidc

$(COLLECTIONS)/ansible_collections/openshift_sts/oidc:
	@mkdir -p $(@D)
	@ln -sfn ../../../.. $@

# A copy of the tracked (and new, not ignored) files in an ansible_collections
# tree, beside copies of the dependency collections, for ansible-test.
.PHONY: test-tree
test-tree: venv
	@mkdir -p $(TEST_COLLECTION)
	@for c in $(DEPENDENCY_COLLECTIONS); do \
	  [ -d $(TEST_TREE)/$$c ] || { mkdir -p $(TEST_TREE)/$$c && cp -a $(SITE)/ansible_collections/$$c/. $(TEST_TREE)/$$c/; }; \
	done
	@$(PY) scripts/sync-tree.py $(ROOT) $(TEST_COLLECTION)
	@scripts/ansible-test-offline

# ---------------------------------------------------------------- tests
ANSIBLE_TEST := cd $(TEST_COLLECTION) && $(BIN)/ansible-test

# Module code must run on Python 3.9, the oldest we support: compile and
# import it with a real 3.9 as well (pyenv provides one on these machines).
.PHONY: sanity
sanity: test-tree
	$(ANSIBLE_TEST) sanity --venv --python 3.12 --requirements --color no
	py39=$$(scripts/find-python 3.9) && cd $(TEST_COLLECTION) && PATH=$$(dirname $$py39):$$PATH \
	  $(BIN)/ansible-test sanity --test compile --test import --venv --python 3.9 --requirements --color no

.PHONY: units
units: test-tree
	$(ANSIBLE_TEST) units --venv --python 3.12 --requirements --color no

.PHONY: lint
lint: venv
	$(BIN)/ansible-lint --profile production --offline --strict
	$(BIN)/antsibull-changelog lint
	$(PY) scripts/findings_doc.py --check

.PHONY: importer
importer: venv
	$(PY) scripts/galaxy-import.py $(BUILD)/dist

.PHONY: lab-tests
lab-tests: venv
	$(BIN)/pytest -q -n 2 tests/lab

.PHONY: integration
integration: venv
	$(BIN)/pytest -q -n 2 tests/integration

# The playbooks end to end in the lab, in one run so that two workers stay
# busy: diagnose.yml against every scenario (its HTML report opened in
# headless Chromium, a Debian package installed once), remediate.yml before
# install, and the live migration with its rollback. The live tests are the
# longest (a minute or two each): they start first, and an idle worker steals
# the short ones, so neither worker is left alone with a long tail.
.PHONY: e2e-tests
e2e-tests: venv system-packages
	$(BIN)/pytest -q -n 2 --dist worksteal tests/live tests/remediate tests/diagnose

.PHONY: system-packages
system-packages:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian package chromium (headless screenshots of the HTML report)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The molecule scenario needs a lab world: the script starts one, runs
# `molecule test`, and always stops it.
.PHONY: molecule
molecule: venv
	VENV=$(VENV) scripts/molecule-lab.sh

.PHONY: test
test: sanity units lint importer lab-tests integration e2e-tests molecule
	@echo "make test: all suites passed"

# ---------------------------------------------------------------- demo, bench
.PHONY: demo
demo: venv
	$(PY) scripts/demo.py

.PHONY: bench
bench: venv
	$(BIN)/pytest -q -s tests/bench

.PHONY: clean
clean:
	rm -rf $(VENV) $(BUILD) tests/output oidc-report
