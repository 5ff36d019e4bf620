# shellcheck shell=bash disable=SC2154 # count, prefix, resource_group, render_dir, template: the caller's
# Shared by deploy-partitions.sh and deploy-sweep.sh (sourced): ACA gives a job replica no index of its own, so both
# create one job <prefix>-<i> per index from a template. Reads the caller's count, prefix, resource_group, render_dir
# and template.

# check_job_args WHAT: count is a positive integer (the number of WHAT), a resource group is given unless only
# rendering, every job name is valid and the template exists; otherwise exit 2 with the reason.
check_job_args() {
  if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
    echo "--count must be a positive integer (the number of $1), got '${count}'" >&2; exit 2
  fi
  if [ -z "$render_dir" ] && [ -z "$resource_group" ]; then
    echo "--resource-group is required (or use --render-only DIR)" >&2; exit 2
  fi
  # ACA job names: lower-case letters, digits and '-', starting with a letter, at most 32 characters.
  local last_name="$prefix-$((count - 1))"
  if ! [[ "$last_name" =~ ^[a-z][a-z0-9-]*$ ]] || [ "${#last_name}" -gt 32 ]; then
    echo "job name '$last_name' is not a valid Container Apps job name (prefix '$prefix')" >&2; exit 2
  fi
  [ -f "$template" ] || { echo "template not found: $template" >&2; exit 2; }
}

# open_out_dir: sets out_dir to the --render-only folder, or else (after checking for the Azure CLI) to a temporary
# folder removed on exit.
open_out_dir() {
  if [ -n "$render_dir" ]; then
    mkdir -p "$render_dir"
    out_dir="$render_dir"
  else
    command -v az >/dev/null || { echo "the Azure CLI (az) is required" >&2; exit 2; }
    out_dir="$(mktemp -d)"
    trap 'rm -rf "$out_dir"' EXIT
  fi
}

# apply_job NAME FILE WHAT: with --render-only reports FILE; else creates job NAME from FILE, or updates it when it
# exists (WHAT, e.g. "partition 2 of 4", goes into the message).
apply_job() {
  if [ -n "$render_dir" ]; then
    echo "rendered $2"
    return 0
  fi
  if az containerapp job show --resource-group "$resource_group" --name "$1" --output none 2>/dev/null; then
    echo "updating $1 ($3)"
    az containerapp job update --resource-group "$resource_group" --name "$1" --yaml "$2" --output none
  else
    echo "creating $1 ($3)"
    az containerapp job create --resource-group "$resource_group" --name "$1" --yaml "$2" --output none
  fi
}
