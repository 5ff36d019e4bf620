#!/usr/bin/env bash
# The whole compression recipe on Fashion-MNIST (issue 10): `kddata-trainer pipeline` from the best distilled student of
# the results table (row 4f: convnet w32, KD on 10 % labels + the pool labeled on the whole image) -> prune to <= 50 %
# of its MACs with a KD fine-tune -> int8 (PTQ and QAT with KD) -> export with every variant measured on the official
# 10k test set. Then prints the issue's goals from the export's measurements:
#   pruned <= 50 % of the student's MACs and within 0.5 points of it after the KD fine-tune;
#   int8 within 0.5 points of fp32 (the pruned model in ONNX Runtime) and <= 0.3x its file size;
#   ONNX Runtime int8 P50 latency at batch 1 <= 0.5x TorchSharp fp32 (same model, 1 thread).
# Resumable: the pipeline itself skips finished stages (pipeline.json) and resumes an interrupted one, so rerun the
# same command after a stop. Run from the repository root:
#   bash bench/compression/pipeline.sh           # full data, outputs in $KDDATA_BENCH_HOME/fmnist/pipeline/
#   bash bench/compression/pipeline.sh --tiny    # the committed sample, under a minute: proves the chain and the report
# Settings (environment): KDDATA_BENCH_HOME (default /var/tmp/kddata-bench: the results table's layout),
# PIPELINE_STUDENT, PIPELINE_SHARDS (space-separated locations), PIPELINE_DATASET, PIPELINE_OUT,
# PIPELINE_TARGET (0.5), PIPELINE_STEPS (3), PIPELINE_EPOCHS (KD fine-tune epochs per prune step, 4),
# PIPELINE_CRITERION (bn), PIPELINE_QAT (true), PIPELINE_QAT_EPOCHS (2), PIPELINE_CALIBRATION (entropy),
# PIPELINE_ITERATIONS (timed calls per batch size, 200). Extra pipeline switches after the optional --tiny.
set -euo pipefail
cd "$(dirname "$0")/../.."
tiny=0
if [ "${1:-}" = "--tiny" ]; then tiny=1; shift; fi
home=${KDDATA_BENCH_HOME:-/var/tmp/kddata-bench}
target=${PIPELINE_TARGET:-0.5} steps=${PIPELINE_STEPS:-3} epochs=${PIPELINE_EPOCHS:-4}
criterion=${PIPELINE_CRITERION:-bn} qat=${PIPELINE_QAT:-true} qat_epochs=${PIPELINE_QAT_EPOCHS:-2}
calibration=${PIPELINE_CALIBRATION:-entropy} iterations=${PIPELINE_ITERATIONS:-200}
command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

if [ $tiny -eq 1 ]; then
  # The committed sample: its teacher (a convnet w32) stands in for the student; its pool labeled by the Labeler.
  out=${PIPELINE_OUT:-$home/fmnist/pipeline-tiny}
  student=${PIPELINE_STUDENT:-samples/fashion-mnist/teacher/teacher.json}
  dataset=${PIPELINE_DATASET:-file:samples/fashion-mnist/}
  steps=${PIPELINE_STEPS:-2} epochs=${PIPELINE_EPOCHS:-1} qat_epochs=${PIPELINE_QAT_EPOCHS:-1} iterations=${PIPELINE_ITERATIONS:-20}
  read -r -a shards <<< "${PIPELINE_SHARDS:-file:$out/labels/}"
  mkdir -p "$out"
  trainer=(dotnet run --project src/Trainer -c Release --)
  if [ ! -f "$out/labels.done" ]; then
    dotnet run --project src/Labeler -c Release -- --Labeler:Output="${shards[0]}" --Torch:Threads=2 2>&1 | tail -n 2
    touch "$out/labels.done"
  fi
else
  # Read-only inputs: the results table's row 4f student, its two shard sets and the 10 %-labeled import.
  out=${PIPELINE_OUT:-$home/fmnist/pipeline}
  student=${PIPELINE_STUDENT:-$home/fmnist/row4f-kd-10pct-pool-full/last.json}
  dataset=${PIPELINE_DATASET:-file:$home/data/fashion-mnist/}
  read -r -a shards <<< "${PIPELINE_SHARDS:-file:$home/fmnist/labels-t10-train/ file:$home/fmnist/labels-t10-pool-full/}"
  [ -f "$student" ] || { echo "The student checkpoint $student does not exist (run bench/distillation/results-table.sh, or set PIPELINE_STUDENT)." >&2; exit 2; }
  mkdir -p "$out"
  # A private copy of the binaries, so rebuilding the working tree never changes a running stage.
  bin="$out/bin-$(git rev-parse --short HEAD)"
  source bench/steps.sh   # head_build: HEAD's sources, not the working tree's
  [ -f "$bin/trainer/kddata-trainer.dll" ] || head_build src/Trainer "$bin/trainer"
  trainer=(dotnet "$bin/trainer/kddata-trainer.dll")
fi
[ -f "$student" ] || { echo "The student checkpoint $student does not exist (set PIPELINE_STUDENT)." >&2; exit 2; }
shard_args=(--shards "${shards[0]}")
for i in "${!shards[@]}"; do
  [ "$i" -eq 0 ] || shard_args+=("--Trainer:Distill:Shards:Locations:$i=${shards[$i]}")
done

