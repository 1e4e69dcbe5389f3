#!/usr/bin/env bash
# Installs the `sparkreco` command: publishes the CLI (Release, framework-dependent: needs the .NET 10
# runtime on the machine) into PREFIX/lib/sparkreco and writes PREFIX/bin/sparkreco, plus
# PREFIX/bin/sparkreco-retry (retries only transient exit codes, for schedulers; see jobs/adf).
# Usage: scripts/install.sh [PREFIX]      (default PREFIX: $HOME/.local; then put PREFIX/bin on PATH)
# The same PREFIX folder is what jobs/adf ships to Batch nodes and what the Dockerfile copies.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-$HOME/.local}
command -v dotnet >/dev/null 2>&1 || { echo "install.sh needs the .NET SDK 10 on PATH (see global.json)." >&2; exit 2; }
mkdir -p "$prefix/bin" "$prefix/lib"
prefix=$(cd "$prefix" && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rm -rf "$prefix/lib/sparkreco"
dotnet publish src/SparkReco.Cli -c Release -o "$prefix/lib/sparkreco" -nologo -v quiet -clp:ErrorsOnly

# A launcher rather than a symlink to the app host: it finds the runtime through `dotnet` on PATH, wherever
# the runtime was installed.
cat >"$prefix/bin/sparkreco" <<'LAUNCHER'
#!/usr/bin/env bash
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
exec dotnet "$here/../lib/sparkreco/sparkreco.dll" "$@"
LAUNCHER
cp scripts/sparkreco-retry.sh "$prefix/bin/sparkreco-retry"
chmod +x "$prefix/bin/sparkreco" "$prefix/bin/sparkreco-retry"

echo "Installed sparkreco into $prefix/bin (runtime files in $prefix/lib/sparkreco)."
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "Add it to PATH:  export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
