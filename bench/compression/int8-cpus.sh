#!/usr/bin/env bash
# int8 on both kinds of CPU (issue 17): each student is quantized by the real `kddata-trainer quantize` with 7-bit
# weights (the default) and with full 8-bit weights, then the same int8 files are scored on the official 10k test
# images twice: natively (this machine's CPU) and under QEMU's user-mode emulation of an AMD EPYC-Milan (Zen 3: AVX2
# and FMA, no AVX-512, no VNNI), through `kddata-trainer export --measure false`, whose `quantized.agreement` is the
# int8 model's top-1 agreement with the fp32 ONNX model on the CPU it ran on. ONNX Runtime picks its int8 kernels from
# CPUID, which QEMU answers as a Zen 3 does, so the emulated run takes the AVX2 path whose u8 x s8 pair sums saturate.
# Emulation says nothing about speed: latency comes from one native `export` of the 7-bit model (200 timed calls).
# Resumable: every finished measurement leaves its JSON under $out and is skipped next time; the table is rewritten
# after each one (bench/compression/int8-cpus.md, and README.md between its int8-cpus-table markers).
# Run from the repository root:
#   bash bench/compression/int8-cpus.sh          # the results table's students (rows 6 and 2), full test set
#   bash bench/compression/int8-cpus.sh --tiny   # the committed sample teacher on the 200 sample images (minutes)
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench), INT8_STUDENTS ("name=checkpoint ..."),
# INT8_DATASET, INT8_OUT, INT8_EMULATED_CPU (default EPYC-Milan).
set -euo pipefail
cd "$(dirname "$0")/../.."
tiny=0
if [ "${1:-}" = "--tiny" ]; then tiny=1; fi
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
cpu_model=${INT8_EMULATED_CPU:-EPYC-Milan}
if [ $tiny -eq 1 ]; then
  out=${INT8_OUT:-$home/int8-cpus-tiny}
  students=${INT8_STUDENTS:-"sample-teacher=samples/fashion-mnist/teacher/teacher.json"}
  dataset=${INT8_DATASET:-file:$PWD/samples/fashion-mnist/}
  table_file=$out/int8-cpus.md
else
  out=${INT8_OUT:-$home/int8-cpus}
  students=${INT8_STUDENTS:-"row6-w32-100pct=$home/fmnist/row6-student-100pct/last.json row2-w32-10pct=$home/fmnist/row2-student-10pct/last.json"}
  dataset=${INT8_DATASET:-file:$home/data/fashion-mnist/}
  table_file=bench/compression/int8-cpus.md
fi
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
command -v qemu-x86_64 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq qemu-user; }
mkdir -p "$out"

# A private copy of the binaries, so rebuilding the working tree never changes a running step.
bin="$out/bin-$(git rev-parse --short HEAD)"
[ -f "$bin/kddata-trainer.dll" ] || dotnet build src/Trainer -c Release -v q -nologo -o "$bin"
dotnet_host=$(readlink -f "$(command -v dotnet)")
trainer=(dotnet "$bin/kddata-trainer.dll")
# QEMU user mode runs the whole .NET process on the emulated CPU. It crashes now and then (a QEMU fault, not ours:
# the same command passes when repeated), so an emulated step is tried up to 4 times.
emulated=(qemu-x86_64 -cpu "$cpu_model" "$dotnet_host" "$bin/kddata-trainer.dll")

native_cpu() { grep -m1 -owE 'avx512_vnni|avx_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//'; }
cpu_name=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cpu_family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')

