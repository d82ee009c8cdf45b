#!/usr/bin/env python3
"""Where each FA3 kernel waits for its P·V, read from `cuobjdump -sass` (no profiler needed).

For every P·V batch of a consumer (the register-A wgmma: `HGMMA/QGMMA ... R<acc>, R<a>, gdesc`, ending
with `gsb0`), follows the instructions after it to the first `WARPGROUP.DEPBAR.LE gsb0, 0x0` and counts
the exponentials (`MUFU.EX2`) issued before that wait, which overlap the P·V, and after it, up to the next
wgmma, which do not: a softmax that overlaps its P·V shows its exponentials before the wait. Also names the
first instruction that writes one of the P·V's A registers and how far after the wait it comes: where
ptxas gives those registers to the softmax, the wait sits right before that write (see
wgmma::retain_operands).

  python3 pv_wait.py build/sass/*.sass
"""
import re
import sys

GMMA = re.compile(r"\b([HQ]GMMA)\.\S+\s+R(\d+),\s*(R(\d+)|gdesc)")
DEST = re.compile(r"^(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)\s+R(\d+)\b")


def functions(text):
    name, body = None, []
    for line in text.splitlines():
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            if name:
                yield name, body
            name, body = m.group(1), []
            continue
        m = re.match(r"\s*/\*[0-9a-f]+\*/\s+(.*?)\s*;", line)
        if m and name:
            body.append(m.group(1))
    if name:
        yield name, body


def pv_sites(body):
    """(index of the batch's last wgmma, set of its A registers) for every register-A batch."""
    sites, regs = [], set()
    for i, ins in enumerate(body):
        m = GMMA.search(ins)
        if not m or m.group(4) is None:
            continue
        a = int(m.group(4))
        regs |= set(range(a, a + 4))
        if "gsb0" in ins:
            sites.append((i, regs))
            regs = set()
    return sites


def analyse(body):
    rows = []
    for end, aregs in pv_sites(body):
        before = after = 0
        first_write, wait_at = None, None
        for j in range(end + 1, len(body)):
            ins = body[j]
            if GMMA.search(ins):
                break
            if "DEPBAR.LE gsb0, 0x0" in ins and wait_at is None:
                wait_at = j
            if "MUFU.EX2" in ins:
                if wait_at is None:
                    before += 1
                else:
                    after += 1
            d = DEST.match(ins)
            if first_write is None and d and int(d.group(2)) in aregs and not d.group(1).startswith("ST"):
                first_write = (j, ins)
        rows.append((end, before, after, wait_at, first_write))
    return rows


def main():
    for path in sys.argv[1:]:
        for name, body in functions(open(path).read()):
            if "fwd_kernel" not in name:
                continue
            rows = analyse(body)
            if not rows:
                continue
            print(f"{path.rsplit('/', 1)[-1]}: {len(rows)} P·V batches")
            for end, before, after, wait_at, fw in rows:
                wait = f"wait {wait_at - end} instructions later" if wait_at else "no wait before the next wgmma"
                reuse = ""
                if fw:
                    reuse = f"; first write to an A register {fw[0] - (wait_at or end)} after the {'wait' if wait_at else 'P·V'}: {fw[1]}"
                print(f"  P·V at {end:5d}: {wait}; MUFU.EX2 before the wait {before:3d}, after {after:3d}{reuse}")

if __name__ == "__main__":
    main()
