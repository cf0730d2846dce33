#!/usr/bin/env bash
# Validates sovscan's SARIF output against the official SARIF 2.1.0 schema and rules with
# Microsoft's SARIF Multitool (installed from the npm registry into .tools/): the demo scanned by
# a relative and by an absolute path, and a folder with an unparseable file and names that need
# percent-encoding. Each must give 0 errors.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/sarif
if [ ! -x .tools/sarif/node_modules/.bin/sarif-multitool ]; then
  npm install --silent --prefix .tools/sarif @microsoft/sarif-multitool@5.7.0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --quiet --release --locked
bin=target/release/sovscan

odd="$out/odd repo"
mkdir -p "$odd/.git" "$odd/k8s #1"
printf 'apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n' > "$odd/k8s #1/broken.yaml"
cp fixtures/demo/k8s/orders.yaml "$odd/k8s #1/bestellungen-ä.yaml"

"$bin" scan fixtures/demo --format sarif --output "$out/relative.sarif" || true
"$bin" scan "$PWD/fixtures/demo" --format sarif --output "$out/absolute.sarif" || true
"$bin" scan "$odd/k8s #1" --format sarif --output "$out/odd.sarif" 2>/dev/null || true

failed=0
for name in relative absolute odd; do
  log="$out/$name.txt"
  .tools/sarif/node_modules/.bin/sarif-multitool validate "$out/$name.sarif" > "$log" 2>&1 || true
  errors=$(grep -c ": error " "$log" || true)
  if [ "$errors" -ne 0 ] || ! grep -q "Analysis completed successfully" "$log"; then
    cat "$log"
    echo "SARIF of the $name scan: $errors errors"
    failed=1
  else
    echo "SARIF of the $name scan: 0 errors"
  fi
done
# Paths are relative to the repository root whatever the scan was given.
if ! grep -q '"uri": "fixtures/demo/k8s/orders.yaml"' "$out/absolute.sarif"; then
  echo "absolute scan: URIs are not relative to the repository root"; failed=1
fi
if [ "$failed" -ne 0 ]; then
  echo "SARIF validation failed"; exit 1
fi
echo "SARIF valid"
