#!/usr/bin/env bash
# Validates sovscan's SARIF output on the demo against the official SARIF 2.1.0 schema and rules
# with Microsoft's SARIF Multitool (installed from the npm registry into .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/sarif
if [ ! -x .tools/sarif/node_modules/.bin/sarif-multitool ]; then
  npm install --silent --prefix .tools/sarif @microsoft/sarif-multitool@5.7.0
fi
out=$(mktemp -d)
cargo run --quiet --release --locked -- scan fixtures/demo --format sarif --output "$out/demo.sarif" || true
log="$out/validate.txt"
.tools/sarif/node_modules/.bin/sarif-multitool validate "$out/demo.sarif" > "$log" 2>&1 || true
cat "$log"
if grep -q ": error " "$log" || ! grep -q "Analysis completed successfully" "$log"; then
  echo "SARIF validation failed"; exit 1
fi
echo "SARIF valid"
