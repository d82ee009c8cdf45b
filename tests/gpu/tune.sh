#!/usr/bin/env bash
# Tuning pass for one device call: Nsight Compute side by side with PyTorch's FA2 kernels, then
# alternative tile shapes built in their own build dirs (traits.h overrides) and timed with bench.py.
#   tests/gpu/tune.sh "NAME|-DFA_SM80_TUNE_...=..;...|bench.py args|ENV=VALUE ...|SOURCE" ...
# Compiler flags are separated by ';'; with none (and no SOURCE), the variant reuses build-gpu (an
# environment-only variant such as FLASHATTN_SM80_STAGES=1). SOURCE is another CMake source dir (a
# copy of native/ from an older commit, to time a baseline in the same run). Each built variant
# prints the ptxas registers and spills of its bf16 dK/dV kernels.
set -o pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fa-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
start=$SECONDS
BUDGET=${BUDGET:-560}
left() { echo $((BUDGET - (SECONDS - start))); }

stalls=""
for r in barrier long_scoreboard short_scoreboard math_pipe_throttle mio_throttle lg_throttle wait not_selected \
         selected dispatch_stall no_instruction branch_resolving drain membar misc tex_throttle; do
  stalls+="smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio,"
done
NCU_METRICS="${stalls}lts__t_sectors_op_red.sum,lts__t_requests_op_red.sum,lts__t_sectors_op_read.sum,\
lts__t_sectors_op_write.sum,l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum,l1tex__t_sectors_pipe_lsu_mem_local_op_st.sum,\
l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,\
l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__inst_executed.sum,l1tex__t_sector_hit_rate.pct"

if [ -z "$NO_NCU" ]; then
  # Sections first (known to work), then raw metrics (stall reasons, L2 sectors by operation, local
  # memory, bank conflicts) in a second pass so that one unknown metric cannot lose the whole profile.
  K='regex:fwd_kernel|bwd_dkdv_kernel|dq_dk_dv_loop'
  ( cd tests/gpu && export FLASHATTN_LIB=$PWD/../../build-gpu/lib/libflashattn.so
    timeout 100 ncu --target-processes all -k "$K" -c 6 --section SpeedOfLight --section Occupancy \
      --section LaunchStats --section SchedulerStats --section ComputeWorkloadAnalysis python3 prof.py
    echo "=== raw metrics"
    timeout 100 ncu --target-processes all -k "$K" -c 6 --metrics "$NCU_METRICS" python3 prof.py ) > "$OUT/ncu.txt" 2>&1
  echo "ncu: rc=$? ($((SECONDS - start))s), $(grep -c 'Section: GPU Speed' "$OUT/ncu.txt") kernels with sections"
fi

for spec in "$@"; do
  IFS='|' read -r name flags bargs envs src <<< "$spec"; flags=${flags//;/ }
  [ "$(left)" -lt 40 ] && { echo "tune: out of time before $name"; break; }
  t=$SECONDS
  if [ -z "$flags$src" ]; then
    dir=build-gpu; rc=0
  else
    dir=build-tune-$name
    cmake -S "${src:-native}" -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON -DFLASHATTN_CUDA_ARCHS=90 \
      -DFLASHATTN_SM90=OFF "-DCMAKE_CUDA_FLAGS=$flags -Xptxas -v" > /dev/null 2>&1 && cmake --build $dir -j16 > "$dir.log" 2>&1
    rc=$?
  fi
  echo "== $name [$flags] [$envs] [${src:-native}] build rc=$rc ($((SECONDS - t))s)" | tee -a "$OUT/tune.log"
  [ $rc -ne 0 ] && { tail -5 "$dir.log" | tee -a "$OUT/tune.log"; continue; }
  [ -f "$dir.log" ] && python3 - "$dir.log" <<'PY' | tee -a "$OUT/tune.log"
import re, sys
name, out = None, []
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Compiling entry function '(\w+)'", line)
    if m: name = m.group(1); continue
    if not name or "bfloat16" not in name: continue
    k = "bwd" if "bwd_dkdv_kernel" in name else "fwd" if "fwd_kernel" in name else None
    if not k: continue
    d = re.search(r"Li(\d+)E", name).group(1)
    m = re.search(r"(\d+) bytes stack frame", line)
    if m: out.append(f"{k}{d} {m.group(1)}")
    m = re.search(r"Used (\d+) registers", line)
    if m and out: out[-1] += f"/{m.group(1)}r"
print("  bf16 dK/dV + fwd stack bytes/regs: " + ", ".join(sorted(out)))
PY
  ( cd tests/gpu && env $envs timeout $(( $(left) - 5 )) python3 bench.py --lib ../../$dir/lib/libflashattn.so --only-ours \
      ${bargs:---dims 128 --seqlens 2048,8192} ) 2>&1 | grep -E "^\|" | tee -a "$OUT/tune.log"
done
