#!/usr/bin/env bash
# The test command (README, .ci/run): format check, build, Native AOT publish, unit tests, kernel tests and
# end-to-end tests. Everything that touches the kernel runs inside network namespaces the tests create.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh needs root: the kernel tests create network namespaces" >&2
  exit 1
fi
eng/deps.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=artifacts/test-results
rm -rf "$results" && mkdir -p "$results"

echo "== format"
dotnet format fwmark.slnx --verify-no-changes
# A merge's conflict markers once reached main inside a doc; nothing checks prose, so this does.
if git grep -nE '^(<<<<<<<|>>>>>>>)( |$)|^=======$' -- ':!*.trx' >&2; then
  echo "conflict markers left in the files above" >&2
  exit 1
fi

echo "== build"
dotnet build fwmark.slnx -c Release -warnaserror --nologo -v q

echo "== publish (Native AOT)"
dotnet publish src/Fwmark/Fwmark.csproj -c Release --nologo -v q -o artifacts/fwmark
export FWMARK_BIN="$PWD/artifacts/fwmark/fwmark"
[ -x "$FWMARK_BIN" ] || { echo "publish produced no $FWMARK_BIN" >&2; exit 1; }

echo "== publish linux-arm64 (cross-compiled Native AOT), checked with file and qemu-user"
start=$SECONDS
arm64=$(eng/publish.sh linux-arm64 | tail -1)
file "$arm64" | grep -q 'ELF 64-bit LSB .*ARM aarch64' || { echo "not an aarch64 executable: $(file "$arm64")" >&2; exit 1; }
qemu-aarch64-static -L /usr/aarch64-linux-gnu "$arm64" version | grep -q '^fwmark ' || { echo "$arm64 version failed under qemu-aarch64-static" >&2; exit 1; }
echo "linux-arm64: $(file -b "$arm64" | cut -d, -f1-2) ($((SECONDS - start)) s)"

echo "== images (buildah, FROM scratch): linux/amd64 (run with podman by the tests) and linux/arm64"
start=$SECONDS
eng/build-image.sh "$FWMARK_BIN"
eng/build-image.sh "$arm64"
export FWMARK_IMAGE="$PWD/artifacts/image/fwmark-amd64.oci.tar"
echo "images: $((SECONDS - start)) s"

echo "== tests"
status=0
# Every test node has its own state dir (FWMARK_RUN_DIR); nothing may land in the machine's /run/fwmark.
started=$(mktemp)
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
done
if [ -d /run/fwmark ] && leaked=$(find /run/fwmark -newer "$started" | head -20) && [ -n "$leaked" ]; then
  echo "the tests wrote into the machine's /run/fwmark:" >&2
  echo "$leaked" >&2
  status=1
fi
rm -f "$started"

# One summary line for CI: counts from the trx files, and a failure when anything was skipped or nothing ran.
eng/summarize-trx.sh "$results" || status=1
exit $status
