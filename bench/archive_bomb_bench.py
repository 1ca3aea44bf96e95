#!/usr/bin/env python3
"""Archive exhaustion (issue 13): time and peak memory of `extract()` on hostile archives.

Each case runs in a fresh process, so VmHWM (the process's peak resident memory) is its
own; the figure reported is the growth of that peak during `extract()`.

    python3 bench/archive_bomb_bench.py

Cases: 480 members of exactly 1 MiB of one byte (ratio ~1000:1, the members that sat
exactly on the old ratio threshold); 480 members of 1 MiB at ~90:1 (each under the
ratio limit, stopped by `max_decompressed_bytes`); 60 members of 100 KiB at ~1000:1
(each under `compression_ratio_min_bytes`, stopped by the archive-wide ratio).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = r"""
import io, os, sys, time, zipfile
sys.path.insert(0, "tests")
import docgen
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits

def peak_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM"))

case = sys.argv[1]
if case == "uniform":
    archive = docgen.make_uniform_zip(480, 1024 * 1024)
elif case == "ratio90":
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(480):
            zf.writestr(f"m{i:03}.bin", os.urandom(10240) + bytes(1024 * 1024 - 10240))
    archive = out.getvalue()
else:
    archive = docgen.make_uniform_zip(60, 100 * 1024, b"B")
raw = docgen.make_message("bomb", "see attachment", [("b.zip", archive, "application/zip")])
extract(docgen.make_message("warm", "up", [("w.zip", docgen.make_zip({"a.txt": b"a"}), "application/zip")]),
        ExtractionLimits())
before, started, cpu = peak_mib(), time.monotonic(), time.process_time()
ins = extract(raw, ExtractionLimits())
limits = sorted({p.limit for p in ins.problems if p.limit})
print(f"| {case} | {len(archive) // 1024} KiB | {time.monotonic() - started:.2f} | {time.process_time() - cpu:.2f} "
      f"| +{peak_mib() - before} | {len(ins.parts)} | {', '.join(limits)} |")
"""


def main() -> None:
    print("| case | archive | wall s | CPU s | peak RSS growth MiB | parts | limits hit |")
    print("|---|---|---|---|---|---|---|")
    for case in ("uniform", "ratio90", "small-members"):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", CASE, case], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
