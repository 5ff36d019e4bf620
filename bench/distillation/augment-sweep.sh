#!/usr/bin/env bash
# Rows for the Fashion-MNIST results table (issue 9): the best point of a temperature x alpha sweep, and MixUp /
# CutMix with offline (mixed cached soft targets) and online (the teacher labels the mixed image) distillation. All
# rows are the setting of results-table.sh row 4: student convnet w32, 10 % labels + the 90 % pool, teacher =
# row 1 (convnet w64 on 10 % labels), official 10k test set. Resumable like results-table.sh: a finished step leaves
# <step>.done and is skipped; an interrupted training step (or sweep point) resumes from its last checkpoint.
#   bash bench/distillation/augment-sweep.sh            # full scale: ~3 h for the 12-point sweep + ~1.5 h for the rest (2 cores)
#   bash bench/distillation/augment-sweep.sh --table    # only rebuild the table from the finished steps
# Environment: KDDATA_BENCH_HOME (default /var/tmp/kddata-bench: the data, teacher and shards results-table.sh made
# are reused, its steps are not redone); KDDATA_BENCH_TINY=1 runs everything at toy scale (3,000 train / 500 test
# images, width-8 models, 1-2 epochs, a 2 x 2 grid) to check the script end to end in minutes; KDDATA_SWEEP_EPOCHS
# (default 12 = row 4's) shortens the sweep's points.
# Output: the table in bench/distillation/augment-sweep.md (printed after every step) and the sweep's own summary
# (sweep.md, heatmap.png) under $KDDATA_BENCH_HOME/fmnist/augment-sweep/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, readme_table, private_bins
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
tiny=${KDDATA_BENCH_TINY:-0}
mkdir -p "$home/data" "$home/fmnist" out/bench
home=$(cd "$home" && pwd)
# The same links as results-table.sh (shards record image paths through them). A link to another home is left
# alone and stops the script: replacing it would silently switch results-table.sh to other data.
for link in data:"$home/data" out/bench/fmnist:"$home/fmnist"; do
  name=${link%%:*} target=${link#*:}
  if [ -L "$name" ]; then
    current=$(readlink -f "$name")
    [ "$current" = "$(readlink -f "$target")" ] || { echo "$name links to $current, not $target: set KDDATA_BENCH_HOME to match or remove the link" >&2; exit 2; }
  elif [ -e "$name" ]; then
    echo "$name exists and is not a link (results-table.sh moves it out once; run that first)" >&2; exit 2
  else
    ln -s "$target" "$name"
  fi
done
root=out/bench/fmnist
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

private_bins "$root" labeler
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)

if [ "$tiny" = 1 ]; then
  import_limits=(--train-limit 3000 --test-limit 500)
  teacher_width=8 student_width=8 teacher_epochs=2 epochs=1 views=2
  grid=(--grid "Trainer:Objective:Curriculum:TemperatureStart=2,4" --grid "Trainer:Objective:Curriculum:AlphaStart=0.3,0.7")
else
  import_limits=()
  teacher_width=64 student_width=32 teacher_epochs=30 epochs=12 views=4
  grid=(--grid "Trainer:Objective:Curriculum:TemperatureStart=2,4,6,8" --grid "Trainer:Objective:Curriculum:AlphaStart=0.3,0.5,0.7")
fi
sweep_epochs=${KDDATA_SWEEP_EPOCHS:-$epochs}
teacher="$root/row1-teacher-10pct/last.json"

