"""Memory and time of reading a graph's events into a polars frame (``Connection.events_frame``).

A temporal edge list is replayed (``--batch 1000``) into a fresh embedded JetStream; then a fresh
child process per measurement connects, reads the graph's events and reports the resident set after
its imports and connection (the baseline, ``VmRSS``), the peak resident set during the read
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``, so the imports' own peak does not
hide it), the wall time of the read, and the frame's own size (``estimated_size``):

- ``scan_events`` handing each event to a function that keeps nothing (the consumer's own memory);
- ``events_frame`` with every column (payload as JSON text);
- ``events_frame`` without the payload column;
- ``events()``: the same events as a list of ``Event`` objects (what the frame avoids keeping).

The quick mode replays CollegeMsg (61,735 events), the full mode sx-mathoverflow (506,550 events), so
the growth per event can be read off the two sizes.
Run: ``python -m benchmarks.bench_event_frames [--full]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "temporal_graphs"
FILES = {"quick": "CollegeMsg.txt.gz", "full": "sx-mathoverflow.txt.gz"}

_READER = r"""
import gc, json, sys, time
from alchemist.cim import connect

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))

url, graph_id, mode, outbox = sys.argv[1:5]
conn = connect(url, outbox=outbox)
conn.last_event(graph_id)  # the connection and its first request up before the baseline
import polars, pyarrow  # noqa: F401  (imported by the read; counted in the baseline)
from alchemist.graph import event_frames  # noqa: F401
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the resident set now (Linux >= 4.0)
    fh.write("5")
base = status("VmRSS")
start = time.perf_counter()
if mode == "scan":
    rows, size = conn.scan_events(graph_id, lambda event: None), None
elif mode == "events":
    result = conn.events(graph_id)
    rows, size = len(result), None
elif mode == "frame":
    result = conn.events_frame(graph_id)
    rows, size = result.height, result.estimated_size()
else:
    result = conn.events_frame(graph_id, columns=[c for c in event_frames.EVENT_FRAME_COLUMNS if c != "payload"])
    rows, size = result.height, result.estimated_size()
seconds = time.perf_counter() - start
peak = status("VmHWM")
conn.close()
print(json.dumps({"rows": rows, "seconds": seconds, "base": base, "peak": peak, "frame_bytes": size}))
"""

MODES = (("scan", "`scan_events(g, visit)`: the consumer alone, nothing kept"), ("frame", "`events_frame(g)`, every column"), ("frame-no-payload", "`events_frame(g, columns=…)`, no payload"),
         ("events", "`events(g)`: a list of Event objects"))


def run(full: bool = False) -> str:
    """Replay the file, then measure each reading mode in its own process; a Markdown section.

    Parameters
    ----------
    full : bool
        sx-mathoverflow (506,550 events) instead of CollegeMsg.

    Returns
    -------
    str
        The section, with the command that measured it.
    """
    from alchemist.cim import EmbeddedServer, connect

    path = DATA / FILES["full" if full else "quick"]
    if not path.exists():
        return f"## Events as a frame\n\nSkipped: {path} is absent on this machine.\n"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(data_dir=Path(tmp) / "js").start()
        try:
            with connect(server.url, outbox=Path(tmp) / "outbox.sqlite") as conn:
                result = conn.replay(path, "g", batch=1000)
                published = result.published
            for mode, label in MODES:
                out = subprocess.run([sys.executable, "-c", _READER, server.url, "g", mode,
                                      str(Path(tmp) / f"{mode}.sqlite")], capture_output=True, text=True, timeout=1800)
                if out.returncode != 0:
                    raise RuntimeError(f"{mode} read failed: {out.stderr[-2000:]}")
                m = json.loads(out.stdout.strip().splitlines()[-1])
                if m["rows"] != published:
                    raise RuntimeError(f"{mode} read {m['rows']} events of {published}")
                rows.append((label, m))
        finally:
            server.stop()
    lines = [f"## Events as a frame ({path.name}: {published:,} events, replayed with --batch 1000)", "",
             "| read | time (s) | events/s | baseline RSS (MB) | peak RSS (MB) | peak − baseline, bytes/event "
             "| frame (MB) | frame bytes/event |", "|---|---|---|---|---|---|---|---|"]
    for label, m in rows:
        grow = (m["peak"] - m["base"]) / m["rows"]
        frame = "—" if m["frame_bytes"] is None else f"{m['frame_bytes'] / 1e6:.0f}"
        per = "—" if m["frame_bytes"] is None else f"{m['frame_bytes'] / m['rows']:.0f}"
        lines.append(f"| {label} | {m['seconds']:.1f} | {m['rows'] / m['seconds']:,.0f} | {m['base'] / 1e6:.0f} "
                     f"| {m['peak'] / 1e6:.0f} | {grow:.0f} | {frame} | {per} |")
    lines += ["", f"Command: `python -m benchmarks.bench_event_frames{' --full' if full else ''}` (each read in a "
              "fresh process; RSS from /proc/self/status: VmRSS before, VmHWM after a reset).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
