"""Run every benchmark side by side with its peers and write benchmarks/RESULTS.md.

Each ``benchmarks/bench_<topic>.py`` defines ``run(full: bool = False) -> str`` returning a
Markdown section (tables of alchemist vs peers, with ratios). ``python benchmarks/run.py``
runs them all in one process on this machine and writes the file; ``--only layout games`` runs
a subset and replaces only those sections (by their ``## `` heading) in the existing file, keeping
the others; ``--full`` uses the full workloads of DESIGN.md §6 instead of the quick ones (e.g. the
10M-edge rows of the scale benchmark). ``make bench FULL=1 ONLY="scale widgets"`` passes both.

Exit status 0 only when every section ran; 1 when one failed (its traceback is in the file).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import os
import platform
import re
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
    failed = []
    for topic in topics:
        print(f"== {topic}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench_{topic}")
            section = module.run(full=args.full)
        except Exception:
            section = f"## {topic}\n\nFAILED:\n\n```\n{traceback.format_exc()}\n```\n"
            traceback.print_exc()
        if "\nFAILED:\n" in section:
            failed.append(topic)
        sections.append(section)
        print(f"   {time.perf_counter() - start:.1f} s", flush=True)
    output = Path(args.output)
    if args.only and output.exists():
        text = merge_sections(output.read_text(), sections[2:])
    else:
        text = "\n".join(sections)
    output.write_text(text)
    print(f"wrote {args.output}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def merge_sections(old: str, new: list[str]) -> str:
    """``old`` (a RESULTS.md) with each of its ``## `` sections whose heading one of ``new`` has
    replaced by that one, in place; the new sections it lacks are appended.

    Parameters
    ----------
    old : str
    new : list of str
        Sections, each beginning with its ``## `` heading line.

    Returns
    -------
    str

    Examples
    --------
    >>> merge_sections("# R\\n\\n## A\\n\\n1\\n\\n## B\\n\\n2\\n", ["## B\\n\\n3\\n", "## C\\n\\n4\\n"])
    '# R\\n\\n## A\\n\\n1\\n\\n## B\\n\\n3\\n\\n## C\\n\\n4\\n'
    """
    def heading(section: str) -> str:
        return section.lstrip().split("\n", 1)[0].split(" (")[0].strip()

    parts = re.split(r"(?m)^(?=## )", old)
    replacement = {heading(s): s for s in new}
    out = []
    for part in parts:
        key = heading(part) if part.startswith("## ") else None
        if key in replacement:
            part = replacement.pop(key).rstrip("\n") + "\n\n"
        out.append(part)
    for section in new:
        if heading(section) in replacement:
            out.append(section.rstrip("\n") + "\n")
    text = "".join(out)
    return text.rstrip("\n") + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
