#!/usr/bin/env bash
# Runs every test. Installs what the tests need first: Debian's Chromium for the browser tests and
# redis-server for the multi-node tests (with apt, when missing and this runs as root). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: install Debian's 'chromium' package (as root: apt-get install chromium)," >&2
    echo "or set CHROMIUM_PATH to a Chromium executable. The browser tests cannot run without it." >&2
    exit 1
  fi
fi

# Redis for the multi-node tests: C1_TEST_REDIS when set, else they start Debian's redis-server themselves.
if [ -z "${C1_TEST_REDIS:-}" ] && ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Redis for the multi-node tests (apt-get install redis-server)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing: install Debian's 'redis-server' package (as root: apt-get install redis-server)," >&2
    echo "or set C1_TEST_REDIS to a running Redis. The multi-node tests cannot run without it." >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ConnectiveOne.sln --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line for CI: "N passed, N failed".
summary=$(grep -E '(Passed|Failed)!' "$log" | tail -n 1 || true)
passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*Failed: +([0-9]+),.*/\1/p' <<<"$summary")
if [ -n "$passed" ]; then
  echo "${passed} passed, ${failed:-0} failed"
fi
exit "$status"
