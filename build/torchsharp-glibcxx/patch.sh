#!/usr/bin/env bash
# Makes TorchSharp 0.107's libLibTorchSharp.so load on hosts whose libstdc++ predates GCC 13
# (Debian 12, Ubuntu 22.04: GLIBCXX_3.4.30). Called by the build (build/TorchSharp.targets) for
# each output folder that holds a copy of the library; see docs/operations.md "TorchSharp on older libstdc++".
#
#   patch.sh <folder-containing-libLibTorchSharp.so> <tools-folder>
#
# Does nothing when the host libstdc++ already has GLIBCXX_3.4.32 (newer bases need no patch) or
# when the copy is already patched. Never edits a file in place: it patches a temporary copy and
# renames it over the output's copy, so a hard link into the NuGet cache is broken, not written.
set -euo pipefail

dir=$1
tools=$2
lib="$dir/libLibTorchSharp.so"
tag=GLIBCXX_3.4.32
symbol=_ZSt21ios_base_library_initv
shim_name=libkddata_stdcxx_compat.so
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ -f "$lib" ] || exit 0

host_stdcxx=$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || true)
if [ ! -f "$host_stdcxx" ]; then
  host_stdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
fi
if [ -n "$host_stdcxx" ] && grep -qa "$tag" "$host_stdcxx"; then
  exit 0   # the host libstdc++ is new enough
fi

need() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "torchsharp-glibcxx: installing $2 (needed to patch libLibTorchSharp.so for this host's libstdc++)"
    (apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$2" >/dev/null; })
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "error: torchsharp-glibcxx: '$1' is required to patch libLibTorchSharp.so for this host's libstdc++ (it lacks $tag); install package '$2'" >&2; exit 1; }
}
need g++ g++
need patchelf patchelf

mkdir -p "$tools"
# Build the two small native pieces once per tools folder (rebuilt when the sources change).
if [ ! -x "$tools/elf-weaken" ] || [ "$here/elf-weaken.cpp" -nt "$tools/elf-weaken" ]; then
  g++ -O2 -o "$tools/elf-weaken.tmp.$$" "$here/elf-weaken.cpp" && mv -f "$tools/elf-weaken.tmp.$$" "$tools/elf-weaken"
fi
if [ ! -f "$tools/$shim_name" ] || [ "$here/shim.cpp" -nt "$tools/$shim_name" ]; then
  g++ -O2 -shared -fPIC -Wl,-soname,$shim_name -o "$tools/$shim_name.tmp.$$" "$here/shim.cpp" && mv -f "$tools/$shim_name.tmp.$$" "$tools/$shim_name"
fi

# The shim goes next to the library: its RUNPATH is $ORIGIN, so the loader finds it there.
if ! cmp -s "$tools/$shim_name" "$dir/$shim_name"; then
  cp -f "$tools/$shim_name" "$dir/$shim_name.tmp.$$" && mv -f "$dir/$shim_name.tmp.$$" "$dir/$shim_name"
fi

tmp="$dir/.libLibTorchSharp.so.patch.$$"
trap 'rm -f "$tmp"' EXIT
cp -f "$lib" "$tmp"
set +e
"$tools/elf-weaken" "$tmp" "$tag" "$symbol"
rc=$?
set -e
case $rc in
  0) ;;
  3) # version already weak and symbol cleared; make sure the shim is needed too
     if patchelf --print-needed "$lib" | grep -qx "$shim_name"; then exit 0; fi ;;
  *) exit $rc ;;
esac
if ! patchelf --print-needed "$tmp" | grep -qx "$shim_name"; then
  patchelf --add-needed "$shim_name" "$tmp"
fi
chmod --reference="$lib" "$tmp" 2>/dev/null || true
mv -f "$tmp" "$lib"
trap - EXIT
echo "torchsharp-glibcxx: patched $lib (host libstdc++ lacks $tag)"
