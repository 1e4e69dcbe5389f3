#!/usr/bin/env bash
# Renders report.html in headless Chromium at a desktop (1280 px) and a phone (390 px) width, so the page
# can be looked at without a desktop session: scripts/report-screenshot.sh [report.html] [outdir]
# Defaults: output/report.html (what scripts/run-local.sh writes) and output/screenshots/.
# Needs Debian's chromium (apt-get install chromium). Headless Chromium captures the window, not the whole
# page, so the window is taller than a usual report (12000 px wide, 16000 px narrow, where tables and charts
# stack); REPORT_SHOT_HEIGHT sets another height for both, e.g. for a report with many segments.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

report="${1:-$root/output/report.html}"
outdir="${2:-$root/output/screenshots}"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "report-screenshot: chromium not found; install it with 'apt-get install chromium'." >&2
  exit 2
fi
if [ ! -f "$report" ]; then
  echo "report-screenshot: no report at '$report'; run scripts/run-local.sh first or pass the path of a report.html." >&2
  exit 2
fi

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
flags=(--headless --disable-gpu --hide-scrollbars --mute-audio --no-first-run --disable-extensions)
# Chromium refuses to start as root without this; its sandbox cannot run in most containers anyway.
if [ "$(id -u)" = 0 ]; then flags+=(--no-sandbox); fi

for size in 1280:12000 390:16000; do
  width="${size%%:*}"
  height="${REPORT_SHOT_HEIGHT:-${size##*:}}"
  shot="$outdir/report-${width}.png"
  rm -f "$shot"
  # Chromium's own chatter (GPU, D-Bus, fonts) goes to stderr and says nothing about the page: shown only when it fails.
  if ! log="$("$browser" "${flags[@]}" --window-size="${width},${height}" --screenshot="$shot" "$url" 2>&1)" || [ ! -s "$shot" ]; then
    echo "report-screenshot: chromium wrote no $shot:" >&2
    echo "$log" >&2
    exit 1
  fi
  echo "$shot"
done
