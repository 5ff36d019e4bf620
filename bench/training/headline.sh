#!/usr/bin/env bash
# The README's headline: issue 18's goals, each with the mean +- std its bench measured, read from the result files the
# bench scripts write (bench/training/{recipe,fixmatch,main-path,kd-all}.md), the goal's target, whether it is met, and
# the one command that reproduces the row. Writes bench/training/headline.md and puts it between the README's
# headline-table markers. Each of those bench scripts runs it after writing its table and commits the headline with the
# table, so a headline figure is always one a script measured and committed; run it by hand after editing a table's format.
# Run from the repository root:  bash bench/training/headline.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/steps.sh   # readme_table
out=bench/training/headline.md

committed() { cat "bench/training/$1" 2>/dev/null || true; }

# mean_of FILE PATTERN COLUMN: "mean +- std" (as written), the number of seeds, and the mean alone, from the row whose
# first cell matches PATTERN; nothing when there is no such row yet.
mean_of() {
  committed "$1" | awk -F'|' -v p="$2" -v c="$3" '$2 ~ p && $2 ~ /mean/ {
      n = $2; sub(/.*of /, "", n); gsub(/ /, "", n)
      v = $c; gsub(/^ +| +$/, "", v); m = v; sub(/ .*/, "", m)
      printf "%s;%s;%s\n", v, n, m; exit }'
}

# status MEAN TARGET SEEDS: met / missed, or how many of the 3 seeds have run.
status() {
  if [ -z "$1" ]; then echo "no seed finished yet"; return; fi
  if [ "$2" = - ]; then echo "$3 of 3 seeds (the goal is the gain below)"; return; fi
  local verdict
  verdict=$(awk -v m="$1" -v t="$2" 'BEGIN { print (m + 0 >= t + 0) ? "met" : "missed" }')
  if [ "$3" -lt 3 ]; then echo "$verdict so far ($3 of 3 seeds)"; else echo "$verdict"; fi
}

row() {   # row GOAL TARGET TARGET_NUMBER FILE PATTERN COLUMN COMMAND
  local found value seeds mean
  found=$(mean_of "$4" "$5" "$6")
  IFS=';' read -r value seeds mean <<< "${found:-;0;}"
  printf '| %s | %s | %s | %s | `%s` | [%s](%s) |\n' "$1" "$2" "${value:-}" "$(status "$mean" "$3" "${seeds:-0}")" "$7" "$4" "bench/training/$4"
}

{
  echo "| goal (issue 18) | target | result (mean +- std, last checkpoints) | status | reproduce | source |"
  echo "|---|---|---|---|---|---|"
  row "1. 94k student (convnet w32), 100 % labels, supervised recipe" ">= 92.5 %" 92.5 recipe.md "mean" 3 \
    "bash bench/training/recipe.sh"
  # Goal 1's time part: seeds trained in <= 60 min.
  committed recipe.md | awk -F'|' '$2 ~ /^ [0-9]+ $/ && $3 ~ /%/ { n++; if ($5 + 0 <= 60) k++ }
    END { if (n) printf "| 1. (time) training time of a seed | <= 60 min | %d of %d seeds | %s | (same) | [recipe.md](bench/training/recipe.md) |\n", k, n, (k == n ? "met" : "missed") }'
  row "2. FixMatch teacher (convnet w64), 10 % labels + pool" ">= 92.0 %" 92.0 fixmatch.md "mean" 3 \
    "bash bench/training/fixmatch.sh"
  # The seeds of 2 joined into one teacher (kddata-trainer ensemble): one figure, not a mean of seeds.
  committed fixmatch.md | awk -F'|' '$2 ~ /^ ensemble of seeds/ { n = $2; gsub(/^ +| +$/, "", n); sub(/^ensemble of /, "", n); v = $3; gsub(/^ +| +$/, "", v)
      printf "| 2. (ensemble) FixMatch %s as one teacher | >= 92.0 %% | %s (one ensemble) | %s | (same) | [fixmatch.md](bench/training/fixmatch.md) |\n", n, v, (v + 0 >= 92.0 ? "met" : "missed"); exit }'
  row "3. 94k student from the cached soft targets of 2, 10 % labels" ">= 91.5 %" 91.5 main-path.md "w32" 4 \
    "bash bench/training/main-path.sh"
  row "4. KD from a w64 teacher, 100 % labels (student mean)" "twin + 0.5" - kd-all.md "KD students" 3 \
    "bash bench/training/kd-all.sh"
  gain=$(committed kd-all.md | awk -F'|' '$2 ~ /KD - twin/ { v = $3; gsub(/^ +| +$/, "", v); print v; exit }')
  if [ -n "$gain" ]; then
    echo "| 4. (gain) KD student - supervised twin (goal 1) | >= +0.5 points | $gain | $(awk -v g="${gain%% *}" 'BEGIN { print (g + 0 >= 0.5) ? "met" : "missed" }') | (same) | [kd-all.md](bench/training/kd-all.md) |"
  else
    echo "| 4. (gain) KD student - supervised twin (goal 1) | >= +0.5 points | | no seed finished yet | (same) | [kd-all.md](bench/training/kd-all.md) |"
  fi
  row "5. compact student (convnet w16, 25k), as 3" ">= 90.0 %" 90.0 main-path.md "w16" 4 \
    "bash bench/training/main-path.sh"
  echo
  echo "Written by bench/training/headline.sh from the files in the source column; each names its machine, commands and settings."
  echo "Every bench is resumable: rerun its command to continue; \`bash bench/training/issue18.sh\` runs them all in order."
} > "$out"
# Links are relative to the repository root: the table is read in the README.
readme_table headline-table "$out"
