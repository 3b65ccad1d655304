"""The main job end to end: a real nats-server, the real CollegeMsg sample, the report notebook."""

import gzip
import json
import subprocess
import sys

import pytest

from alchemist.demo import default_source, run_demo


def _independent_counts(path):
    # a plain reading of the file, not alchemist's reader
    lines, nodes = 0, set()
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                src, dst = line.split()[:2]
                lines += 1
                nodes.update((src, dst))
    return lines, len(nodes)


@pytest.mark.integration
def test_demo_replays_through_jetstream_and_writes_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    lines, n_nodes = _independent_counts(default_source())
    assert (lines, n_nodes) == (59835, 1899)  # the figures SNAP publishes for CollegeMsg
    metrics = run_demo(output=str(out), iterations=20, echo=lambda *a, **k: None)
    assert metrics["edges"] == lines
    assert metrics["nodes"] == n_nodes
    assert metrics["events_total"] == 1 + n_nodes + lines  # graph_created + node_added + edge_added
    assert metrics["events_applied"] == metrics["events_total"]
    assert metrics["events_rejected"] == 0
    png = (out / "graph.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert "59,835" in html and "1,899" in html
    assert "data:image/png;base64" in html
    # the notebook's independent check came out true for both rows
    executed = json.loads((out / "report.ipynb").read_text())
    outputs = json.dumps(executed)
    assert "False" not in outputs.split("match", 1)[1][:2000]

    # a re-run publishes nothing twice: the stream already holds every event
    again = run_demo(output=str(out), iterations=5, report=False, echo=lambda *a, **k: None)
    assert again["events_published"] == 0
    assert again["events_already_on_stream"] == metrics["events_total"]
    assert again["edges"] == lines and again["events_applied"] == metrics["events_total"]


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "no such file"),
        ("# only a comment\n\n", "holds no edges"),
        ("1 2 100\n3 4 101\n5\n", "line 3"),
        ("1 2 100\n3 4 x\n", "line 2"),
        ("1 2\n3 4 5 6 7\n", "line 2"),
    ],
)
def test_demo_bad_source_is_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "edges.txt"
    if content is not None:
        path.write_text(content)
    run = subprocess.run([sys.executable, "-m", "alchemist.cli", "demo", "--source", str(path),
                          "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                         env={"ALCHEMIST_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2, run.stderr
    err = run.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert str(path) in err and expected in err
