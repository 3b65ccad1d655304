"""Readers and writers: real files from ../shared/data, round trips, and malformed files."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl
import pytest

from alchemist.errors import GraphFormatError, NodeNotFoundError
from alchemist.graph import Graph, from_frames, read_arrows, read_graph, write_parquet

ARROWS = ["sample_graph", "cim", "cim_leaf", "cim_tools", "domain_model", "events", "yubikey_graph"]


@pytest.mark.parametrize("name", ARROWS)
def test_arrows_models_match_the_json(shared_data, name):
    path = shared_data(f"cim_fixtures/arrows_models/{name}.json")
    data = json.loads(path.read_text())
    g = read_graph(path)
    assert g.number_of_nodes() == len(data["nodes"]) and g.number_of_edges() == len(data["relationships"])
    n0 = data["nodes"][0]
    row = g.node_row(n0["id"])
    assert np.allclose(g.positions[row], [n0["position"]["x"], n0["position"]["y"]], rtol=1e-6)  # float32
    assert g.labels[row] == (n0["labels"][0] if n0["labels"] else "")
    r0 = data["relationships"][0]
    assert g.edge(r0["id"])["relationship"] == r0["type"]
    assert g.edge(r0["id"])["source"] == r0["fromId"]


def test_arrows_round_trip(shared_data, tmp_path):
    g = read_graph(shared_data("cim_fixtures/arrows_models/domain_model.json"))
    g.write(tmp_path / "out.arrows.json")
    h = read_arrows(tmp_path / "out.arrows.json", directed=False)
    assert h.node_ids == g.node_ids and h.edge_ids == g.edge_ids
    assert np.allclose(h.positions, g.positions)
    assert h.nodes.drop("first_seen").to_dicts() == g.nodes.drop("first_seen").to_dicts()


def test_original_app_export(shared_data):
    path = shared_data("cim_fixtures/alchemist-examples-exported_graph.json")
    data = json.loads(path.read_text())
    g = read_graph(path)
    assert (g.number_of_nodes(), g.number_of_edges()) == (len(data["nodes"]), len(data["edges"]))
    assert g.node(data["nodes"][0]["id"])["caption"] == data["nodes"][0]["content"]["caption"]


@pytest.mark.parametrize("name", ["karate_club", "les_miserables", "florentine_families", "davis_southern_women"])
def test_gml_matches_networkx(shared_data, name):
    path = shared_data(f"networkx_builtin_graphs/{name}.gml")
    G = nx.read_gml(path)
    g = read_graph(path)
    assert (g.number_of_nodes(), g.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges())
    assert g.degree().tolist() == [G.degree(n) for n in g.node_ids]


@pytest.mark.parametrize("ext", ["graphml", "gexf", "gml", "json", "parquet", "txt.gz"])
def test_round_trip_keeps_structure_weights_and_properties(shared_data, tmp_path, ext):
    g = read_graph(shared_data("networkx_builtin_graphs/karate_club.gml"))
    path = tmp_path / f"karate.{ext}"
    g.write(path)
    h = read_graph(path, third="weight") if ext == "txt.gz" else read_graph(path)
    assert h.node_ids == g.node_ids or set(h.node_ids) == set(g.node_ids)
    ga, ha = g.to_networkx(), h.to_networkx()
    assert {frozenset(e) for e in ga.edges} == {frozenset(e) for e in ha.edges}
    for u, v, d in ga.edges(data=True):
        assert ha[u][v]["weight"] == pytest.approx(d["weight"])
    if ext != "txt.gz":
        assert [h.node(n)["club"] for n in g.node_ids] == [g.node(n)["club"] for n in g.node_ids]


def test_parquet_keeps_direction_positions_and_typed_columns(tmp_path):
    g = Graph.from_edges([("a", "b", 2.0), ("b", "c", 3.0)], directed=True)
    g.positions = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.float32)
    write_parquet(g, tmp_path / "g")
    h = read_graph(tmp_path / "g")
    assert h.directed and h.edge_ids == ["e0", "e1"] and h.positions.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert h.edges["weight"].to_list() == [2.0, 3.0]


def test_frames_in_and_out_pandas_and_polars():
    nodes = pd.DataFrame({"id": ["a", "b", "c", "iso"], "label": ["x", "y", "x", "z"], "age": [1, 2, 3, 4]})
    edges = pl.DataFrame({"source": ["a", "b"], "target": ["b", "c"], "weight": [0.5, 1.5], "kind": ["p", "q"]})
    g = from_frames(nodes, edges)
    assert g.number_of_nodes() == 4 and g.degree().tolist() == [1, 2, 1, 0]
    assert g.nodes["age"].dtype == pl.Int64 and g.edges["kind"].to_list() == ["p", "q"]
    n_pd, e_pd = g.to_pandas()
    assert isinstance(n_pd, pd.DataFrame) and list(e_pd["weight"]) == [0.5, 1.5]
    with pytest.raises(NodeNotFoundError, match="'ghost'"):
        from_frames(nodes, pd.DataFrame({"source": ["a"], "target": ["ghost"]}))
    with pytest.raises(GraphFormatError, match="'src'"):
        from_frames(None, pd.DataFrame({"a": [1]}), source="src")


def test_bad_files_name_the_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [\n {"id": 1},\n oops]}')
    with pytest.raises(GraphFormatError, match="line 3") as info:
        read_graph(bad)
    assert info.value.line == 3
    with pytest.raises(GraphFormatError, match="no such file"):
        read_graph(tmp_path / "absent.graphml")
    xml = tmp_path / "bad.graphml"
    xml.write_text("<graphml><graph>\n<node id='a'>\n</graphml>")
    with pytest.raises(GraphFormatError, match="bad.graphml"):
        read_graph(xml)
    dangling = tmp_path / "dangling.json"
    dangling.write_text(json.dumps({"nodes": [{"id": "a"}], "relationships": [{"id": "r", "fromId": "a", "toId": "zz"}]}))
    with pytest.raises(GraphFormatError, match="'zz'"):
        read_graph(dangling)


def test_repr_html_summarises(shared_data):
    g = read_graph(shared_data("cim_fixtures/arrows_models/domain_model.json"))
    html = g._repr_html_()
    assert f"{g.number_of_nodes():,}" in html and "relationships" in html and "caption: str" in html
