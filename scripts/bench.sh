#!/usr/bin/env bash
# Benchmark: generate N events, then run the whole job on them, printing time, rows/s and peak
# memory (max RSS from /usr/bin/time) for each, and the per-stage timings from the manifest.
# Usage: scripts/bench.sh [events=10000000] [users=200000] [items=50000]
# Heavy: not part of CI. Writes under bench-data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-10000000}
users=${2:-200000}
items=${3:-50000}
dir=bench-data/e${events}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI=true

dotnet build src/SparkReco.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
cli=(dotnet src/SparkReco.Cli/bin/Release/net10.0/sparkreco.dll)
measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  local start; start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$log.rss" "$@" >"$log" 2>"$log.err" || { cat "$log.err" >&2; exit 1; }
  local end; end=$(date +%s.%N)
  local seconds; seconds=$(echo "$end - $start" | bc)
  local rss_mb; rss_mb=$(( $(tail -1 "$log.rss") / 1024 ))
  printf '%-10s %8.1f s   %12s events/s   peak RSS %6d MiB\n' "$label" "$seconds" \
    "$(printf "%'.0f" "$(echo "$events / $seconds" | bc)")" "$rss_mb"
  rm -f "$log" "$log.rss" "$log.err"
}

echo "SparkReco benchmark: $events events, $users users, $items items, $(nproc) cores"
rm -rf "$dir"
measure generate "${cli[@]}" generate --output "$dir" --events "$events" --users "$users" --items "$items"
rm -rf "$dir/output"
measure run "${cli[@]}" run --events "$dir/events" --items "$dir/items" --follows "$dir/follows" --output "$dir/output" \
  --set Clean:BotMaxEventsPerUser=100000 "${@:4}"
echo "per stage (from manifest.json):"
python3 - "$dir/output/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for s in m["stages"]:
    print(f"  {s['stage']:<22} {s['seconds']:>8.2f} s  {s['rows']:>14,} rows")
PY
