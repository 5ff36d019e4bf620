#!/usr/bin/env bash
# The Labeler against storage outages (issue 19): the real `kddata-labeler` labels 12,000 Fashion-MNIST images from an
# Azurite that the bench stops gracefully after the run's first lease renewal and restarts on the same data folder and
# port, swept over where the outage begins (9.5, 7.5, 5, 2.5, 0.5 s before the next renewal, every 10 s) and how long
# it lasts (10, 20, 40 s): 15 cases. Per case: exit code, seconds to detect "unreachable", seconds from storage
# answering to the Labeler noticing and to the next lease renewal, which stages paused, and every image exactly once
# in what was committed. Writes bench/labeler/outage.md after every case (a stopped run leaves a partial table), the
# JSON under out/bench/ and each case's Labeler log under out/bench/outage/, then prints the table.
# Run from the repository root:  bash bench/labeler/outage.sh [bench options, e.g. --durations 10 --offsets 5]
# (about 2 min a case on 2 cores: ~25-35 min). The Labeler and the bench are built once per commit from HEAD into
# out/bench/outage/bin-<revision>/ (bench/steps.sh's head_build), so edits in the working tree never change a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # head_build
out=out/bench/outage
bin="$out/bin-$(git rev-parse --short HEAD)"
mkdir -p "$out"
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
[ -f "$bin/labeler/kddata-labeler.dll" ] || head_build src/Labeler "$bin/labeler"
[ -f "$bin/bench/kddata-bench.dll" ] || head_build bench/KdData.Bench "$bin/bench"
for dll in "$bin/labeler/kddata-labeler.dll" "$bin/bench/kddata-bench.dll"; do
  [ -f "$dll" ] || { echo "build failed: $dll is missing" >&2; exit 1; }
done

# The result file names the command that ran (a private build, not `dotnet run`).
export KDDATA_BENCH_RUNNER="dotnet $bin/bench/kddata-bench.dll"
rc=0
dotnet "$bin/bench/kddata-bench.dll" outage --labeler "$bin/labeler/kddata-labeler.dll" "$@" 2>&1 | tee "$out/run.log" || rc=${PIPESTATUS[0]}
echo
cat bench/labeler/outage.md
exit "$rc"
