#!/usr/bin/env bash
# Runs a command and retries it only on SparkReco's transient exit codes (4 engine, 5 output/publish,
# e.g. the output lock is held), with exponential backoff. Exit codes 1, 2 and 3 (internal error,
# configuration, input data) and stops by a signal (130, 143) are returned at once: a retry cannot fix
# them, and a scheduler that stopped the job wants it stopped. For schedulers that can only retry every
# failure (Azure Data Factory's activity retry): set their retry to 0 and wrap the command in this.
#
# Usage: sparkreco-retry [--attempts N] [--delay SECONDS] -- COMMAND [ARGS...]
#   --attempts  runs at most N times in all (default 3)
#   --delay     seconds before the first retry, doubled before each further one (default 60)
# Exit code: the command's last exit code; 2 when this script's own arguments are wrong.
set -uo pipefail

attempts=3
delay=60
while [ $# -gt 0 ]; do
  case "$1" in
    --attempts) attempts=${2:-}; shift 2 ;;
    --delay) delay=${2:-}; shift 2 ;;
    --) shift; break ;;
    *) echo "sparkreco-retry: unknown argument '$1'; usage: sparkreco-retry [--attempts N] [--delay SECONDS] -- COMMAND [ARGS...]" >&2; exit 2 ;;
  esac
done
case "$attempts" in ''|*[!0-9]*|0) echo "sparkreco-retry: --attempts must be a whole number of at least 1, not '$attempts'" >&2; exit 2 ;; esac
case "$delay" in ''|*[!0-9]*) echo "sparkreco-retry: --delay must be a whole number of seconds, not '$delay'" >&2; exit 2 ;; esac
[ $# -gt 0 ] || { echo "sparkreco-retry: no command given after --" >&2; exit 2; }

attempt=1
while :; do
  "$@"
  code=$?
  case "$code" in
    4|5) ;;
    *) exit "$code" ;;
  esac
  if [ "$attempt" -ge "$attempts" ]; then
    echo "sparkreco-retry: exit $code (transient) on attempt $attempt of $attempts; giving up" >&2
    exit "$code"
  fi
  echo "sparkreco-retry: exit $code (transient) on attempt $attempt of $attempts; retrying in ${delay} s" >&2
  sleep "$delay"
  delay=$((delay * 2))
  attempt=$((attempt + 1))
done
