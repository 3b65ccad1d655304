"""The lean edge-list reader (alchemist.graph.edgelist): the same graph as the general reader on
plain files, the general reader's errors on the others, and its memory bound, measured in a fresh
subprocess (a bound on peak resident memory is part of the contract, unlike a timing)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from alchemist.errors import EdgeListFormatError
from alchemist.graph import Graph, read_edge_list, read_graph
from alchemist.graph.edgelist import read_edge_codes

ROOT = Path(__file__).resolve().parents[2]


def _general(path, **kw):
    """The reference: the general reader (whole text, pandas/Arrow) and Graph.from_edge_list."""
    return Graph.from_edge_list(read_edge_list(path), graph_id=path.name.split(".")[0], **kw)


def _same_graph(g, h):
    assert g.node_ids == h.node_ids
    assert g.edge_ids == h.edge_ids
    assert g.edges.equals(h.edges)  # ids, ends, weights, relationships, times
    assert g.version == h.version
    np.testing.assert_array_equal(g.degree(), h.degree())


PLAIN = {
    "snap header, spaces": "# Directed graph: toy.txt\n# Nodes: 4 Edges: 5\n# FromNodeId\tToNodeId\n1 2\n2 3\n3 1\n1 4\n4 4\n",
    "tabs": "# FromNodeId\tToNodeId\nb\ta\na\tc\nc\tb\nb\tb\n",
    "third column": "% comment\n1 2 1082040961\n2 3 1082155839.5\n3 1 -7\n",
    "comments between lines": "1 2\n# a comment of more words than fields\n2 3\n# two\n%x y\n3 4\n",
    "crlf and blank lines": "1 2\r\n\r\n2 3\r\n3 1\r\n",
    "no final newline": "10 20\n20 30",
    "long and unicode ids": "naïve-café-ünïcödé 東京都\n東京都 " + "x" * 300 + "\n" + "x" * 300 + " naïve-café-ünïcödé\n",
}


@pytest.mark.parametrize("text", PLAIN.values(), ids=PLAIN.keys())
@pytest.mark.parametrize("gz", [False, True])
def test_plain_files_give_the_general_readers_graph(tmp_path, text, gz):
    path = tmp_path / ("toy.txt.gz" if gz else "toy.txt")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    assert read_edge_codes(path) is not None  # the lean path takes these files
    for third in ("timestamp", "weight"):
        _same_graph(read_graph(path, directed=True, third=third), _general(path, directed=True, third=third))


def test_many_blocks_match_networkx(tmp_path):
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 3000, 60_000), rng.integers(0, 3000, 60_000)
    path = tmp_path / "many.txt"
    path.write_text("# header\n" + "".join(f"{a}\t{b}\n" for a, b in zip(src, dst)))
    codes = read_edge_codes(path, block_size=1 << 16)  # about ten blocks
    g = read_graph(path, directed=True)
    order = list(dict.fromkeys(str(x) for pair in zip(src, dst) for x in pair))  # s0, t0, s1, ...
    assert codes.names == order and g.node_ids == order
    ref = nx.read_edgelist(path, create_using=nx.MultiDiGraph, nodetype=str)
    assert sorted(g.node_ids) == sorted(ref.nodes)
    rows = g.node_rows(list(ref.nodes))
    assert g.degree()[rows].tolist() == [ref.out_degree(x) for x in ref.nodes]  # directed: out-degree
    e = g.edges
    assert list(zip(e["source"].to_list(), e["target"].to_list())) == [(str(a), str(b)) for a, b in zip(src, dst)]


ODD = {  # files the lean reader leaves to the general one (which reads or rejects them)
    "mixed separators": ("1 2\n2\t3\n", None),
    "comment inside a line": ("1 2\n2 3 # note\n", None),
    "double space": ("1  2\n2 3\n", None),
    "leading space": (" 1 2\n2 3\n", None),
    "four fields": ("1 2\n2 3 4 5\n", 2),
    "bad third field": ("1 2 3\n2 3 x\n", 2),
    "infinite third field": ("1 2 3\n2 3 inf\n", 2),
    "only comments": ("# nothing\n# here\n", None),
}


@pytest.mark.parametrize("text, line", ODD.values(), ids=ODD.keys())
def test_other_files_go_to_the_general_reader(tmp_path, text, line):
    path = tmp_path / "odd.txt"
    path.write_text(text)
    assert read_edge_codes(path) is None
    try:
        expected = _general(path)
    except EdgeListFormatError as exc:
        with pytest.raises(EdgeListFormatError) as got:
            read_graph(path)
        assert str(got.value) == str(exc) and got.value.line == exc.line
        if line is not None:
            assert exc.line == line
        return
    _same_graph(read_graph(path), expected)


def test_invalid_utf8_is_named_by_the_general_reader(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"1 2\n2 \xff\n")
    assert read_edge_codes(path) is None
    with pytest.raises(EdgeListFormatError, match="not UTF-8"):
        read_graph(path)


# ---------------------------------------------------------------------- memory bound
_PEAK_SCRIPT = r"""
import json, pathlib, sys, tempfile
import alchemist.graph as ag

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

with tempfile.TemporaryDirectory() as tmp:  # imports and every kernel (the id table grows: its rehash too) loaded first
    small = pathlib.Path(tmp) / "small.txt"
    small.write_text("".join(f"{i} {i + 1}\n" for i in range(10_000)))
    ag.read_graph(small)
base = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:  # VmHWM (peak RSS) restarts from the current RSS
    f.write("5")
g = ag.read_graph(sys.argv[1], directed=True)
print(json.dumps({"base": base, "peak": status_mb("VmHWM"), "own": g.memory_usage() / 2**20, "m": g.number_of_edges()}))
"""
# VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across
# fork and exec, so under a large pytest process ru_maxrss reports the parent's size.

_ALLOWANCE_MB = 16  # Arrow's and the allocator's fixed working set: a few 1 MB text blocks, their columns,
#                     the id table's first 4 MB, thread stacks; independent of the file's size


def test_peak_memory_of_a_million_edges_is_within_three_times_the_graph(tmp_path):
    rng = np.random.default_rng(0)
    m, n = 1_000_000, 100_000
    path = tmp_path / "million.txt"
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    with open(path, "w") as f:
        f.write("# a synthetic graph\n")
        np.savetxt(f, np.column_stack([src, dst]), fmt="%d", delimiter=" ")
    del src, dst
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(path)], capture_output=True, text=True,
                         env=env, timeout=600, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["m"] == m
    above = r["peak"] - r["base"]
    assert above <= 3 * r["own"] + _ALLOWANCE_MB, f"peak {above:.0f} MB above imports; graph's arrays {r['own']:.0f} MB"
