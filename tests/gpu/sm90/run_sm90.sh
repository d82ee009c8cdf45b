#!/usr/bin/env bash
# One device call for the Hopper (FA3) forward: build, inspect the sm_90a code, check, sanitize, bench.
#
#   tests/gpu/sm90/run_sm90.sh [all | build | inspect | check | quick | sanitize | bench | profile | variants | ab
#                               | trace | bwd_check | bwd_sanitize | bwd_bench] ...
#
# Phases run in the order given ("all" = build inspect check sanitize bench). Every phase has a time
# limit and "all" skips what no longer fits in BUDGET_S seconds (default 570, under the 600 s a device
# command may take): call again with the skipped phases; the build directory is reused while the
# machine stays warm. Logs go to $OUT (or ./sm90_out); the summary is printed last.
set -u
cd "$(dirname "$0")/../../.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/sm90_out}
mkdir -p "$OUT"
BUILD=${BUILD:-$ROOT/build}
BUDGET_S=${BUDGET_S:-570}
START=$(date +%s)
SUMMARY=()
export FLASHATTN_LIB=$BUILD/lib/libflashattn.so
export PYTHONUNBUFFERED=1

find_tool() {
    command -v "$1" 2>/dev/null && return
    for d in /usr/local/cuda/bin /usr/local/cuda-*/bin /opt/cuda/bin; do
        [ -x "$d/$1" ] && { echo "$d/$1"; return; }
    done
}
NVCC=$(find_tool nvcc)
CUOBJDUMP=$(find_tool cuobjdump)
SANITIZER=$(find_tool compute-sanitizer)
NCU=$(find_tool ncu)

left() { echo $((BUDGET_S - ($(date +%s) - START))); }
note() { SUMMARY+=("$*"); echo "== $*"; }

# run_limited NAME SECONDS LOG cmd...: runs with a time limit, records pass/fail/timeout.
run_limited() {
    local name=$1 limit=$2 log=$3; shift 3
    local l; l=$(left)
    if [ "$l" -lt 20 ]; then note "$name: SKIPPED (budget used; run it in another call)"; return 2; fi
    [ "$limit" -gt "$l" ] && limit=$l
    echo "== $name (limit ${limit}s) -> $log"
    local t0=$(date +%s)
    timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]} dt=$(( $(date +%s) - t0 ))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then note "$name: TIMEOUT after ${dt}s (a hang? see $log)";
    elif [ $rc -ne 0 ]; then note "$name: FAILED rc=$rc in ${dt}s (see $log)";
    else note "$name: ok in ${dt}s"; fi
    return $rc
}

phase_env() {
    {
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
        "$NVCC" --version 2>&1 | tail -2
        python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1
        cmake --version | head -1
    } | tee "$OUT/env.log"
}

