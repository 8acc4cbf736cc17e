#!/usr/bin/env bash
# Builds the fwmark image with buildah (daemonless, Debian's package) from deploy/Containerfile, without a
# registry: rootfs/ holds the AOT binary and exactly the shared objects it links, copied from this machine's
# Debian files. Writes artifacts/image/fwmark.oci.tar (an OCI archive `podman load` reads).
#   eng/build-image.sh [BINARY]        (default: artifacts/fwmark/fwmark, what test.sh publishes)
# buildah gets its own storage, run root and policy under a temp dir: /etc/containers is never read for
# storage nor changed.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-artifacts/fwmark/fwmark}
[ -x "$binary" ] || { echo "eng/build-image.sh: no executable $binary (publish first)" >&2; exit 1; }
out=artifacts/image
mkdir -p "$out"
work=$(mktemp -d /tmp/fwmark-image.XXXXXX)
trap 'buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs rm --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

ctx="$work/context"
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/tmp"
install -m 0755 "$binary" "$ctx/rootfs/usr/local/bin/fwmark"
# Every library the loader resolves, and the loader itself, at the path the binary names.
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
cp deploy/Containerfile "$ctx/Containerfile"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$work/policy.json"
printf '[engine]\nevents_logger = "file"\n' > "$work/containers.conf"

version=$("$binary" version | awk '{print $2}')
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
: > "$CONTAINERS_REGISTRIES_CONF"
b=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
"${b[@]}" bud --quiet --signature-policy "$work/policy.json" --format oci -f "$ctx/Containerfile" -t "localhost/fwmark:$version" "$ctx" >/dev/null
rm -f "$out/fwmark.oci.tar"
"${b[@]}" push --quiet --signature-policy "$work/policy.json" "localhost/fwmark:$version" "oci-archive:$out/fwmark.oci.tar:localhost/fwmark:$version"
echo "$out/fwmark.oci.tar (localhost/fwmark:$version, $(du -h "$out/fwmark.oci.tar" | cut -f1))"
