#!/usr/bin/env bash
# Runs the C# test suite (CPU and GPU cases) and the demo on the GPU machine, which has no .NET SDK.
#
# Prepare on a machine with the SDK (the folder is git-ignored and travels with `carry: [".device"]`):
#   ../shared/device/pack-dotnet-runtime.sh .device
#   FLASHATTN_CUDA=OFF dotnet publish tests/FlashAttn.Tests -c Release -o .device/tests
#   FLASHATTN_CUDA=OFF dotnet publish samples/FlashAttn.Demo -c Release -o .device/demo
# Then on the GPU machine:  bash tests/gpu/run_dotnet.sh path/to/libflashattn.so
# The published copies carry a CPU-only libflashattn; FLASHATTN_NATIVE_PATH points them at the CUDA build.
set -uo pipefail
cd "$(dirname "$0")/../.."
lib=$(readlink -f "${1:?usage: run_dotnet.sh path/to/libflashattn.so}")
OUT=${OUT:-$PWD/dotnet_out}
mkdir -p "$OUT" /tmp/dotnet
[ -x /tmp/dotnet/dotnet ] || tar -C /tmp/dotnet -xJf .device/dotnet-runtime.tar.xz
export FLASHATTN_NATIVE_PATH=$lib DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rc=0

echo "== NUnit suite (CPU + GPU) against $lib"
/tmp/dotnet/dotnet .device/tests/FlashAttn.Tests.dll --results-directory "$OUT" 2>&1 | tee "$OUT/nunit.log" | tail -40
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
grep -E "^(failed|skipped) " "$OUT/nunit.log" | sort | uniq -c | sort -rn | head -20

if [ -f .device/demo/FlashAttn.Demo.dll ]; then
    echo "== demo on CUDA"
    /tmp/dotnet/dotnet .device/demo/FlashAttn.Demo.dll --device cuda --markdown 2>&1 | tee "$OUT/demo.log" | tail -16
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
exit $rc