phase_build() {
    # -Xptxas=-v for every CUDA file: registers, spills and wgmma serialisation notes of each kernel.
    # BUILD_CMAKE_ARGS adds CMake options (';'-separated), e.g. -DFLASHATTN_SM90=OFF for FA2-only A/B runs;
    # without it FLASHATTN_SM90 is reset to AUTO, since a warm machine's CMake cache keeps the last value.
    local extra=${BUILD_CMAKE_ARGS:--DFLASHATTN_SM90=AUTO}
    run_limited "build" 480 "$OUT/build.log" bash -c "
        cmake -S native -B '$BUILD' -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON \
              -DFLASHATTN_CUDA_ARCHS=90 -DCMAKE_CUDA_FLAGS='-Xptxas=-v' ${extra//;/ } &&
        cmake --build '$BUILD' -j16"
    local rc=$?
    if [ -f "$FLASHATTN_LIB" ] && [ $rc -eq 0 ]; then
        grep -q "sm90a kernels: ON" "$OUT/build.log" || note "build: WARNING: CMake did not enable the sm90a kernels (nvcc < 12.3?)"
    fi
    return $rc
}

# dump_sass BUILD_DIR: cuobjdump -sass of that build's sm90 kernel objects, into BUILD_DIR/sass.
dump_sass() {
    mkdir -p "$1/sass"
    for o in $(find "$1" -path '*flashattn_sm90.dir*' -name 'fwd_*hdim*.cu.o' 2>/dev/null | sort); do
        "$CUOBJDUMP" -sass "$o" > "$1/sass/$(basename "$o" .cu.o).sass" 2>&1
    done
}

# pv_wait_log LABEL SASS_DIR: where each kernel waits for its P·V (pv_wait.py), appended to pv_wait.log.
pv_wait_log() {
    { echo "--- $1: P·V waits ($2) ---"; python3 tests/gpu/sm90/pv_wait.py "$2"/*.sass; } >> "$OUT/pv_wait.log" 2>&1
}

phase_inspect() {
    # Only logs go to $OUT: a device call brings back at most 8 files, and the sanitizer logs must be among them.
    local log=$OUT/inspect.log ptx=$BUILD/ptxas_sm90.log sass_dir=$BUILD/sass
    mkdir -p "$sass_dir"
    # ptxas -v prints the entry name, then its properties and 'Used N registers': keep the FA3 kernels' blocks.
    awk '/Compiling entry function .*fa4sm9010fwd_kernel/ {on=1; print; next}
         on && /ptxas info|ptxas warning|bytes stack|spill/ {print; if ($0 ~ /Used [0-9]+ registers/) on=0; next}
         {on=0}' "$OUT/build.log" > "$ptx"
    {
        echo "--- ptxas: FA3 kernels (registers / spills / stack) ---"
        cat "$ptx"
        echo "--- ptxas performance notes and warnings (wgmma serialisation, setmaxnreg, spills) ---"
        grep -n -E "Potential Performance Loss|ptxas warning|[1-9][0-9]* bytes spill" "$OUT/build.log" | head -60
        echo "--- SASS of the sm90 objects ---"
        for o in $(find "$BUILD" -path '*flashattn_sm90.dir*' -name 'fwd_*hdim*.cu.o' 2>/dev/null | sort); do
            sass=$sass_dir/$(basename "$o" .cu.o).sass
            "$CUOBJDUMP" -sass "$o" > "$sass" 2>&1
            printf '%-28s HGMMA %5s  QGMMA %5s  UTMALDG %3s  local(STL/LDL) %3s  SYNCS %4s  USETMAXREG %2s\n' "$(basename "$o")" \
                "$(grep -c HGMMA "$sass")" "$(grep -c QGMMA "$sass")" "$(grep -c UTMALDG "$sass")" "$(grep -cE '\b(STL|LDL)\b' "$sass")" \
                "$(grep -c SYNCS "$sass")" "$(grep -c USETMAXREG "$sass")"
        done
    } 2>&1 | tee "$log"
    pv_wait_log default "$sass_dir"
    local kernels regs spills perf local_mem
    kernels=$(grep -c "Compiling entry function" "$ptx")
    regs=$(grep -cE "Used (168|128) registers" "$ptx")
    spills=$(grep -cE "[1-9][0-9]* bytes spill" "$ptx")
    perf=$(grep -c "Potential Performance Loss" "$OUT/build.log")
    local_mem=$(awk '/HGMMA/ && $9 > 0 {n++} END {print n+0}' "$log")
    note "inspect: $kernels FA3 kernels; $regs use 168 or 128 registers (setmaxnreg needs the full 384x168 / 512x128 pool); $spills spill; $perf ptxas 'Potential Performance Loss' notes; $local_mem objects with local memory (see $log)"
}

phase_check() {
    run_limited "check (full)" 420 "$OUT/check.log" python3 tests/gpu/sm90/check_sm90.py
    # Not a pipe into the loop: a pipeline's loop runs in a subshell, and its notes would not reach SUMMARY.
    while read -r l; do note "  $l"; done < <(grep -h "^SUMMARY\|^HANG" "$OUT/check.log")
}

phase_quick() {
    run_limited "check (quick)" 240 "$OUT/check_quick.log" python3 tests/gpu/sm90/check_sm90.py --quick
    while read -r l; do note "  $l"; done < <(grep -h "^SUMMARY\|^HANG" "$OUT/check_quick.log")
}

phase_sanitize() {
    if [ -z "$SANITIZER" ]; then note "sanitize: SKIPPED (no compute-sanitizer found)"; return; fi
    for tool in memcheck racecheck synccheck; do
        run_limited "sanitize $tool" 150 "$OUT/sanitize_$tool.log" \
            "$SANITIZER" --tool "$tool" --error-exitcode 3 --kernel-name kns=fwd_kernel --print-limit 20 \
            python3 tests/gpu/sm90/check_sm90.py --tiny --hang-timeout 120
        while read -r l; do note "  $tool: $l"; done < <(grep -h "ERROR SUMMARY\|RACECHECK SUMMARY\|^SUMMARY\|^HANG" "$OUT/sanitize_$tool.log")
    done
}

phase_bench() {
    run_limited "bench" 300 "$OUT/bench.log" python3 tests/gpu/sm90/bench_sm90.py
}

# The FA3 backward: its kernels' ptxas lines, the FA2 correctness grid with every backward forced onto it
# (BWD_CHECK_ARGS, default --quick), compute-sanitizer on the grid's 113 x 203 cases and the variable-length
# ones, and bench_bwd.py (BWD_BENCH_ARGS).
phase_bwd_check() {
    { echo "--- ptxas: FA3 backward kernels ---"
      awk '/Compiling entry function .*fa4sm9010bwd_kernel/ {on=1; print; next}
           on && /ptxas info|ptxas warning|bytes stack|spill/ {print; if ($0 ~ /Used [0-9]+ registers/) on=0; next}
           {on=0}' "$OUT/build.log"; } > "$OUT/bwd_inspect.log"
    note "bwd inspect: $(grep -c 'Compiling entry' "$OUT/bwd_inspect.log") kernels, $(grep -cE '[1-9][0-9]* bytes spill' "$OUT/bwd_inspect.log") spill"
    # Twice: the default choice of head_dim-128 kernel (the dQ split below 8192 query rows), then the other one.
    run_limited "bwd check" 300 "$OUT/bwd_check.log" python3 tests/gpu/check.py --bwd-backend sm90 ${BWD_CHECK_ARGS:---quick}
    FLASHATTN_SM90_BWD_DQ=own run_limited "bwd check (own dQ)" 300 "$OUT/bwd_check_own.log" \
        python3 tests/gpu/check.py --bwd-backend sm90 ${BWD_CHECK_ARGS:---quick}
    while read -r l; do note "  $l"; done < <(grep -h "^checks:" "$OUT/bwd_check.log" "$OUT/bwd_check_own.log")
}

phase_bwd_sanitize() {
    if [ -z "$SANITIZER" ]; then note "bwd sanitize: SKIPPED (no compute-sanitizer found)"; return; fi
    for tool in memcheck racecheck synccheck; do
        for dq in split own; do
            # The split runs the fixed-length cases, the other scheme the variable-length ones. Every kernel is
            # instrumented: with --kernel-name kns=bwd_kernel, racecheck stopped on calls of one or two query blocks
            # per CTA (e.g. 1 x 64 x 64) with "Internal Sanitizer Error: failed to handle a hardware exception",
            # which the same calls do not raise when every kernel is instrumented (0 hazards).
            local filter="113 203"; [ $dq = own ] && filter=varlen
            FLASHATTN_SM90_BWD_DQ=$dq run_limited "bwd sanitize $tool ($dq dQ)" 150 "$OUT/bwd_sanitize_${tool}_$dq.log" \
                "$SANITIZER" --tool "$tool" --error-exitcode 3 --print-limit 20 \
                python3 tests/gpu/check.py --bwd-backend sm90 --quick --filter "$filter"
            while read -r l; do note "  $tool ($dq dQ): $l"; done < <(grep -h "ERROR SUMMARY\|RACECHECK SUMMARY\|^checks:" "$OUT/bwd_sanitize_${tool}_$dq.log")
        done
    done
}

phase_bwd_bench() {
    run_limited "bwd bench" 400 "$OUT/bwd_bench.log" python3 tests/gpu/sm90/bench_bwd.py ${BWD_BENCH_ARGS:-}
}

# Nsight Compute, one launch per case of prof_sm90.py (PROF_CASES, space-separated): the details page of
# every case, and the per-instruction SASS page (stall samples) of our own kernels, packed into one file.
phase_profile() {
    if [ -z "$NCU" ]; then note "profile: SKIPPED (no ncu found)"; return; fi
    local dir=$BUILD/prof
    rm -rf "$dir"; mkdir -p "$dir"
    for c in ${PROF_CASES:-fa3_d128_s8k cudnn_d128_s8k fa3e4m3_d256_s4k}; do
        run_limited "profile $c" 150 "$dir/$c.log" "$NCU" --profile-from-start off --clock-control none \
            --set full --import-source yes -f -o "$dir/$c" python3 tests/gpu/sm90/prof_sm90.py "$c" || continue
        "$NCU" -i "$dir/$c.ncu-rep" --page details > "$dir/$c.details.txt" 2>&1
        case $c in fa*|flash*) "$NCU" -i "$dir/$c.ncu-rep" --page source --csv --print-source sass > "$dir/$c.sass.csv" 2>&1 ;; esac
    done
    tar czf "$OUT/prof.tar.gz" -C "$dir" --exclude='*.ncu-rep' . && note "profile: $(ls "$dir" | wc -l) files in prof.tar.gz"
}

# Variant builds timed against the default build in the same call. VARIANTS holds space-separated
# "name|cmake-cuda-flags;...|source-dir" specs (flags separated by ';'; source-dir defaults to native/,
# e.g. an export of an older commit's native/ for a baseline); BENCH_ARGS picks the shapes. Each
# variant's fa3 rows are printed with its name as prefix, after the default build's full rows.
phase_variants() {
    local args=${BENCH_ARGS:---hdims 128,256 --seqlens 2048,8192}
    run_limited "bench default" 200 "$OUT/variants.log" python3 tests/gpu/sm90/bench_sm90.py $args
    for spec in ${VARIANTS:-}; do
        IFS='|' read -r name flags src <<< "$spec"
        local dir=$BUILD-$name
        run_limited "build $name" 200 "$OUT/build_$name.log" bash -c "
            cmake -S '${src:-native}' -B '$dir' -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON \
                  -DFLASHATTN_CUDA_ARCHS=90 -DCMAKE_CUDA_FLAGS='${flags//;/ }' > /dev/null && cmake --build '$dir' -j16 > /dev/null" || continue
        run_limited "bench $name" 150 "$OUT/variant_$name.log" python3 tests/gpu/sm90/bench_sm90.py $args \
            --lib "$dir/lib/libflashattn.so" --impls "fa3 bf16,fa3 e4m3" --tag "$name "
        grep -h "^SUMMARY" -A100 "$OUT/variant_$name.log" >> "$OUT/variants.log"
    done
}

# A trace build (-DFA_SM90_TRACE: clock stamps per tile stage in the LSE buffer, native/src/cuda/sm90/trace.cuh)
# and tile_trace.py's mean cycles per stage; TRACE_CASES picks the shapes (e.g. d64_s512,d128_s512_causal).
phase_trace() {
    local dir=$BUILD-trace
    run_limited "build trace" 200 "$OUT/build_trace.log" bash -c "
        cmake -S native -B '$dir' -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON \
              -DFLASHATTN_CUDA_ARCHS=90 -DCMAKE_CUDA_FLAGS=-DFA_SM90_TRACE > /dev/null && cmake --build '$dir' -j16" \
        || return
    run_limited "trace" 200 "$OUT/trace.log" python3 tests/gpu/sm90/tile_trace.py --lib "$dir/lib/libflashattn.so" \
        ${TRACE_CASES:+--cases "$TRACE_CASES"}
}

# Interleaved A/B of the default build against variant builds (VARIANTS as above) with ab_sm90.py;
# AB_ARGS picks the shapes and dtypes. AB_ENVS adds the default build under environment settings
# (fwd_knobs.h), space-separated "name=VAR=VALUE[&VAR=VALUE]" specs.
phase_ab() {
    local libs="default=$FLASHATTN_LIB"
    for spec in ${AB_ENVS:-}; do libs+=",${spec%%=*}=$FLASHATTN_LIB@${spec#*=}"; done
    for spec in ${VARIANTS:-}; do
        # A fourth field adds CMake options (';'-separated), e.g. -DFLASHATTN_SM90=OFF for an FA2-only build;
        # a fifth, environment settings for that build's timings (VAR=VALUE[&VAR=VALUE]).
        IFS='|' read -r name flags src cmake_args envs <<< "$spec"
        local dir=$BUILD-$name
        run_limited "build $name" 200 "$OUT/build_$name.log" bash -c "
            cmake -S '${src:-native}' -B '$dir' -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHATTN_CUDA=ON \
                  -DFLASHATTN_CUDA_ARCHS=90 -DCMAKE_CUDA_FLAGS='${flags//;/ } -Xptxas=-v' ${cmake_args//;/ } &&
            cmake --build '$dir' -j16" \
            && libs+=",$name=$dir/lib/libflashattn.so${envs:+@$envs}" && dump_sass "$dir" && pv_wait_log "$name" "$dir/sass"
    done
    # AB_TOOL=bench_bwd times the builds' FA3 backward instead (bench_bwd.py).
    run_limited "ab" 400 "$OUT/ab.log" python3 "tests/gpu/sm90/${AB_TOOL:-ab_sm90}.py" --libs "$libs" ${AB_ARGS:-}
}

phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(all)
phase_env
for ph in "${phases[@]}"; do
    case $ph in
        all) phase_build && { phase_inspect; phase_check; phase_sanitize; phase_bench; } ;;
        build) phase_build ;;
        inspect) phase_inspect ;;
        check) phase_check ;;
        quick) phase_quick ;;
        sanitize) phase_sanitize ;;
        bench) phase_bench ;;
        profile) phase_profile ;;
        variants) phase_variants ;;
        ab) phase_ab ;;
        trace) phase_trace ;;
        bwd_check) phase_bwd_check ;;
        bwd_sanitize) phase_bwd_sanitize ;;
        bwd_bench) phase_bwd_bench ;;
        *) echo "unknown phase $ph"; exit 2 ;;
    esac
done

echo
echo "================ SUMMARY (run_sm90.sh, $(( $(date +%s) - START ))s) ================"
for l in "${SUMMARY[@]}"; do echo "$l"; done
[ -f "$OUT/bench.log" ] && sed -n '/^SUMMARY bench_sm90/,$p' "$OUT/bench.log"
[ -f "$OUT/ab.log" ] && sed -n '/^SUMMARY \(ab_sm90\|bench_bwd\)/,$p' "$OUT/ab.log"
[ -f "$OUT/trace.log" ] && cat "$OUT/trace.log"
[ -f "$OUT/bwd_bench.log" ] && sed -n '/^SUMMARY bench_bwd/,$p' "$OUT/bwd_bench.log"
