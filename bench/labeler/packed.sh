#!/usr/bin/env bash
# Packed inputs over Azurite (issue 21, item 4 "Bench"): the real Labeler engine with the trivial teacher labels the
# same 60,000 Fashion-MNIST train images from Azurite as loose PNG blobs and as packed files (Parquet image tables and
# WebDataset tar shards of 10,000 images), alternately (loose, parquet, tar; 2 rounds), and reports per run images/s,
# CPU ms per image of our process and of Azurite's process tree apart, and whether the committed output holds every
# image exactly once; then, with --stages true, where the CPU goes. Goals: packed >= 10x the images/s of loose,
# <= 0.1 ms CPU per image in our process and <= 0.05 ms in Azurite's.
# Run from anywhere:  bash bench/labeler/packed.sh [bench options, e.g. --images 6000 --rounds 1]
# (~20 min on 2 shared cores the first time, mostly the upload; ~10 min when Azurite's data is kept). The bench is
# built from HEAD (bench/steps.sh's head_build) into $PACKED_STATE/bin-<revision>/ (default
# /var/tmp/kddata-bench/packed, outside the work tree), where the packed files, Azurite's data folder, the JSON result
# and the log stay too. Writes bench/labeler/packed.md and commits that file alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # head_build
state=${PACKED_STATE:-/var/tmp/kddata-bench/packed}
revision=$(git rev-parse --short HEAD)
bin="$state/bin-$revision"
mkdir -p "$state"
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
[ -f "$bin/bench/kddata-bench.dll" ] || head_build bench/KdData.Bench "$bin/bench"
[ -f "$bin/bench/kddata-bench.dll" ] || { echo "build failed: $bin/bench/kddata-bench.dll is missing" >&2; exit 1; }

# The result file names the command that ran (a private build, not `dotnet run`).
export KDDATA_BENCH_RUNNER="dotnet $bin/bench/kddata-bench.dll"
rc=0
dotnet "$bin/bench/kddata-bench.dll" packed --stages true --data "$state" --out "$state" --table bench/labeler/packed.md "$@" 2>&1 \
  | tee "$state/run-$revision.log" || rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo "the bench failed (exit $rc); bench/labeler/packed.md is not committed" >&2
  exit "$rc"
fi

git add bench/labeler/packed.md
git commit -q -m "Bench packed: result of build $revision${*:+ ($*)}" \
  -m "$(grep -E '^(img/s packed|ours CPU|Azurite CPU|every run)' bench/labeler/packed.md)" -- bench/labeler/packed.md
echo "committed bench/labeler/packed.md: $(git log -1 --format='%h %s')"
