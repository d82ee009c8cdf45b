#!/usr/bin/env bash
# Tuning pass for one device call: Nsight Compute side by side with PyTorch's FA2 kernels, then
# alternative tile shapes built in their own build dirs (traits.h overrides) and timed with bench.py.
#   tests/gpu/tune.sh "NAME|-DFA_SM80_TUNE_...=..;...|bench.py args" ...   (compiler flags separated by ';')
set -o pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fa-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
start=$SECONDS
BUDGET=${BUDGET:-560}
left() { echo $((BUDGET - (SECONDS - start))); }

if [ -z "$NO_NCU" ]; then
  ( cd tests/gpu && FLASHATTN_LIB=$PWD/../../build-gpu/lib/libflashattn.so timeout 150 ncu --target-processes all \
      -k 'regex:fwd_kernel|bwd_dkdv_kernel|dq_dk_dv_loop' -c 4 \
      --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
      --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables \
      --section InstructionStats python3 prof.py ) > "$OUT/ncu.txt" 2>&1
  echo "ncu: rc=$? ($((SECONDS - start))s), $(grep -c '^  [a-z_:]*kernel\|^  void' "$OUT/ncu.txt") kernels"
fi

for spec in "$@"; do
  IFS='|' read -r name flags bargs <<< "$spec"; flags=${flags//;/ }
  [ "$(left)" -lt 40 ] && { echo "tune: out of time before $name"; break; }
  dir=build-tune-$name
  t=$SECONDS
  cmake -S native -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON -DFLASHATTN_CUDA_ARCHS=90 \
    -DFLASHATTN_SM90=OFF "-DCMAKE_CUDA_FLAGS=$flags" > /dev/null 2>&1 && cmake --build $dir -j16 > "$dir.log" 2>&1
  rc=$?
  echo "== $name [$flags] build rc=$rc ($((SECONDS - t))s)" | tee -a "$OUT/tune.log"
  [ $rc -ne 0 ] && { tail -5 "$dir.log" | tee -a "$OUT/tune.log"; continue; }
  ( cd tests/gpu && timeout $(( $(left) - 5 )) python3 bench.py --lib ../../$dir/lib/libflashattn.so --only-ours \
      ${bargs:---dims 128 --seqlens 2048,8192} ) 2>&1 | grep -E "^\|" | tee -a "$OUT/tune.log"
done
