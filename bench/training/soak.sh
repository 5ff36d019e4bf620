#!/usr/bin/env bash
# The soak (issue 19, item 2): every training feature at once, under a thread that collects garbage and runs finalizers
# without pause (KDDATA_GC_STRESS=1, src/KdData.Core/Torch/GarbageCollectorStress.cs), for at least SOAK_MINUTES of
# training, counting native crashes. The crash it hunts: a TorchSharp Scalar freed by its finalizer while libtorch reads
# it ("Unknown scalar type", "Expected false to be true", SIGSEGV/SIGABRT: README "TorchSharp Scalars and the GC").
#
#   bash bench/training/soak.sh            # SOAK_MINUTES (30) of rounds; resumable: finished rounds are kept
#
# Once: the Labeler labels the sample pool (for QAT's KD targets), and a resnet18 (small stem) teacher trains 1 epoch,
# both under stress too. Each round, every command in its own process under stress:
#   1. distill, online convnet teacher + the pool: KD + Hint + AT + RKD + CRD, MixUp + CutMix + RandAugment;
#   2. quantize --method qat on that student (fake quantization, KD from the shards);
#   3. distill, online resnet18 teacher (the ResNetModule forward) + the pool: KD + RKD + CRD, MixUp + CutMix + RandAugment.
# The students of a few epochs on the sample are poor, so QAT's int8 agreement gate (exit 5) is accepted: this counts crashes.
# A command that exits with a signal (>= 128), or whose log shows libtorch's Scalar errors, is a crash; any other
# non-zero exit is a failure (reported too). State lives outside the work tree (SOAK_ROOT); the result file is
# bench/training/soak.md, rewritten after every command and committed after every round.
set -u
cd "$(dirname "$0")/../.."
root=${SOAK_ROOT:-/var/tmp/kddata-bench/soak}
minutes=${SOAK_MINUTES:-30}
epochs=${SOAK_EPOCHS:-3}
result=bench/training/soak.md
mkdir -p "$root"
source bench/steps.sh   # private_bins
# --table: only rewrite (and commit) the result file from the commands recorded so far.
if [ "${1:-}" != "--table" ]; then private_bins "$root" labeler; fi
export KDDATA_GC_STRESS=${KDDATA_GC_STRESS:-1}
commit=${SOAK_COMMIT:-true}   # false: a trial run that commits nothing
# Stopped from outside (a session ending): leave without recording the interrupted command, which reruns on resume.
trap 'echo "soak stopped; rerun to resume" >&2; exit 143' TERM INT
log="$root/commands.tsv"   # round, name, exit, seconds, crash (0/1), signature, build (bin-<revision> that ran it)
touch "$log"
common=(--dataset file:samples/fashion-mnist/ --Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)
mix=(--Trainer:Distill:Augment:MixUp=true --Trainer:Distill:Augment:CutMix=true --Trainer:Distill:Augment:RandAugment=true)

# run ROUND NAME COMMAND...: runs a command once (a finished one is skipped on resume) and records how it ended.
run() {
  local round=$1 name=$2; shift 2
  if grep -q "^$round	$name	" "$log"; then return 0; fi
  local out="$root/$round-$name.log" start=$SECONDS
  rm -rf "$root/r$round/$name"
  echo "== round $round: $name"
  "$@" > "$out" 2>&1
  local rc=$? crash=0 signature=""
  signature=$(grep -m1 -oE 'Unknown scalar type|Expected false to be true|argument alpha must not be|Fatal error|Segmentation fault|SIGSEGV|SIGABRT|core dumped' "$out" || true)
  if [ "$rc" -ge 128 ] || [ -n "$signature" ]; then crash=1; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$rc" $((SECONDS - start)) "$crash" "${signature:--}" "$(basename "$bin")" >> "$log"
  table
}

