#!/usr/bin/env bash
# LibTorch's oneDNN convolutions on against off (KdData switches them off: src/KdData.Core/Torch/TorchRuntime.cs),
# measured side by side on this machine: the real `kddata-trainer teacher` trains the 94k convnet student (width 32)
# for one epoch on the 6,000 labeled images of the 10 % import, alternately with KDDATA_TORCH_ONEDNN=1 (oneDNN on, A)
# and without it (off, B), ABAB... for ROUNDS rounds; images/s is the epoch's own figure (metrics.jsonl, training
# only). Prints every run and the mean ratio off/on, and writes bench/training/onednn-abab.md.
# Run from the repository root:  bash bench/training/onednn-abab.sh     (about a minute a run on 2 cores)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench; the dataset is the results table's 10 %
# import, made here when missing), ROUNDS (default 3), WIDTH (default 32).
set -euo pipefail
cd "$(dirname "$0")/../.."
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
rounds=${ROUNDS:-3}
width=${WIDTH:-32}
out=$home/onednn-abab
mkdir -p "$out"
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
source bench/steps.sh   # head_build
bin="$out/bin-$(git rev-parse --short HEAD)"
[ -f "$bin/kddata-trainer.dll" ] || head_build src/Trainer "$bin"
dataset=$home/data/fashion-mnist
if [ ! -f "$dataset/manifest.parquet" ]; then
  [ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
  dotnet "$bin/kddata-trainer.dll" import --dest "file:$dataset/" --labeled-fraction 0.1 --seed 42 > "$out/import.log" 2>&1
fi

run() { # label env-assignment...
  local label=$1 dir
  shift
  dir=$(mktemp -d "$out/run-XXXX")
  env "$@" dotnet "$bin/kddata-trainer.dll" teacher --dataset "file:$dataset/" --output "$dir" --model convnet \
    --Trainer:Model:Width="$width" --epochs 1 --Trainer:Teacher:BatchSize=128 --Torch:Threads=2 --Trainer:Data:DecodeWorkers=1 \
    > "$dir.log" 2>&1
  jq -r --arg mode "$label" '"\($mode) \(.images_per_second)"' "$dir/metrics.jsonl" | tee -a "$out/runs.txt"
  rm -rf "$dir"
}

: > "$out/runs.txt"
for _ in $(seq "$rounds"); do
  run on KDDATA_TORCH_ONEDNN=1
  run off KDDATA_TORCH_ONEDNN=0
done
{
  echo "| run | oneDNN on (images/s) | oneDNN off (images/s) | off / on |"
  echo "|---|---|---|---|"
  paste -d' ' <(grep '^on ' "$out/runs.txt" | cut -d' ' -f2) <(grep '^off ' "$out/runs.txt" | cut -d' ' -f2) |
    awk '{ r = $2 / $1; s += r; printf "| %d | %.0f | %.0f | %.2f |\n", NR, $1, $2, r } END { printf "| mean | | | %.2f |\n", s / NR }'
  echo
  echo "convnet width $width, batch 128, 2 threads, one epoch of 6,000 images, runs interleaved on/off;"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(grep -m1 -owE 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')$(date -u +%F)."
} | tee bench/training/onednn-abab.md
