#!/usr/bin/env bash
# Issue 18, goals 3 and 5: the product's main path from a semi-supervised teacher. The Labeler labels the 10 % import's
# labeled train images and its 54,000-image pool with TEACHER (default: fixmatch.sh's 3 FixMatch seeds joined into one
# ensemble teacher once it has built it, state in main-path-ensemble/; before that its seed 1; 4 views per image, as the
# results table's row 4), then `distill` trains convnet students offline from those cached soft
# targets plus the labels: width 32 (94k parameters, goal 3: >= 91.5 %) and width 16 (about 25k, goal 5: >= 90 %), 3
# training seeds each; each last checkpoint is evaluated on the official 10k test set. Writes TABLE after every finished
# step (and commits it with COMMIT=true); resumable like the other benches: state in $KDDATA_BENCH_HOME/main-path.
# Run from the repository root:  bash bench/training/main-path.sh      (after fixmatch.sh has finished a seed)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), TEACHER (a checkpoint or ensemble .json;
# another than the default is a variant with its own state and result file, bench/training/main-path-from-<name>.md,
# committed but not in the README), DATA (default the 10 % import),
# SEEDS (default "1 2 3"), WIDTHS (default "32 16"), EPOCHS (default 30), VIEWS (teacher views per image, default 4),
# JITTER_VIEWS (default false: true shifts and flips every view, Trainer:Distill:Mix:JitterViews), TABLE (default bench/training/main-path.md;
# another path writes only that file), COMMIT (default true), SPLIT_SEED and LABELED_FRACTION (default 42 and 0.1:
# another split takes fixmatch.sh's data and teacher of that split and writes bench/training/main-path<suffix>.md,
# committed; see labeled_split in bench/steps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, private_bins, readme_table, committed_row, fma_peak, bench_needs, evaluate_once
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
labeled_split   # split_seed, fraction, suffix
root=$home/main-path$suffix
seeds=${SEEDS:-1 2 3}
widths=${WIDTHS:-32 16}
epochs=${EPOCHS:-30}
data=${DATA:-$home/data/fashion-mnist$suffix}
# The default teacher: the FixMatch seeds joined into one (fixmatch.sh builds it once all 3 seeds have finished), else
# seed 1 alone. Each teacher gets its own state folder, so a run never mixes two teachers' labels or students.
ensemble_teacher=$home/fixmatch$suffix/ensemble-1-2-3/ensemble.json
if [ -z "${TEACHER:-}" ] && [ -f "$ensemble_teacher" ]; then root=$root-ensemble; fi
teacher=${TEACHER:-$( [ -f "$ensemble_teacher" ] && echo "$ensemble_teacher" || echo "$home/fixmatch$suffix/fixmatch-seed1/last.json")}
# Another teacher (TEACHER set to a checkpoint other than the default's) is a variant: its own state folder and result
# file, named after the teacher's path under KDDATA_BENCH_HOME (e.g. fixmatch-w32-e120-emateacher/fixmatch-seed1/last.json
# gives main-path-from-fixmatch-w32-e120-emateacher-seed1), so its labels and students never mix with the preset's.
teacher_variant=""
if [ -n "${TEACHER:-}" ] && [ "$TEACHER" != "$ensemble_teacher" ] && [ "$TEACHER" != "$home/fixmatch$suffix/fixmatch-seed1/last.json" ]; then
  teacher_variant=$(realpath -m "$TEACHER" | sed "s|^$(realpath -m "$home")/||; s|/last\.json\$||; s|/ensemble/ensemble\.json\$||; s|\.json\$||; s|/fixmatch-|-|g; s|[^A-Za-z0-9.]\+|-|g; s|^-||")
  teacher_variant=-from-$teacher_variant
  root=$root$teacher_variant
fi
# A recipe other than the default (VIEWS, JITTER_VIEWS or EPOCHS changed) is a variant too: its own labels, students
# and result file, e.g. main-path-v1-jitter-e40.md for VIEWS=1 JITTER_VIEWS=true EPOCHS=40.
views=${VIEWS:-4}
jitter_views=${JITTER_VIEWS:-false}
if [ "$views" != 4 ] || [ "$jitter_views" != false ] || [ "$epochs" != 30 ]; then
  teacher_variant=$teacher_variant-v$views$([ "$jitter_views" = false ] || echo "-jitter")-e$epochs
  root=$home/main-path$suffix$teacher_variant
fi
table_file=${TABLE:-bench/training/main-path$suffix$teacher_variant.md}
mkdir -p "$root"
bench_needs
[ -f "$teacher" ] || { echo "no teacher checkpoint at $teacher: run bench/training/fixmatch.sh first, or set TEACHER" >&2; exit 2; }
if [ -z "${TEACHER:-}" ] && [ "$teacher" != "$ensemble_teacher" ] && [ ! -f "$home/fixmatch$suffix/fixmatch-seed1.done" ]; then
  echo "the FixMatch teacher (fixmatch.sh, seed 1) has not finished its epochs: rerun bench/training/fixmatch.sh, or set TEACHER" >&2
  [ "${1:-}" = "--table" ] || exit 2
fi
[ -f "$data/manifest.parquet" ] || { echo "no dataset at $data: run bench/training/fixmatch.sh first (it imports the 10 % split), or set DATA" >&2; exit 2; }

# The students' recipe: goal 1's optimizer and schedule, the KD objective's defaults.
recipe=(--model convnet --epochs "$epochs" --batch-size 128 --Trainer:Distill:Optimizer=sgd
  --Trainer:Distill:LearningRate=0.05 --Trainer:Distill:WeightDecay=5e-4)
if [ "$jitter_views" != false ]; then recipe+=(--Trainer:Distill:Mix:JitterViews=true); fi
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)
fma_peak

