#!/usr/bin/env bash
# Native AOT builds of the fwmark executable for the nodes people have:
#   eng/publish.sh                         linux-x64 and linux-arm64
#   eng/publish.sh linux-arm64             one of them
# Output: artifacts/publish/<rid>/fwmark (one self-contained executable; it links only glibc: see README).
# linux-arm64 is cross-compiled with Debian's clang/lld and the aarch64 cross binutils and sysroot
# (eng/deps.sh installs them); NuGet provides the arm64 ILCompiler and runtime packs.
set -euo pipefail
cd "$(dirname "$0")/.."
rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)
for rid in "${rids[@]}"; do
  out="artifacts/publish/$rid"
  extra=()
  case "$rid" in
    linux-x64) ;;
    linux-arm64) extra=(-p:SysRoot=/ -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy) ;;
    *) echo "eng/publish.sh: unsupported runtime $rid (linux-x64, linux-arm64)" >&2; exit 2 ;;
  esac
  dotnet publish src/Fwmark/Fwmark.csproj -c Release -r "$rid" --nologo -v q -o "$out" "${extra[@]}"
  # Only the executable is shipped; pdb/xml/dbg files are build by-products.
  find "$out" -type f ! -name fwmark -delete
  echo "$out/fwmark"
done
