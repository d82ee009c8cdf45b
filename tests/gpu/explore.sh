#!/usr/bin/env bash
# Exploration pass in one device call: tune.sh variants (ours only) + SASS order of the hdim-256 dK/dV
# kernel of a few of them. Variants are given as tune.sh specs in $VARIANTS (newline separated).
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fa-gpu-out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader | tee "$OUT/gpu.txt"
mapfile -t specs <<< "$VARIANTS"
NO_NCU=1 BUDGET=${BUDGET:-350} bash tests/gpu/tune.sh "${specs[@]}"
for v in $SASS; do
  [ -f build-tune-$v/lib/libflashattn.so ] && python3 tests/gpu/sass_stats.py build-tune-$v/lib/libflashattn.so \
    bwd_dkdv_kernelI13__nv_bfloat16Li256 > "$OUT/sass_$v.txt" 2>&1
done
echo "== summary"; grep -E "^==|stack|^\|" "$OUT/tune.log"
