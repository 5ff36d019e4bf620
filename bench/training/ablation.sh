#!/usr/bin/env bash
# Issue 18's ablation of goal 1's recipe: what each ingredient of the supervised recipe (bench/training/recipe.sh) is
# worth to the 94k student on 100 % of the labels. Each row takes one ingredient out of the recipe (or shortens it) and
# trains 3 seeds; the table shows every seed's last-checkpoint accuracy on the official 10k test set, the mean +- std,
# the gain of the ingredient (the recipe's mean, from the committed bench/training/recipe.md, minus the row's mean),
# training images/s and minutes. Every finished run appends its figures to bench/training/ablation-runs.tsv, the table
# bench/training/ablation.md is built from that file, and both are committed after each run (COMMIT=true, the default):
# a run in the committed file is never trained again, even on a machine without the state folder. Resumable like the
# other benches: state in $KDDATA_BENCH_HOME/ablation; an interrupted run continues from its last checkpoint.
# Run from the repository root:  bash bench/training/ablation.sh      (about 6-7 h on 2 cores alone)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), SEEDS (default "1 2 3"), ROWS (default all:
# "no-smoothing no-augment adamw 12-epochs"), COMMIT (default true). To try the script: DATA (a dataset folder, e.g.
# $PWD/samples/fashion-mnist), EPOCHS (every row's epochs), TABLE and RUNS (other paths than the committed files).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, private_bins, fma_peak, bench_needs, evaluate_once
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
root=$home/ablation
seeds=${SEEDS:-1 2 3}
rows=${ROWS:-no-smoothing no-augment adamw 12-epochs}
mkdir -p "$root" "$home/data"
bench_needs dataset
data=${DATA:-$home/data/fashion-mnist-all}   # recipe.sh's 100 % import (imported here when missing)

# The recipe, exactly as recipe.sh and presets/fmnist-supervised.json (SettingsPresetTests holds them equal).
recipe=(--preset fmnist-supervised ${EPOCHS:+--epochs $EPOCHS})
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)
declare -A change=(
  [no-smoothing]="--Trainer:Teacher:LabelSmoothing=0"
  [no-augment]="--Trainer:Data:CropPadding=0 --Trainer:Data:HorizontalFlip=false"
  [adamw]="--Trainer:Teacher:Optimizer=adamw --Trainer:Teacher:LearningRate=0.001"
  [12-epochs]="--epochs 12"
)
declare -A meaning=(
  [no-smoothing]="without label smoothing (0.1 -> 0)"
  [no-augment]="without the padded crop (2 px) and flip"
  [adamw]="AdamW, lr 1e-3 (the command's default) instead of SGD + Nesterov, lr 0.05"
  [12-epochs]="12 epochs (the results table's) instead of 40"
)
for r in $rows; do [ -n "${change[$r]:-}" ] || { echo "unknown ablation row '$r' in ROWS: known are ${!change[*]}" >&2; exit 2; }; done
fma_peak

runs=${RUNS:-bench/training/ablation-runs.tsv}
table_file=${TABLE:-bench/training/ablation.md}
[ -f "$runs" ] || printf 'row\tseed\taccuracy\timages_per_second\tminutes\tepochs\tcommit\tcpu\n' > "$runs"
finished() { awk -F'\t' -v r="$1" -v s="$2" '$1 == r && $2 == s { found = 1 } END { exit !found }' "$runs"; }

