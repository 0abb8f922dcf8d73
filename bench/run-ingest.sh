#!/bin/bash
# Ingest benchmark: ConnectiveOne (Release) and smtp4dev 3.15.0 side by side on the same generated load
# (2,000 messages over 4 SMTP connections after 3,000 warm-up messages), with the shared load tools.
# Usage: bench/run-ingest.sh [RUNS=3]
#   PEER=0 skips smtp4dev; PUB=DIR publishes elsewhere; SERVER_ENV="K=V ..." adds environment to ConnectiveOne
#   (e.g. the Debug timing breakdown: SERVER_ENV="Serilog__MinimumLevel__Override__ConnectiveOne.Core.Inbound.Intake.IntakeWriter=Debug").
# Needs: ../shared/bench beside the repository (or SHARED_BENCH=...), and smtp4dev once:
#   dotnet tool install --tool-path /tmp/smtp4dev-tool Rnwood.Smtp4dev --version 3.15.0
set -uo pipefail
RUNS=${1:-3}
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

for r in $(seq "$RUNS"); do
  dir=/tmp/bench-c1/run-$r; rm -rf "$dir"; mkdir -p "$dir/data"
  read SMTP WEB < <(free_ports 2)
  cd "$dir"
  ConnectiveOne__DataDirectory="$dir/data" ConnectiveOne__Smtp__Listen="127.0.0.1:$SMTP" \
  ASPNETCORE_URLS="http://127.0.0.1:$WEB" Serilog__MinimumLevel__Default=Warning \
    start_server "c1-$r" "$dir/server.log" env ${SERVER_ENV:-} dotnet "$pub/ConnectiveOne.Console.dll"
  wait_port $WEB 90 && wait_port $SMTP 30 || { echo "ConnectiveOne did not start"; stop_server "$dir/server.log"; exit 1; }
  python3 "$repo/bench/seed_recipients.py" "$dir/data/connectiveone.db" "$DATA"
  timeout 600 $LOAD --port $SMTP --n 2000 --conns 4 --data "$DATA" --timeout 540 \
    --count-sqlite "$dir/data/connectiveone.db" --count-sql "SELECT COUNT(DISTINCT DedupKey) FROM Messages" \
    --server-pid "$SPID" --label connectiveone --out "$dir/load.jsonl" | tail -1
  rss=$(stop_server "$dir/server.log" | tail -1)
  sleep 0.5; [ -n "$rss" ] || rss=$(awk -F: '/Maximum resident set size/ {printf "%.1f\n", $2/1024}' "$dir/server.log.time")
  # When /usr/bin/time's report is not there yet, the load tool's VmHWM sample stands in.
  python3 -c "import json; d=json.loads(open('$dir/load.jsonl').read().splitlines()[-1]); d['server_maxrss_mb']=float('${rss:-0}') or d['server_vmhwm_mb']; print(json.dumps(d))" >> "$RESULTS/connectiveone.jsonl"
  echo "[c1-$r] peak RSS ${rss} MB"
  cd - >/dev/null
done
[ "${PEER:-1}" = 0 ] && { echo "results: $RESULTS/connectiveone.jsonl"; exit 0; }
[ -x /tmp/smtp4dev-tool/smtp4dev ] && bash /tmp/c1-bench/run_peer.sh "$RUNS" smtp4dev || echo "smtp4dev not installed; skipped"
echo "results: $RESULTS/connectiveone.jsonl and $RESULTS/peer.jsonl"
