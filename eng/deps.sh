#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests need, only when something is missing:
# nft, ip, the real CNI plugins (bridge, host-local), kernel headers, socat (test server and client),
# sysctl, clang + zlib for the Native AOT link, and the container runtimes the runtime tests start in their own
# namespaces: containerd + runc (CRI), podman + conmon (CNI backend) and netavark (podman 5's default backend),
# iptables for the bridge/firewall plugins podman configures, busybox-static for their images; the linux-arm64
# cross build (lld, the aarch64 gcc/binutils and libc sysroot) and qemu-user to run it; buildah to build the image;
# file.
# Exits non-zero when a package cannot be installed: a missing prerequisite is a failure, never a skip.
set -euo pipefail

packages=(nftables iproute2 containernetworking-plugins linux-libc-dev socat procps clang zlib1g-dev
  containerd runc podman conmon netavark iptables busybox-static
  lld gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static file buildah)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or install them first)" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
