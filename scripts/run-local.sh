#!/usr/bin/env bash
# The quick start: runs the whole job on the embedded engine (DuckDB) over sample data,
# generating the sample first if it is absent. Extra arguments go to `sparkreco run`.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build src/SparkReco.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
sparkreco() { dotnet src/SparkReco.Cli/bin/Release/net10.0/sparkreco.dll "$@"; }

if [ ! -d sample-data/events ]; then
  echo "No sample data yet: generating it into sample-data/ (seeded, a few seconds)."
  sparkreco generate --output sample-data
fi
sparkreco run --config conf/local.json "$@"
