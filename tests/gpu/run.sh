#!/usr/bin/env bash
# One device call: build the library for sm_90 (Ninja, -j16, ptxas resource report kept), run the
# correctness grid, compute-sanitizer memcheck + racecheck on small shapes, then the benchmark.
# Logs go to $OUT (at most 8 files come back); a short summary is printed last.
#
#   tests/gpu/run.sh [--quick] [--no-check] [--no-sanitize] [--no-bench]
set -o pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fa-gpu-out}
mkdir -p "$OUT"
QUICK=""; CHECK=1; SAN=1; BENCH=1
for a in "$@"; do
  case "$a" in
    --quick) QUICK="--quick" ;;
    --no-check) CHECK=0 ;;
    --no-sanitize) SAN=0 ;;
    --no-bench) BENCH=0 ;;
    *) echo "unknown flag $a"; exit 2 ;;
  esac
done
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
summary=()
start=$SECONDS
step() { summary+=("$1: $2 ($((SECONDS - t))s)"); }
# Each part gets at most its own limit and never more than what is left of BUDGET seconds, so a slow
# part cannot push the summary past the device call's limit.
BUDGET=${BUDGET:-570}
limit() { local left=$((BUDGET - (SECONDS - start))); [ "$1" -lt "$left" ] && echo "$1" || echo $((left > 5 ? left : 5)); }

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader

t=$SECONDS
BUILD=build-gpu
{ cmake -S native -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON -DFLASHATTN_CUDA_ARCHS=90 \
    -DFLASHATTN_SM90=OFF "-DCMAKE_CUDA_FLAGS=-Xptxas -v" && cmake --build $BUILD -j16; } > "$OUT/build.log" 2>&1
rc=$?
step build "rc=$rc"
grep -E "error|FAILED" "$OUT/build.log" | head -20
# Registers / spills / smem per kernel from the ptxas report.
python3 - "$OUT/build.log" > "$OUT/ptxas.txt" <<'PY'
import re, subprocess, sys
name, rows = None, {}
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Compiling entry function '(\w+)' for '(sm_\d+)'", line)
    if m: name = m.group(1); continue
    m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
    if m and name: rows.setdefault(name, {})["spill"] = f"stack {m.group(1)} st {m.group(2)} ld {m.group(3)}"; continue
    m = re.search(r"Used (\d+) registers", line)
    if m and name: rows.setdefault(name, {})["regs"] = m.group(1)
names = list(rows)
dem = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n") if names else []
for n, d in zip(names, dem):
    if "sm80" in n: print(f"{rows[n].get('regs','?'):>4} regs  {rows[n].get('spill','')}  {d[:110]}")
PY
grep -c . "$OUT/ptxas.txt" >/dev/null && sort -u "$OUT/ptxas.txt" | head -60
if [ $rc -ne 0 ]; then printf '%s\n' "${summary[@]}"; exit 1; fi
export FLASHATTN_LIB=$PWD/$BUILD/lib/libflashattn.so
cd tests/gpu

if [ $CHECK = 1 ]; then
  t=$SECONDS
  timeout $(limit 240) python3 check.py $QUICK 2>&1 | tee "$OUT/check.log" | grep -v "^  badarg"
  step check "rc=$? $(grep -E '^checks:' "$OUT/check.log")"
fi

if [ $SAN = 1 ]; then
  t=$SECONDS
  timeout $(limit 120) compute-sanitizer --tool memcheck --target-processes all --error-exitcode 9 python3 sanitize.py \
    > "$OUT/sanitize.log" 2>&1
  step memcheck "rc=$? $(grep -E 'ERROR SUMMARY' "$OUT/sanitize.log" | tail -1)"
  t=$SECONDS
  timeout $(limit 120) compute-sanitizer --tool racecheck --target-processes all --error-exitcode 9 \
    python3 sanitize.py >> "$OUT/sanitize.log" 2>&1
  step racecheck "rc=$? $(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY' "$OUT/sanitize.log" | tail -1)"
  tail -5 "$OUT/sanitize.log"
fi

if [ $BENCH = 1 ]; then
  t=$SECONDS
  timeout $(limit 420) python3 bench.py $QUICK > "$OUT/bench.log" 2>&1
  step bench "rc=$?"
  grep -v "^<!--" "$OUT/bench.md" 2>/dev/null || tail -20 "$OUT/bench.log"
fi

echo
echo "== summary ($((SECONDS - start))s)"
printf '%s\n' "${summary[@]}"