table() {
  local r seed out=$table_file full
  full=$(git show HEAD:bench/training/recipe.md 2>/dev/null | awk -F'|' '$2 ~ /mean/ { v = $3; sub(/ \+- .*/, "", v); gsub(/ /, "", v); print v; exit }')
  {
    echo "| row | change | accuracy per seed (last epoch) | mean +- std | gain of the ingredient (recipe - row) | images/s | training time (min) |"
    echo "|---|---|---|---|---|---|---|"
    echo "| recipe | the full recipe (bench/training/recipe.md) | | ${full:-?} % (mean) | | | |"
    for r in $rows; do
      local accs="" n=0 ips="" mins=""
      for seed in $seeds; do
        finished "$r" "$seed" || continue
        accs="$accs $(awk -F'\t' -v r="$r" -v s="$seed" '$1 == r && $2 == s { print $3; exit }' "$runs")"
        ips="$ips $(awk -F'\t' -v r="$r" -v s="$seed" '$1 == r && $2 == s { print $4; exit }' "$runs")"
        mins="$mins $(awk -F'\t' -v r="$r" -v s="$seed" '$1 == r && $2 == s { print $5; exit }' "$runs")"
        n=$((n + 1))
      done
      if [ "$n" -eq 0 ]; then
        echo "| $r | ${meaning[$r]} | (not finished) | | | | |"
        continue
      fi
      awk -v r="$r" -v m="${meaning[$r]}" -v a="$accs" -v i="$ips" -v t="$mins" -v full="$full" -v total="$(echo $seeds | wc -w)" 'BEGIN {
          n = split(a, x, " "); split(i, y, " "); split(t, z, " ")
          for (k = 1; k <= n; k++) { s += x[k]; si += y[k]; st += z[k]; list = list sprintf("%s%.2f", k > 1 ? ", " : "", x[k]) }
          mean = s / n; v = 0
          for (k = 1; k <= n; k++) v += (x[k] - mean) ^ 2
          sd = n > 1 ? sqrt(v / (n - 1)) : 0
          gain = full != "" ? sprintf("%+.2f points", full - mean) : "?"
          printf "| %s | %s | %s %% (%d of %d seeds) | %.2f +- %.2f %% | %s | %.0f | %.1f |\n", r, m, list, n, total, mean, sd, gain, si / n, st / n
        }'
    done
    echo
    echo "Ablation of goal 1's recipe (issue 18): each row is teacher ${recipe[*]} <change> --Trainer:Teacher:Seed=<seed> ${threads[*]}"
    echo "on the 100 % import (split seed 42), scored on the official 10k test set with its last checkpoint. The gain of an"
    echo "ingredient is the recipe's mean minus the row's mean (the std of each is in its row and in recipe.md). images/s and"
    echo "minutes are the mean over the row's seeds (training and per-epoch evaluation). $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family"
    echo "$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F), $(nproc) cores, shared with other work (load in the logs)."
  } > "$out"
  [ "$out" = bench/training/ablation.md ] || return 0
  readme_table ablation-table "$out"
  if [ "${COMMIT:-true}" = true ]; then
    git add "$out" "$runs" docs/training.md && git commit -q -m "Bench ablation: $(($(wc -l < "$runs") - 1)) runs (bench/training/ablation.md)" -- "$out" "$runs" docs/training.md || true
  fi
}

if [ "${1:-}" = "--table" ]; then COMMIT=false table; cat "$table_file"; exit 0; fi

private_bins "$root"
if [ ! -f "$data/manifest.parquet" ]; then
  step import-100pct "${trainer[@]}" import --dest "file:$data/" --labeled-fraction 1.0 --seed 42
fi
# Seeds outermost: after one seed of every row the table already shows every ingredient's sign.
for seed in $seeds; do
  for r in $rows; do
    if finished "$r" "$seed"; then echo "== $r-seed$seed: in $runs"; continue; fi
    dir=$root/$r-seed$seed
    # shellcheck disable=SC2086 # a change is several switches
    step "$r-seed$seed" "${trainer[@]}" teacher --dataset "file:$data/" --output "$dir" "${recipe[@]}" ${change[$r]} \
      --Trainer:Teacher:Seed="$seed" "${threads[@]}"
    evaluate_once "$dir" "$data" evaluation || true
    printf '%s\t%s\t%.2f\t%.0f\t%.1f\t%s\t%s\t%s\n' "$r" "$seed" "$(jq '.metrics.accuracy * 100' "$dir/evaluation/evaluation.json")" \
      "$(jq -s 'map(.images_per_second) | add / length' "$dir/metrics.jsonl")" "$(jq -s 'map(.seconds) | add / 60' "$dir/metrics.jsonl")" \
      "$(jq '.training.epoch' "$dir/last.json")" "$(basename "$bin" | sed 's/^bin-//')" \
      "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')" >> "$runs"
    table
  done
done
table
cat "$table_file"
