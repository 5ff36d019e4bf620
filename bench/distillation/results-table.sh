#!/usr/bin/env bash
# The Fashion-MNIST results table (issue 8): every row is a real run of the Trainer / Labeler command line on
# the full data set (official 10k test set). Resumable: a finished step leaves out/bench/fmnist/<step>.done and
# is skipped next time; an interrupted training step resumes from its last checkpoint. Run from the repository
# root:  bash bench/distillation/results-table.sh        (about 2-3 hours on 2 cores; see bench/README.md)
# The table is printed and written to bench/distillation/results.md after every step, so it grows as it goes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, readme_table, private_bins
# The data set and every step's output live outside the work tree (KDDATA_BENCH_HOME, default
# /var/tmp/kddata-bench), reached through the links data/ and out/bench/fmnist, so a later session on the same
# machine with a fresh checkout continues where this one stopped. Shards record image locations by path, so the
# links keep the paths the Labeler saw.
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
mkdir -p "$home/data" "$home/fmnist" out/bench
for link in data:"$home/data" out/bench/fmnist:"$home/fmnist"; do
  name=${link%%:*} target=${link#*:}
  if [ -d "$name" ] && [ ! -L "$name" ]; then
    # An earlier run kept its files in the work tree: move them out once (a rename on the same file system).
    cp -a "$name/." "$target/" && rm -rf "$name"
  fi
  [ -L "$name" ] || ln -s "$target" "$name"
done
root=out/bench/fmnist
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }

# A private copy of the binaries, so rebuilding the working tree never changes a running step.
private_bins "$root" labeler
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)

# Models: the teacher is a wider convnet (width 64, ~370k parameters); the student is the compact convnet
# (width 32, ~94k parameters: the sample teacher's architecture).
teacher_model=(--model convnet --Trainer:Model:Width=64)
student_model=(--model convnet --Trainer:Model:Width=32)
small_epochs=30   # 6,000 labeled images
large_epochs=12   # 60,000 images (labeled or pseudo-labeled)

command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

