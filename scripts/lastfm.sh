#!/usr/bin/env bash
# Offline evaluation on the real Last.fm HetRec 2011 data (../shared/data/lastfm-hetrec-2k):
# imports plays and the friend graph into the input contract, then evaluates every recommender
# source on a random per-user split (the data has no event times). Extra arguments go to `evaluate`.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${LASTFM_DIR:-../shared/data/lastfm-hetrec-2k}
out=bench-data/lastfm
[ -f "$src/user_artists.dat" ] || { echo "Last.fm data not found in $src (set LASTFM_DIR)." >&2; exit 2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI=true
dotnet build src/SparkReco.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
sparkreco() { dotnet src/SparkReco.Cli/bin/Release/net10.0/sparkreco.dll "$@"; }

# Plays are one row per (user, artist) with a play count and no time: constant type "play", weight = plays.
sparkreco import --input "$src/user_artists.dat" --output "$out/events" --delimiter tab \
  --user-column userID --item-column artistID --weight-column weight \
  --constant-event-type play --constant-time 2011-01-01T00:00:00Z
sparkreco import --kind follows --input "$src/user_friends.dat" --output "$out/follows" --delimiter tab \
  --follower-column userID --followee-column friendID
sparkreco evaluate --events "$out/events" --follows "$out/follows" --output "$out/eval" \
  --set Evaluation:Mode=random --set Affinity:EventWeights:play=1 --set Affinity:WeightTransform=log1p "$@"
