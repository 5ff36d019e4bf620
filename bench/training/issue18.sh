#!/usr/bin/env bash
# Every issue-18 training bench, in the order their results depend on each other: the supervised recipe (goal 1), the
# FixMatch teachers of 3 seeds and their ensemble (goal 2), the students distilled from that ensemble (goals 3 and 5),
# KD with all labels (goal 4, whose twin is goal 1's table), then the ablation of goal 1's recipe. Each script is resumable and skips
# what it finished, so rerunning this one continues wherever the last session stopped. About 20 h on 2 cores alone.
# Run from the repository root:  nohup bash bench/training/issue18.sh > /var/tmp/kddata-issue18.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/training/recipe.sh
bash bench/training/fixmatch.sh
bash bench/training/main-path.sh
bash bench/training/kd-all.sh
bash bench/training/ablation.sh
