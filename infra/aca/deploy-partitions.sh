#!/usr/bin/env bash
# Creates (or updates) one Azure Container Apps Job per Labeler partition from labeler-job.yaml:
# job <prefix>-<i> gets Labeler__Partition__Index=i and Labeler__Partition__Count=N, for i = 0..N-1. ACA gives a
# job replica no index of its own, so this is how N partitions run in parallel on ACA.
#
#   ./deploy-partitions.sh --resource-group <rg> --count 4 [--prefix kddata-labeler] [--template FILE]
#   ./deploy-partitions.sh --count 4 --render-only DIR    # only write the N rendered YAML files
#
# Needs the Azure CLI (az login; az extension add -n containerapp) except with --render-only.
# Changing N later: partitions are defined by (index, count), so run the new N against a fresh
# Labeler__Output, and delete the jobs this script reports as left over.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null # indexed-jobs.sh, linted on its own
source "$here/indexed-jobs.sh"   # check_job_args, open_out_dir, apply_job
template="$here/labeler-job.yaml"
prefix="kddata-labeler"
resource_group=""
count=""
render_dir=""

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    -g|--resource-group) resource_group="${2:?}"; shift 2 ;;
    -n|--count) count="${2:?}"; shift 2 ;;
    -p|--prefix) prefix="${2:?}"; shift 2 ;;
    -t|--template) template="${2:?}"; shift 2 ;;
    --render-only) render_dir="${2:?}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done

check_job_args "partitions"
# shellcheck disable=SC2016 # a literal placeholder, not an expansion
grep -qF '${PARTITION_INDEX}' "$template" || { echo "$template has no \${PARTITION_INDEX} placeholder" >&2; exit 2; }

out_dir=""
open_out_dir

for ((i = 0; i < count; i++)); do
  name="$prefix-$i"
  file="$out_dir/$name.yaml"
  sed -e "s/\${PARTITION_INDEX}/$i/g" -e "s/\${PARTITION_COUNT}/$count/g" "$template" >"$file"
  # shellcheck disable=SC2016 # a literal placeholder, not an expansion
  if grep -qF '${PARTITION_' "$file"; then
    echo "$file still has a \${PARTITION_...} placeholder" >&2; exit 1
  fi
  apply_job "$name" "$file" "partition $i of $count"
done

if [ -z "$render_dir" ]; then
  # Jobs from an earlier, larger N would keep labeling with the old Labeler__Partition__Count.
  az containerapp job list --resource-group "$resource_group" --query "[].name" --output tsv |
    while read -r existing; do
      suffix="${existing#"$prefix"-}"
      if [ "$suffix" != "$existing" ] && [[ "$suffix" =~ ^[0-9]+$ ]] && [ "$suffix" -ge "$count" ]; then
        echo "warning: $existing is left over from a larger partition count; delete it:" >&2
        echo "  az containerapp job delete --resource-group $resource_group --name $existing --yes" >&2
      fi
    done
fi
