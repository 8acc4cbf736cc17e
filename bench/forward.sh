#!/usr/bin/env bash
# Forwarding benchmark: 64-byte UDP packets per second through a node namespace, from a bridged pod to a
# sink behind the node's two uplinks, in three states of the node, interleaved round by round:
#   none     - no fwmark table at all (plain forwarding, the pod leaves through the main uplink)
#   empty    - the plugin's tables exist (ADD + DEL of the pod), no attachment; the pod is not marked
#   n        - the pod is ADDed (bridge port, marked: it leaves through the VPN uplink) and the sets hold
#              N more keys: N bridge ports and N IPv4 addresses (more than N attachments could: each has one)
# Rate = packets the sink's two uplink interfaces received during the blast / blast time. Everything runs in
# namespaces this script creates (names fwf-<random>-*), removed on exit.
#
# usage: sudo bench/forward.sh [--attachments 10000] [--seconds 3] [--rounds 5]
# env:   FWMARK_BENCH_ARTIFACTS (default /tmp/fwmark-bench-artifacts), FWMARK_BENCH_PLUGIN (a published fwmark)
set -euo pipefail

attachments=10000 seconds=3 rounds=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --attachments) attachments=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "forward.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "forward.sh: must run as root: it creates network namespaces" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
art=${FWMARK_BENCH_ARTIFACTS:-/tmp/fwmark-bench-artifacts}
if [[ -z ${FWMARK_BENCH_PLUGIN:-} ]]; then
  dotnet publish "$repo/src/Fwmark" -c Release --artifacts-path "$art" >&2
  plugin="$art/publish/Fwmark/release_linux-x64/fwmark"
else
  plugin=$FWMARK_BENCH_PLUGIN
fi
dotnet build "$repo/bench/Fwmark.Blast" -c Release --artifacts-path "$art" >&2
blast="$art/bin/Fwmark.Blast/release/Fwmark.Blast.dll"
[[ -x $plugin && -f $blast ]] || { echo "forward.sh: build outputs missing ($plugin, $blast)" >&2; exit 1; }

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
node=fwf-$id-node pod=fwf-$id-pod sink=fwf-$id-sink
work=$(mktemp -d)
# The plugin's lock and records of this run: a scratch dir, never the machine's /run/fwmark (as bench/run.sh does).
export FWMARK_RUN_DIR=$work/run
cleanup() {
  for ns in $node $pod $sink; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for ns in $node $pod $sink; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
N() { ip netns exec "$node" "$@"; }

N sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
ip -n "$node" link add fwfbr type bridge
ip -n "$node" addr add 10.77.0.1/24 dev fwfbr
ip -n "$node" link set fwfbr up
ip -n "$node" link add fwfveth type veth peer name eth0 netns "$pod"
ip -n "$node" link set fwfveth master fwfbr up
ip -n "$pod" addr add 10.77.0.2/24 dev eth0
ip -n "$pod" link set eth0 up
ip -n "$pod" route add default via 10.77.0.1
# Two uplinks into the sink: main (s0) and the mark's table (s1). The sink counts and drops the test
# datagrams at ingress (ARP and ND pass), so nothing answers and no ICMP comes back.
ip -n "$node" link add up0 type veth peer name s0 netns "$sink"
ip -n "$node" link add up1 type veth peer name s1 netns "$sink"
ip -n "$node" addr add 10.0.1.2/24 dev up0
ip -n "$node" addr add 10.0.2.2/24 dev up1
ip -n "$node" link set up0 up
ip -n "$node" link set up1 up
ip -n "$sink" addr add 10.0.1.1/24 dev s0
ip -n "$sink" addr add 10.0.2.1/24 dev s1
ip -n "$sink" link set s0 up
ip -n "$sink" link set s1 up
ip -n "$node" route add default via 10.0.1.1
ip -n "$node" rule add pref 100 fwmark 0x10/0x10 lookup 100
ip -n "$node" route add default via 10.0.2.1 table 100
ip netns exec "$sink" nft -f - <<'NFT'
table netdev sink {
  chain s0 { type filter hook ingress device "s0" priority 0; policy accept; udp dport 9 counter drop; }
  chain s1 { type filter hook ingress device "s1" priority 0; policy accept; udp dport 9 counter drop; }
}
NFT

conf='{"cniVersion":"1.0.0","name":"fwd","type":"fwmark","capabilities":{"io.kubernetes.cri.pod-annotations":true},"marks":{"vpn":{"mark":16,"mask":16}},"runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"cni.fwmark.net/name":"vpn"}},"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"fwfbr"},{"name":"fwfveth"},{"name":"eth0","sandbox":"/var/run/netns/'"$pod"'"}],"ips":[{"address":"10.77.0.2/24","gateway":"10.77.0.1","interface":2}]}}'
cni() {
  echo "$conf" | CNI_COMMAND=$1 CNI_CONTAINERID=fwd-pod CNI_NETNS=/var/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
    ip netns exec "$node" "$plugin" >/dev/null 2>"$work/cni.err" || { cat "$work/cni.err" >&2; exit 1; }
}
populate() {
  # N bridge ports and N IPv4 addresses in the sets the pod's own key lives next to, owner-tagged like the plugin's.
  awk -v n="$attachments" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "add element bridge fwmark ports-mark-00000010-00000010 { \"fk%d\" comment \"00000000.%016x bench/fk%d/eth0\" }\n", i, i, i
      printf "add element inet fwmark pods4-mark-00000010-00000010 { 10.%d.%d.%d comment \"00000000.%016x bench/fk%d/eth0\" }\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256, i, i
    }
  }' > "$work/populate.nft"
  N nft -f "$work/populate.nft"
}
rx() {
  for c in s0 s1; do ip netns exec "$sink" nft list chain netdev sink "$c" | sed -nE 's/.*counter packets ([0-9]+).*/\1/p'; done | paste -sd' '
}
state() {
  case $1 in
    none) N nft delete table inet fwmark 2>/dev/null || true; N nft delete table bridge fwmark 2>/dev/null || true ;;
    empty) cni ADD; cni DEL ;;
    n) cni ADD; populate ;;
  esac
}

