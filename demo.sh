#!/usr/bin/env bash
# fwmark demo: publishes the plugin, then builds a throwaway node (network namespaces fwe-RUNID-*) with a
# main and a VPN uplink, runs one annotated and one plain pod through bridge + host-local + fwmark, and
# shows which gateway each pod's traffic really left through. Nothing touches the host's own namespace;
# everything created is removed on exit, also on failure or Ctrl-C.
# Exit status: 0 when the annotated pod left through the VPN and the plain pod through main.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"

if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: must run as root (it creates network namespaces)" >&2
  exit 1
fi

eng/deps.sh  # installs missing Debian packages (nftables, iproute2, CNI plugins, socat, ...)
command -v dotnet >/dev/null || { echo "demo.sh: dotnet SDK not found (see global.json)" >&2; exit 1; }

artifacts=artifacts/demo
run_id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$artifacts"

# Safety net behind the demo's own cleanup (it may be killed before it can clean up): remove only this
# run's namespaces, ending first the processes inside them, which the demo started.
cleanup() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep "^fwe-${run_id}-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "/tmp/fwe-${run_id}work"
}
trap cleanup EXIT

build() {
  local what=$1
  shift
  if ! dotnet "$@" --artifacts-path "$artifacts" -nologo -v quiet >"$artifacts/$what.log" 2>&1; then
    echo "demo.sh: $what failed:" >&2
    tail -n 30 "$artifacts/$what.log" >&2
    exit 1
  fi
}

# FWMARK_BIN=PATH uses an already published plugin instead (e.g. in CI after its own publish).
fwmark_bin=${FWMARK_BIN:-$artifacts/publish/Fwmark/release_linux-x64/fwmark}
if [[ -z ${FWMARK_BIN:-} ]]; then
  echo "publishing the plugin (dotnet publish src/Fwmark -c Release)..."
  build publish publish src/Fwmark -c Release
fi
build demo-build build tools/Fwmark.Demo -c Release

[[ -x $fwmark_bin ]] || { echo "demo.sh: no plugin binary at $fwmark_bin" >&2; exit 1; }

echo
dotnet "$artifacts/bin/Fwmark.Demo/release/Fwmark.Demo.dll" --fwmark-bin "$fwmark_bin" --run-id "$run_id"