# The table: each finished row's last checkpoint is evaluated once on the official 10k test set by the
# evaluate command (accuracy, parameters, MACs); time is the sum of the epochs' wall-clock seconds (metrics.jsonl).
rows=(
  "1|teacher (convnet w64) on 10 % labels|row1-teacher-10pct"
  "2|student (convnet w32) from scratch on 10 % labels|row2-student-10pct"
  "3|student KD on the 10 % labeled images only|row3-kd-10pct"
  "4|student KD on 10 % labels + 90 % pool pseudo-labeled by 1 (offline)|row4-kd-10pct-pool"
  "5|as 4, class-balanced (every class capped at the smallest)|row5-kd-10pct-pool-balanced"
  "4f|as 4, pool labeled once on the whole image, mirrored at random (no crops)|row4f-kd-10pct-pool-full"
  "6|student supervised on 100 % labels|row6-student-100pct"
  "7a|teacher (convnet w64) on 100 % labels|row7-teacher-100pct"
  "7b|student KD from 7a on 100 % labels|row7-kd-100pct"
)
table() {
  # A partial run (BENCH_STEPS: only some steps, e.g. the students another bench needs) leaves the table alone.
  if [ -n "${BENCH_STEPS:-}" ]; then return 0; fi
  local out=bench/distillation/results.md
  # A row whose run is not in $root (another machine's state) keeps its line from the committed table, and says so.
  local previous kept=()
  previous=$(cat "$out" 2>/dev/null || true)
  {
    echo "| row | run | test accuracy | params | MACs | epochs | training time (s) | seed |"
    echo "|---|---|---|---|---|---|---|---|"
    for row in "${rows[@]}"; do
      IFS='|' read -r n what id <<<"$row"
      local dir="$root/$id"
      if [ ! -f "$root/$id.done" ]; then
        local line
        line=$(grep -m1 "^| $n | " <<<"$previous" || true)
        if [ -n "$line" ] && [[ "$line" != *"(not run yet)"* ]]; then echo "$line"; kept+=("$n"); else echo "| $n | $what | (not run yet) | | | | | |"; fi
        continue
      fi
      if [ ! -f "$dir/evaluation/evaluation.json" ]; then
        "${trainer[@]}" evaluate --checkpoint "$dir/last.json" --dataset file:data/fashion-mnist/ --output "$dir/evaluation" \
          --Torch:Threads=2 --Trainer:Data:DecodeWorkers=1 > "$dir/evaluation.log" 2>&1
      fi
      local e="$dir/evaluation/evaluation.json" r="$dir/last.json"
      printf '| %s | %s | %.2f %% | %s | %s | %s | %s | %s |\n' "$n" "$what" \
        "$(jq '.metrics.accuracy * 100' "$e")" "$(jq '.checkpoint.parameters' "$e")" "$(jq '.checkpoint.macs' "$e")" \
        "$(jq '.training.epoch' "$r")" "$(jq -s 'map(.seconds) | add | floor' "$dir/metrics.jsonl")" "$(jq '.training.options.seed' "$r")"
    done
    if [ ${#kept[@]} -gt 0 ]; then
      echo
      echo "Rows ${kept[*]}: kept from the previous table (their runs are not in this machine's bench state, so they were not re-evaluated); the other rows are the runs in $root as of $(date -u +%Y-%m-%d)."
    fi
  } > "$out"
  cat "$out"
  # The README shows the same table between its markers.
  readme_table results-table "$out"
}

# --table: only (re)build the table from the steps finished so far.
if [ "${1:-}" = "--table" ]; then table; exit 0; fi

step import-10pct "${trainer[@]}" import --dest "file:data/fashion-mnist/" --labeled-fraction 0.1 --seed 42
step import-100pct "${trainer[@]}" import --dest "file:data/fashion-mnist-all/" --labeled-fraction 1.0 --seed 42

# 1. teacher on 10 % labels
step row1-teacher-10pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output "$root/row1-teacher-10pct" \
  "${teacher_model[@]}" --epochs $small_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
# 2. student from scratch on 10 % labels
step row2-student-10pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output "$root/row2-student-10pct" \
  "${student_model[@]}" --epochs $small_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"

# The teacher labels what the students learn from: every image 4 times (seeded random resized crops of at least
# 64 % of the area, boxes stored), so the student's augmentation is replayed views whose soft targets are exact.
# The last checkpoint is used, not the best one: choosing by test accuracy would leak the test set into the table.
label() { # name teacher-checkpoint input output [extra settings...]
  local name=$1 teacher=$2 input=$3 output=$4; shift 4
  step "$name" "${labeler[@]}" --Labeler:Teacher="$teacher" --Labeler:Input="$input" --Labeler:Output="$output" \
    --Labeler:ViewsPerImage=4 --Labeler:ViewScaleMin=0.64 --Labeler:BatchSize=256 --Torch:Threads=2 "$@"
}
label label-t10-pool "$root/row1-teacher-10pct/last.json" file:data/fashion-mnist/unlabeled/ "file:$root/labels-t10-pool/"
label label-t10-train "$root/row1-teacher-10pct/last.json" file:data/fashion-mnist/train/ "file:$root/labels-t10-train/"

distill() { # name dataset epochs shard-locations... -- extra settings...
  local name=$1 dataset=$2 epochs=$3; shift 3
  local args=() i=0
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("--Trainer:Distill:Shards:Locations:$i=file:$root/$1/"); i=$((i + 1)); shift; done
  [ "${1:-}" = "--" ] && shift
  step "$name" "${trainer[@]}" distill --dataset "file:$dataset/" --Trainer:Distill:Output="$root/$name" \
    --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=32 --Trainer:Distill:Epochs="$epochs" \
    --Trainer:Distill:BatchSize=128 "${threads[@]}" "${args[@]}" "$@"
}
# 3. student KD on the 10 % labeled images only (teacher views of those images)
distill row3-kd-10pct data/fashion-mnist $small_epochs labels-t10-train
# 4. student KD on 10 % labels + the 90 % pool pseudo-labeled by teacher 1 (offline)
distill row4-kd-10pct-pool data/fashion-mnist $large_epochs labels-t10-train labels-t10-pool
# 5. as 4, with class-balanced thresholding (every class capped at the smallest class's count)
distill row5-kd-10pct-pool-balanced data/fashion-mnist $large_epochs labels-t10-train labels-t10-pool -- --Trainer:Distill:Shards:ClassCap=balance
# 4f. a variant of 4: the pool labeled once on the whole image (the view the test set shows), mirrored at random
label label-t10-pool-full "$root/row1-teacher-10pct/last.json" file:data/fashion-mnist/unlabeled/ "file:$root/labels-t10-pool-full/" --Labeler:ViewsPerImage=1
distill row4f-kd-10pct-pool-full data/fashion-mnist $large_epochs labels-t10-train labels-t10-pool-full -- --Trainer:Distill:Mix:MirrorPseudoLabeled=true
# 6. student supervised on 100 % labels
step row6-student-100pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist-all/ --output "$root/row6-student-100pct" \
  "${student_model[@]}" --epochs $large_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
# 7. teacher on 100 % labels, and a student distilled from it (KD on all 60k labeled images)
step row7-teacher-100pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist-all/ --output "$root/row7-teacher-100pct" \
  "${teacher_model[@]}" --epochs $large_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
label label-t100-train "$root/row7-teacher-100pct/last.json" file:data/fashion-mnist-all/train/ "file:$root/labels-t100-train/"
distill row7-kd-100pct data/fashion-mnist-all $large_epochs labels-t100-train
table