table() {
  local total crashes failures rounds
  total=$(awk -F'\t' '$1 != "setup" { s += $4 } END { print s + 0 }' "$log")
  crashes=$(awk -F'\t' '{ c += $5 } END { print c + 0 }' "$log")
  failures=$(awk -F'\t' '$3 != 0 && $5 == 0 { f++ } END { print f + 0 }' "$log")
  rounds=$(awk -F'\t' '$1 != "setup" { r[$1] = 1 } END { print length(r) }' "$log")
  {
    echo "# Soak: every training feature at once under a GC-stress thread"
    echo
    echo "Written by \`bash bench/training/soak.sh\` (SOAK_MINUTES=$minutes, SOAK_EPOCHS=$epochs); each command ran the private Release build of the revision in its *build* column."
    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -qw avx512f /proc/cpuinfo && echo 'AVX-512' || echo 'AVX2, no AVX-512')$(grep -qw avx512_vnni /proc/cpuinfo && echo ' + VNNI')."
    echo "Under \`KDDATA_GC_STRESS=1\` (a thread running \`GC.Collect(); GC.WaitForPendingFinalizers()\` without pause) in every process."
    echo
    echo "**$rounds rounds, $((total / 60)) min $((total % 60)) s of training commands: $crashes native crashes, $failures other failures.**"
    echo
    echo "| round | command | exit | seconds | crash | signature | build |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, ($5 ? "**yes**" : "no"), $6, $7 }' "$log"
    echo
    echo "Commands (round r; \`\$root\` = $root): the Labeler on the sample pool; \`teacher --model resnet18 --Trainer:Model:Stem=small --epochs 1\`;"
    echo "per round \`distill --teacher samples/fashion-mnist/teacher/teacher.json --Trainer:Distill:OnlinePool=true\` with Hint, Attention, Rkd and Crd"
    echo "enabled and MixUp, CutMix and RandAugment on, \`--Trainer:Distill:Epochs=$epochs\`; \`quantize --method qat --qat-epochs 1\` on it; and"
    echo "\`distill\` with the resnet18 teacher online, Rkd and Crd enabled, the same augmentation. See the script for the exact lines."
  } > "$result"
}

if [ "${1:-}" = "--table" ]; then
  table
  [ "$commit" = true ] && git add "$result" && git commit -q -m "Bench soak: $(grep -o '\*\*.*\*\*' "$result" | head -1 | tr -d '*')" -- "$result"
  cat "$result"; exit 0
fi
run setup labels "${labeler[@]}" --Labeler:Input=file:samples/fashion-mnist/unlabeled/ --Labeler:Output="file:$root/labels/" \
  --Labeler:Teacher=samples/fashion-mnist/teacher/teacher.json --Torch:Threads=2
run setup resnet-teacher "${trainer[@]}" teacher "${common[@]}" --model resnet18 --Trainer:Model:Stem=small --epochs 1 --output "$root/rsetup/resnet-teacher"
grep -q "	labels	0	" "$log" && grep -q "	resnet-teacher	0	" "$log" || { echo "setup failed: see $root/setup-*.log" >&2; exit 1; }

round=1
while true; do
  spent=$(awk -F'\t' '$1 != "setup" { s += $4 } END { print s + 0 }' "$log")
  if [ "$spent" -ge $((minutes * 60)) ] && ! grep -q "^$round	" "$log"; then break; fi
  run "$round" online-convnet "${trainer[@]}" distill "${common[@]}" --teacher samples/fashion-mnist/teacher/teacher.json \
    --Trainer:Distill:Output="$root/r$round/online-convnet" --Trainer:Distill:OnlinePool=true --Trainer:Distill:Epochs="$epochs" \
    --Trainer:Objective:Hint:Enabled=true --Trainer:Objective:Attention:Enabled=true \
    --Trainer:Objective:Rkd:Enabled=true --Trainer:Objective:Crd:Enabled=true "${mix[@]}"
  run "$round" qat "${trainer[@]}" quantize "${common[@]}" --method qat --checkpoint "$root/r$round/online-convnet/last.json" \
    --shards "file:$root/labels/" --qat-epochs 1 --output "$root/r$round/qat" --Trainer:Quantize:AcceptLowAgreement=true
  run "$round" online-resnet18 "${trainer[@]}" distill "${common[@]}" --teacher "$root/rsetup/resnet-teacher/last.json" \
    --Trainer:Distill:Output="$root/r$round/online-resnet18" --Trainer:Distill:OnlinePool=true --Trainer:Distill:Epochs="$epochs" \
    --Trainer:Objective:Rkd:Enabled=true --Trainer:Objective:Crd:Enabled=true "${mix[@]}"
  [ "$commit" = true ] && git add "$result" && git commit -q -m "Bench soak: round $round under GC stress (bench/training/soak.md)" -- "$result" || true
  round=$((round + 1))
done
table
[ "$commit" = true ] && git add "$result" && git commit -q -m "Bench soak: finished, $(grep -o '\*\*.*\*\*' "$result" | head -1 | tr -d '*')" -- "$result" || true
cat "$result"
