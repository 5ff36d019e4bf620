#!/usr/bin/env bash
# Online teacher and representation KD on Fashion-MNIST (issue 9): every row is a real run of the Trainer command
# line with the teacher in the loop (distill --teacher), on the 10 % labeled split of the full data set, evaluated on
# the official 10k test set each epoch. Rows: online logit KD; + hint (FitNets); + attention transfer; + RKD; + CRD;
# and an offline KD run of the same student on the same images (cached soft targets). Then a `sweep` per
# representation term over smaller weights, and the online/offline epoch-time ratio from short runs alternating
# online and offline (ABAB, KDDATA_ONLINE_RATIO_EPOCHS epochs each, default 3). Resumable like results-table.sh: a finished step leaves <root>/<step>.done and is skipped next
# time; an interrupted training step resumes from its last checkpoint. Run from the repository root:
#   bash bench/distillation/online-table.sh            (5 online runs + 1 offline run of 30 epochs; hours on 2 cores)
#   bash bench/distillation/online-table.sh --table    (only rebuild the table from the finished steps)
# Settings (environment):
#   KDDATA_BENCH_HOME        default /var/tmp/kddata-bench (data in $home/data, runs in $home/fmnist, as results-table.sh)
#   KDDATA_ONLINE_DATASET    dataset folder; default $home/data/fashion-mnist (imported by results-table.sh)
#   KDDATA_ONLINE_TEACHER    teacher checkpoint; default $home/fmnist/row1-teacher-10pct/last.json (convnet w64, row 1)
#   KDDATA_ONLINE_EPOCHS     epochs of every run; default 30 (results-table.sh's small_epochs, as its row 3)
# The table goes to $home/fmnist/online-results.md; with the default home also to
# bench/distillation/online-results.md and the README (between the online-table markers).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # step, readme_table, private_bins
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
root="$home/fmnist"
mkdir -p "$root"
dataset=$(realpath -m "${KDDATA_ONLINE_DATASET:-$home/data/fashion-mnist}")
teacher=$(realpath -m "${KDDATA_ONLINE_TEACHER:-$root/row1-teacher-10pct/last.json}")
epochs=${KDDATA_ONLINE_EPOCHS:-30}
[ -f "$dataset/manifest.parquet" ] || { echo "No dataset at $dataset: run bench/distillation/results-table.sh (its import step) first" >&2; exit 2; }
[ -f "$teacher" ] || { echo "No teacher checkpoint $teacher: run bench/distillation/results-table.sh (row 1) first" >&2; exit 2; }
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

# A private copy of the binaries, so rebuilding the working tree never changes a running step (shared with
# results-table.sh: the same revision builds the same files).
private_bins "$root" labeler
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)

