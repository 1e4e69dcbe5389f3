#!/usr/bin/env bash
# Segment quality on generated worlds (issue 12): for each community count and seed, `sparkreco generate` plants
# communities (each prefers 1-3 item categories, follows mostly inside it, bots on top), `sparkreco run` builds
# segments with the defaults (recommendations, scores and evaluation off: they do not change segments), and
# `sparkreco-bench ari` compares the segments with the planted communities (bots excluded). Prints one line per
# world and a summary: mean/min adjusted Rand index and how often k equals the planted count. Not part of CI.
#
# Usage: scripts/segments.sh [-- extra `sparkreco run` arguments]
# Environment: SEGMENTS_COMMUNITIES (default "4 6 8 10 12"), SEGMENTS_SEEDS (default "1 2 3"),
#              SEGMENTS_EVENTS (default 200000), SEGMENTS_USERS (default 4000), BENCH_DATA (default bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI=true
[ "${1:-}" = "--" ] && shift
communities=${SEGMENTS_COMMUNITIES:-4 6 8 10 12}
seeds=${SEGMENTS_SEEDS:-1 2 3}
events=${SEGMENTS_EVENTS:-200000}
users=${SEGMENTS_USERS:-4000}
data=${BENCH_DATA:-bench-data}/segments

dotnet build src/SparkReco.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build src/SparkReco.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
sparkreco() { dotnet src/SparkReco.Cli/bin/Release/net10.0/sparkreco.dll "$@"; }
bench() { dotnet src/SparkReco.Bench/bin/Release/net10.0/sparkreco-bench.dll "$@"; }

printf '%-11s %-5s %-3s %-7s %s\n' communities seed k ari users
results=()
for c in $communities; do
  for s in $seeds; do
    world="$data/c$c-s$s-e$events-u$users"
    [ -f "$world/.done" ] || { rm -rf "$world"; sparkreco generate --output "$world" --communities "$c" --seed "$s" \
      --events "$events" --users "$users" >/dev/null && touch "$world/.done"; }
    rm -rf "$world/out"
    sparkreco run --events "$world/events" --items "$world/items" --follows "$world/follows" --output "$world/out" \
      --set Recommend:Enabled=false --set Scores:Enabled=false --set Evaluation:Mode=none "$@" >"$world/run.log" 2>&1 \
      || { echo "run failed for $world (see $world/run.log)" >&2; exit 1; }
    line=$(bench ari --segments "$world/out/segments" --truth "$world/ground_truth")
    k=$(sed -E 's/.*segments=([0-9]+).*/\1/' <<<"$line"); ari=$(sed -E 's/.*ari=([-0-9.]+).*/\1/' <<<"$line")
    n=$(sed -E 's/users=([0-9]+).*/\1/' <<<"$line")
    printf '%-11s %-5s %-3s %-7s %s\n' "$c" "$s" "$k" "$ari" "$n"
    results+=("$c $k $ari")
  done
done
printf '%s\n' "${results[@]}" | awk '{ n++; sum += $3; if (n == 1 || $3 < min) min = $3; if ($1 == $2) right++ }
  END { printf "worlds %d: mean ARI %.4f, min ARI %.4f, k right in %d of %d\n", n, sum / n, min, right, n }'
