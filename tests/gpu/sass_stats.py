"""Instruction mix and order of one kernel's SASS in a built library (cuobjdump), to see where ptxas
placed the loads, mma and REDs of a variant without a profiler:

  python3 sass_stats.py LIB.so 'bwd_dkdv_kernelI13__nv_bfloat16Li256'   # mangled-name substring
Prints the opcode counts and the opcode sequence with runs collapsed (HMMAx8 = 8 in a row).
"""
import re
import subprocess
import sys


def main(lib, pat):
    out = subprocess.run(["cuobjdump", "-sass", lib], capture_output=True, text=True).stdout
    for f in re.split(r"\n\s+Function : ", out)[1:]:
        name = f.split("\n")[0].strip()
        if pat not in name:
            continue
        ops = []
        for text in re.findall(r"/\*[0-9a-f]{4,}\*/\s+([^;]*);", f):
            t = text.split()
            op = t[1] if t[0].startswith("@") else t[0]
            ops.append(op.split(".")[0])
        counts = {}
        for o in ops:
            counts[o] = counts.get(o, 0) + 1
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:12]
        print(f"{name}\n  {len(ops)} instructions; " + ", ".join(f"{k} {v}" for k, v in top))
        seq, prev, n = [], None, 0
        for o in ops + [None]:
            if o == prev:
                n += 1
                continue
            if prev is not None:
                seq.append(prev + (f"x{n}" if n > 1 else ""))
            prev, n = o, 1
        keep = {"HMMA", "LDSM", "REDG", "RED", "LDGSTS", "BAR", "LDS", "STS", "MUFU", "BRA", "DEPBAR", "LDGDEPBAR"}
        print("  " + " ".join(s for s in seq if s.split("x")[0] in keep))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
