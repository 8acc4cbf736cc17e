#!/usr/bin/env bash
# Publishes the fwmark plugin and the AOT hello-world floor, then runs the benchmark inside a fresh
# network namespace (the plugin rewrites nftables of the netns it runs in; never the host's).
#
# usage: bench/run.sh [bench options]   e.g. --counts 0,1000,10000 --iterations 300 --out /tmp/bench.json
# env:   FWMARK_BENCH_ARTIFACTS  artifacts path for publish/build (default /tmp/fwmark-bench-artifacts)
#        FWMARK_BENCH_PLUGIN     use this binary instead of publishing src/Fwmark (e.g. hello, to test the bench)
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "run.sh: must run as root: it creates a network namespace" >&2
  exit 1
fi
for tool in dotnet ip nft; do
  command -v "$tool" >/dev/null || { echo "run.sh: required tool '$tool' not found" >&2; exit 1; }
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
art=${FWMARK_BENCH_ARTIFACTS:-/tmp/fwmark-bench-artifacts}

if [[ -z ${FWMARK_BENCH_PLUGIN:-} ]]; then
  dotnet publish "$repo/src/Fwmark" -c Release --artifacts-path "$art" >&2
  plugin="$art/publish/Fwmark/release_linux-x64/fwmark"
else
  plugin=$FWMARK_BENCH_PLUGIN
fi
dotnet publish "$repo/bench/Hello" -c Release --artifacts-path "$art" >&2
dotnet build "$repo/bench/Fwmark.Bench" -c Release --artifacts-path "$art" >&2
hello="$art/publish/Hello/release_linux-x64/hello"
bench="$art/bin/Fwmark.Bench/release/Fwmark.Bench.dll"
for file in "$plugin" "$hello" "$bench"; do
  [[ -f $file ]] || { echo "run.sh: expected build output $file is missing" >&2; exit 1; }
done

ns="fwb-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
created=""
# The plugin's lock and attachment records of this run: a scratch dir, never the machine's /run/fwmark.
# On a tmpfs, as /run is on a real node: a record write or unlink on a disk costs milliseconds there (docs/records.md).
state_dir=$(mktemp -d /dev/shm/fwmark-bench-state.XXXXXX)
export FWMARK_RUN_DIR=$state_dir
cleanup() {
  if [[ -n $created ]]; then
    ip netns del "$ns" || echo "run.sh: failed to delete netns $ns" >&2
  fi
  rm -rf "$state_dir"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap removes the namespace.
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns"
created=1
ip netns exec "$ns" ip link set lo up
# A stand-in VPN device, for --route-device vpn0: a route through it can be installed like a real tunnel's.
ip -n "$ns" link add vpn0 type veth peer name vpn0-peer
ip -n "$ns" addr add 192.0.2.10/24 dev vpn0
ip -n "$ns" link set vpn0 up
ip -n "$ns" link set vpn0-peer up
echo "run.sh: benchmarking $plugin in netns $ns" >&2

# The plugin never enters CNI_NETNS; pointing it at the node netns keeps it an existing, harmless path.
ip netns exec "$ns" dotnet "$bench" --plugin "$plugin" --hello "$hello" --cni-netns "/var/run/netns/$ns" "$@"
