# shellcheck shell=bash disable=SC2154,SC2034 # root is the caller's; bin, trainer and labeler are for the caller
# Shared by the resumable bench scripts; sourced after they `cd` to the repository root and set $root.

# step NAME COMMAND...: runs COMMAND once. A finished step leaves $root/NAME.done (its seconds) and is skipped on the
# next run; the output is appended to $root/NAME.log; a failure stops the script with the command's exit code (rerun
# to resume). After a finished step the script's `table` function, when it has one, rebuilds its table.
# With BENCH_STEPS set (space-separated names), only those steps run; the others are passed over, not marked done, so a
# script's later steps that need them fail as they would without them (e.g. BENCH_STEPS="import-100pct row6-student-100pct").
step() {
  local name=$1; shift
  if [ -f "$root/$name.done" ]; then echo "== $name: done"; return 0; fi
  if [ -n "${BENCH_STEPS:-}" ] && [[ " $BENCH_STEPS " != *" $name "* ]]; then echo "== $name: not in BENCH_STEPS, passed over"; return 0; fi
  echo "== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee -a "$root/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then echo "== $name failed (exit $rc); rerun to resume" >&2; exit "$rc"; fi
  echo $((SECONDS - start)) > "$root/$name.done"
  if declare -F table >/dev/null; then table; fi
}

# bench_needs [dataset]: jq (every table is read with it) and, with `dataset`, Debian's Fashion-MNIST, installed when
# missing (CI's fresh machine has neither).
bench_needs() {
  command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }
  if [ "${1:-}" = dataset ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
  fi
}

# evaluate_once DIR DATA NAME [ARGS...]: evaluates DIR/last.json (in an ensemble's folder, DIR/ensemble.json, what
# `kddata-trainer ensemble` writes) on the dataset folder DATA into DIR/NAME (extra evaluate
# ARGS, then the caller's ${threads[@]}), logged to DIR.NAME.log. Returns 0 when it evaluated, 1 when DIR/NAME already
# holds an evaluation (so `if evaluate_once ...; then table; fi` rebuilds a table only for news); a failed evaluation
# stops the script, naming its log.
evaluate_once() {
  local dir=$1 data=$2 name=$3; shift 3
  if [ -f "$dir/$name/evaluation.json" ]; then return 1; fi
  local record=$dir/last.json
  if [ ! -f "$record" ] && [ -f "$dir/ensemble.json" ]; then record=$dir/ensemble.json; fi
  "${trainer[@]}" evaluate --checkpoint "$record" --dataset "file:$data/" --output "$dir/$name" "$@" "${threads[@]}" \
    > "$dir.$name.log" 2>&1 || { echo "== evaluation of $dir failed; see $dir.$name.log" >&2; exit 1; }
}

# committed_row FILE KEY [RECIPE]: the row of FILE as committed (HEAD) whose first cell is KEY, when it holds a result (a
# %) and, with RECIPE, when the committed file names that recipe (a row of another recipe is not this one's result).
# A bench whose state folder is gone (a session on a new machine) keeps its finished rows instead of training them again.
committed_row() {
  local committed
  committed=$(git show "HEAD:$1" 2>/dev/null) || return 0
  if [ -n "${3:-}" ] && ! grep -qF -- "$3" <<< "$committed"; then return 0; fi
  awk -F'|' -v k="$2" '{ c = $2; gsub(/ /, "", c) } c == k && $3 ~ /%/ { print; exit }' <<< "$committed"
}

# fma_peak: sets cores, mhz, lanes, isa and peak (G fp32 FMA/s of all cores) from /proc/cpuinfo. fp32 FMA lanes per core
# per cycle: two FMA pipes of 16 lanes with AVX-512 (Zen 5 runs 512-bit FMAs whole, Zen 4 in two halves, so this is the
# Zen 5 figure), of 8 lanes with AVX2 only.
fma_peak() {
  cores=$(nproc)
  mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
  if grep -qw avx512f /proc/cpuinfo; then lanes=32; isa=AVX-512; else lanes=16; isa=AVX2; fi
  peak=$(awk -v c="$cores" -v l="$lanes" -v m="$mhz" 'BEGIN { printf "%.1f", c * l * m / 1000 }')
}

# readme_table MARKER FILE: puts FILE between the lines <!-- MARKER:start --> <!-- source=FILE --> and <!-- MARKER:end -->
# of whichever of README.md and docs/*.md holds the marker. ReadmeTablesTests fails when a marked table differs from the
# file its start line names.
readme_table() {
  local doc
  for doc in README.md docs/*.md; do
    [ -f "$doc" ] && grep -qF "<!-- $1:start -->" "$doc" || continue
    awk -v table="$2" -v start="<!-- $1:start -->" -v end="<!-- $1:end -->" '
      index($0, end) { while ((getline line < table) > 0) print line; skip = 0 }
      !skip { print }
      index($0, start) { skip = 1 }
    ' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
  done
}

# private_bins ROOT [labeler]: a private Release build (of HEAD) of the Trainer (and with `labeler` the Labeler) in
# ROOT/bin-<revision>, so rebuilding the working tree never changes a running step (the same revision builds the same
# files, so the scripts share it). Sets bin, trainer=(dotnet .../kddata-trainer.dll) and, with `labeler`, labeler=(...).
private_bins() {
  bin="$1/bin-$(git rev-parse --short HEAD)"
  [ -f "$bin/trainer/kddata-trainer.dll" ] || head_build src/Trainer "$bin/trainer"
  trainer=(dotnet "$bin/trainer/kddata-trainer.dll")
  if [ "${2:-}" = labeler ]; then
    [ -f "$bin/labeler/kddata-labeler.dll" ] || head_build src/Labeler "$bin/labeler"
    labeler=(dotnet "$bin/labeler/kddata-labeler.dll")
  fi
}

# head_build PROJECT OUTPUT: a Release build of PROJECT from the committed HEAD (not the working tree, which may hold
# unfinished edits), so a bin-<revision> folder holds exactly that revision.
head_build() {
  local src
  src=$(mktemp -d)
  git archive HEAD | tar -x -C "$src"
  dotnet build "$src/$1" -c Release -v q -nologo -o "$2"
  rm -rf "$src"
}

# labeled_split: the labeled split a semi-supervised bench uses, from SPLIT_SEED (default 42) and LABELED_FRACTION
# (default 0.1). Sets split_seed, fraction and suffix: empty for the default split, else "-split<seed>-f<fraction>",
# which the scripts append to their data folder, state folder and result file, so another split never mixes with the
# headline one ("don't tune to seed 42": the goals are also checked on other splits and another label fraction).
labeled_split() {
  split_seed=${SPLIT_SEED:-42}
  fraction=${LABELED_FRACTION:-0.1}
  if [ "$split_seed" = 42 ] && [ "$fraction" = 0.1 ]; then suffix=""; else suffix="-split$split_seed-f$fraction"; fi
}