rows=(
  "O1|online logit KD (teacher in the loop, full logits)|online-kd"
  "O2|O1 + hint (FitNets, features.1 -> features.1, weight 0.05)|online-kd-hint"
  "O3|O1 + attention transfer (features.0-2, beta 1000)|online-kd-at"
  "O4|O1 + RKD (penultimate, distance 25, angle 50)|online-kd-rkd"
  "O5|O1 + CRD (penultimate, dim 128, bank 4096, tau 0.07, weight 0.8)|online-kd-crd"
  "O0|offline logit KD, same student and images (cached soft targets, 1 view)|offline-kd-same"
)
# Weight sweeps: row|step|weight key|weights|the setting that enables the term.
sweeps=(
  "O2|online-sweep-hint|Trainer:Objective:Hint:Weight|0.2,1|--Trainer:Objective:Hint:Enabled=true"
  "O3|online-sweep-at|Trainer:Objective:Attention:Weight|0.1|--Trainer:Objective:Attention:Enabled=true"
  "O4|online-sweep-rkd|Trainer:Objective:Rkd:Weight|0.1|--Trainer:Objective:Rkd:Enabled=true"
  "O5|online-sweep-crd|Trainer:Objective:Crd:Weight|0.1|--Trainer:Objective:Crd:Enabled=true"
)
ratio_epochs=${KDDATA_ONLINE_RATIO_EPOCHS:-3}
mean_epoch() { jq -s 'map(.seconds) | add / length' "$1/metrics.jsonl"; }
mean_ips() { jq -s 'map(.images_per_second) | add / length' "$1/metrics.jsonl"; }
table() {
  local out="$root/online-results.md" base=""
  [ -f "$root/online-kd.done" ] && base=$(jq -s '.[-1].eval_accuracy * 100' "$root/online-kd/metrics.jsonl")
  {
    echo "| row | run | test accuracy | vs O1 (points) | epochs | mean epoch time (s) | training time (s) |"
    echo "|---|---|---|---|---|---|---|"
    for row in "${rows[@]}"; do
      IFS='|' read -r n what id <<<"$row"
      local dir="$root/$id"
      if [ ! -f "$root/$id.done" ]; then echo "| $n | $what | (not run yet) | | | | |"; continue; fi
      local acc delta=""
      acc=$(jq -s '.[-1].eval_accuracy * 100' "$dir/metrics.jsonl")
      [ -n "$base" ] && delta=$(printf '%+.2f' "$(jq -n --argjson a "$acc" --argjson b "$base" '$a - $b')")
      printf '| %s | %s | %.2f %% | %s | %s | %.1f | %s |\n' "$n" "$what" "$acc" "$delta" \
        "$(jq '.training.epoch' "$dir/last.json")" "$(mean_epoch "$dir")" "$(jq -s 'map(.seconds) | add | floor' "$dir/metrics.jsonl")"
    done
    if [ -f "$root/online-kd.done" ] && [ -f "$root/offline-kd-same.done" ]; then
      # Epoch time includes the evaluation on the 10k test images (the same for both); images/s is training only.
      local on off on_ips off_ips
      on=$(mean_epoch "$root/online-kd"); off=$(mean_epoch "$root/offline-kd-same")
      on_ips=$(jq -s 'map(.images_per_second) | add / length' "$root/online-kd/metrics.jsonl")
      off_ips=$(jq -s 'map(.images_per_second) | add / length' "$root/offline-kd-same/metrics.jsonl")
      echo
      printf 'Online/offline epoch time (O1 / O0): %.2f x (%.1f s / %.1f s per epoch); training steps only: %.2f x (%.0f vs %.0f images/s).\n' \
        "$(jq -n --argjson a "$on" --argjson b "$off" '$a / $b')" "$on" "$off" \
        "$(jq -n --argjson a "$off_ips" --argjson b "$on_ips" '$a / $b')" "$on_ips" "$off_ips"
    fi
    local header=""
    for sweep in "${sweeps[@]}"; do
      IFS='|' read -r n name key _ _ <<<"$sweep"
      [ -f "$root/$name.done" ] || continue
      if [ -z "$header" ]; then
        header=1
        echo
        echo "Weight sweep (\`sweep\`, same runs as the rows at other weights; last epoch's accuracy):"
        echo
        echo "| row | weight setting | test accuracy | vs O1 (points) |"
        echo "|---|---|---|---|"
      fi
      local setting acc
      while IFS=$'\t' read -r setting acc; do
        printf '| %s | %s | %.2f %% | %+.2f |\n' "$n" "$setting" "$acc" "$(jq -n --argjson a "$acc" --argjson b "${base:-0}" '$a - $b')"
      done < <(jq -r --arg key "$key" '.points[] | "\($key | split(":") | .[2:] | join(":"))=\(.settings[$key])\t\(.last_accuracy * 100)"' "$root/$name/sweep.json")
    done
    if [ -f "$root/ratio-offline-2.done" ]; then
      local on_ips off_ips
      on_ips=$(jq -n "($(mean_ips "$root/ratio-online-1") + $(mean_ips "$root/ratio-online-2")) / 2")
      off_ips=$(jq -n "($(mean_ips "$root/ratio-offline-1") + $(mean_ips "$root/ratio-offline-2")) / 2")
      echo
      printf 'Online/offline, side by side (online, offline, online, offline; %s epochs each): training steps %.2f x slower online (%.0f vs %.0f images/s).\n' \
        "$(jq '.training.epoch' "$root/ratio-online-1/last.json")" "$(jq -n --argjson a "$off_ips" --argjson b "$on_ips" '$a / $b')" "$on_ips" "$off_ips"
    fi
  } > "$out"
  cat "$out"
  if [ -z "${KDDATA_BENCH_HOME:-}" ]; then
    cp "$out" bench/distillation/online-results.md
    readme_table online-table "$out"
  fi
}

