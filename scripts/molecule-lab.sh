#!/usr/bin/env bash
# Run the molecule scenario remediate_idempotence against a lab world:
# start the lab with the broken-private-bucket install directory, run
# `molecule test -s remediate_idempotence` from extensions/, and always stop
# the lab (trap), whatever happens.
#
#   scripts/molecule-lab.sh            (from the repository root; make molecule calls it)
#
# Environment: VENV (default .venv), MOLECULE_LAB_DIR (default build/molecule-lab).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/.venv}
BIN=$VENV/bin
WORK=${MOLECULE_LAB_DIR:-$ROOT/build/molecule-lab}
STATE=$WORK/lab
INSTALL=$WORK/install
REPORTS=$WORK/reports

stop_lab() {
  # From the repository root: `python -m lab` is importable only there.
  (cd "$ROOT" && "$BIN/python" -m lab down --state-dir "$STATE" >/dev/null 2>&1) || true
}
trap stop_lab EXIT INT TERM

stop_lab  # a lab left by an interrupted run
rm -rf "$WORK"
mkdir -p "$WORK"
"$BIN/python" -m lab install-dir --state-dir "$STATE" --scenario broken-private-bucket "$INSTALL"

set -a
# shellcheck disable=SC1091  # written by the lab
. "$STATE/env"
set +a
export OIDC_MOLECULE_INSTALL_DIR=$INSTALL
export OIDC_MOLECULE_BUCKET=lab-bpa-oidc
export OIDC_MOLECULE_CLUSTER=lab-bpa
export OIDC_MOLECULE_REPORT_ROOT=$REPORTS
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/build/collections}
export PATH=$BIN:$PATH

cd "$ROOT/extensions"
"$BIN/molecule" test -s remediate_idempotence
