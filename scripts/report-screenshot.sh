#!/usr/bin/env bash
# Renders report.html in headless Chromium at a desktop (1280 px) and a phone (390 px) width, so the page
# can be looked at without a desktop session: scripts/report-screenshot.sh [report.html] [outdir]
# Defaults: output/report.html (what scripts/run-local.sh writes) and output/screenshots/.
# Needs Debian's chromium (apt-get install chromium). REPORT_SHOT_HEIGHT sets the window height in px
# (default 6000): headless Chromium captures the window, not the whole page, so it must be taller than the page.
set -euo pipefail
cd "$(dirname "$0")/.."

report="${1:-output/report.html}"
outdir="${2:-output/screenshots}"
height="${REPORT_SHOT_HEIGHT:-6000}"

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
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
flags=(--headless --disable-gpu --hide-scrollbars --mute-audio --no-first-run --disable-extensions)
# Chromium refuses to start as root without this; its sandbox cannot run in most containers anyway.
if [ "$(id -u)" = 0 ]; then flags+=(--no-sandbox); fi

for width in 1280 390; do
  shot="$(cd "$outdir" && pwd)/report-${width}.png"
  # Chromium's own chatter (GPU, D-Bus, fonts) goes to stderr and says nothing about the page; keep it out of the way.
  "$browser" "${flags[@]}" --window-size="${width},${height}" --screenshot="$shot" "$url" 2>/dev/null
  [ -s "$shot" ] || { echo "report-screenshot: chromium wrote no $shot" >&2; exit 1; }
  echo "$shot"
done
