#!/usr/bin/env bash
# Benchmark harness (issue 7): makes or reuses the workloads, runs the real `sparkreco run` on each of them in
# each kernel mode, and reports whole-run wall time, CPU seconds (user + system), events/s, peak RSS and per-stage seconds and rows (from
# output/manifest.json) as a table and as bench-data/results-<timestamp>.json, with the issue's targets beside
# the measured figures. Heavy: not part of CI. Everything it writes is under bench-data/ (git-ignored).
#
# Usage: scripts/bench.sh [S|M|M-skewed|L ...] [-- extra `sparkreco run` arguments]
#   (default workloads: S M). The first argument that is not a workload name starts the extra arguments,
#   e.g. scripts/bench.sh M --set Engine:Threads=2
#
# Workloads (cached under bench-data/<name>/, reused while their fingerprint in facts.json holds):
#   S         1M events, 20k users, 5k items from `sparkreco generate` (items, follows, bots); run with the
#             defaults including evaluation (--set Evaluation:Mode=temporal)
#   M         shared/bench/workload-m.md exactly: 5M events, 100k uniform users, 20k Zipf-like items (DuckDB,
#             one thread, setseed(0.42)), every event a 'view' at 2026-11-01; its facts are checked against the md
#   M-skewed  M with skewed user activity (user_id = floor(pow(random(), 2) * 100000))
#   L         M's recipe scaled to 50M events, 2M users, 200k items
#   M, M-skewed and L run with the defaults and Evaluation:Mode=none. "Defaults" are the built-in settings
#   (no --config); each run gets its own Engine:TempDirectory under bench-data/, removed after the run.
#
# Environment:
#   BENCH_KERNELS  kernel modes, each run as --set Engine:Kernels=<mode> (default "auto"; e.g. "auto off";
#                  "none" runs without the setting, for builds that do not know it yet)
#   BENCH_TIMEOUT  seconds per run before it is stopped and reported as timed out (default 1200)
#   BENCH_DATA     data and results folder (default bench-data)
# Exit code: 0 when every run finished, 1 when one failed or timed out (the report is written either way).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI=true

kernels=${BENCH_KERNELS:-auto}
timeout_s=${BENCH_TIMEOUT:-1200}
data=${BENCH_DATA:-bench-data}

workloads=()
while [ $# -gt 0 ]; do
  case "$1" in
    S|M|M-skewed|L) workloads+=("$1"); shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
extra=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(S M)
read -r -a modes <<<"$kernels"
[ ${#modes[@]} -gt 0 ] || modes=(none)
case "$timeout_s" in ''|*[!0-9]*) echo "BENCH_TIMEOUT must be a whole number of seconds, not '$timeout_s'." >&2; exit 2 ;; esac

mkdir -p "$data"
data=$(cd "$data" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results="$data/results-$stamp"
mkdir -p "$results"

echo "building src/SparkReco.Cli and src/SparkReco.Bench (Release) …"
dotnet build src/SparkReco.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build src/SparkReco.Bench -c Release -nologo -v quiet -clp:ErrorsOnly
cli=(dotnet src/SparkReco.Cli/bin/Release/net10.0/sparkreco.dll)
bench=(dotnet src/SparkReco.Bench/bin/Release/net10.0/sparkreco-bench.dll)

# --- workloads: make or reuse, print their facts ------------------------------------------------------
s_generate=(--events 1000000 --users 20000 --items 5000)
prepare() { # workload
  local w=$1 dir="$data/$1"
  echo
  case "$w" in
    S)
      if [ ! -d "$dir/events" ] || [ "$(cat "$dir/generate.args" 2>/dev/null)" != "${s_generate[*]}" ]; then
        rm -rf "$dir"
        "${cli[@]}" generate --output "$dir" "${s_generate[@]}"
        echo "${s_generate[*]}" >"$dir/generate.args"
      fi
      "${bench[@]}" facts --events "$dir/events" --output "$dir/facts.json" --name S \
        --description "sparkreco generate ${s_generate[*]} (items, follows, bots; seeded)"
      ;;
    *) "${bench[@]}" workload "$w" --dir "$dir" ;;
  esac
}
for w in "${workloads[@]}"; do prepare "$w"; done

# --- runs ---------------------------------------------------------------------------------------------
run_one() { # workload mode
  local w=$1 mode=$2 dir="$data/$1"
  local out="$dir/output-$mode" tmp="$dir/tmp-$mode" log="$results/$w-$mode"
  mkdir -p "$log"
  rm -rf "$out" "$tmp"
  mkdir -p "$tmp"
  local args=(run --events "$dir/events" --output "$out" --set "Engine:TempDirectory=$tmp")
  case "$w" in
    S) args+=(--items "$dir/items" --follows "$dir/follows" --set Evaluation:Mode=temporal) ;;
    *) args+=(--set Evaluation:Mode=none) ;;
  esac
  [ "$mode" = none ] || args+=(--set "Engine:Kernels=$mode")
  args+=("${extra[@]}")

  echo
  echo "== $w, kernels $mode: sparkreco ${args[*]}"
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local start end rc
  start=$(date +%s.%N)
  set +e
  # time outside timeout: the peak RSS is reported even for a run that is stopped. SIGINT lets the job
  # cancel cleanly; KILL follows 30 s later if it has not stopped.
  /usr/bin/time -f '%M %U %S' -o "$log/rss.txt" \
    timeout -s INT -k 30 "$timeout_s" "${cli[@]}" "${args[@]}" >"$log/run.log" 2>&1
  rc=$?
  set -e
  end=$(date +%s.%N)
  rm -rf "$tmp"
  [ -f "$out/manifest.json" ] && [ $rc -eq 0 ] && cp "$out/manifest.json" "$log/manifest.json"
  python3 - "$log/meta.json" "$w" "$mode" "$rc" "$start" "$end" "$timeout_s" "$load" "$log/rss.txt" "${#extra[@]}" "${args[@]}" <<'PY'
import json, sys
path, w, mode, rc, start, end, timeout, load, rss_file, n_extra, *args = sys.argv[1:]
extra = args[len(args) - int(n_extra):] if int(n_extra) else []
rc, wall = int(rc), float(end) - float(start)
# The last line of time's output is "peak RSS KiB, user s, system s"; CPU seconds are less distorted than wall
# time when other work shares the machine.
try:
    rss, user, system = open(rss_file).read().strip().splitlines()[-1].split()
    rss_kib, cpu = int(rss), round(float(user) + float(system), 2)
except (OSError, ValueError, IndexError):
    rss_kib, cpu = None, None
timed_out = rc in (124, 137) and wall >= float(timeout)
json.dump({"workload": w, "mode": mode, "exit_code": rc, "timed_out": timed_out, "timeout_seconds": int(timeout),
           "wall_seconds": round(wall, 3), "cpu_seconds": cpu, "peak_rss_kib": rss_kib, "load_average_before": float(load),
           "arguments": args, "extra_arguments": extra}, open(path, "w"), indent=2)
PY
  if [ $rc -eq 0 ]; then
    printf '   ok in %.1f s\n' "$(echo "$end - $start" | bc)"
  else
    echo "   FAILED (exit $rc); last lines of $log/run.log:"
    tail -5 "$log/run.log" | sed 's/^/     /'
  fi
}
for w in "${workloads[@]}"; do
  for mode in "${modes[@]}"; do run_one "$w" "$mode"; done
done

# --- report -------------------------------------------------------------------------------------------
echo
python3 scripts/bench-report.py "$results" "$data/results-$stamp.json" "$data" \
  "$(dotnet --version)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo dirty || echo clean)" "${workloads[@]}"
