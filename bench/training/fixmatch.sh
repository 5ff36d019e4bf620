#!/usr/bin/env bash
# Issue 18, goal 2: a semi-supervised teacher from the 10 % labels (6,000 images, split seed 42) plus the 54,000-image
# pool, trained with FixMatch (Sohn et al. 2020) by the real `distill` command: the model labels each pool image's weak
# view itself (`--teacher self`), pseudo-labels above 0.95 confidence train its strong view (another crop, RandAugment,
# Cutout), 7 pool images per labeled image in a batch. 3 training seeds; the last checkpoint of each is evaluated on the
# official 10k test set, and on the pool against its withheld labels (its pseudo-label accuracy as a teacher). Writes
# bench/training/fixmatch.md after every finished step and commits that file alone, so a partial table lands as it grows.
# Resumable: state in $KDDATA_BENCH_HOME/fixmatch (outside the work tree); a finished step is skipped, an interrupted
# training run continues from its last checkpoint. Rerun to resume.
# Once two or more seeds have finished, their last checkpoints are joined into one teacher (`kddata-trainer ensemble`:
# the log of their mean probabilities), which is evaluated the same two ways and gets a row of its own below the mean.
# Run from the repository root:  bash bench/training/fixmatch.sh       (about 1 h 45 min a seed alone on 2 cores; 3-4x that beside
# other work: two 2-thread Torch processes on 2 cores slow each other far more than 2x)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), SEEDS (default "1 2 3"), WIDTH (convnet
# width, default 64), EPOCHS (default 50), MAGNITUDE (RandAugment M of the strong view, default 5), COMMIT (default true),
# SPLIT_SEED and LABELED_FRACTION (default 42 and 0.1; another split gets its own data, state and result file,
# bench/training/fixmatch-split<seed>-f<fraction>.md; see labeled_split in bench/steps.sh), EMA_TEACHER (default false:
# true labels the pool with the moving average, a mean teacher, instead of the weights being trained),
# DISTRIBUTION_ALIGNMENT (default 0, off: the momentum of ReMixMatch's distribution alignment, e.g. 0.999).
# A recipe other than the default (WIDTH, EPOCHS, MAGNITUDE, EMA_TEACHER or DISTRIBUTION_ALIGNMENT changed) is a variant:
# its own state folder and result file,
# bench/training/fixmatch<split suffix>-w<width>-e<epochs>[-m<magnitude>][-emateacher][-da<momentum>].md, so it never
# mixes with the preset's table; only the preset's table feeds the README and the headline.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, private_bins, readme_table, bench_needs, evaluate_once
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
labeled_split   # split_seed, fraction, suffix
seeds=${SEEDS:-1 2 3}
width=${WIDTH:-64}
epochs=${EPOCHS:-50}
magnitude=${MAGNITUDE:-5}
ema_teacher=${EMA_TEACHER:-false}
alignment=${DISTRIBUTION_ALIGNMENT:-0}
variant=""
if [ "$width" != 64 ] || [ "$epochs" != 50 ] || [ "$magnitude" != 5 ] || [ "$ema_teacher" != false ] || [ "$alignment" != 0 ]; then
  variant="-w$width-e$epochs$([ "$magnitude" = 5 ] || echo "-m$magnitude")$([ "$ema_teacher" = false ] || echo "-emateacher")$([ "$alignment" = 0 ] || echo "-da$alignment")"
fi
root=$home/fixmatch$suffix$variant
mkdir -p "$root" "$home/data"
bench_needs dataset
data=$home/data/fashion-mnist$suffix
table_file=bench/training/fixmatch$suffix$variant.md

# FixMatch's recipe (the paper's CIFAR settings where they carry over): SGD with Nesterov momentum, lr 0.03, weight decay
# 5e-4, cosine decay; threshold 0.95, lambda_u 1, mu 7; weak view = padded crop (2 px) and flip, strong view = another
# crop and flip, RandAugment (2 ops), Cutout of half the side; the checkpoints (evaluated, labeled with) hold the moving
# average of the weights with decay 0.999, while the weights being trained label the pool as they go (the paper's
# evaluation model). The run without the average is in bench/training/fixmatch-no-ema.md.
recipe=(--model convnet --Trainer:Distill:Model:Width="$width" --epochs "$epochs" --batch-size 128 --mu 7
  --teacher self --objective pseudo-ce --Trainer:Objective:PseudoLabelThreshold=0.95 --Trainer:Objective:UnlabeledWeight=1
  --Trainer:Distill:OnlinePool=true --Trainer:Distill:Augment:StrongPool=true --Trainer:Distill:Augment:RandAugmentOps=2
  --Trainer:Distill:Augment:RandAugmentMagnitude="$magnitude" --Trainer:Distill:Augment:Cutout=0.5
  --Trainer:Distill:Optimizer=sgd --Trainer:Distill:LearningRate=0.03 --Trainer:Distill:WeightDecay=5e-4
  --Trainer:Distill:EmaDecay=0.999)
