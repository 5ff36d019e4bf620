#!/usr/bin/env bash
# The Fashion-MNIST results table (issue 8): every row is a real run of the Trainer / Labeler command line on
# the full data set (official 10k test set). Resumable: a finished step leaves out/bench/fmnist/<step>.done and
# is skipped next time; an interrupted training step resumes from its last checkpoint. Run from the repository
# root:  bash bench/distillation/results-table.sh        (about 2-3 hours on 2 cores; see bench/README.md)
# The table is printed and written to bench/distillation/results.md after every step, so it grows as it goes.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=out/bench/fmnist
mkdir -p "$root"
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }

# A private copy of the binaries, so rebuilding the working tree never changes a running step.
rev=$(git rev-parse --short HEAD)
bin="$root/bin-$rev"
if [ ! -f "$bin/trainer/kddata-trainer.dll" ]; then
  dotnet build src/Trainer -c Release -v q -nologo -o "$bin/trainer"
  dotnet build src/Labeler -c Release -v q -nologo -o "$bin/labeler"
fi
trainer=(dotnet "$bin/trainer/kddata-trainer.dll")
labeler=(dotnet "$bin/labeler/kddata-labeler.dll")
threads=(--Torch:Threads=2 --Trainer:Data:DecodeWorkers=1)

# Models: the teacher is a wider convnet (width 64, ~370k parameters); the student is the compact convnet
# (width 32, ~94k parameters: the sample teacher's architecture).
teacher_model=(--model convnet --Trainer:Model:Width=64)
student_model=(--model convnet --Trainer:Model:Width=32)
small_epochs=30   # 6,000 labeled images
large_epochs=12   # 60,000 images (labeled or pseudo-labeled)

step() {
  local name=$1; shift
  if [ -f "$root/$name.done" ]; then echo "== $name: done"; return 0; fi
  echo "== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee -a "$root/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then echo "== $name failed (exit $rc); rerun to resume" >&2; exit "$rc"; fi
  echo $((SECONDS - start)) > "$root/$name.done"
}

step import-10pct "${trainer[@]}" import --dest "file:data/fashion-mnist/" --labeled-fraction 0.1 --seed 42
step import-100pct "${trainer[@]}" import --dest "file:data/fashion-mnist-all/" --labeled-fraction 1.0 --seed 42

# 1. teacher on 10 % labels
step row1-teacher-10pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output "$root/row1-teacher-10pct" \
  "${teacher_model[@]}" --epochs $small_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
# 2. student from scratch on 10 % labels
step row2-student-10pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output "$root/row2-student-10pct" \
  "${student_model[@]}" --epochs $small_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
# 6. student supervised on 100 % labels
step row6-student-100pct "${trainer[@]}" teacher --dataset file:data/fashion-mnist-all/ --output "$root/row6-student-100pct" \
  "${student_model[@]}" --epochs $large_epochs --Trainer:Teacher:BatchSize=128 "${threads[@]}"
