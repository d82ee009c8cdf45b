"""Where a kernel's warps wait, from the per-instruction SASS page of an Nsight Compute report (the
`*.sass.csv` files of `run_sm90.sh profile`): stall reasons over the whole kernel, samples per opcode, and
the hottest instructions with their reasons and a few instructions of context before each.

  python3 stall_stats.py CASE.sass.csv [--top 12] [--context 4]

A stall is charged to the instruction that could not issue: "barrier" on the instruction after a
`BAR.SYNC` (a named-barrier turn), "long_sb" on the branch of an mbarrier try-wait loop, and so on.
"""
import argparse
import collections
import csv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--context", type=int, default=4)
    args = ap.parse_args()
    rows = list(csv.reader(open(args.csv)))
    header_at = next(i for i, r in enumerate(rows) if "Source" in r)
    hdr, data = rows[header_at], [r for r in rows[header_at + 1:] if len(r) == len(rows[header_at])]
    src, samples, execd = hdr.index("Source"), hdr.index("Warp Stall Sampling (All Samples)"), hdr.index(
        "Instructions Executed")
    reasons = [j for j, h in enumerate(hdr) if h.startswith("stall_") and "Not Issued" not in h]
    num = lambda v: int(v) if v.isdigit() else 0
    total = sum(num(r[samples]) for r in data) or 1

    by_reason = collections.Counter({hdr[j][6:]: sum(num(r[j]) for r in data) for j in reasons})
    reason_total = sum(by_reason.values()) or 1
    print(f"{len(data)} instructions, {total} samples")
    print("stall reasons: " + ", ".join(f"{k} {100 * v / reason_total:.1f}%" for k, v in by_reason.most_common(10)))

    by_op = collections.Counter()
    for r in data:
        words = [w for w in r[src].split() if not w.startswith("@")]
        by_op[words[0].split(".")[0] if words else "?"] += num(r[samples])
    print("samples by opcode: " + ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in by_op.most_common(14)))

    order = sorted(range(len(data)), key=lambda i: -num(data[i][samples]))[:args.top]
    for i in order:
        r = data[i]
        why = ", ".join(f"{hdr[j][6:]} {r[j]}" for j in reasons if num(r[j]) > 0)
        print(f"\n{100 * num(r[samples]) / total:5.1f}%  {r[0][-6:]}  {r[src].strip()[:80]}  (executed {r[execd]}; {why})")
        for c in data[max(0, i - args.context):i]:
            print(f"        {c[0][-6:]}  {num(c[samples]):6d}  {c[src].strip()[:80]}")


if __name__ == "__main__":
    main()
