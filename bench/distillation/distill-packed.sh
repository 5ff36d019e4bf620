#!/usr/bin/env bash
# A distill epoch over a packed dataset vs loose files (issue 21): the same Fashion-MNIST split (default 6,000 labeled
# + 12,000 pool images) imported loose and as Parquet shards (--format tar|both for tar), the pool pseudo-labeled by a
# random convnet teacher with the real Labeler, then one epoch of the real distillation loader + student step over
# each, interleaved (loose, parquet, loose, parquet), same seed. Reports per run img/s, epoch seconds, CPU ms/image,
# the time of unpacking the shards (round 1; paid once a run) apart, and packed/loose epoch-time ratios per round and
# their mean. Goal: packed epoch time <= loose epoch time.
# Run from anywhere:  bash bench/distillation/distill-packed.sh [bench options, e.g. --rounds 3 --format both]
# (~5 min on 2 cores the first time.) Waits while a test run (testhost / dotnet test) is going. The bench is built from
# HEAD (bench/steps.sh's head_build) into $DISTILL_PACKED_STATE/bin-<revision>/ (default
# /var/tmp/kddata-bench/distill-packed), where the imports and the log stay too. Writes
# bench/distillation/distill-packed.md and commits that file alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # head_build
state=${DISTILL_PACKED_STATE:-/var/tmp/kddata-bench/distill-packed}
revision=$(git rev-parse --short HEAD)
bin="$state/bin-$revision"
mkdir -p "$state"
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
[ -f "$bin/bench/kddata-bench.dll" ] || head_build bench/KdData.Bench "$bin/bench"
[ -f "$bin/bench/kddata-bench.dll" ] || { echo "build failed: $bin/bench/kddata-bench.dll is missing" >&2; exit 1; }

# Timing beside a test run measures the test run: wait for it.
while pgrep -f testhost >/dev/null || pgrep -f "dotnet test" >/dev/null; do
  echo "$(date -u +%H:%M:%S) a test run is going; waiting ..."
  sleep 15
done

export KDDATA_BENCH_RUNNER="dotnet $bin/bench/kddata-bench.dll"
rc=0
dotnet "$bin/bench/kddata-bench.dll" distill-packed --data "$state" --table bench/distillation/distill-packed.md "$@" 2>&1 \
  | tee "$state/run-$revision.log" || rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo "the bench failed (exit $rc); bench/distillation/distill-packed.md is not committed" >&2
  exit "$rc"
fi

git add bench/distillation/distill-packed.md
git commit -q -m "Bench distill-packed: result of build $revision${*:+ ($*)}" \
  -m "$(grep -E '^- (parquet|tar):' bench/distillation/distill-packed.md)" -- bench/distillation/distill-packed.md
echo "committed bench/distillation/distill-packed.md: $(git log -1 --format='%h %s')"
