"""Run every benchmark side by side with its peers and write benchmarks/RESULTS.md.

Each ``benchmarks/bench_<topic>.py`` defines ``run(full: bool = False) -> str`` returning a
Markdown section (tables of alchemist vs peers, with ratios). ``python benchmarks/run.py``
runs them all in one process on this machine and writes the file; ``--only layout games`` runs
a subset; ``--full`` uses the full workloads of DESIGN.md §6 instead of the quick ones.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _machine() -> str:
    from alchemist.backend import gpu_available

    gpu = "none"
    if gpu_available():
        import cupy

        gpu = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu}; GPU: {gpu}; Python {platform.python_version()}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="topics to run (file names bench_<topic>.py)")
    parser.add_argument("--full", action="store_true", help="full workloads (slow)")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    topics = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    if args.only:
        topics = [t for t in topics if t in args.only]
    sections = [
        "# Benchmark results\n",
        f"Written by `make bench` (`python benchmarks/run.py{' --full' if args.full else ''}`) on "
        f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC}.\n\nMachine: {_machine()}.\n\n"
        "Ratios matter more than absolute times on shared machines; every row of a table was "
        "measured in this same run.\n",
    ]
    for topic in topics:
        print(f"== {topic}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench_{topic}")
            sections.append(module.run(full=args.full))
        except Exception:
            sections.append(f"## {topic}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```\n")
            traceback.print_exc()
        print(f"   {time.perf_counter() - start:.1f} s", flush=True)
    Path(args.output).write_text("\n".join(sections))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
