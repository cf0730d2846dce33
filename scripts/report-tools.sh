#!/usr/bin/env bash
# Installs the validators of the report-format tests into .venv-report (created once, from
# PyPI): `xmlschema` checks the JUnit report against schema/junit.xsd, `pre-commit` runs the
# hook of .pre-commit-hooks.yaml (scripts/try-pre-commit.sh). Source it: it exports
# SOVSCAN_TEST_PYTHON, the venv's python, which tests/report_formats.rs uses.
set -euo pipefail
venv="${SOVSCAN_REPORT_VENV:-.venv-report}"
if [ ! -x "$venv/bin/pre-commit" ] || ! "$venv/bin/python" -c 'import xmlschema' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'xmlschema==4.*' 'pre-commit==4.*'
fi
SOVSCAN_TEST_PYTHON="$PWD/$venv/bin/python"
export SOVSCAN_TEST_PYTHON