rows=(
  "S|best point of the T x alpha sweep (constant T, alpha; as 4)|sweep"
  "M1|as 4 + MixUp alpha 0.2, offline (mixed cached soft targets)|aug-mixup-offline"
  "M2|as 4 + MixUp alpha 0.2, online (teacher labels the mixed image)|aug-mixup-online"
  "C1|as 4 + CutMix, offline (mixed cached soft targets)|aug-cutmix-offline"
  "C2|as 4 + CutMix, online (teacher labels the mixed image)|aug-cutmix-online"
)
accuracy() { jq '.metrics.accuracy * 100' "$1/evaluation/evaluation.json"; }
evaluate() { # folder: evaluate its last checkpoint once on the test split
  [ -f "$1/evaluation/evaluation.json" ] || "${trainer[@]}" evaluate --checkpoint "$1/last.json" --dataset file:data/fashion-mnist/ \
    --output "$1/evaluation" "${threads[@]}" > "$1/evaluation.log" 2>&1
}
table() {
  local out=bench/distillation/augment-sweep.md n what id label
  {
    echo "| row | run | test accuracy | params | MACs | epochs | training time (s) | seed |"
    echo "|---|---|---|---|---|---|---|---|"
    for row in "${rows[@]}"; do
      IFS='|' read -r n what id <<<"$row"
      [ -f "$root/augment-$id.done" ] || { echo "| $n | $what | (not run yet) | | | | | |"; continue; }
      local dir="$root/augment-$id" seconds
      if [ "$id" = sweep ]; then
        local best; best=$(jq -r '.best.name' "$dir/sweep.json")
        what="$what: $(jq -r '.best.settings | to_entries | map("\(.key | split(":") | last)=\(.value)") | join(", ")' "$dir/sweep.json")"
        dir="$dir/$best"
      fi
      evaluate "$dir"
      seconds=$(jq -s 'map(.seconds) | add | floor' "$dir/metrics.jsonl")
      printf '| %s | %s | %.2f %% | %s | %s | %s | %s | %s |\n' "$n" "$what" "$(accuracy "$dir")" \
        "$(jq '.checkpoint.parameters' "$dir/evaluation/evaluation.json")" "$(jq '.checkpoint.macs' "$dir/evaluation/evaluation.json")" \
        "$(jq '.training.epoch' "$dir/last.json")" "$seconds" "$(jq '.training.options.seed' "$dir/last.json")"
    done
    echo
    # How far the offline approximation (a mix of the two cached targets) is from the teacher on the mixed image.
    for pair in "MixUp|mixup" "CutMix|cutmix"; do
      IFS='|' read -r label id <<<"$pair"
      local off="$root/augment-aug-$id-offline" on="$root/augment-aug-$id-online"
      if [ -f "$off/evaluation/evaluation.json" ] && [ -f "$on/evaluation/evaluation.json" ]; then
        printf -- '- %s: offline - online = %+.2f points; epoch time online / offline = %.2f\n' "$label" \
          "$(jq -n "$(accuracy "$off") - $(accuracy "$on")")" \
          "$(jq -n "$(jq -s 'map(.seconds) | add' "$on/metrics.jsonl") / $(jq -s 'map(.seconds) | add' "$off/metrics.jsonl")")"
      fi
    done
    if [ -f "$root/augment-sweep/sweep.md" ]; then
      echo
      # The epochs the points ran (KDDATA_SWEEP_EPOCHS of the run that made them, not of this call).
      echo "Sweep ($(jq '.points[0].epochs' "$root/augment-sweep/sweep.json") epochs per point, row 4 has $epochs; accuracy of the best epoch on the test split, so choosing the best point on it is optimistic):"
      echo
      cat "$root/augment-sweep/sweep.md"
    fi
  } > "$out"
  cat "$out"
  # Into the README only for the shared bench home (a tiny or scratch run leaves it alone).
  if [ "$tiny" != 1 ] && [ -z "${KDDATA_BENCH_HOME:-}" ]; then readme_table augment-table "$out"; fi
}

if [ "${1:-}" = "--table" ]; then table; exit 0; fi

# Prerequisites, as results-table.sh makes them (same step names: done already in a home it filled).
step import-10pct "${trainer[@]}" import --dest "file:data/fashion-mnist/" --labeled-fraction 0.1 --seed 42 "${import_limits[@]}"
step row1-teacher-10pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output "$root/row1-teacher-10pct" \
  --model convnet --Trainer:Model:Width=$teacher_width --epochs $teacher_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
for set in pool:unlabeled train:train; do
  step "label-t10-${set%%:*}" "${labeler[@]}" --Labeler:Teacher="$teacher" --Labeler:Input="file:data/fashion-mnist/${set#*:}/" \
    --Labeler:Output="file:$root/labels-t10-${set%%:*}/" --Labeler:ViewsPerImage=$views --Labeler:ViewScaleMin=0.64 \
    --Labeler:BatchSize=256 --Torch:Threads=2
done

# Row 4's distill settings, shared by every run below.
row4=(--dataset file:data/fashion-mnist/ --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=$student_width
  --Trainer:Distill:BatchSize=128 "${threads[@]}")
shards=(--Trainer:Distill:Shards:Locations:0="file:$root/labels-t10-train/" --Trainer:Distill:Shards:Locations:1="file:$root/labels-t10-pool/")

# S. the sweep: T and alpha held constant over the epochs (the default curriculum anneals both).
step augment-sweep "${trainer[@]}" sweep "${row4[@]}" "${shards[@]}" --output "$root/augment-sweep" --epochs "$sweep_epochs" \
  --Trainer:Objective:Curriculum:Shape=constant "${grid[@]}"

# M / C. MixUp and CutMix on every batch, offline from the cached soft targets, then online with teacher 1 in the loop.
for aug in "mixup|--Trainer:Distill:Augment:MixUp=true" "cutmix|--Trainer:Distill:Augment:CutMix=true"; do
  IFS='|' read -r aug_id aug_setting <<<"$aug"
  step "augment-aug-$aug_id-offline" "${trainer[@]}" distill "${row4[@]}" "${shards[@]}" --epochs $epochs \
    --Trainer:Distill:Output="$root/augment-aug-$aug_id-offline" "$aug_setting"
  step "augment-aug-$aug_id-online" "${trainer[@]}" distill "${row4[@]}" --epochs $epochs \
    --Trainer:Distill:Output="$root/augment-aug-$aug_id-online" --Trainer:Distill:Teacher="$teacher" --Trainer:Distill:OnlinePool=true "$aug_setting"
done
table
