#!/usr/bin/env bash
# Runs the fault and timing tests REPEAT_TIMES (20) times and counts how often each fails (issue 19, item 4: a timing
# test that passes once proves little). The set: storage outages (Azurite stopped and restarted under a running
# Labeler), injected storage faults and the circuit breaker, the Labeler contract suites (kills, SIGTERM, resume, replicas,
# on the local store and on Azurite), lease expiry in the store contract suites, the job host's signals and the training
# loop's resume. Resumable: finished runs are kept in REPEAT_ROOT; the result file bench/reliability/repeat-tests.md is
# rewritten and committed after every run.
#
#   bash bench/reliability/repeat-tests.sh          # REPEAT_TIMES=20; REPEAT_FILTER overrides the set
set -u
cd "$(dirname "$0")/../.."
root=${REPEAT_ROOT:-/var/tmp/kddata-bench/repeat-tests}
times=${REPEAT_TIMES:-20}
filter=${REPEAT_FILTER:-"FullyQualifiedName~StorageOutageTests|FullyQualifiedName~AzureBlobResilienceTests|FullyQualifiedName~AzuriteLabelerTests|FullyQualifiedName~LocalLabelerTests|FullyQualifiedName~ObjectStoreTests|FullyQualifiedName~JobHostTests|FullyQualifiedName~TrainingLoopTests"}
result=bench/reliability/repeat-tests.md
mkdir -p "$root"
revision=$(git rev-parse --short HEAD)
# A private build of HEAD, so that editing the working tree does not change the tests under way.
build="$root/build-$revision"
if [ ! -f "$build/.built" ]; then
  rm -rf "$build"; mkdir -p "$build"
  git archive HEAD | tar -x -C "$build"
  dotnet build "$build/tests/KdData.Tests" -v q -nologo || exit 1
  touch "$build/.built"
fi
trap 'echo "stopped; rerun to resume" >&2; exit 143' TERM INT

table() {
  {
    echo "# The fault and timing tests, run $times times"
    echo
    echo "Written by \`bash bench/reliability/repeat-tests.sh\`, revision $revision, $(date -u +%Y-%m-%d)."
    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -qw avx512f /proc/cpuinfo && echo 'AVX-512' || echo 'AVX2, no AVX-512'). Other benchmarks shared the cores during these runs."
    echo "Filter: \`$filter\`"
    echo
    local done runs_failed
    done=$(ls "$root"/run-*.trx 2>/dev/null | wc -l)
    runs_failed=$(grep -l 'outcome="Failed"' "$root"/run-*.trx 2>/dev/null | wc -l)
    echo "**$done runs finished, $runs_failed with a failure.** Tests per run: $(grep -o 'total="[0-9]*"' "$(ls "$root"/run-*.trx 2>/dev/null | head -1)" 2>/dev/null | head -1 | tr -dc 0-9)."
    echo
    echo "| run | passed | failed | seconds | failing tests |"
    echo "|---|---|---|---|---|"
    for trx in $(ls "$root"/run-*.trx 2>/dev/null | sort -V); do
      local n passed failed names
      n=$(basename "$trx" .trx | cut -d- -f2)
      passed=$(grep -o 'passed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
      failed=$(grep -o 'failed="[0-9]*"' "$trx" | head -1 | tr -dc 0-9)
      names=$(grep -o 'testName="[^"]*" [^>]*outcome="Failed"' "$trx" | sed 's/testName="\([^"]*\)".*/\1/' | sed 's/.*\.//' | paste -sd, - | sed 's/,/, /g')
      echo "| $n | $passed | $failed | $(cat "$root/run-$n.seconds" 2>/dev/null) | ${names:--} |"
    done
  } > "$result"
}

for n in $(seq 1 "$times"); do
  [ -f "$root/run-$n.trx" ] && continue
  echo "== run $n of $times"
  start=$SECONDS
  dotnet test "$build/tests/KdData.Tests" --no-build --filter "$filter" --logger "trx;LogFileName=$root/run-$n.partial.trx" > "$root/run-$n.log" 2>&1
  mv "$root/run-$n.partial.trx" "$root/run-$n.trx" 2>/dev/null || { echo "run $n wrote no result (see $root/run-$n.log)" >&2; exit 1; }
  echo $((SECONDS - start)) > "$root/run-$n.seconds"
  table
  git add "$result" && git commit -q -m "Bench repeat-tests: run $n of $times" -- "$result" || true
  tail -1 "$root/run-$n.log"
done
table
cat "$result"