echo "== pipeline: $student -> $out (target $target of MACs, $steps steps x $epochs KD epochs, $criterion; QAT $qat x $qat_epochs; $calibration calibration)"
start=$SECONDS
set +e
# Row 4f was distilled with the pool mirrored at random: the KD fine-tune and QAT see the same data (Mix is shared).
"${trainer[@]}" pipeline --checkpoint "$student" --output "$out" --dataset "$dataset" "${shard_args[@]}" \
  --target-macs "$target" --prune-steps "$steps" --fine-tune-epochs "$epochs" --criterion "$criterion" \
  --qat "$qat" --qat-epochs "$qat_epochs" --calibration "$calibration" --iterations "$iterations" --threads 1 \
  --Trainer:Distill:Mix:MirrorPseudoLabeled=true --Trainer:Prune:BatchSize=128 \
  --Torch:Threads=2 --Trainer:Data:DecodeWorkers=1 "$@" 2>&1 | tee -a "$out/pipeline.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then echo "== pipeline stopped (exit $rc); rerun the same command to resume" >&2; exit "$rc"; fi
echo "== pipeline finished in $((SECONDS - start)) s this run"

# The report, from the export's own measurements (export.json) and the pruned model's lineage.
export_json=$out/4-export/export.json pruned=$out/2-prune/pruned.json
report=$out/report.md
{
  echo "| variant | test accuracy | file bytes | P50 batch 1 (ms) | P95 batch 1 (ms) | P50 batch 64 (ms) |"
  echo "|---|---|---|---|---|---|"
  jq -r '.variants[] | "| \(.name) | \(if .accuracy then (.accuracy * 10000 | round / 100 | tostring) + " %" else "-" end) | \(.file_bytes) | \((.latency[] | select(.batch == 1) | .p50_ms) // "-") | \((.latency[] | select(.batch == 1) | .p95_ms) // "-") | \((.latency[] | select(.batch == 64) | .p50_ms) // "-") |"' "$export_json"
  echo
  echo "Machine: $(jq -r '.machine' "$export_json"), CPU family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '); instruction set $(jq -r '.instruction_set.level // "not recorded"' "$export_json") (int8: $(jq -r '.instruction_set.int8_accumulation // "?"' "$export_json")); $(jq -r '.threads' "$export_json") thread(s) per engine; $(jq -r '.data.listed // "?"' "$export_json") test images."
  echo "int8 scheme: $(jq -r '.quantized.scheme // "not recorded"' "$export_json"); right without VNNI: $(jq -r '.quantized.safe_without_vnni // "?"' "$export_json"); top-1 agreement with fp32: $(jq -r '.quantized.agreement.top1_agreement // "?"' "$export_json")."
  v() { jq -r "[.variants[] | select($1)] | first | $2" "$export_json"; }
  student_acc=$(v '.engine == "torchsharp" and (.name | startswith("pruned") | not)' '.accuracy')
  pruned_acc=$(v '.name == "pruned fp32 TorchSharp"' '.accuracy')
  onnx_acc=$(v '.name == "pruned fp32 ONNX Runtime"' '.accuracy')
  int8_acc=$(v '.name | startswith("pruned int8")' '.accuracy')
  onnx_bytes=$(v '.name == "pruned fp32 ONNX Runtime"' '.file_bytes')
  int8_bytes=$(v '.name | startswith("pruned int8")' '.file_bytes')
  torch_p50=$(v '.name == "pruned fp32 TorchSharp"' '.latency[] | select(.batch == 1) | .p50_ms')
  int8_p50=$(v '.name | startswith("pruned int8")' '.latency[] | select(.batch == 1) | .p50_ms')
  macs=$(jq '.training.lineage.cost_after / .training.lineage.input_cost' "$pruned")
  prune_drop=$(jq -n "($student_acc - $pruned_acc) * 100")
  int8_drop=$(jq -n "($onnx_acc - $int8_acc) * 100")
  size=$(jq -n "$int8_bytes / $onnx_bytes")
  latency=$(jq -n "$int8_p50 / $torch_p50")
  echo
  echo "Goals (int8 = $( [ "$qat" = "true" ] && echo "QAT" || echo "PTQ"), the exported one):"
  printf -- '- pruned: %.3f of the student'"'"'s MACs, %.2f points below it (goal <= 0.5 and <= 0.5 points): %s\n' "$macs" "$prune_drop" "$(jq -n "$macs <= 0.5 and $prune_drop <= 0.5")"
  printf -- '- int8: %.2f points below fp32, %.3fx its file size (goal <= 0.5 points and <= 0.3x): %s\n' "$int8_drop" "$size" "$(jq -n "$int8_drop <= 0.5 and $size <= 0.3")"
  printf -- '- latency: ONNX Runtime int8 P50 at batch 1 = %.3fx TorchSharp fp32 (goal <= 0.5): %s\n' "$latency" "$(jq -n "$latency <= 0.5")"
  if [ -f "$out/3-quantize/ptq/quantization.json" ]; then
    printf -- '- PTQ (%s calibration): int8 %.2f %% vs fp32 %.2f %%' "$calibration" \
      "$(jq '.int8.accuracy * 100' "$out/3-quantize/ptq/quantization.json")" "$(jq '.fp32.accuracy * 100' "$out/3-quantize/ptq/quantization.json")"
    [ -f "$out/3-quantize/qat/quantization.json" ] && printf '; QAT (%s epochs): int8 %.2f %%' "$qat_epochs" "$(jq '.int8.accuracy * 100' "$out/3-quantize/qat/quantization.json")"
    echo
  fi
  echo "Stages (seconds of the run that finished each): $(jq -r '[.stages[] | "\(.stage) \(.seconds | round)"] | join(", ")' "$out/pipeline.json")"
  echo "Pruned widths: $(jq -c '.architecture.channels' "$pruned"); model card: $out/4-export/model-card.md"
} > "$report"
cat "$report"
# The full-scale report is the committed result file docs/compression.md shows between its pipeline-table markers.
if [ $tiny -eq 0 ]; then
  cp "$report" bench/compression/pipeline-results.md
  source bench/steps.sh
  readme_table pipeline-table bench/compression/pipeline-results.md
fi
