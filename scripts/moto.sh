#!/usr/bin/env bash
# Starts a local moto server (AWS API fake) for the `sovscan aws` tests and seeds it.
# Source it: `source scripts/moto.sh`; it sets SOVSCAN_TEST_AWS_ENDPOINT and MOTO_PID.
# The virtual environment lives in .venv-moto (created once, from PyPI).
set -euo pipefail
venv="${SOVSCAN_MOTO_VENV:-.venv-moto}"
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.*' boto3
fi
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" scripts/moto_server.py "$port" > /tmp/sovscan-moto.log 2>&1 &
MOTO_PID=$!
SOVSCAN_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('$SOVSCAN_TEST_AWS_ENDPOINT/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
"$venv/bin/python" scripts/moto_seed.py "$SOVSCAN_TEST_AWS_ENDPOINT"
export SOVSCAN_TEST_AWS_ENDPOINT MOTO_PID
