#!/usr/bin/env bash
# Rebuilds this sample from Debian's dataset-fashion-mnist package, exactly as committed:
#   1. import all 70k images with a 10% stratified labeled split (seed 42) into data/fashion-mnist/
#   2. train the teacher on the 6,000 labeled images, evaluate on the official 10k test set
#   3. import a small subset (first 600 train images, 20% labeled; first 200 test images) as the sample
#   4. copy the best teacher checkpoint next to it
# Run from the repository root: bash samples/fashion-mnist/make-sample.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d /usr/share/datasets/fashion-mnist ] || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }

dotnet build src/Trainer -c Release -v q -nologo
trainer=(dotnet src/Trainer/bin/Release/net10.0/kddata-trainer.dll)

"${trainer[@]}" import --source /usr/share/datasets/fashion-mnist --dest file:data/fashion-mnist/ --labeled-fraction 0.1 --seed 42
"${trainer[@]}" teacher --dataset file:data/fashion-mnist/ --output out/teacher-fmnist-10pct --model convnet --epochs 30 \
  --Trainer:Teacher:BatchSize=128 --Trainer:Data:DecodeWorkers=1

rm -rf samples/fashion-mnist/{train,test,unlabeled,manifest.parquet,pool-labels.parquet,classes.json,dataset.json}
"${trainer[@]}" import --source /usr/share/datasets/fashion-mnist --dest file:samples/fashion-mnist/ \
  --train-limit 600 --test-limit 200 --labeled-fraction 0.2 --seed 42
find samples/fashion-mnist -name .kddata -type d -prune -exec rm -rf {} +
mkdir -p samples/fashion-mnist/teacher
cp out/teacher-fmnist-10pct/best.json samples/fashion-mnist/teacher/teacher.json
cp out/teacher-fmnist-10pct/best.safetensors samples/fashion-mnist/teacher/teacher.safetensors
