#!/usr/bin/env bash
# Renders the demo HTML report (and a report of hostile names) in headless Chromium: the
# script runs under the page's CSP without console errors, hostile strings stay text, and a
# screenshot of non-trivial size is taken (kept in target/html-report.png).
# Installs the Debian package `chromium` where it is missing and we may (CI=true or root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  if [ "${CI:-}" = "true" ] || [ "$(id -u)" = "0" ]; then
    echo "chromium is not installed: installing the Debian package"
    SUDO=""
    [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed: run 'apt-get install -y chromium' (or set CHROMIUM=/path)" >&2
    exit 1
  fi
fi

SOVSCAN_REQUIRE_CHROMIUM=1 cargo test --locked --test integration html_report::
echo "screenshot: target/html-report.png ($(wc -c < target/html-report.png) bytes)"
