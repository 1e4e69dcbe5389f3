#!/usr/bin/env bash
# Offline evaluation on the real Last.fm HetRec 2011 data (../shared/data/lastfm-hetrec-2k):
# imports plays and the friend graph into the input contract once, then evaluates every recommender
# source on a random per-user split (the data has no event times) for each item model below, and prints
# one table of nDCG@K per model and source. Each model's full output is in bench-data/lastfm/eval-<name>.txt.
# Extra arguments go to every `evaluate`; LASTFM_MODELS="name|Key=value,Key=value …" replaces the list.
# Then `sparkreco tune` (LASTFM_TUNE=0 skips it) searches the settings and writes bench-data/lastfm/tuned-settings.json.
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
  --constant-event-type play --constant-time 2011-01-01T00:00:00Z >/dev/null
sparkreco import --kind follows --input "$src/user_friends.dat" --output "$out/follows" --delimiter tab \
  --follower-column userID --followee-column friendID >/dev/null

# One model per line: a name, then the settings that make it (comma-separated). EASE fits the Ease:MaxItems most popular
# artists and falls back to Similarity:Measure (jaccard) for the rest.
default_models="cooccurrence|Similarity:Measure=cooccurrence
jaccard|Similarity:Measure=jaccard
cosine|Similarity:Measure=cosine
llr|Similarity:Measure=llr
lift|Similarity:Measure=lift
inclusion|Similarity:Measure=inclusion
rp3beta|Similarity:Measure=rp3beta
ease-lambda50|Recommend:ItemModel=ease,Ease:Lambda=50
ease-lambda200|Recommend:ItemModel=ease,Ease:Lambda=200
ease-lambda500|Recommend:ItemModel=ease,Ease:Lambda=500"
models=${LASTFM_MODELS:-$default_models}

printf '%-22s %9s %9s %9s %9s\n' "nDCG@K" popular item user blend
while IFS='|' read -r name settings; do
  [ -n "$name" ] || continue
  sets=()
  IFS=',' read -ra pairs <<< "$settings"
  for pair in "${pairs[@]}"; do sets+=(--set "$pair"); done
  sparkreco evaluate --events "$out/events" --follows "$out/follows" --output "$out/eval" \
    --set Evaluation:Mode=random --set Affinity:EventWeights:play=1 --set Affinity:WeightTransform=log1p \
    "${sets[@]}" "$@" > "$out/eval-$name.txt"
  # The evaluate table: source, precision, recall, nDCG, … per row.
  awk -v name="$name" '$1 ~ /^(popular|item|user|blend)$/ { v[$1] = $4 }
    END { printf "%-22s %9s %9s %9s %9s\n", name, v["popular"], v["item"], v["user"], v["blend"] }' "$out/eval-$name.txt"
done <<< "$models"

# `tune` on the same data: chooses settings on a validation split of the training pairs only, then reports them once on the test split.
if [ "${LASTFM_TUNE:-1}" = 1 ]; then
  sparkreco tune --events "$out/events" --follows "$out/follows" --write "$out/tuned-settings.json" \
    --set Evaluation:Mode=random --set Affinity:EventWeights:play=1 --set Affinity:WeightTransform=log1p
fi