table() {
  {
    echo "| student | weight bits | fp32 | int8, native ($(jq -r '.instruction_set.level' "$(ls "$out"/*/native-bits7/export.json | head -n 1)" 2>/dev/null || echo '?')) | drop | agreement | int8, emulated $cpu_model ($(jq -r '.instruction_set.level' "$(ls "$out"/*/emulated-bits7/export.json | head -n 1)" 2>/dev/null || echo '?')) | drop | agreement | int8 size vs fp32 |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for entry in $students; do
      local name=${entry%%=*}
      for bits in 7 8; do
        local q="$out/$name/quantize-bits$bits/quantization.json" n="$out/$name/native-bits$bits/export.json" e="$out/$name/emulated-bits$bits/export.json"
        [ -f "$q" ] || continue
        local fp32 int8n agreen int8e agreee
        fp32=$(jq '.fp32.accuracy * 100' "$q")
        int8n=$( [ -f "$n" ] && jq '[.variants[] | select(.precision == "int8")][0].accuracy * 100' "$n" || echo "")
        agreen=$( [ -f "$n" ] && jq '.quantized.agreement.top1_agreement * 100' "$n" || echo "")
        int8e=$( [ -f "$e" ] && jq '[.variants[] | select(.precision == "int8")][0].accuracy * 100' "$e" || echo "")
        agreee=$( [ -f "$e" ] && jq '.quantized.agreement.top1_agreement * 100' "$e" || echo "")
        awk -v name="$name" -v bits="$bits" -v fp32="$fp32" -v n="$int8n" -v an="$agreen" -v e="$int8e" -v ae="$agreee" -v size="$(jq '.size_ratio' "$q")" '
          function pct(x) { return x == "" ? "(not run yet)" : sprintf("%.2f %%", x) }
          function drop(x) { return x == "" ? "" : sprintf("%+.2f", x - fp32) }
          BEGIN { printf "| %s | %s | %.2f %% | %s | %s | %s | %s | %s | %s | %.3fx |\n", name, bits, fp32, pct(n), drop(n), pct(an), pct(e), drop(e), pct(ae), size }'
      done
    done
    echo
    echo "Native: $cpu_name, CPU family $cpu_family, flags: $(native_cpu). Emulated: QEMU $(qemu-x86_64 --version | head -n 1 | awk '{print $3}') user mode, -cpu $cpu_model."
    echo "Test images: $(jq '.images' "$(ls "$out"/*/quantize-bits7/quantization.json | head -n 1)" 2>/dev/null || echo '?') of $dataset; calibration: 512 train images, min-max."
    for entry in $students; do
      local name=${entry%%=*} l="$out/$name/latency-bits7/export.json"
      [ -f "$l" ] || continue
      jq -r --arg name "$name" '
        def p50(p; e; b): [.variants[] | select(.precision == p and .engine == e) | .latency[] | select(.batch == b) | .p50_ms][0];
        "Latency of \($name), 7-bit, native (\(.instruction_set.level), 1 thread, P50 ms): batch 1 TorchSharp fp32 \(p50("fp32"; "torchsharp"; 1) * 1000 | round / 1000), ONNX Runtime fp32 \(p50("fp32"; "onnxruntime"; 1) * 1000 | round / 1000), int8 \(p50("int8"; "onnxruntime"; 1) * 1000 | round / 1000) (int8/TorchSharp \(p50("int8"; "onnxruntime"; 1) / p50("fp32"; "torchsharp"; 1) * 1000 | round / 1000)x, int8/ORT fp32 \(p50("int8"; "onnxruntime"; 1) / p50("fp32"; "onnxruntime"; 1) * 1000 | round / 1000)x); batch 64 TorchSharp \(p50("fp32"; "torchsharp"; 64) * 100 | round / 100), ORT fp32 \(p50("fp32"; "onnxruntime"; 64) * 100 | round / 100), int8 \(p50("int8"; "onnxruntime"; 64) * 100 | round / 100)."' "$l"
    done
  } > "$table_file"
  cat "$table_file"
  if [ $tiny -eq 0 ]; then
    source bench/steps.sh
    readme_table int8-cpus-table "$table_file"
  fi
}

if [ "${1:-}" = "--table" ]; then table; exit 0; fi

for entry in $students; do
  name=${entry%%=*} checkpoint=${entry#*=}
  [ -f "$checkpoint" ] || { echo "checkpoint $checkpoint not found: run bench/distillation/results-table.sh first (BENCH_STEPS can limit it to the rows needed), or set INT8_STUDENTS" >&2; exit 2; }
  for bits in 7 8; do
    q="$out/$name/quantize-bits$bits"
    if [ ! -f "$q/quantization.json" ]; then
      echo "== $name: quantize, $bits-bit weights"
      "${trainer[@]}" quantize --checkpoint "$checkpoint" --dataset "$dataset" --output "$q" --threads 1 --Trainer:Data:DecodeWorkers=1 \
        --Quantize:WeightBits=$bits --Quantize:AcceptLowAgreement=true > "$q.log" 2>&1 || { echo "quantize failed, see $q.log" >&2; exit 1; }
      table
    fi
    for where in native emulated; do
      e="$out/$name/$where-bits$bits"
      [ -f "$e/export.json" ] && continue
      echo "== $name: $bits-bit int8 scored on the $where CPU"
      cmd=("${trainer[@]}")
      [ $where = emulated ] && cmd=("${emulated[@]}")
      ok=0
      for attempt in 1 2 3 4; do
        if "${cmd[@]}" export --checkpoint "$checkpoint" --dataset "$dataset" --output "$e" --Export:Int8Model="$q/model.int8.onnx" \
            --measure false --threads 1 --Export:AcceptLowInt8Agreement=true --Trainer:Data:DecodeWorkers=1 > "$e.log" 2>&1; then ok=1; break; fi
        echo "   attempt $attempt failed (exit $?), see $e.log"
      done
      [ $ok -eq 1 ] || { echo "$where scoring of $name failed 4 times" >&2; exit 1; }
      table
    done
  done
  l="$out/$name/latency-bits7"
  if [ ! -f "$l/export.json" ]; then
    echo "== $name: latency of the 7-bit model, native"
    "${trainer[@]}" export --checkpoint "$checkpoint" --dataset "$dataset" --output "$l" --Export:Int8Model="$out/$name/quantize-bits7/model.int8.onnx" \
      --threads 1 --iterations 200 --Trainer:Data:DecodeWorkers=1 > "$l.log" 2>&1 || { echo "latency export failed, see $l.log" >&2; exit 1; }
    table
  fi
done
table
