#!/usr/bin/env bash
# Creates (or updates) one Azure Container Apps Job per sweep grid point from sweep-job.yaml:
# job <prefix>-<i> gets Trainer__Sweep__Index=i, for i = 0..N-1. ACA gives a job replica no index
# of its own, so this is how the N points of a sweep run in parallel on ACA. N must be the number
# of grid points (the product of the value counts of the template's Trainer__Sweep__Grid__* axes).
#
#   ./deploy-sweep.sh --resource-group <rg> --count 12 [--start] [--prefix kddata-sweep] [--template FILE]
#   ./deploy-sweep.sh --count 12 --render-only DIR    # only write the N rendered YAML files
#
# --start starts one execution of every job after creating them. Needs the Azure CLI (az login;
# az extension add -n containerapp) except with --render-only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null # indexed-jobs.sh, linted on its own
source "$here/indexed-jobs.sh"   # check_job_args, open_out_dir, apply_job
template="$here/sweep-job.yaml"
prefix="kddata-sweep"
resource_group=""
count=""
render_dir=""
start=0

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    -g|--resource-group) resource_group="${2:?}"; shift 2 ;;
    -n|--count) count="${2:?}"; shift 2 ;;
    -p|--prefix) prefix="${2:?}"; shift 2 ;;
    -t|--template) template="${2:?}"; shift 2 ;;
    --render-only) render_dir="${2:?}"; shift 2 ;;
    --start) start=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done

check_job_args "grid points"
# shellcheck disable=SC2016 # a literal placeholder, not an expansion
grep -qF '${SWEEP_INDEX}' "$template" || { echo "$template has no \${SWEEP_INDEX} placeholder" >&2; exit 2; }

# The grid's point count, from the template's axes: a wrong --count would leave points unrun
# (no summary) or start jobs whose index is outside the grid (exit 2).
points=1
while IFS= read -r values; do
  n=$(awk -F, '{print NF}' <<<"$values")
  points=$((points * n))
done < <(grep -A1 -E 'name: Trainer__Sweep__Grid__[0-9]+' "$template" | sed -n 's/^ *value: "[^=]*=\(.*\)"$/\1/p')
if [ "$points" -ne "$count" ]; then
  echo "--count $count does not match the template's grid of $points points" >&2; exit 2
fi

out_dir=""
open_out_dir

for ((i = 0; i < count; i++)); do
  name="$prefix-$i"
  file="$out_dir/$name.yaml"
  sed -e "s/\${SWEEP_INDEX}/$i/g" "$template" >"$file"
  apply_job "$name" "$file" "grid point $i of $count"
done

if [ -z "$render_dir" ] && [ "$start" -eq 1 ]; then
  for ((i = 0; i < count; i++)); do
    echo "starting $prefix-$i"
    az containerapp job start --resource-group "$resource_group" --name "$prefix-$i" --output none
  done
fi