table() {
  local width seed dir out=$table_file
  {
    echo "| student | seed | test accuracy (last epoch) | parameters | MACs | epochs | training time (min) | images/s | G MAC/s (share of peak) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for width in $widths; do
      for seed in $seeds; do
        dir=$root/w$width-seed$seed
        if [ ! -f "$dir/evaluation/evaluation.json" ]; then
          echo "| convnet w$width | $seed | (not finished) | | | | | | |"
          continue
        fi
        local ips macs
        ips=$(jq -s 'map(.images_per_second) | add / length' "$dir/metrics.jsonl")
        macs=$(jq '.training.model.macs' "$dir/last.json")
        printf '| convnet w%s | %s | %.2f %% | %s | %s | %s | %.1f | %.0f | %s |\n' "$width" "$seed" \
          "$(jq '.metrics.accuracy * 100' "$dir/evaluation/evaluation.json")" "$(jq '.training.model.parameters' "$dir/last.json")" "$macs" \
          "$(jq '.training.epoch' "$dir/last.json")" "$(jq -s 'map(.seconds) | add / 60' "$dir/metrics.jsonl")" "$ips" \
          "$(awk -v i="$ips" -v m="$macs" -v p="$peak" 'BEGIN { g = 3 * i * m / 1e9; printf "%.1f (%.0f %%)", g, 100 * g / p }')"
      done
    done
  } > "$out.rows"
  {
    cat "$out.rows"
    awk -F'|' '$4 ~ /%/ { w = $2; gsub(/^ +| +$/, "", w); v = $4; gsub(/[ %]/, "", v); n[w]++; s[w] += v; q[w] += v * v }
      END {
        for (w in n) {
          m = s[w] / n[w]; sd = n[w] > 1 ? sqrt((q[w] - n[w] * m * m) / (n[w] - 1)) : 0
          printf "| %s, mean +- std of %d | | %.2f +- %.2f %% | | | | | | |\n", w, n[w], m, sd
        }
      }' "$out.rows" | sort
    echo
    echo "Goals 3 and 5 (issue 18): the 94k student (w32) >= 91.5 %, the compact one (w16) >= 90 %, distilled offline from the"
    echo "cached soft targets of the teacher $(jq -r 'if .architecture.name == "ensemble"
        then "ensemble of \(.architecture.members | length) networks (\([.architecture.members[] | "\(.name) w\(.width // "?")"] | unique | join(", "))), \(.training.model.parameters) parameters, \(.training.model.macs) MACs an image"
        else "\(.architecture.name) w\(.architecture.width // "?"), \(.training.model.parameters // "?") parameters" end' "$teacher")"
    echo "($teacher, labeled by the Labeler with $([ "$views" = 1 ] && echo "1 view per image, the whole image" || echo "$views views per image, crops of >= 64 % of the area")) plus the $(awk -v f="$fraction" 'BEGIN { print f * 100 }') % labels (split seed $split_seed); recipe: ${recipe[*]} ${threads[*]};"
    echo "official 10k test set, the last checkpoint. G MAC/s = 3 x the forward MACs x images/s, against a peak of $peak G fp32"
    echo "FMA/s ($cores cores x $lanes $isa lanes x $mhz MHz). $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family"
    echo "$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F), $(nproc) cores."
  } > "$out"
  rm -f "$out.rows"
  # Only the split's own result file is committed, and only the headline split's reaches the docs and the README.
  [ "$out" = "bench/training/main-path$suffix$teacher_variant.md" ] || return 0
  if [ -z "$suffix$teacher_variant" ]; then readme_table main-path-table "$out"; bash bench/training/headline.sh; fi
  if [ "${COMMIT:-true}" = true ]; then
    if [ -z "$suffix$teacher_variant" ]; then
      git add "$out" docs/*.md README.md bench/training/headline.md && git commit -q -m "Bench main-path: $(grep -cE '^\| convnet w[0-9]+ \| [0-9]+ \| [0-9.]+ %' "$out") runs ($out)" -- "$out" docs/*.md README.md bench/training/headline.md || true
    else
      git add "$out" && git commit -q -m "Bench main-path: $(grep -cE '^\| convnet w[0-9]+ \| [0-9]+ \| [0-9.]+ %' "$out") runs ($out)" -- "$out" || true
    fi
  fi
}

if [ "${1:-}" = "--table" ]; then COMMIT=false table; cat "$table_file"; exit 0; fi

private_bins "$root" labeler
# 4 views: random resized crops of >= 64 % of the area, as the results table's row 4; 1 view: the whole image.
labels=(--Labeler:Teacher="$teacher" --Labeler:ViewsPerImage="$views" --Labeler:ViewScaleMin=0.64 --Labeler:BatchSize=256 --Torch:Threads=2)
step label-train "${labeler[@]}" "${labels[@]}" --Labeler:Input="file:$data/train/" --Labeler:Output="file:$root/labels-train/"
step label-pool "${labeler[@]}" "${labels[@]}" --Labeler:Input="file:$data/unlabeled/" --Labeler:Output="file:$root/labels-pool/"
for width in $widths; do
  for seed in $seeds; do
    dir=$root/w$width-seed$seed
    step "w$width-seed$seed" "${trainer[@]}" distill --dataset "file:$data/" --output "$dir" "${recipe[@]}" \
      --Trainer:Distill:Model:Width="$width" --Trainer:Distill:Seed="$seed" \
      --Trainer:Distill:Shards:Locations:0="file:$root/labels-train/" --Trainer:Distill:Shards:Locations:1="file:$root/labels-pool/" "${threads[@]}"
    if evaluate_once "$dir" "$data" evaluation; then table; fi
  done
done
table
cat "$table_file"
