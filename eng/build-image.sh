#!/usr/bin/env bash
# Builds the fwmark image with buildah (daemonless, Debian's package) from deploy/Containerfile, without a
# registry: rootfs/ holds the AOT binary and exactly the glibc files it links, copied from this machine's Debian
# files (for an aarch64 binary: from the arm64 cross libc, /usr/aarch64-linux-gnu).
#   eng/build-image.sh [BINARY]   (default artifacts/fwmark/fwmark, what test.sh publishes; or
#                                  artifacts/publish/linux-arm64/fwmark for Raspberry Pi nodes)
# Writes artifacts/image/fwmark-<amd64|arm64>.oci.tar, an OCI archive for `podman load` / `k3s ctr images import`.
# buildah gets its own storage, run root, policy and containers.conf under a temp dir: /etc/containers is neither
# used for storage nor changed.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-artifacts/fwmark/fwmark}
[ -x "$binary" ] || { echo "eng/build-image.sh: no executable $binary (publish first)" >&2; exit 1; }
out=artifacts/image
mkdir -p "$out"
work=$(mktemp -d /tmp/fwmark-image.XXXXXX)
trap 'buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs rm --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

ctx="$work/context"
rootfs="$ctx/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/tmp"
install -m 0755 "$binary" "$rootfs/usr/local/bin/fwmark"
case "$(file -b "$binary")" in
  *x86-64*)
    arch=amd64
    # Every library the loader resolves, and the loader itself, at the path the binary names.
    for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done
    run=("$rootfs/usr/local/bin/fwmark")
    ;;
  *aarch64*)
    arch=arm64
    # ldd cannot run a foreign binary: the NEEDED entries come from the dynamic section instead.
    cross=/usr/aarch64-linux-gnu/lib
    mkdir -p "$rootfs/lib/aarch64-linux-gnu"
    for lib in $(aarch64-linux-gnu-readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      case "$lib" in
        ld-linux-*) cp -L "$cross/$lib" "$rootfs/lib/$lib" ;;
        *) cp -L "$cross/$lib" "$rootfs/lib/aarch64-linux-gnu/$lib" ;;
      esac
    done
    run=(qemu-aarch64-static -L "$rootfs" "$rootfs/usr/local/bin/fwmark")
    ;;
  *) echo "eng/build-image.sh: $binary is neither x86-64 nor aarch64: $(file -b "$binary")" >&2; exit 1 ;;
esac
# The rootfs must be complete on its own: run the binary against it (under qemu-user for arm64).
version=$("${run[@]}" version | awk '{print $2}')
[ -n "$version" ] || { echo "eng/build-image.sh: fwmark version failed against the image's rootfs" >&2; exit 1; }

cp deploy/Containerfile "$ctx/Containerfile"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$work/policy.json"
printf '[engine]\nevents_logger = "file"\n' > "$work/containers.conf"
: > "$work/registries.conf"
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
b=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
tag="localhost/fwmark:$version"
"${b[@]}" bud --quiet --signature-policy "$work/policy.json" --format oci --arch "$arch" -f "$ctx/Containerfile" -t "$tag" "$ctx" >/dev/null
archive="$out/fwmark-$arch.oci.tar"
rm -f "$archive"
"${b[@]}" push --quiet --signature-policy "$work/policy.json" "$tag" "oci-archive:$archive:$tag"
echo "$archive ($tag, linux/$arch, $(du -h "$archive" | cut -f1))"
