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
