#!/usr/bin/env bash
# Runs this repository's .pre-commit-hooks.yaml with `pre-commit try-repo` (from
# scripts/report-tools.sh) on two throw-away projects: one whose manifest has a high finding
# (the hook must fail and name it) and a clean one (the hook must pass). It runs the
# `sovscan-system` hook with the release binary on PATH (`.ci/run`'s demo step has built it): the `rust` hook differs only in
# that pre-commit first builds sovscan with `cargo install`, which needs the crates from the
# network and a full release build, too slow for CI here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/report-tools.sh
cargo build --quiet --locked --release
export PATH="$root/target/release:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/cache"

project() {
  local dir="$work/$1"
  mkdir -p "$dir"
  git -C "$dir" init --quiet
  printf '%s' "$2" > "$dir/app.yaml"
  git -C "$dir" add app.yaml
  echo "$dir"
}

failing=$(project failing 'apiVersion: v1
kind: Pod
metadata:
  name: reports
  labels:
    data-classification: personal
spec:
  nodeSelector:
    topology.kubernetes.io/region: us-east-1
  containers:
    - name: reports
      image: rg.fr-par.scw.cloud/acme/reports:1.4
')
passing=$(project passing 'apiVersion: v1
kind: Pod
metadata:
  name: reports
spec:
  containers:
    - name: reports
      image: rg.fr-par.scw.cloud/acme/reports:1.4
')

set +e
(cd "$failing" && "$root/.venv-report/bin/pre-commit" try-repo "$root" sovscan-system --all-files) > "$work/failing.txt" 2>&1
failing_code=$?
(cd "$passing" && "$root/.venv-report/bin/pre-commit" try-repo "$root" sovscan-system --all-files) > "$work/passing.txt" 2>&1
passing_code=$?
set -e
if [ "$failing_code" -eq 0 ] || ! grep -q "GDPR-010" "$work/failing.txt"; then
  cat "$work/failing.txt"; echo "pre-commit hook: the manifest with findings did not fail"; exit 1
fi
if [ "$passing_code" -ne 0 ] || ! grep -q "Passed" "$work/passing.txt"; then
  cat "$work/passing.txt"; echo "pre-commit hook: the clean manifest did not pass"; exit 1
fi
echo "pre-commit hook: fails on findings, passes when clean"
