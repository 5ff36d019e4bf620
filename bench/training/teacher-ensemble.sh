#!/usr/bin/env bash
# Issue 18, goal 2: finished FixMatch teachers of different recipes joined into one teacher (`kddata-trainer ensemble`:
# the log of the members' mean probabilities), evaluated as fixmatch.sh evaluates a seed: on the official 10k test set
# and on the 54,000 pool images against their withheld labels (its pseudo-label accuracy as a teacher). fixmatch.sh
# joins the seeds of one recipe; this joins the last checkpoints of finished runs of any recipes (each member's own
# test and pool accuracy, read from the evaluations beside its checkpoint, is a row above the ensemble's). One figure,
# not a mean of seeds. Writes bench/training/teacher-ensemble-NAME.md and commits that file alone.
# Run from the repository root:
#   MEMBERS=/var/tmp/kddata-bench/fixmatch-w32-e120-emateacher/fixmatch-seed1/last.json,... NAME=w32 bash bench/training/teacher-ensemble.sh
# (a few minutes: the members have finished training). Settings (environment): MEMBERS (required: comma-separated
# last.json records of finished fixmatch.sh runs, each with evaluation-test/ and evaluation-pool/ beside it), NAME
# (required: the ensemble's name, [a-z0-9.-]), KDDATA_BENCH_HOME (default /var/tmp/kddata-bench; state in
# teacher-ensemble-NAME/), DATA (default the 10 % import), COMMIT (default true).
# main-path.sh takes the result as TEACHER=$KDDATA_BENCH_HOME/teacher-ensemble-NAME/ensemble/ensemble.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # private_bins, evaluate_once, bench_needs
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
[ -n "${MEMBERS:-}" ] || { echo "MEMBERS is not set: the comma-separated last.json records to join" >&2; exit 2; }
[[ "${NAME:-}" =~ ^[a-z0-9.-]+$ ]] || { echo "NAME '${NAME:-}' is not a name of [a-z0-9.-]: set NAME" >&2; exit 2; }
IFS=, read -r -a members <<< "$MEMBERS"
[ "${#members[@]}" -ge 2 ] || { echo "MEMBERS names ${#members[@]} record(s): an ensemble needs two or more" >&2; exit 2; }
for member in "${members[@]}"; do
  [ -f "$member" ] || { echo "MEMBERS: no record at $member" >&2; exit 2; }
  for e in evaluation-test evaluation-pool; do
    [ -f "$(dirname "$member")/$e/evaluation.json" ] || { echo "MEMBERS: $member has no $e/evaluation.json beside it (run its bench to the end)" >&2; exit 2; }
  done
done
data=${DATA:-$home/data/fashion-mnist}
[ -f "$data/manifest.parquet" ] || { echo "no dataset at $data: run bench/training/fixmatch.sh first (it imports the 10 % split), or set DATA" >&2; exit 2; }
root=$home/teacher-ensemble-$NAME
out=bench/training/teacher-ensemble-$NAME.md
mkdir -p "$root"
bench_needs
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)
private_bins "$root"
edir=$root/ensemble
# The state folder belongs to one member list: another list under the same NAME would evaluate the wrong teacher.
if [ -f "$root/members.txt" ] && [ "$(cat "$root/members.txt")" != "$MEMBERS" ]; then
  echo "$root holds the ensemble of other members ($(cat "$root/members.txt")): choose another NAME" >&2; exit 2
fi
echo "$MEMBERS" > "$root/members.txt"
if [ ! -f "$edir/ensemble.json" ]; then
  "${trainer[@]}" ensemble --members "$MEMBERS" --output "$edir" > "$root/ensemble.log" 2>&1 \
    || { echo "ensemble failed; see $root/ensemble.log" >&2; exit 1; }
fi
evaluate_once "$edir" "$data" evaluation-test || true
evaluate_once "$edir" "$data" evaluation-pool --manifest pool-labels.parquet --split train || true

accuracy() { jq '.metrics.accuracy * 100' "$1/$2/evaluation.json"; }
{
  echo "| teacher | test accuracy | pool pseudo-label accuracy | parameters | MACs an image |"
  echo "|---|---|---|---|---|"
  for member in "${members[@]}"; do
    dir=$(dirname "$member")
    printf '| %s | %.2f %% | %.2f %% | %s | %s |\n' "${dir#"$home"/}" "$(accuracy "$dir" evaluation-test)" \
      "$(accuracy "$dir" evaluation-pool)" "$(jq '.training.model.parameters' "$member")" "$(jq '.training.model.macs' "$member")"
  done
  printf '| ensemble of the %d | %.2f %% | %.2f %% | %s | %s |\n' "${#members[@]}" "$(accuracy "$edir" evaluation-test)" \
    "$(accuracy "$edir" evaluation-pool)" "$(jq '.training.model.parameters' "$edir/ensemble.json")" "$(jq '.training.model.macs' "$edir/ensemble.json")"
  echo
  echo "Goal 2 (issue 18): a semi-supervised teacher from 10 % labels + the pool >= 92.0 %. The members are last checkpoints"
  echo "of finished bench/training/fixmatch.sh runs (their recipes in the result files their folder names); the ensemble is"
  echo "\`kddata-trainer ensemble\` of them (the log of their mean probabilities): one figure, not a mean of seeds. Test: the"
  echo "official 10k test set; pool: the arg-max on the 54,000 pool images against pool-labels.parquet. Its MACs are its"
  echo "labeling cost. Command: MEMBERS=$MEMBERS NAME=$NAME bash bench/training/teacher-ensemble.sh."
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '),"
  echo "$(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F), $(nproc) cores."
} > "$out"
if [ "${COMMIT:-true}" = true ]; then
  git add "$out" && git commit -q -m "Bench teacher-ensemble: $NAME ($out)" -- "$out" || true
fi
cat "$out"
