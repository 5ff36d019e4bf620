#!/usr/bin/env bash
# int8 quantization of the distilled student (issue 10): fp32 against PTQ with each calibration method (and QAT
# when QAT=1), every figure measured by the real `kddata-trainer quantize` command on the full Fashion-MNIST test
# split (10k images) in ONNX Runtime. Resumable: a finished step leaves <out>/<step>/quantization.json and is skipped.
# Run from the repository root:  bash bench/compression/quantize.sh      (PTQ: about a minute per method on 2 cores)
# Settings (environment): CHECKPOINT (default the 100 %-label student of the results table, row 6), DATASET,
# OUT (default out/bench/quantize), THREADS (ONNX Runtime threads, default 1), CALIBRATION_IMAGES (default 512).
# QAT=1 adds the QAT row (not timed yet; row 6 trained at about 70 s per epoch, QAT adds fake quantization, and the
# labeling is a few minutes): the fp32 parent first labels the 6k labeled train
# images and the 54k pool once (kddata-labeler, whole image, one view), then `quantize --method qat` trains the int8
# student with KD against its own fp32 self (the row-6 student was trained without a teacher; the results table's
# teacher, 88.5 %, is weaker than it) for QAT_EPOCHS (default 2) epochs. QAT_SHARDS replaces those shards (e.g.
# "file:/var/tmp/kddata-bench/fmnist/labels-t10-train/ file:/var/tmp/kddata-bench/fmnist/labels-t10-pool-full/").
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
[ "${QAT:-0}" = 1 ] && { [ -f "$bin/labeler/kddata-labeler.dll" ] || dotnet build src/Labeler -c Release -v q -nologo -o "$bin/labeler"; }

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

if [ "${QAT:-0}" = 1 ]; then
  # The shards record the image locations they were made from, so QAT reads the dataset at the same location.
  qat_dataset=${QAT_DATASET:-file:/var/tmp/kddata-bench/data/fashion-mnist/}
  if [ -z "${QAT_SHARDS:-}" ]; then
    for part in train unlabeled; do
      if [ ! -f "$out/labels-parent-$part.done" ]; then
        echo "== label $part with the fp32 parent"
        dotnet "$bin/labeler/kddata-labeler.dll" --Labeler:Teacher="$checkpoint" --Labeler:Input="${qat_dataset}$part/" \
          --Labeler:Output="file:$PWD/$out/labels-parent-$part/" --Labeler:ViewsPerImage=1 --Labeler:BatchSize=256 --Torch:Threads=2 \
          > "$out/labels-parent-$part.log" 2>&1 || { echo "labeling $part failed, see $out/labels-parent-$part.log" >&2; exit 1; }
        touch "$out/labels-parent-$part.done"
      fi
    done
    QAT_SHARDS="file:$PWD/$out/labels-parent-train/ file:$PWD/$out/labels-parent-unlabeled/"
  fi
  shard_args=() i=0
  for location in $QAT_SHARDS; do shard_args+=("--Trainer:Distill:Shards:Locations:$i=$location"); i=$((i + 1)); done
  DATASET=$qat_dataset
  dataset=$qat_dataset
  run qat --method qat --calibration minmax --qat-epochs "${QAT_EPOCHS:-2}" --Torch:Threads=2 --Trainer:Distill:Mix:MirrorPseudoLabeled=true "${shard_args[@]}"
fi

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

# The committed result file (the table, the machine and the scheme) and the README's copy of it.
result=bench/compression/quantize-results.md
{
  cat "$out/results.md"
  echo
  jq -r '"CPU: \(.cpu.level // "?") (instruction set ONNX Runtime dispatched on); int8 scheme: \(.scheme // "?"), \(.weight_bits // "?")-bit weights; ONNX Runtime threads: '"$threads"'; calibration images: '"$images"'."' "$out/ptq-minmax/quantization.json"
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), CPU family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) logical CPUs; $(date -u +%Y-%m-%d); \`bash bench/compression/quantize.sh\` at $rev; checkpoint $checkpoint."
} > "$result"
source bench/steps.sh
readme_table quantize-table "$result"
echo "wrote $result and docs/compression.md's quantize-table"