if [ "$ema_teacher" != false ]; then recipe+=(--Trainer:Distill:EmaTeacher=true); fi
if [ "$alignment" != 0 ]; then recipe+=(--Trainer:Distill:DistributionAlignment="$alignment"); fi
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)

fma_peak   # cores, lanes, isa, mhz, peak (bench/steps.sh)

table() {
  # seed and dir are the main loop's too: a table built after a step must not change them.
  local seed dir out=$table_file
  {
    echo "| seed | test accuracy (last epoch) | pool pseudo-label accuracy | epochs | training time (min) | images/s | G MAC/s (share of peak) | mask rate (last epoch) |"
    echo "|---|---|---|---|---|---|---|---|"
    for seed in $seeds; do
      local dir=$root/fixmatch-seed$seed
      if [ ! -f "$dir/evaluation-test/evaluation.json" ] || [ ! -f "$dir/evaluation-pool/evaluation.json" ]; then
        # A seed finished in an earlier session whose state is gone keeps its committed row.
        committed_row "$out" "$seed" "${recipe[*]}" | grep . || echo "| $seed | (not finished) | | | | | | |"
        continue
      fi
      local ips macs
      ips=$(jq -s 'map(.images_per_second) | add / length' "$dir/metrics.jsonl")
      macs=$(jq '.training.model.macs' "$dir/last.json")
      printf '| %s | %.2f %% | %.2f %% | %s | %.1f | %.0f | %s | %.3f |\n' "$seed" \
        "$(jq '.metrics.accuracy * 100' "$dir/evaluation-test/evaluation.json")" "$(jq '.metrics.accuracy * 100' "$dir/evaluation-pool/evaluation.json")" \
        "$(jq '.training.epoch' "$dir/last.json")" "$(jq -s 'map(.seconds) | add / 60' "$dir/metrics.jsonl")" "$ips" \
        "$(awk -v i="$ips" -v m="$macs" -v p="$peak" 'BEGIN { g = 4 * i * m / 1e9; printf "%.1f (%.0f %%)", g, 100 * g / p }')" \
        "$(jq -s 'last | .pseudo_label_rate // "n/a"' "$dir/metrics.jsonl")"
    done
  } > "$out.rows"
  local ensemble
  ensemble=$(latest_ensemble)
  {
    cat "$out.rows"
    awk -F'|' '$3 ~ /%/ { gsub(/[ %]/, "", $3); gsub(/[ %]/, "", $4); a[++n] = $3; s += $3; p += $4; t += $6 }
      END {
        if (n == 0) exit
        m = s / n; v = 0
        for (i = 1; i <= n; i++) v += (a[i] - m) ^ 2
        printf "| mean +- std of %d | %.2f +- %.2f %% | %.2f %% | | %.1f | | | |\n", n, m, (n > 1 ? sqrt(v / (n - 1)) : 0), p / n, t / n
      }' "$out.rows"
    if [ -z "$ensemble" ]; then
      # An ensemble built in an earlier session whose state is gone keeps its committed row (of this recipe only).
      if git show "HEAD:$out" 2>/dev/null | grep -qF -- "${recipe[*]}"; then git show "HEAD:$out" | grep '^| ensemble of seeds' || true; fi
    else
      printf '| ensemble of seeds %s | %.2f %% | %.2f %% | | | | | |\n' "$(basename "$ensemble" | sed 's/^ensemble-//; s/-/, /g')" \
        "$(jq '.metrics.accuracy * 100' "$ensemble/evaluation-test/evaluation.json")" "$(jq '.metrics.accuracy * 100' "$ensemble/evaluation-pool/evaluation.json")"
    fi
    echo
    echo "Goal 2 (issue 18): a semi-supervised teacher from 10 % labels + the pool >= 92.0 %. Recipe: ${recipe[*]} ${threads[*]};"
    echo "data: the $(awk -v f="$fraction" 'BEGIN { print f * 100 }') % import (split seed $split_seed), official 10k test set; pool accuracy: the last checkpoint's arg-max on the"
    echo "54,000 pool images against pool-labels.parquet; the last checkpoint, never the best. Model: $(jq -r '.training.model | "\(.parameters) parameters, \(.macs) MACs an image"' "$root"/fixmatch-seed*/last.json 2>/dev/null | head -1). G MAC/s = 4 x"
    echo "those MACs x images/s (3 for the training pass, 1 for the labeling pass), against a peak of $peak G fp32 FMA/s ($cores cores x $lanes $isa lanes x $mhz MHz)."
    if [ -n "$ensemble" ]; then
      echo "The ensemble row is one teacher made of those seeds' last checkpoints (\`kddata-trainer ensemble\`: the log of their mean"
      echo "probabilities), one figure, not a mean of seeds: $(jq -r '.training.model | "\(.parameters) parameters, \(.macs) MACs an image"' "$ensemble/ensemble.json") (its labeling cost)."
    fi
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '),"
    echo "$(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F), $(nproc) cores, shared with other work (load in the logs)."
  } > "$out"
  rm -f "$out.rows"
  if [ -z "$suffix$variant" ]; then readme_table fixmatch-table "$out"; bash bench/training/headline.sh; fi
  if [ "${COMMIT:-true}" = true ]; then
    git add "$out" docs/*.md README.md bench/training/headline.md && git commit -q -m "Bench fixmatch: $(grep -cE '^\| [0-9]+ \| [0-9.]+ %' "$out") of $(echo $seeds | wc -w) seeds ($out)" -- "$out" docs/*.md README.md bench/training/headline.md || true
  fi
}

# latest_ensemble: the folder of the ensemble of the most seeds that is built and evaluated both ways, or nothing.
latest_ensemble() {
  local dir best="" most=0 n
  for dir in "$root"/ensemble-*; do
    [ -f "$dir/evaluation-test/evaluation.json" ] && [ -f "$dir/evaluation-pool/evaluation.json" ] || continue
    n=$(basename "$dir" | tr -cd '-' | wc -c)
    if [ "$n" -gt "$most" ]; then most=$n; best=$dir; fi
  done
  echo "$best"
}

if [ "${1:-}" = "--table" ]; then COMMIT=false table; cat "$table_file"; exit 0; fi

private_bins "$root"
if [ ! -f "$data/manifest.parquet" ]; then
  step "import$suffix" "${trainer[@]}" import --dest "file:$data/" --labeled-fraction "$fraction" --seed "$split_seed"
fi
for seed in $seeds; do
  if [ ! -d "$root/fixmatch-seed$seed" ] && [ -n "$(committed_row "$table_file" "$seed" "${recipe[*]}")" ]; then
    echo "== fixmatch-seed$seed: finished in the committed table (its state is not on this machine): kept"
    continue
  fi
  dir=$root/fixmatch-seed$seed
  step "fixmatch-seed$seed" "${trainer[@]}" distill --dataset "file:$data/" --output "$dir" "${recipe[@]}" \
    --Trainer:Distill:Seed="$seed" "${threads[@]}"
  evaluate_once "$dir" "$data" evaluation-test || true
  if evaluate_once "$dir" "$data" evaluation-pool --manifest pool-labels.parquet --split train; then table; fi
done
# The finished seeds as one teacher, when there are two or more.
finished=()
for seed in $seeds; do
  if [ -f "$root/fixmatch-seed$seed/evaluation-pool/evaluation.json" ]; then finished+=("$seed"); fi
done
if [ "${#finished[@]}" -ge 2 ]; then
  edir=$root/ensemble-$(IFS=-; echo "${finished[*]}")
  if [ ! -f "$edir/ensemble.json" ]; then
    members=""
    for seed in "${finished[@]}"; do members="$members${members:+,}$root/fixmatch-seed$seed/last.json"; done
    "${trainer[@]}" ensemble --members "$members" --output "$edir" > "$edir.log" 2>&1 \
      || { echo "== ensemble of seeds ${finished[*]} failed; see $edir.log" >&2; exit 1; }
  fi
  evaluate_once "$edir" "$data" evaluation-test || true
  if evaluate_once "$edir" "$data" evaluation-pool --manifest pool-labels.parquet --split train; then table; fi
fi
table
cat "$table_file"
