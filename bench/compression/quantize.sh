#!/usr/bin/env bash
# int8 quantization of the distilled student (issue 10): fp32 against PTQ with each calibration method (and QAT
# when QAT=1), every figure measured by the real `kddata-trainer quantize` command on the full Fashion-MNIST test
# split (10k images) in ONNX Runtime. Resumable: a finished step leaves <out>/<step>/quantization.json and is skipped.
# Run from the repository root:  bash bench/compression/quantize.sh      (PTQ: about a minute per method on 2 cores)
# Settings (environment): CHECKPOINT (default the 100 %-label student of the results table, row 6), DATASET,
# OUT (default out/bench/quantize), THREADS (ONNX Runtime threads, default 1), CALIBRATION_IMAGES (default 512).
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoint=${CHECKPOINT:-/var/tmp/kddata-bench/fmnist/row6-student-100pct/last.json}
dataset=${DATASET:-file:/var/tmp/kddata-bench/data/fashion-mnist/}
out=${OUT:-out/bench/quantize}
threads=${THREADS:-1}
images=${CALIBRATION_IMAGES:-512}
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq; }
[ -f "$checkpoint" ] || { echo "checkpoint $checkpoint not found: run bench/distillation/results-table.sh first, or set CHECKPOINT" >&2; exit 2; }

# A private copy of the binaries, so rebuilding the working tree never changes a running step.
rev=$(git rev-parse --short HEAD)
bin="$out/bin-$rev"
mkdir -p "$out"
[ -f "$bin/kddata-trainer.dll" ] || dotnet build src/Trainer -c Release -v q -nologo -o "$bin"
trainer=(dotnet "$bin/kddata-trainer.dll")

run() { # step, then extra arguments
  local step=$1; shift
  if [ -f "$out/$step/quantization.json" ]; then echo "== $step: done"; return; fi
  echo "== $step"
  local start=$SECONDS
  "${trainer[@]}" quantize --checkpoint "$checkpoint" --dataset "$dataset" --output "$out/$step" \
    --calibration-images "$images" --threads "$threads" --Trainer:Data:DecodeWorkers=1 "$@" 2>&1 | tee "$out/$step.log" | grep -E "crit|fp32 accuracy" || true
  [ -f "$out/$step/quantization.json" ] || { echo "$step failed, see $out/$step.log" >&2; exit 1; }
  echo "$((SECONDS - start))" > "$out/$step/seconds"
}

for calibration in minmax percentile entropy; do
  run "ptq-$calibration" --calibration "$calibration"
done

# The table: the fp32 row comes from the first PTQ step (the same fp32 ONNX model every step exports).
{
  echo "| variant | test accuracy | drop (points) | ECE | top-1 agreement with fp32 | file size | size vs fp32 | seconds |"
  echo "|---|---|---|---|---|---|---|---|"
  jq -r '"| fp32 (ONNX Runtime) | \(.fp32.accuracy * 10000 | round / 100) % | 0 | \(.fp32.expected_calibration_error * 10000 | round / 10000) | 1 | \(.fp32.file_bytes) B | 1.000 | |"' "$out/ptq-minmax/quantization.json"
  for step in ptq-minmax ptq-percentile ptq-entropy qat; do
    [ -f "$out/$step/quantization.json" ] || continue
    jq -r --arg step "$step" --arg s "$(cat "$out/$step/seconds" 2>/dev/null || echo)" \
      '"| int8 \($step) | \(.int8.accuracy * 10000 | round / 100) % | \(.accuracy_drop_points * 100 | round / 100) | \(.int8.expected_calibration_error * 10000 | round / 10000) | \(.top1_agreement * 10000 | round / 10000) | \(.int8.file_bytes) B | \(.size_ratio * 1000 | round / 1000) | \($s) |"' \
      "$out/$step/quantization.json"
  done
} | tee "$out/results.md"
