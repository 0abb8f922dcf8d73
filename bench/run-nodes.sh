#!/bin/bash
# Ingest on PostgreSQL: one node vs two nodes (issue 7), same total load.
# Two load clients run at once, each with its own 2,000 messages (+3,000 warm-up) over 4 connections:
#   one node:  both clients send to node A             (8 connections on one node)
#   two nodes: client a -> node A, client b -> node B  (4 connections each; one Redis, one shared data folder)
# A throw-away PostgreSQL cluster (Debian's postgresql, fsync on) and redis-server run on loopback.
# Usage: bench/run-nodes.sh [RUNS=1]      results: /tmp/c1-bench/results/nodes.jsonl
set -uo pipefail
RUNS=${1:-1}
repo=$(cd "$(dirname "$0")/.." && pwd)
# The shared load tools sit beside the repository (<repo>/../shared/bench), or where SHARED_BENCH says.
shared=${SHARED_BENCH:-$repo/../shared/bench}
if [ ! -f "$shared/build.sh" ] || [ ! -f "$shared/lib.sh" ] || [ ! -d "$shared/load" ] || [ ! -d "$shared/gen" ]; then
  echo "The shared bench tools were not found in '$shared' (it needs build.sh, lib.sh, load/ and gen/)." >&2
  echo "Put the project's shared/ folder beside the repository ($(dirname "$repo")/shared), or set SHARED_BENCH to its bench/ folder." >&2
  exit 2
fi
[ -f /tmp/c1-bench/load/bin/Release/net10.0/Load.dll ] && [ -f /tmp/bench-data/manifest.tsv ] || bash "$shared/build.sh"
source /tmp/c1-bench/lib.sh
pub=${PUB:-/tmp/c1-ingest-publish}
timeout 900 dotnet publish "$repo/ConnectiveOne.Console" -c Release -o "$pub" -nologo -v q || exit 1
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=/tmp/bench-nodes; rm -rf "$work"; mkdir -p "$work"

# Two copies of the load whose Message-IDs differ by a prefix ("a." / "b."), so each client counts its own.
for set in a b; do
  mkdir -p "$work/data-$set"; cp -r "$DATA"/. "$work/data-$set"/
  find "$work/data-$set" -name '*.eml' -print0 | xargs -0 sed -i -E "s/<(main|warm)\./<$set.\1./g"
done

read PG REDIS COUNTER < <(free_ports 3)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-p $PG -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
redis-server --port "$REDIS" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile "$work/redis.log"
psql_args=(-h 127.0.0.1 -p "$PG" -U postgres -d c1bench)
python3 "$repo/bench/pg_counter.py" "$COUNTER" "${psql_args[@]}" & counter=$!
cleanup() {
  kill "$counter" 2>/dev/null
  redis-cli -p "$REDIS" shutdown nosave >/dev/null 2>&1
  as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1
}
trap cleanup EXIT

start_node() {  # start_node NAME SMTP WEB -> sets NODE_PID, NODE_TPID
  ConnectiveOne__DataDirectory="$dir/data" ConnectiveOne__Smtp__Listen="127.0.0.1:$2" ASPNETCORE_URLS="http://127.0.0.1:$3" \
  ConnectiveOne__Database__Provider=Postgres \
  ConnectiveOne__Database__ConnectionString="Host=127.0.0.1;Port=$PG;Username=postgres;Database=c1bench;Maximum Pool Size=50" \
  ConnectiveOne__Redis="127.0.0.1:$REDIS" ConnectiveOne__NodeName="$1" Serilog__MinimumLevel__Default=Warning \
    start_server "$1" "$dir/$1.log" dotnet "$pub/ConnectiveOne.Console.dll"
  wait_port "$3" 90 && wait_port "$2" 30 || { echo "node $1 did not start; see $dir/$1.log"; exit 1; }
}

for r in $(seq "$RUNS"); do
  for mode in one two; do
    dir=$work/run-$r-$mode; mkdir -p "$dir/data"
    psql -X -q -h 127.0.0.1 -p "$PG" -U postgres -c "DROP DATABASE IF EXISTS c1bench" -c "CREATE DATABASE c1bench"
    read SA WA SB WB < <(free_ports 4)
    start_node a "$SA" "$WA"; pid_a=$SPID; tpid_a=$TPID; target_b=$SA
    if [ "$mode" = two ]; then start_node b "$SB" "$WB"; pid_b=$SPID; tpid_b=$TPID; target_b=$SB; fi
    python3 "$repo/bench/seed_recipients.py" --sql "$work/data-a" | psql -X -q "${psql_args[@]}" >/dev/null
    for set in a b; do
      port=$SA; [ "$set" = b ] && port=$target_b
      timeout 600 $LOAD --port "$port" --n 2000 --conns 4 --data "$work/data-$set" --timeout 540 \
        --count-url "http://127.0.0.1:$COUNTER/count?prefix=$set." --server-pid "$pid_a" \
        --label "$mode-node-$set" --out "$dir/load-$set.jsonl" > "$dir/load-$set.out" 2>&1 &
      eval "load_$set=\$!"
    done
    wait "$load_a" "$load_b"
    SPID=$pid_a; TPID=$tpid_a; rss_a=$(stop_server "$dir/a.log" | tail -1); rss_b=0
    if [ "$mode" = two ]; then SPID=$pid_b; TPID=$tpid_b; rss_b=$(stop_server "$dir/b.log" | tail -1); fi
    python3 - "$dir" "$mode" "$rss_a" "$rss_b" >> "$RESULTS/nodes.jsonl" <<'PY'
import json, sys
from datetime import datetime, timedelta
d, mode, rss_a, rss_b = sys.argv[1], sys.argv[2], float(sys.argv[3] or 0), float(sys.argv[4] or 0)
rows = [json.loads(open(f"{d}/load-{s}.jsonl").read().splitlines()[-1]) for s in "ab"]
end = [datetime.fromisoformat(r["utc"].rstrip("Z")) for r in rows]
start = [e - timedelta(seconds=r["e2e_s"]) for e, r in zip(end, rows)]
window = (max(end) - min(start)).total_seconds()
lat99 = max(r["send_latency_ms_p99"] for r in rows)
print(json.dumps({"mode": mode, "n": sum(r["n"] for r in rows), "window_s": window,
    "e2e_msgs_per_s": sum(r["n"] for r in rows) / window, "per_client_msgs_per_s": [round(r["e2e_msgs_per_s"]) for r in rows],
    "p99_ms": lat99, "errors": sum(r["errors"] for r in rows), "peak_rss_mb": [rss_a, rss_b]}))
PY
    tail -1 "$RESULTS/nodes.jsonl"
  done
done
echo "results: $RESULTS/nodes.jsonl"
