#!/usr/bin/env bash
# int8 on both kinds of CPU (issue 17): each student is quantized by the real `kddata-trainer quantize` with 7-bit
# weights (the default) and with full 8-bit weights; then the same two ONNX files (fp32 and int8) are scored on the
# official 10k Fashion-MNIST test images (the Debian package's IDX files) by ONNX Runtime for Node, the same ONNX
# Runtime release as the .NET package (bench/compression/score-onnx.js), twice: natively (this machine's CPU) and under
# QEMU's user-mode emulation of an AMD EPYC-Milan (Zen 3: AVX2 and FMA, no AVX-512, no VNNI). ONNX Runtime picks its
# int8 kernels from CPUID, which QEMU answers as a Zen 3 does, so the emulated run takes the AVX2 path whose u8 x s8
# pair sums saturate. (The .NET process itself crashes under QEMU's emulation more often than not; Node does not.)
# Emulation says nothing about speed: latency comes from one native `export` of the 7-bit model (200 timed calls).
# Resumable: every finished measurement leaves its JSON under $out and is skipped next time; the table is rewritten
# after each one (bench/compression/int8-cpus.md, and README.md between its int8-cpus-table markers). An emulated
# scoring of a 94k convnet on 10k images takes about 6.5 minutes.
# Run from the repository root:
#   bash bench/compression/int8-cpus.sh          # the sample teacher and the results table's students (rows 2 and 6)
#   bash bench/compression/int8-cpus.sh --table  # only rebuild the table from what is finished
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), INT8_STUDENTS ("name=checkpoint ...";
# a missing checkpoint is passed over), INT8_DATASET (for quantize's calibration), INT8_OUT, INT8_EMULATED_CPU
# (default EPYC-Milan).
set -euo pipefail
cd "$(dirname "$0")/../.."
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
cpu_model=${INT8_EMULATED_CPU:-EPYC-Milan}
out=${INT8_OUT:-$home/int8-cpus}
students=${INT8_STUDENTS:-"sample-teacher-w32=$PWD/samples/fashion-mnist/teacher/teacher.json row2-w32-10pct=$home/fmnist/row2-student-10pct/last.json row6-w32-100pct=$home/fmnist/row6-student-100pct/last.json"}
# Calibration images come from the results table's 10 % import when it exists (its 6k train split), else the sample.
dataset=${INT8_DATASET:-file:$home/data/fashion-mnist/}
[ -f "${dataset#file:}manifest.parquet" ] || dataset=file:$PWD/samples/fashion-mnist/
table_file=bench/compression/int8-cpus.md
idx=/usr/share/datasets/fashion-mnist
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
command -v qemu-x86_64 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq qemu-user; }
[ -d "$idx" ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
mkdir -p "$out"
[ -d "$out/node/node_modules/onnxruntime-node" ] || { mkdir -p "$out/node" && (cd "$out/node" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.31.1 >/dev/null); }
cp bench/compression/score-onnx.js "$out/node/"

# A private copy of the binaries, built from the committed HEAD (not the working tree, which may hold someone's
# unfinished edits), so the binaries are exactly the revision their folder is named after.
source bench/steps.sh   # head_build
bin="$out/bin-$(git rev-parse --short HEAD)"
[ -f "$bin/kddata-trainer.dll" ] || head_build src/Trainer "$bin"
trainer=(dotnet "$bin/kddata-trainer.dll")
node_bin=$(command -v node)

native_cpu() { grep -m1 -owE 'avx512_vnni|avx_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//'; }
cpu_name=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cpu_family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')

table() {
  local entry name bits q n e fp32 int8n agreen int8e agreee l native_level calibration
  native_level=$(jq -r '.cpu.level' "$(ls "$out"/*/quantize-bits7/quantization.json 2>/dev/null | head -n 1)" 2>/dev/null || echo "this CPU")
  calibration=$(jq -r '"\(.calibration.images) \(.calibration.split) images of \(.dataset) (\(.calibration.method))"' "$(ls "$out"/*/quantize-bits7/quantization.json 2>/dev/null | head -n 1)" 2>/dev/null || echo "?")
  {
    echo "| student | weight bits | fp32 | int8, native ($native_level) | drop | agreement with fp32 | int8, emulated $cpu_model (AVX2, no VNNI) | drop | agreement with fp32 | int8 size vs fp32 |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for entry in $students; do
      name=${entry%%=*}
      for bits in 7 8; do
        q="$out/$name/quantize-bits$bits/quantization.json" n="$out/$name/native-bits$bits.json" e="$out/$name/emulated-bits$bits.json"
        [ -f "$q" ] || continue
        fp32=$(jq '.fp32.accuracy * 100' "$q")
        fp32=$( [ -f "$n" ] && jq '.fp32_accuracy * 100' "$n" || echo "$fp32")
        int8n=$( [ -f "$n" ] && jq '.int8_accuracy * 100' "$n" || echo "")
        agreen=$( [ -f "$n" ] && jq '.top1_agreement * 100' "$n" || echo "")
        int8e=$( [ -f "$e" ] && jq '.int8_accuracy * 100' "$e" || echo "")
        agreee=$( [ -f "$e" ] && jq '.top1_agreement * 100' "$e" || echo "")
        awk -v name="$name" -v bits="$bits" -v fp32="$fp32" -v n="$int8n" -v an="$agreen" -v e="$int8e" -v ae="$agreee" -v size="$(jq '.size_ratio' "$q")" '
          function pct(x) { return x == "" ? "(not run yet)" : sprintf("%.2f %%", x) }
          function drop(x) { return x == "" ? "" : sprintf("%+.2f", x - fp32) }
          BEGIN { printf "| %s | %s | %.2f %% | %s | %s | %s | %s | %s | %s | %.3fx |\n", name, bits, fp32, pct(n), drop(n), pct(an), pct(e), drop(e), pct(ae), size }'
      done
    done
    echo
    echo "Native: $cpu_name, CPU family $cpu_family, flags: $(native_cpu). Emulated: QEMU $(qemu-x86_64 --version | head -n 1 | awk '{print $3}') user mode, -cpu $cpu_model."
    echo "fp32 and int8: ONNX Runtime $(jq -r '.onnxruntime' "$(ls "$out"/*/native-bits7.json | head -n 1)" 2>/dev/null || echo '?') for Node on the official 10k test images; quantize calibrated on $calibration."
    for entry in $students; do
      name=${entry%%=*} l="$out/$name/latency-bits7/export.json"
      [ -f "$l" ] || continue
      jq -r --arg name "$name" '
        def p50(p; e; b): [.variants[] | select(.precision == p and .engine == e) | .latency[] | select(.batch == b) | .p50_ms][0];
        "Latency of \($name), 7-bit, native (\(.instruction_set.level), 1 thread, P50 ms): batch 1 TorchSharp fp32 \(p50("fp32"; "torchsharp"; 1) * 1000 | round / 1000), ONNX Runtime fp32 \(p50("fp32"; "onnxruntime"; 1) * 1000 | round / 1000), int8 \(p50("int8"; "onnxruntime"; 1) * 1000 | round / 1000) (int8/TorchSharp \(p50("int8"; "onnxruntime"; 1) / p50("fp32"; "torchsharp"; 1) * 1000 | round / 1000)x, int8/ORT fp32 \(p50("int8"; "onnxruntime"; 1) / p50("fp32"; "onnxruntime"; 1) * 1000 | round / 1000)x); batch 64 TorchSharp \(p50("fp32"; "torchsharp"; 64) * 100 | round / 100), ORT fp32 \(p50("fp32"; "onnxruntime"; 64) * 100 | round / 100), int8 \(p50("int8"; "onnxruntime"; 64) * 100 | round / 100)."' "$l"
    done
  } > "$table_file"
  cat "$table_file"
  readme_table int8-cpus-table "$table_file"
}

if [ "${1:-}" = "--table" ]; then table; exit 0; fi

# Phases, so that a stopped run has the most telling figures first: every student's quantization and native scores,
# then the 7-bit models on the emulated CPU, the latency, and last the 8-bit models on the emulated CPU (the sample
# teacher's row already shows what they do there).
score() { # name checkpoint bits where
  local name=$1 checkpoint=$2 bits=$3 where=$4 q e cmd
  q="$out/$name/quantize-bits$bits" e="$out/$name/$where-bits$bits.json"
  [ -f "$e" ] && return 0
  echo "== $name: $bits-bit int8 scored on the $where CPU"
  cmd=("$node_bin")
  [ "$where" = emulated ] && cmd=(qemu-x86_64 -cpu "$cpu_model" "$node_bin")
  "${cmd[@]}" "$out/node/score-onnx.js" "$q/model.fp32.onnx" "$q/model.int8.onnx" "$idx/t10k-images-idx3-ubyte.gz" "$idx/t10k-labels-idx1-ubyte.gz" \
    "$(jq '.preprocessing.mean[0]' "$checkpoint")" "$(jq '.preprocessing.std[0]' "$checkpoint")" 2> "$e.log" > "$e.tmp" || { echo "$where scoring failed, see $e.log" >&2; exit 1; }
  mv "$e.tmp" "$e"
  table
}

present=()
for entry in $students; do
  name=${entry%%=*} checkpoint=${entry#*=}
  mkdir -p "$out/$name"
  [ -f "$checkpoint" ] || { echo "== $name: $checkpoint not found (bench/distillation/results-table.sh trains it; BENCH_STEPS can limit it to that row): passed over"; continue; }
  present+=("$entry")
  for bits in 7 8; do
    q="$out/$name/quantize-bits$bits"
    if [ ! -f "$q/quantization.json" ]; then
      echo "== $name: quantize, $bits-bit weights"
      "${trainer[@]}" quantize --checkpoint "$checkpoint" --dataset "$dataset" --output "$q" --threads 1 --Trainer:Data:DecodeWorkers=1 \
        --Trainer:Quantize:WeightBits=$bits --Trainer:Quantize:AcceptLowAgreement=true > "$q.log" 2>&1 || { echo "quantize failed, see $q.log" >&2; exit 1; }
      table
    fi
    score "$name" "$checkpoint" "$bits" native
  done
done
for entry in "${present[@]}"; do score "${entry%%=*}" "${entry#*=}" 7 emulated; done
for entry in "${present[@]}"; do
  name=${entry%%=*} checkpoint=${entry#*=}
  l="$out/$name/latency-bits7"
  if [ ! -f "$l/export.json" ]; then
    echo "== $name: latency of the 7-bit model, native"
    "${trainer[@]}" export --checkpoint "$checkpoint" --dataset "$dataset" --output "$l" --Trainer:Export:Int8Model="$out/$name/quantize-bits7/model.int8.onnx" \
      --threads 1 --iterations 200 --Trainer:Data:DecodeWorkers=1 > "$l.log" 2>&1 || { echo "latency export failed, see $l.log" >&2; exit 1; }
    table
  fi
done
for entry in "${present[@]}"; do score "${entry%%=*}" "${entry#*=}" 8 emulated; done
table
