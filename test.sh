#!/usr/bin/env bash
# Runs every test, once per database in C1_TEST_DATABASES (default "sqlite"; "sqlite postgres" runs both passes).
# Installs what the tests need first (with apt, when missing and this runs as root, saying so before it does):
# Debian's Chromium for the browser tests, redis-server for the Redis tests, and for the PostgreSQL pass Debian's
# postgresql, of which a throw-away server is started on a free loopback port and removed at the end.
# C1_NO_APT=1: install nothing; report what is missing and exit 1 if anything is. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

databases=${C1_TEST_DATABASES:-sqlite}
# The suite is CPU-bound on 2 cores and starts many short-lived .NET processes and apps: without dynamic PGO's
# instrumented code they use about a quarter less CPU (measured: the whole run 8.1 -> 7.4 min).
export DOTNET_TieredPGO=${DOTNET_TieredPGO:-0}
is_root() { [ "$(id -u)" = 0 ]; }

# What the tests need from Debian, found missing now: Chromium for the browser tests (unless CHROMIUM_PATH names one),
# redis-server for the Redis tests (unless C1_TEST_REDIS names a server), and for the PostgreSQL pass postgresql
# (unless C1_TEST_POSTGRES names a server of your own).
missing=()
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then missing+=(chromium); fi
if [ -z "${C1_TEST_REDIS:-}" ] && ! command -v redis-server >/dev/null; then missing+=(redis-server); fi
if [[ " $databases " == *" postgres "* ]] && [ -z "${C1_TEST_POSTGRES:-}" ] \
  && ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then missing+=(postgresql); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${C1_NO_APT:-}" = 1 ] || ! is_root || ! command -v apt-get >/dev/null; then
    # Only a report: nothing is installed.
    echo "Missing for the tests: ${missing[*]}. Install Debian's packages (as root: apt-get install ${missing[*]})," >&2
    echo "or point CHROMIUM_PATH / C1_TEST_REDIS / C1_TEST_POSTGRES at your own." >&2
    exit 1
  fi
  # Said before anything is installed; C1_NO_APT=1 turns this into the report above.
  echo "test.sh will now install with apt-get (as root): ${missing[*]}. Set C1_NO_APT=1 to only report what is missing."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
fi

pg_dir=""
cleanup() {
  rm -f "${log:-}"
  if [ -n "$pg_dir" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT

# Runs a PostgreSQL program as the postgres user when root (initdb refuses root), else as the current user.
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Starts a throw-away PostgreSQL in a temp folder on a free loopback port and exports C1_TEST_POSTGRES.
start_postgres() {
  if [ -n "${C1_TEST_POSTGRES:-}" ]; then return 0; fi # a server of your own
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1) # installed above when missing
  pg_dir=$(mktemp -d /tmp/c1-test-pg.XXXXXX)
  chmod 755 "$pg_dir"
  if is_root; then chown postgres "$pg_dir"; fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres --no-sync >/dev/null
  # Durable like production (fsync on); enough connections for the suite's parallel apps.
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=on" start >/dev/null \
    || { cat "$pg_dir/log" >&2; exit 1; }
  export C1_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port"
}

log=$(mktemp)
overall=0
for database in $databases; do
  case "$database" in
    sqlite) filter="Database!=Postgres" ;;
    postgres) filter="Database!=Sqlite&Database!=Unused"; start_postgres ;; # Unused: touches no database, ran already
    *) echo "C1_TEST_DATABASES: unknown database '$database' (sqlite or postgres)" >&2; exit 2 ;;
  esac
  echo "== Tests on $database"
  started=$SECONDS
  set +e
  # A test that hangs is stopped after 10 minutes and named (blame), instead of holding the run until CI's limit.
  C1_TEST_DATABASE=$database dotnet test ConnectiveOne.sln --nologo --filter "$filter" ${built:+--no-build} \
    --blame-hang-timeout 10m --blame-hang-dump-type none "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  # One plain closing line per pass for CI: "N passed, N failed".
  summary=$(grep -E '(Passed|Failed)!' "$log" | tail -n 1 || true)
  passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.*Failed: +([0-9]+),.*/\1/p' <<<"$summary")
  echo "$database: ${passed:-0} passed, ${failed:-0} failed ($((SECONDS - started)) s)"
  if [ "$status" != 0 ]; then overall=$status; fi
  built=1 # the next pass tests the same build
done
exit "$overall"
