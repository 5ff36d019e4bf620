#!/usr/bin/env bash
# Prune benchmark (issue 10): the full-data distilled student (results table row 7b: convnet w32 distilled from the
# 100 %-label teacher) pruned to <= 50 % of its MACs in steps with a KD fine-tune after each, then both evaluated on
# the official 10k test set. Goal: within 0.5 points of the unpruned student.
# Resumable: the prune command itself resumes per step (and inside a step's fine-tune); a finished stage leaves
# <root>/<name>.done and is skipped next time. Run from the repository root after bench/distillation/results-table.sh
# has produced row 7b:
#   bash bench/compression/prune.sh            # full data (about 15-30 min on 2 cores)
#   bash bench/compression/prune.sh --tiny     # the committed sample, seconds: proves the chain works
# Settings (environment): PRUNE_STUDENT, PRUNE_SHARDS, PRUNE_DATASET (the student and its data; default row 7b),
# PRUNE_TARGET (0.5), PRUNE_STEPS (3), PRUNE_EPOCHS (fine-tune epochs per step, 4), PRUNE_CRITERION (bn: in a sample run its pruned net kept more accuracy before fine-tuning than l1),
# PRUNE_SCOPE (global); extra prune switches after the optional --tiny.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, readme_table, private_bins
tiny=0
if [ "${1:-}" = "--tiny" ]; then tiny=1; shift; fi
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
target=${PRUNE_TARGET:-0.5} steps=${PRUNE_STEPS:-3} epochs=${PRUNE_EPOCHS:-4}
criterion=${PRUNE_CRITERION:-bn} scope=${PRUNE_SCOPE:-global}
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

if [ $tiny -eq 1 ]; then
  # The committed sample: its teacher (a convnet w32) stands in for the student; its pool labeled by the Labeler.
  root=out/bench/prune-tiny
  student=samples/fashion-mnist/teacher/teacher.json
  shards="file:$root/labels/"
  dataset=file:samples/fashion-mnist/
  epochs=${PRUNE_EPOCHS:-1} steps=${PRUNE_STEPS:-2}
  trainer=(dotnet run --project src/Trainer -c Release --)
  labeler=(dotnet run --project src/Labeler -c Release --)
else
  root=out/bench/fmnist
  # The results table's layout (its script makes these links; a checkout without them gets them here).
  [ -e "$root" ] || { mkdir -p out/bench; ln -s "$home/fmnist" "$root"; }
  [ -e data ] || ln -s "$home/data" data
  student=${PRUNE_STUDENT:-$root/row7-kd-100pct/last.json}
  shards=${PRUNE_SHARDS:-file:$root/labels-t100-train/}
  dataset=${PRUNE_DATASET:-file:data/fashion-mnist-all/}
  [ -f "$student" ] || { echo "The student checkpoint $student does not exist yet (run bench/distillation/results-table.sh, or set PRUNE_STUDENT)." >&2; exit 2; }
  # A private copy of the binaries, so rebuilding the working tree never changes a running step.
  private_bins "$root"
fi
[ -f "$student" ] || { echo "The student checkpoint $student does not exist yet (run bench/distillation/results-table.sh, or set PRUNE_STUDENT)." >&2; exit 2; }
mkdir -p "$root"
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)
name="prune-macs${target}-${criterion}-${scope}-s${steps}-e${epochs}"
out="$root/$name"

if [ $tiny -eq 1 ]; then
  step prune-tiny-labels "${labeler[@]}" --Labeler:Output="$shards" --Torch:Threads=2
fi
step "$name" "${trainer[@]}" prune --checkpoint "$student" --output "$out" --dataset "$dataset" --shards "$shards" \
  --target-macs "$target" --steps "$steps" --fine-tune-epochs "$epochs" --criterion "$criterion" --scope "$scope" \
  --batch-size 128 "${threads[@]}" "$@"

# Both models on the test split by the evaluate command (accuracy, parameters, MACs from the rebuilt model).
evaluate() { # marker checkpoint output
  step "$1" "${trainer[@]}" evaluate --checkpoint "$2" --dataset "$dataset" --output "$3" "${threads[@]}"
}
evaluate "$name-eval-input" "$student" "$out/evaluation-input"
evaluate "$name-eval-pruned" "$out/pruned.json" "$out/evaluation"

a=$out/evaluation-input/evaluation.json b=$out/evaluation/evaluation.json
report="$out/report.md"
{
  echo "| model | test accuracy | params | MACs | file |"
  echo "|---|---|---|---|---|"
  for e in "$a" "$b"; do
    printf '| %s | %.2f %% | %s | %s | %s |\n' "$(jq -r '.checkpoint.architecture' "$e")$( [ "$e" = "$b" ] && echo " pruned" )" \
      "$(jq '.metrics.accuracy * 100' "$e")" "$(jq '.checkpoint.parameters' "$e")" "$(jq '.checkpoint.macs' "$e")" \
      "$( [ "$e" = "$a" ] && echo "$student" || echo "$out/pruned.json")"
  done
  macs=$(jq -n --slurpfile a "$a" --slurpfile b "$b" '$b[0].checkpoint.macs / $a[0].checkpoint.macs')
  params=$(jq -n --slurpfile a "$a" --slurpfile b "$b" '$b[0].checkpoint.parameters / $a[0].checkpoint.parameters')
  drop=$(jq -n --slurpfile a "$a" --slurpfile b "$b" '($a[0].metrics.accuracy - $b[0].metrics.accuracy) * 100')
  echo
  printf 'MACs ratio %.3f, parameter ratio %.3f, accuracy drop %.2f points (goal: MACs <= 0.5 and drop <= 0.5: %s)\n' \
    "$macs" "$params" "$drop" "$(jq -n "$macs <= 0.5 and $drop <= 0.5")"
  echo "Widths: $(jq -c '.architecture.channels' "$out/pruned.json"); settings: target $target of MACs, $steps steps, $epochs KD epochs per step, criterion $criterion, scope $scope"
  echo "Per step (MACs; eval accuracy right after pruning -> after its KD fine-tune):"
  for d in "$out"/step-*; do
    printf -- '- %s: %s MACs; %.4f -> %.4f\n' "$(basename "$d")" "$(jq '.training.model.macs' "$d/last.json")" \
      "$(jq '.metrics.eval_accuracy' "$d/start.json")" "$(jq '.metrics.eval_accuracy' "$d/last.json")"
  done
} > "$report"
cat "$report"
