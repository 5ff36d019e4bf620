#!/usr/bin/env bash
# Training speed of the 94k convnet student (width 32), before and after the speed work of issue 18, measured side by
# side on this machine: the real `kddata-trainer teacher` trains it for EPOCHS epochs on the 6,000 labeled images of
# the 10 % import, alternately
#   before: --Torch:OneDnn=off --Trainer:Data:HoldDecodedMegabytes=0 (ATen's kernels, every image read and decoded
#           every epoch: what the results table's rows ran with)
#   after:  the defaults (oneDNN where the self-test passes, decoded images held after epoch 1)
# in ABBA order per round (before, after, after, before, ...), ROUNDS rounds. images/s is the epoch's own training figure
# (metrics.jsonl: the training part, not evaluation or checkpoint). MAC/s counts 3x the model's forward MACs per image
# (forward, and a backward about twice the forward). The peak is cores x FMA lanes x GHz, from /proc/cpuinfo.
# Writes bench/training/speed.md (and the raw lines to $KDDATA_BENCH_HOME/speed/runs.txt), shows it in docs/training.md
# and commits those two files (COMMIT=false: not).
# Run from the repository root:  bash bench/training/speed.sh [--table]     (about 10 s an epoch on 2 quiet cores)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), ROUNDS (default 3), EPOCHS (default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-3}
out=$home/speed
mkdir -p "$out"
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
source bench/steps.sh   # head_build, readme_table
revision=$(git rev-parse --short HEAD)
bin="$out/bin-$revision"
[ -f "$bin/kddata-trainer.dll" ] || head_build src/Trainer "$bin"
dataset=$home/data/fashion-mnist
if [ ! -f "$dataset/manifest.parquet" ]; then
  [ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
  dotnet "$bin/kddata-trainer.dll" import --dest "file:$dataset/" --labeled-fraction 0.1 --seed 42 > "$out/import.log" 2>&1
fi

run() { # label round settings...
  local label=$1 round=$2 dir
  shift 2
  dir=$(mktemp -d "$out/run-XXXX")
  dotnet "$bin/kddata-trainer.dll" teacher --dataset "file:$dataset/" --output "$dir" --model convnet \
    --Trainer:Model:Width=32 --epochs "$epochs" --Trainer:Teacher:BatchSize=128 --Torch:Threads=2 --Trainer:Data:DecodeWorkers=1 \
    "$@" > "$dir.log" 2>&1
  local onednn macs load
  onednn=$(grep -o 'oneDNN kernels [a-z]*' "$dir.log" | head -1 | awk '{print $3}')
  macs=$(jq '.training.model.macs' "$dir/last.json")
  load=$(cut -d' ' -f1 /proc/loadavg)
  # label round epoch images/s oneDNN macs load cpu-ms-per-image
  jq -r --arg l "$label" --arg r "$round" --arg o "${onednn:-?}" --arg m "$macs" --arg load "$load" \
    '"\($l) \($r) \(.epoch) \(.images_per_second) \($o) \($m) \($load) \(.cpu_ms_per_image // "?")"' "$dir/metrics.jsonl" | tee -a "$out/runs.txt"
  rm -rf "$dir" "$dir.log"
}

# --table: only rebuild the table from the last run's runs.txt.
if [ "${1:-}" != "--table" ]; then
: > "$out/runs.txt"
echo "$revision" > "$out/revision"
echo "$rounds $epochs" > "$out/shape"   # what --table says about the runs
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    run before "$round" --Torch:OneDnn=off --Trainer:Data:HoldDecodedMegabytes=0
    run after "$round"
  else
    run after "$round"
    run before "$round" --Torch:OneDnn=off --Trainer:Data:HoldDecodedMegabytes=0
  fi
done
fi
revision=$(cat "$out/revision" 2>/dev/null || echo "$revision")
[ -f "$out/shape" ] && read -r rounds epochs < "$out/shape"

fma_peak   # cores, lanes, isa, mhz, peak (bench/steps.sh)
{
  echo "| round | epoch | before (images/s) | after (images/s) | after / before | CPU ms an image, before / after | CPU before / after | after oneDNN | load before / after |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk '$1 == "before" { b[$2 " " $3] = $4; lb[$2] = $7; cb[$2 " " $3] = $8 } $1 == "after" { a[$2 " " $3] = $4; o[$2 " " $3] = $5; la[$2] = $7; ca[$2 " " $3] = $8 }
    END { for (k in a) { split(k, p, " ")
      cpu = (cb[k] + 0 > 0 && ca[k] + 0 > 0) ? sprintf("%.3f / %.3f | %.2f", cb[k], ca[k], cb[k] / ca[k]) : "? | ?"
      printf "| %s | %s | %.0f | %.0f | %.2f | %s | %s | %s / %s |\n", p[1], p[2], b[k], a[k], a[k] / b[k], cpu, o[k], lb[p[1]], la[p[1]] } }' \
    "$out/runs.txt" | sort -t'|' -k2,2n -k3,3n
  awk -v peak="$peak" -v desc="$cores cores x $lanes $isa lanes x $mhz MHz" '
    $1 == "before" { b[$2 " " $3] = $4; cb[$2 " " $3] = $8 } $1 == "after" { a[$2 " " $3] = $4; ca[$2 " " $3] = $8; macs = $6 }
    END {
      for (k in a) {
        split(k, p, " "); r = a[k] / b[k]; c = (cb[k] + 0 > 0 && ca[k] + 0 > 0) ? cb[k] / ca[k] : 0
        if (p[2] == 1) { s1 += r; n1++; if (c) { c1 += c; m1++ } } else { s2 += r; n2++; ab += a[k]; bb += b[k]; if (c) { c2 += c; m2++ } }
      }
      printf "| mean ratio, epoch 1 | | | | %.2f | | %s | | |\n", s1 / n1, m1 ? sprintf("%.2f", c1 / m1) : "?"
      printf "| mean, later epochs | | %.0f | %.0f | %.2f | | %s | | |\n", bb / n2, ab / n2, s2 / n2, m2 ? sprintf("%.2f", c2 / m2) : "?"
      printf "\nMAC/s in later epochs (3 x %d MACs an image): before %.1f G, after %.1f G, of a peak of %s G fp32 FMA/s (%s).\n",
        macs, bb / n2 * 3 * macs / 1e9, ab / n2 * 3 * macs / 1e9, peak, desc
    }' "$out/runs.txt"
  echo
  echo "CPU before / after: the ratio of process CPU ms per training image (metrics.jsonl's cpu_ms_per_image, every thread), which"
  echo "other work on the machine disturbs less than wall-clock time."
  echo
  echo "Goal (issue 18): the 94k student's training >= 2x today's images/s. convnet width 32, batch 128, 2 Torch threads,"
  echo "1 decode worker, $epochs epochs of 6,000 images a run, $rounds rounds in ABBA order; load average at each run's end in"
  echo "$out/runs.txt. Commit $revision; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family"
  echo "$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F)."
} > bench/training/speed.md
readme_table speed-table bench/training/speed.md   # docs/training.md shows it between its markers
cat bench/training/speed.md
if [ "${COMMIT:-true}" = true ]; then
  git add bench/training/speed.md docs/training.md
  git commit -q -m "Bench speed: after / before $(grep -o 'later epochs | | [0-9]* | [0-9]* | [0-9.]*' bench/training/speed.md | awk '{print $NF}') in later epochs (build $revision)" -- bench/training/speed.md docs/training.md || true
fi