if [ "${1:-}" = "--table" ]; then table; exit 0; fi

# Every run: the same student (convnet w32), images (the 6,000 labeled train images), epochs, batch, seed and
# curriculum; the last checkpoint counts (choosing by test accuracy would leak the test set into the table).
distill() { # name [extra settings...]
  local name=$1; shift
  step "$name" "${trainer[@]}" distill --dataset "file:$dataset/" --Trainer:Distill:Output="$root/$name" \
    --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=32 --Trainer:Distill:Epochs="$epochs" \
    --Trainer:Distill:BatchSize=128 "${threads[@]}" "$@"
}
online=(--teacher "$teacher")
distill online-kd "${online[@]}"
distill online-kd-hint "${online[@]}" --Trainer:Objective:Hint:Enabled=true
distill online-kd-at "${online[@]}" --Trainer:Objective:Attention:Enabled=true
distill online-kd-rkd "${online[@]}" --Trainer:Objective:Rkd:Enabled=true
distill online-kd-crd "${online[@]}" --Trainer:Objective:Crd:Enabled=true
# The offline reference: the same teacher labels the same 6,000 images once (one whole-image view each); offline a
# labeled image with a cached view is replayed exactly (no crop or flip), so the time difference is the teacher's
# forward pass per step plus the augmentation; the accuracy difference also reflects the augmentation.
step online-label-train "${labeler[@]}" --Labeler:Teacher="$teacher" --Labeler:Input="file:$dataset/train/" \
  --Labeler:Output="file:$root/online-labels-train/" --Labeler:BatchSize=256 --Torch:Threads=2
distill offline-kd-same --Trainer:Distill:Shards:Locations:0="file:$root/online-labels-train/" --Trainer:Distill:EvalTeacher="$teacher"

# Weight sweeps: every representation term at weights below its default, through the `sweep` command (one axis per
# term, one point folder per weight; the last epoch's accuracy counts, as in the rows above).
sweep_term() { # name weight-key comma-separated-values [extra settings...]
  local name=$1 key=$2 values=$3; shift 3
  step "$name" "${trainer[@]}" sweep --dataset "file:$dataset/" --output "$root/$name" --epochs "$epochs" \
    --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=32 --Trainer:Distill:BatchSize=128 "${threads[@]}" \
    --Trainer:Distill:Teacher="$teacher" "$@" --grid "$key=$values"
}
for sweep in "${sweeps[@]}"; do
  IFS='|' read -r _ name key values enable <<<"$sweep"
  sweep_term "$name" "$key" "$values" "$enable"
done

# The online/offline epoch-time ratio measured side by side: short runs alternating online, offline, online,
# offline (ABAB), so both see the same minutes of this shared machine; O1 and O0 above ran hours apart.
for round in 1 2; do
  step "ratio-online-$round" "${trainer[@]}" distill --dataset "file:$dataset/" --Trainer:Distill:Output="$root/ratio-online-$round" \
    --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=32 --Trainer:Distill:Epochs="$ratio_epochs" \
    --Trainer:Distill:BatchSize=128 "${threads[@]}" "${online[@]}"
  step "ratio-offline-$round" "${trainer[@]}" distill --dataset "file:$dataset/" --Trainer:Distill:Output="$root/ratio-offline-$round" \
    --Trainer:Distill:Model:Name=convnet --Trainer:Distill:Model:Width=32 --Trainer:Distill:Epochs="$ratio_epochs" \
    --Trainer:Distill:BatchSize=128 "${threads[@]}" --Trainer:Distill:Shards:Locations:0="file:$root/online-labels-train/"
done
table
