"""The main job end to end: a real nats-server, the real CollegeMsg sample, the report notebook."""

import gzip
import io
import json
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl
import pytest
from PIL import Image

from alchemist import Graph
from alchemist.demo import default_source, run_demo
from alchemist.reporting import community_picture, messages_per_day, node_analytics


def _assert_framed(png, background):
    """Everything drawn lies inside the picture and is centred: the margins left and right (top
    and bottom) agree within 3 pixels, and the tighter pair is small (framed to fit)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    drawn = np.abs(rgb - np.array(background)).sum(axis=2) > 30
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    left, right = cols[0], rgb.shape[1] - 1 - cols[-1]
    top, bottom = rows[0], rgb.shape[0] - 1 - rows[-1]
    assert abs(left - right) <= 3 and abs(top - bottom) <= 3, (left, right, top, bottom)
    assert min(left, top) <= 0.05 * min(rgb.shape[:2]), (left, top)


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
    _assert_framed(png, background=(255, 255, 255))
    html = (out / "report.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    # whole numbers as people write them, no float noise, no prompts, no code
    assert "59,835" in text and "1,899" in text and f"{metrics['events_total']:,}" in text
    assert not re.search(r"\d\.000000", text) and str(metrics["events_total"]) not in text
    assert 'class="jp-OutputPrompt' not in text and 'class="jp-InputPrompt' not in text
    assert 'class="jp-InputArea-editor' not in text and 'class="highlight' not in text
    assert "data:image/png;base64" in html and "application/vnd.jupyter.widget-view+json" not in html
    assert text.index("Central people") < text.index("Appendix") < text.index("Where the time went")
    # the notebook's independent check came out true for both rows
    executed = json.loads((out / "report.ipynb").read_text())
    check = [o for c in executed["cells"] for o in c.get("outputs", []) if "from the file" in json.dumps(o)]
    assert check and ">NO<" not in json.dumps(check) and json.dumps(check).count(">yes<") == 2

    # the analytics against NetworkX on the graph read from the file with pandas
    raw = pd.read_csv(default_source(), sep=r"\s+", comment="#", header=None, names=["s", "t", "time"], dtype=str)
    nodes = pl.read_parquet(out / "nodes.parquet")
    directed = nx.DiGraph()
    for (s, t), n in raw.groupby(["s", "t"]).size().items():
        directed.add_edge(s, t, weight=float(n))
    expected = nx.pagerank(directed, weight="weight")  # the same stopping rule (L1 change < n * 1e-6)
    ours = dict(zip(nodes["id"], nodes["pagerank"]))
    assert max(abs(ours[k] - expected[k]) for k in expected) < 1e-12
    assert sorted(ours, key=ours.get, reverse=True)[:10] == sorted(expected, key=expected.get, reverse=True)[:10]
    undirected = directed.to_undirected(as_view=False)
    for u, v in undirected.edges:  # both directions' messages
        undirected[u][v]["weight"] = directed.get_edge_data(u, v, {"weight": 0})["weight"] + \
            directed.get_edge_data(v, u, {"weight": 0})["weight"]
    parts = [set(g["id"]) for _, g in nodes.group_by("community")]
    assert metrics["modularity"] == pytest.approx(nx.community.modularity(undirected, parts, weight="weight"), abs=1e-9)
    assert dict(zip(nodes["id"], nodes["degree"])) == dict(undirected.degree())
    assert metrics["components"] == nx.number_connected_components(undirected)
    assert metrics["largest_component_nodes"] == max(map(len, nx.connected_components(undirected)))
    days = pd.to_datetime(raw["time"].astype("int64"), unit="s").dt.floor("D").value_counts()
    daily = pl.read_csv(out / "messages_per_day.csv", try_parse_dates=True)
    assert daily["messages"].sum() == lines
    assert {pd.Timestamp(d): n for d, n in daily.iter_rows() if n} == days.to_dict()

    # a re-run publishes nothing twice: the stream already holds every event
    again = run_demo(output=str(out), iterations=5, report=False, echo=lambda *a, **k: None)
    assert again["events_published"] == 0
    assert again["events_already_on_stream"] == metrics["events_total"]
    assert again["edges"] == lines and again["events_applied"] == metrics["events_total"]


def test_node_analytics_against_networkx():
    G = nx.les_miserables_graph()  # weighted, undirected co-occurrences of 77 characters
    edges = [(u, v) for u, v, w in G.edges(data="weight") for _ in range(int(w))]  # one edge per co-occurrence
    g = Graph.from_edges(edges, directed=True)
    table = node_analytics(g)
    ids = table["id"].to_list()
    D = nx.MultiDiGraph(edges)
    assert table["sent"].to_list() == [D.out_degree(n) for n in ids]
    assert table["received"].to_list() == [D.in_degree(n) for n in ids]
    assert table["degree"].to_list() == [G.degree(n) for n in ids]
    simple = nx.DiGraph(edges)
    expected = nx.betweenness_centrality(simple)
    assert np.allclose(table["betweenness"].to_numpy(), [expected[n] for n in ids], atol=1e-9)
    weighted = nx.DiGraph()
    weighted.add_weighted_edges_from((u, v, G[u][v]["weight"]) for u, v in simple.edges)
    pr = nx.pagerank(weighted, tol=1e-10)
    assert np.allclose(table["pagerank"].to_numpy(), [pr[n] for n in ids], atol=1e-5)
    communities = table["community"].to_numpy()
    sizes = np.bincount(communities)
    assert (np.diff(sizes) <= 0).all()  # numbered by decreasing size


def test_messages_per_day_counts_every_day():
    t = np.array(["2004-04-15T23:59:59", "2004-04-15T00:00", "2004-04-18T12:00", "NaT"], "datetime64[ms]")
    daily = messages_per_day(t)
    assert [str(d) for d in daily["day"]] == ["2004-04-15", "2004-04-16", "2004-04-17", "2004-04-18"]
    assert daily["messages"].to_list() == [2, 0, 0, 1]


def test_community_picture_frames_far_apart_nodes_and_leaves_out_unframed_ones():
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("x", "y")])
    pos = np.array([[0, 0], [10, 1], [20, 0], [500, 500], [501, 500]], float)  # a, b, c, x, y
    framed = np.array([True, True, True, False, False])
    png, legend = community_picture(g, pos, [0, 0, 1, 2, 2], [1, 2, 1, 1, 1], width=300, height=200,
                                    colored=2, frame=framed)
    _assert_framed(png, background=(255, 255, 255))
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    blue, orange = np.array([0x4E, 0x79, 0xA7]), np.array([0xF2, 0x8E, 0x2B])
    near = lambda colour: np.argwhere(np.abs(rgb - colour).sum(axis=2) < 40)
    assert near(blue)[:, 1].min() < 40 and near(orange)[:, 1].max() > 260  # a on the left, c on the right
    assert legend == [("community 1", "#4e79a7", 2), ("community 2", "#f28e2b", 1),
                      ("1 smaller community", "#b5b5b5", 2)]
    grey = np.abs(rgb - np.array([0xB5, 0xB5, 0xB5])).sum(axis=2) < 20
    assert not grey.any()  # x and y lie outside the frame: not drawn


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