# Warm up: ARP/ND, caches, the JIT of the blaster.
state n; ip netns exec "$pod" dotnet "$blast" 198.51.100.9 9 1 >/dev/null; state none

printf '| round | state | sent/s | forwarded/s | via main | via vpn |\n|---:|---|---:|---:|---:|---:|\n'
results=()
for round in $(seq 1 "$rounds"); do
  for s in none empty n; do
    state "$s"
    read -r m0 v0 < <(rx)
    out=$(ip netns exec "$pod" dotnet "$blast" 198.51.100.9 9 "$seconds")
    sleep 0.2
    read -r m1 v1 < <(rx)
    sent=$(sed -E 's/.*sent=([0-9]+).*/\1/' <<<"$out")
    took=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$out")
    main=$((m1 - m0)) vpn=$((v1 - v0))
    rate=$(awk -v p=$((main + vpn)) -v t="$took" 'BEGIN { printf "%d", p / t }')
    srate=$(awk -v p="$sent" -v t="$took" 'BEGIN { printf "%d", p / t }')
    printf '| %d | %s | %d | %d | %d | %d |\n' "$round" "$s" "$srate" "$rate" "$main" "$vpn"
    results+=("$s $rate")
    if [[ $s == n && $vpn -eq 0 ]] || [[ $s != n && $vpn -ne 0 ]]; then
      echo "forward.sh: FAILED: state $s took the wrong uplink (main $main, vpn $vpn)" >&2; exit 1
    fi
  done
  state none
done

median() { printf '%s\n' "${results[@]}" | awk -v s="$1" '$1 == s { print $2 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
none=$(median none) empty=$(median empty) n=$(median n)
printf '\nmedian forwarded/s: none %d, empty %d, %d attachments %d\n' "$none" "$empty" "$attachments" "$n"
awk -v a="$n" -v e="$empty" -v z="$none" -v k="$attachments" 'BEGIN {
  printf "%d attachments / empty: %.2f (target >= 0.8: %s)\n", k, a / e, (a / e >= 0.8 ? "PASS" : "FAIL")
  printf "%d attachments / no plugin: %.2f (target >= 0.8: %s)\n", k, a / z, (a / z >= 0.8 ? "PASS" : "FAIL")
}'
