"""SNAP edge-list reader on good and bad files."""

from __future__ import annotations

import gzip

import networkx as nx
import pytest

from alchemist.errors import EdgeListFormatError
from alchemist.graph import read_edge_list, read_graph


def test_facebook_sizes_match_networkx(shared_data):
    path = shared_data("snap_graphs/facebook_combined.txt")
    g = read_graph(path)
    G = nx.read_edgelist(path, nodetype=str)
    assert (g.number_of_nodes(), g.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges()) == (4039, 88234)
    assert sorted(g.degree().tolist()) == sorted(d for _, d in G.degree())


def test_gz_directed_with_comments(shared_data, tmp_path):
    path = tmp_path / "tiny.txt.gz"
    path.write_bytes(gzip.compress(b"# a comment\n1\t2\n2 3\n\n3 1\n"))
    g = read_graph(path, directed=True)
    assert g.directed and g.node_ids == ["1", "2", "3"] and g.number_of_edges() == 3
    assert g.graph_id == "tiny"


def test_third_column_as_timestamp_or_weight(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a b 100\nb c 250\n")
    g = read_graph(path)
    assert g.at(timestamp=150).number_of_edges() == 1
    w = read_graph(path, third="weight")
    assert w.edge_index()[2].tolist() == [100.0, 250.0]


@pytest.mark.parametrize("text, line, words", [
    ("1 2\n3\n", 2, "expected"),
    ("1 2\n3 4 5 6\n", 2, "4 fields"),
    ("1 2 3\n4 5\n", 2, "earlier lines have 3"),
    ("1 2 x\n", 1, "not a finite number"),
    ("# c\n1 2 nan\n", 2, "not a finite number"),
])
def test_malformed_line_is_named(tmp_path, text, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(EdgeListFormatError, match=words) as info:
        read_edge_list(path)
    assert info.value.line == line and f"line {line}" in str(info.value)


def test_missing_empty_and_binary(tmp_path):
    with pytest.raises(EdgeListFormatError, match="no such file"):
        read_edge_list(tmp_path / "absent.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(EdgeListFormatError, match="no edges"):
        read_edge_list(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(EdgeListFormatError, match="UTF-8"):
        read_edge_list(binary)
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(b"1 2\n")[:12])
    with pytest.raises(EdgeListFormatError, match="cannot be read"):
        read_edge_list(broken)


def _tokens(path):
    """Every data line's fields, split by the standard library (the independent reference)."""
    text = (gzip.open(path, "rt") if str(path).endswith(".gz") else open(path, encoding="utf-8")).read()
    return [line.split() for line in text.splitlines() if line.strip() and line.strip()[0] not in "#%"]


@pytest.mark.parametrize("name", ["temporal_graphs/CollegeMsg.txt.gz", "temporal_graphs/dnc-temporalGraph.txt",
                                  "snap_graphs/wiki-Vote.txt", "snap_graphs/facebook_combined.txt"])
def test_fast_reader_equals_the_text_split_by_python(shared_data, name):
    from alchemist.graph import io as graph_io

    path = shared_data(name)
    edges = graph_io._read_delimited(graph_io._read_text(path), str(path))  # the fast path must take these
    assert edges is not None
    rows = _tokens(path)
    assert edges.source.tolist() == [r[0] for r in rows] and edges.target.tolist() == [r[1] for r in rows]
    if len(rows[0]) == 3:
        assert edges.third.tolist() == [float(r[2]) for r in rows]


@pytest.mark.parametrize("content, fast", [
    (b"1\t2\r\n2\t3\r\n", True),                      # CRLF, tabs
    (b"% header\n1 2 5\n\n# note\n2 3 6\n", True),    # comment lines and a blank line
    (b"1 2\n2  3\n", False),                          # two spaces: the general path
    (b"1 2 # inline comment\n2 3\n", False),
    (b"1\t2\n2 3\n", False),                           # mixed separators
    (b" 1 2\n2 3 \n", False),                          # leading / trailing blanks
])
def test_fast_and_general_paths_agree(tmp_path, monkeypatch, content, fast):
    from alchemist.graph import io as graph_io

    path = tmp_path / "e.txt"
    path.write_bytes(content)
    assert (graph_io._read_delimited(graph_io._read_text(path), str(path)) is not None) == fast
    got = read_edge_list(path)
    monkeypatch.setattr(graph_io, "_read_delimited", lambda text, p: None)
    general = read_edge_list(path)
    assert got.source.tolist() == general.source.tolist() and got.target.tolist() == general.target.tolist()
    assert (got.third is None) == (general.third is None)
    if got.third is not None:
        assert got.third.tolist() == general.third.tolist()
    rows = _tokens(path) if b"inline" not in content else [["1", "2"], ["2", "3"]]
    assert got.source.tolist() == [r[0] for r in rows]


def test_fast_path_declines_what_the_general_path_must_report(tmp_path):
    for content, words in ((b"1 2 3\n4 5\n", "line 2"), (b"1 2 x\n", "line 1"), (b"1 2 nan\n", "line 1")):
        path = tmp_path / "bad.txt"
        path.write_bytes(content)
        with pytest.raises(EdgeListFormatError, match=words):
            read_edge_list(path)
