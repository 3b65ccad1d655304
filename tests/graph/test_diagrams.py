"""The original app's diagram formats: Mermaid, DOT, Cypher, Cytoscape.js — its sample files, hand-written
inputs checked against hand counts and peer readers (NetworkX's nx_pydot, json), round
trips, merge policies of import_into, and malformed or hostile input."""

from __future__ import annotations

import json
import re
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from alchemist import Graph, new_event
from alchemist.errors import DuplicateIdError, GraphFormatError
from alchemist.graph import read_graph, write_graph
from alchemist.graph.diagrams import (
    import_into,
    parse_cypher,
    parse_cytoscape,
    parse_dot,
    parse_mermaid,
    read_cypher,
    read_cytoscape,
    read_dot,
    read_mermaid,
    write_cypher,
    write_cytoscape,
    write_dot,
    write_mermaid,
)

SAMPLES = "data/samples"


def sample(repo_root, name):
    return repo_root / SAMPLES / f"alchemist_rs_{name}"


def edge_tuples(g):
    return Counter((g.edge(e)["source"], g.edge(e)["target"]) for e in g.edge_ids)


# ---------------------------------------------------------------------- Mermaid
def test_mermaid_sample_workflow(repo_root):
    path = sample(repo_root, "workflow.mermaid")
    g = read_mermaid(path)
    text = path.read_text()
    # hand count: 12 distinct ids, one link per line after the header
    ids = set(re.findall(r"\b([A-Za-z]\w*)\b(?=\s*(?:\[|\{|-->|$))", text.split("\n", 1)[1], re.M))
    assert g.number_of_nodes() == 12 == len(ids) and set(g.node_ids) == ids
    assert g.number_of_edges() == 13 == text.count("-->")
    assert g.directed
    assert g.node("CheckAuth")["caption"] == "Authenticated?" and g.node("CheckAuth")["shape"] == "rhombus"
    assert g.node("Start")["caption"] == "Start Process" and g.node("Start")["shape"] == "rect"
    rels = {(g.edge(e)["source"], g.edge(e)["target"]): g.edge(e)["relationship"] for e in g.edge_ids}
    assert rels[("CheckAuth", "LoadData")] == "Yes" and rels[("CheckAuth", "Login")] == "No"
    assert rels[("ValidateInput", "ShowError")] == "No" and rels[("Login", "Authenticate")] == ""
    assert g.edge("ShowError-ProcessRequest")["arrow"] == "-->"


def test_mermaid_sample_markdown(repo_root):
    path = sample(repo_root, "keco-loan-process-flow.md")
    g = read_mermaid(path)
    block = path.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    # hand count: 5 actors + 14 flow nodes + n6 + 5 in the subgraph + the subgraph used as a link end
    assert g.number_of_nodes() == 26
    assert g.number_of_edges() == 18 == block.count("-->")
    assert all(n.startswith("sg0_") for n in g.node_ids)  # the original app's block prefix
    members = sorted(n for n in g.node_ids if g.node(n).get("subgraph") == "sg0_Document_Processing")
    assert members == ["sg0_n21", "sg0_n56", "sg0_n58", "sg0_n60", "sg0_n62"]
    sub = g.node("sg0_Document_Processing")
    assert sub["shape"] == "subgraph" and sub["caption"] == "Document Processing" and sub["class"] == "process"
    assert g.node("sg0_A")["class"] == "actor" and g.node("sg0_n25")["class"] == "green"
    assert g.node("sg0_n58")["caption"] == "Entity Documents Collected & Reviewed"
    assert g.node("sg0_A")["section"] == "Process Overview"
    assert g.edge("sg0_n2-sg0_n6")["relationship"] == "Reject/Timeout/Policy Fail"


def test_mermaid_shapes_links_chains_and_groups():
    text = """flowchart LR
    %% every shape
    a1[rect] --- a2(round) --> a3{rhombus} & a4((circle))
    a5([stadium]) -.-> a6[[subroutine]]; a7[(cylinder)] ==> a8{{hexagon}}
    a9>flag] -- says hi --> a10[/para/]
    a11[\\alt\\] -. dotted text .-> a12[/trap\\] == thick text ==> a13[\\trap alt/]
    a14(((double))) ~~~ a15["quoted [text] #quot;x#quot;"]
    a16 --o a17 --x a18 <--> a19 ----> a20
    a21 & a22 -->|"both"| a23
    a1-b --> a2
    """
    d = parse_mermaid(text)
    shapes = {n.node_id: n.properties["shape"] for n in d.nodes.values()}
    assert [shapes[f"a{i}"] for i in range(1, 16)] == [
        "rect", "round", "rhombus", "circle", "stadium", "subroutine", "cylinder", "hexagon", "asymmetric",
        "parallelogram", "parallelogram-alt", "trapezoid", "trapezoid-alt", "double-circle", "rect"]
    assert d.nodes["a15"].properties["caption"] == 'quoted [text] "x"'
    assert d.nodes["a16"].properties["caption"] == "a16" and "a1-b" in d.nodes
    links = [(e.source, e.target, e.properties["arrow"], e.relationship) for e in d.edges]
    assert links == [
        ("a1", "a2", "---", ""), ("a2", "a3", "-->", ""), ("a2", "a4", "-->", ""),
        ("a5", "a6", "-.->", ""), ("a7", "a8", "==>", ""), ("a9", "a10", "-->", "says hi"),
        ("a11", "a12", "-.->", "dotted text"), ("a12", "a13", "==>", "thick text"), ("a14", "a15", "~~~", ""),
        ("a16", "a17", "--o", ""), ("a17", "a18", "--x", ""), ("a18", "a19", "-->", ""), ("a19", "a20", "-->", ""),
        ("a21", "a23", "-->", "both"), ("a22", "a23", "-->", "both"), ("a1-b", "a2", "-->", "")]
    assert d.edges[11].properties.get("bidirectional") is True
    assert len(d.nodes) == 24


def test_mermaid_nested_subgraphs_and_one_line_header():
    d = parse_mermaid("graph TD; A-->B\nsubgraph outer [Outer one]\n  C\n  subgraph inner\n    D --> E\n  end\n  F\nend\nG")
    props = {n.node_id: n.properties for n in d.nodes.values()}
    assert [props[x].get("subgraph") for x in "ABCDEFG"] == [None, None, "outer", "inner", "inner", "outer", None]
    assert props["C"]["subgraph_title"] == "Outer one" and "subgraph_title" not in props["D"]


def test_mermaid_markdown_with_several_blocks(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("# Intro\n\n```mermaid\nsequenceDiagram\n  A->>B: hi\n```\n\n## First\n```mermaid\ngraph LR\n"
                    "  A --> B\n```\n\n```python\nx = 1\n```\n## Second\n~~~mermaid\nflowchart TD\n  A --> C\n~~~\n")
    g = read_mermaid(path)
    assert g.node_ids == ["sg0_A", "sg0_B", "sg1_A", "sg1_C"]
    assert [g.node(n)["section"] for n in g.node_ids] == ["First", "First", "Second", "Second"]
    assert g.number_of_edges() == 2


@pytest.mark.parametrize("text, line, words", [
    ("graph TD\n  A --> B\n  C[unclosed --> D\n", 3, "never closed"),
    ("graph TD\n\n  A -->\n", 3, "no node after it"),
    ("graph TD\n  A --> B\n  end\n", 3, "no open subgraph"),
    ("graph TD\n  subgraph S\n  A --> B\n", 2, "never closed"),
    ("graph TD\n  A[\"open quote] --> B\n", 2, "unterminated string"),
    ("%% comment\nsequenceDiagram\n  A->>B: hi\n", 2, "only Mermaid flowcharts"),
    ("graph TD\n  A -->|text B\n", 2, "unterminated link text"),
    ("graph TD\n  A ?? B\n", 2, "expected a link"),
])
def test_mermaid_malformed_names_the_line(tmp_path, text, line, words):
    path = tmp_path / "bad.mmd"
    path.write_text(text)
    with pytest.raises(GraphFormatError, match=words) as info:
        read_mermaid(path)
    assert info.value.line == line and f"bad.mmd, line {line}:" in str(info.value)


def test_mermaid_in_markdown_error_names_the_file_line(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("# T\n\ntext\n\n```mermaid\ngraph TD\n  A --> B\n  B --> C[oops\n```\n")
    with pytest.raises(GraphFormatError) as info:
        read_mermaid(path)
    assert info.value.line == 8
    path.write_text("# nothing here\n```python\nx=1\n```\n")
    with pytest.raises(GraphFormatError, match="no Mermaid flowchart"):
        read_mermaid(path)


def test_mermaid_hostile_input_is_refused_quickly(tmp_path):
    deep = "graph TD\n" + "subgraph s\n" * 200 + "A\n" + "end\n" * 200
    with pytest.raises(GraphFormatError, match="nested deeper than 64"):
        parse_mermaid(deep)
    path = tmp_path / "big.mmd"
    path.write_text("graph TD\n" + "A --> B\n" * 1000)
    with pytest.raises(GraphFormatError, match="max_bytes"):
        read_mermaid(path, max_bytes=1000)
    long_line = "graph TD\n  A[" + "x" * 200_000 + "\n"  # an unterminated label on a long line
    with pytest.raises(GraphFormatError, match="never closed"):
        parse_mermaid(long_line)


def test_mermaid_round_trip(repo_root, tmp_path):
    g = read_mermaid(sample(repo_root, "workflow.mermaid"))
    h = read_graph(write_graph(g, tmp_path / "out.mmd"))
    assert h.node_ids == g.node_ids and edge_tuples(h) == edge_tuples(g)
    assert [h.node(n) for n in h.node_ids] == [g.node(n) for n in g.node_ids]
    assert [h.edge(e)["relationship"] for e in h.edge_ids] == [g.edge(e)["relationship"] for e in g.edge_ids]
    odd = Graph("odd", directed=True)
    odd.apply([new_event("node_added", "odd", {"node_id": "my node", "properties": {"caption": 'say "hi" #1'}}),
               new_event("node_added", "odd", {"node_id": "end"}),
               new_event("edge_added", "odd", {"edge_id": "x", "source": "my node", "target": "end",
                                               "relationship": "goes to"})])
    back = read_mermaid(write_mermaid(odd, tmp_path / "odd.mmd"))
    assert back.node_ids == ["n0", "n1"] and back.node("n0")["caption"] == 'say "hi" #1'
    assert back.node("n1")["caption"] == "end" and back.edge("n0-n1")["relationship"] == "goes to"


# ---------------------------------------------------------------------- DOT
def test_dot_sample_matches_networkx(repo_root):
    path = sample(repo_root, "network.dot")
    g = read_dot(path)
    ref = nx.nx_pydot.read_dot(path)
    assert g.directed and ref.is_directed()
    assert set(g.node_ids) == set(ref.nodes) and g.number_of_nodes() == 7
    assert edge_tuples(g) == Counter((u, v) for u, v, _ in ref.edges(keys=True)) and g.number_of_edges() == 8
    for node, attrs in ref.nodes(data=True):
        ours = g.node(node)
        for key, value in attrs.items():
            assert ours["caption" if key == "label" else key] == value.strip('"')
        assert ours["shape"] == "box" and ours["style"] == "rounded"  # the node [...] defaults
    miss = g.edge("Cache-Database")
    assert miss["relationship"] == "miss" and miss["style"] == "dashed"
    assert g.node("Client")["caption"] == "Client\\nApplication"  # DOT's escape kept as written


def test_dot_subgraphs_ports_groups_defaults_and_ids():
    text = """strict digraph "My G" {
      node [shape=box]; a [label="A", type=Person, id="n-a"]; a -> b -> c [weight=3];
      a -> {d e}; subgraph cluster_x { label="X"; f; g -> h [label="says \\"hi\\""]; subgraph inner { i } }
      "q r":p1 -> s:p2 [id=E9]; edge [color=red]; b -> c; x [shape=<<b>bold</b>>];
    }"""
    d = parse_dot(text)
    assert d.directed and d.name == "My G"
    assert list(d.nodes) == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "q r", "s", "x"]
    a = d.nodes["a"]
    assert a.label == "Person" and a.properties == {"shape": "box", "caption": "A", "dot_id": "n-a"}
    assert d.nodes["f"].properties["subgraph"] == "cluster_x" and d.nodes["i"].properties["subgraph"] == "inner"
    assert d.nodes["x"].properties["shape"] == "<<b>bold</b>>"
    edges = {e.edge_id: e for e in d.edges}
    assert list(edges) == ["a-b", "b-c", "a-d", "a-e", "g-h", "E9", "b-c-2"]
    assert edges["a-b"].weight == 3.0 and edges["b-c"].weight == 3.0 and edges["a-d"].weight == 1.0
    assert edges["g-h"].relationship == 'says "hi"'
    assert edges["E9"].properties == {"tailport": "p1", "headport": "p2"}
    assert edges["b-c-2"].properties == {"color": "red"} and "color" not in edges["a-b"].properties
    u = parse_dot("graph { a -- b -- c }")
    assert not u.directed and [(e.source, e.target) for e in u.edges] == [("a", "b"), ("b", "c")]


def test_dot_round_trip_read_by_networkx(repo_root, tmp_path):
    g = read_dot(sample(repo_root, "network.dot"))
    g.apply([new_event("node_updated", g.graph_id, {"node_id": "Cache", "label": "Store",
                                                    "properties": {"tags": ["a", "b"], "size": 3}}),
             new_event("edge_updated", g.graph_id, {"edge_id": "AppServer-Cache", "weight": 2.5})])
    path = write_dot(g, tmp_path / "out.dot")
    ref = nx.nx_pydot.read_dot(path)
    assert set(ref.nodes) == set(g.node_ids) and edge_tuples(g) == Counter((u, v) for u, v, _ in ref.edges(keys=True))
    ids = {data["id"].strip('"'): (u, v, data) for u, v, data in ref.edges(data=True)}
    assert set(ids) == set(g.edge_ids) and float(ids["AppServer-Cache"][2]["weight"]) == 2.5
    assert ids["Cache-Database"][2]["label"].strip('"') == "miss"
    assert ref.nodes["Cache"]["type"] == "Store" and json.loads(json.loads(ref.nodes["Cache"]["tags"])) == ["a", "b"]
    h = read_dot(path)
    assert h.node_ids == g.node_ids and h.edge_ids == g.edge_ids
    assert [h.edge(e) for e in h.edge_ids] == [g.edge(e) for e in g.edge_ids]
    assert h.node("Cache")["label"] == "Store" and h.node("Client") == g.node("Client")


@pytest.mark.parametrize("text, line", [
    ("digraph G {\n  a -> b;\n  b -> ;\n}\n", 3),
    ("digraph G {\n  a [label=\"x];\n}\n", 2),
    ("digraph G {\n  a -> b\n", 3),  # the '}' is missing at the end
    ("not a graph at all", 1),
])
def test_dot_malformed_names_the_line(tmp_path, text, line):
    path = tmp_path / "bad.dot"
    path.write_text(text)
    with pytest.raises(GraphFormatError, match="not DOT") as info:
        read_dot(path)
    assert info.value.line == line and f"bad.dot, line {line}:" in str(info.value)


def test_dot_hostile_input(tmp_path):
    deep = "digraph { " + "subgraph { " * 100 + "a" + " }" * 100 + " }"
    with pytest.raises(GraphFormatError, match="nested"):
        parse_dot(deep)
    with pytest.raises(GraphFormatError, match="no such file"):
        read_dot(tmp_path / "missing.dot")
    with pytest.raises(GraphFormatError, match="weight"):
        parse_dot("digraph { a -> b [weight=inf] }")
    big = "digraph {\n" + "a -> b;\n" * 40_000 + "}\n"  # 320 KB: minutes of pydot's parser, refused at once
    with pytest.raises(GraphFormatError, match="max_bytes"):
        parse_dot(big)
    path = tmp_path / "big.dot"
    path.write_text(big)
    with pytest.raises(GraphFormatError, match="max_bytes"):
        import_into(Graph("g"), path)


# ---------------------------------------------------------------------- Cypher
CYPHER = """// two people, a city
CREATE (ann:Person:Admin {name: 'Ann', age: 31, tags: ['x', "y\\n"], home: {lat: 59.9, lon: -10.75e0}}),
       (bo:Person {name: "Bo", `full name`: 'Bo B.'});
CREATE (ann)-[r1:KNOWS {since: 2020, weight: 2}]->(bo)<-[:LIKES]-(:Cat {name: 'Tom'});
/* MERGE finds Ann again; makes Oslo */
MERGE (a:Person {name: 'Ann'}) ON CREATE SET a.created = true ON MATCH SET a.seen = 1
MERGE (oslo:City {name: 'Oslo'}) ON CREATE SET oslo.new = true
MERGE (oslo2:City {name: 'Oslo'});
MATCH (p:Person {name: 'Bo'}), (c:City) CREATE (p)-[:LIVES_IN]->(c) SET p:Owner, p += {age: 40, gone: null} RETURN p;
MERGE (ann)-[:KNOWS {since: 2020, weight: 2}]->(bo);
CREATE CONSTRAINT person_name FOR (n:Person) REQUIRE n.name IS UNIQUE;
:begin
CREATE (ann:Person {name: 'Ann again'});
MERGE (ann)-[:KNOWS]->(bo);
"""


def test_cypher_script_against_hand_count():
    d = parse_cypher(CYPHER)
    # hand count: Ann, Bo, Tom (n0), Oslo, the second Ann (ann_2); MERGE found Ann and Oslo again
    assert list(d.nodes) == ["ann", "bo", "n0", "oslo", "ann_2"]
    ann, bo = d.nodes["ann"], d.nodes["bo"]
    assert ann.label == "Person" and ann.properties["labels"] == ["Person", "Admin"]
    assert ann.properties["tags"] == ["x", "y\n"] and ann.properties["home"] == {"lat": 59.9, "lon": -10.75}
    assert ann.properties["seen"] == 1 and "created" not in ann.properties
    assert bo.properties == {"name": "Bo", "full name": "Bo B.", "labels": ["Person", "Owner"], "age": 40}
    assert d.nodes["oslo"].properties == {"name": "Oslo", "new": True}
    # hand count: KNOWS (r1), LIKES, LIVES_IN, KNOWS from the second Ann; the MERGEd KNOWS existed
    edges = [(e.edge_id, e.source, e.target, e.relationship, e.weight, e.properties) for e in d.edges]
    assert edges == [("r1", "ann", "bo", "KNOWS", 2.0, {"since": 2020}), ("n0-bo", "n0", "bo", "LIKES", 1.0, {}),
                     ("bo-oslo", "bo", "oslo", "LIVES_IN", 1.0, {}), ("ann_2-bo", "ann_2", "bo", "KNOWS", 1.0, {})]
    assert d.nodes["ann_2"].line == 13 and d.edges[2].line == 9


def test_cypher_round_trip(tmp_path):
    g = parse_cypher(CYPHER).to_graph("people")
    path = write_cypher(g, tmp_path / "out.cypher")
    h = read_graph(path)
    assert h.node_ids == g.node_ids and h.edge_ids == g.edge_ids
    assert [h.node(n) for n in h.node_ids] == [g.node(n) for n in g.node_ids]
    assert [h.edge(e) for e in h.edge_ids] == [g.edge(e) for e in g.edge_ids]


@pytest.mark.parametrize("text, line, words", [
    ("CREATE (a {name: 'Ann})\nCREATE (b)\n", 1, "unterminated string"),
    ("CREATE (a)\nMATCH (b) WHERE b.x = 1\n", 2, "WHERE"),
    ("CREATE (a)\n\nCREATE (b {name: $name})\n", 3, "parameter"),
    ("CREATE (a:P)\nMATCH (b:Q) CREATE (b)-[:R]->(a)\n", 2, "finds no node"),
    ("CREATE (a)\nCREATE (a)-[:R]-(b)\n", 2, "direction"),
    ("CREATE (a)-[]->(b)\n", 1, "exactly one type"),
    ("CREATE (a)\n/* never closed\nCREATE (b)\n", 2, "unterminated comment"),
    ("CREATE (a {x: date('2020-01-01')})\n", 1, "function call"),
    ("CREATE (a:P), (a:Q)\n", 1, "already bound"),
    ("CREATE (a {x: 1\nCREATE (b)\n", 2, "expected ','"),
])
def test_cypher_malformed_names_the_line(tmp_path, text, line, words):
    path = tmp_path / "bad.cypher"
    path.write_text(text)
    with pytest.raises(GraphFormatError, match=words) as info:
        read_cypher(path)
    assert info.value.line == line and f"bad.cypher, line {line}:" in str(info.value)


def test_cypher_hostile_nesting_is_refused():
    with pytest.raises(GraphFormatError, match="nested deeper than 64"):
        parse_cypher("CREATE (a {x: " + "[" * 10_000 + "]" * 10_000 + "})")
    with pytest.raises(GraphFormatError, match="unterminated string"):
        parse_cypher("CREATE (a {x: '" + "y" * 500_000 + "})")


# ---------------------------------------------------------------------- Cytoscape.js
ORIGINAL_TEST = {"elements": {"nodes": [{"data": {"id": "a", "label": "Node A"}}, {"data": {"id": "b", "label": "Node B"}}],
                              "edges": [{"data": {"source": "a", "target": "b"}}]}}


def test_cytoscape_nested_layout_matches_the_json():
    # the original app's own test input (tests/test_graph_parser.rs): 2 nodes, 1 edge
    d = parse_cytoscape(json.dumps(ORIGINAL_TEST))
    assert list(d.nodes) == ["a", "b"] and [(e.source, e.target) for e in d.edges] == [("a", "b")]
    doc = {"data": {"name": "g"}, "elements": {
        "nodes": [{"data": {"id": "a", "label": "A", "type": "Person", "size": 3}, "position": {"x": 1.5, "y": -2},
                   "classes": ["big", "red"]},
                  {"data": {"id": "b", "parent": "a"}}, {"data": {"id": "c", "value": None}}],
        "edges": [{"data": {"id": "ab", "source": "a", "target": "b", "label": "HAS", "weight": 4}},
                  {"data": {"id": "bc", "source": "b", "target": "c", "interaction": "pp"}}]}}
    g = parse_cytoscape(json.dumps(doc)).to_graph("g")
    elements = doc["elements"]
    assert g.node_ids == [n["data"]["id"] for n in elements["nodes"]]
    assert edge_tuples(g) == Counter((e["data"]["source"], e["data"]["target"]) for e in elements["edges"])
    assert g.node("a") == {"id": "a", "label": "Person", "caption": "A", "size": 3, "classes": "big red"}
    assert g.node("b")["parent"] == "a" and g.node("c") == {"id": "c", "label": ""}
    assert g.edge("ab")["relationship"] == "HAS" and g.edge("ab")["weight"] == 4.0
    assert g.edge("bc")["relationship"] == "pp"
    assert g.positions[0].tolist() == [1.5, -2.0] and np.isnan(g.positions[1]).all()


def test_cytoscape_flat_layout_as_the_original_exports_it():
    # the original app's export_as_cytoscape: one "elements" list, no "group"
    flat = [{"data": {"id": "n1", "label": "One"}, "position": {"x": 0, "y": 0}},
            {"data": {"id": "n2", "label": "Two"}, "position": {"x": 10, "y": 0}},
            {"data": {"id": "e1", "source": "n1", "target": "n2", "label": None}},
            {"group": "nodes", "data": {"id": "n3", "source": "looks like an edge but is a node"}}]
    d = parse_cytoscape(json.dumps({"elements": flat}))
    assert list(d.nodes) == ["n1", "n2", "n3"] and [e.edge_id for e in d.edges] == ["e1"]
    assert d.edges[0].relationship == "" and d.positions == {"n1": (0.0, 0.0), "n2": (10.0, 0.0)}
    assert list(parse_cytoscape(json.dumps(flat[:3])).nodes) == ["n1", "n2"]  # a bare list


def test_cytoscape_round_trip(tmp_path):
    g = parse_cytoscape(json.dumps(ORIGINAL_TEST)).to_graph("g")
    g.apply(new_event("layout_applied", "g", {"algorithm": "test", "positions": {"a": [3, 4], "b": [5, 6]}}))
    path = write_cytoscape(g, tmp_path / "out.cyjs")
    doc = json.loads(path.read_text())
    assert [e["group"] for e in doc["elements"]] == ["nodes", "nodes", "edges"]
    assert doc["elements"][0] == {"group": "nodes", "data": {"id": "a", "label": "Node A"}, "position": {"x": 3.0, "y": 4.0}}
    h = read_graph(path)
    assert [h.node(n) for n in h.node_ids] == [g.node(n) for n in g.node_ids]
    assert [h.edge(e) for e in h.edge_ids] == [g.edge(e) for e in g.edge_ids]
    assert np.array_equal(h.positions, g.positions)


@pytest.mark.parametrize("text, line, words", [
    ('{"elements": [\n {"data": {"id": "a"}},\n {"data": {"id": "b"}\n]}', 4, "invalid JSON"),
    ('{"elements": [{"data": {"label": "no id"}}]}', None, "no data.id"),
    ('{"elements": [{"data": {"id": "a"}}, {"group": "edges", "data": {"source": "a"}}]}', None, "data.target"),
    ('{"nodes": []}', None, "no 'elements'"),
    ('{"elements": [{"data": {"id": "a"}}, {"data": {"id": "a"}}]}', None, "used twice"),
    ('{"elements": [{"group": "nodez", "data": {"id": "a"}}]}', None, "group"),
])
def test_cytoscape_malformed(tmp_path, text, line, words):
    path = tmp_path / "bad.cyjs"
    path.write_text(text)
    with pytest.raises(GraphFormatError, match=words) as info:
        read_cytoscape(path)
    assert info.value.line == line


def test_cytoscape_deep_json_is_refused():
    with pytest.raises(GraphFormatError, match="nested too deeply"):
        parse_cytoscape('{"elements": ' + "[" * 100_000 + "]" * 100_000 + "}")


# ---------------------------------------------------------------------- import_into
def base_graph():
    g = Graph("g", directed=True)
    g.apply([new_event("node_added", "g", {"node_id": "A", "label": "Step", "properties": {"caption": "Old", "owner": "ana"}}),
             new_event("node_added", "g", {"node_id": "Z"}),
             new_event("edge_added", "g", {"edge_id": "A-B", "source": "A", "target": "Z", "relationship": "was",
                                           "properties": {"note": "n"}})])
    return g


IMPORTED = "graph TD\n  A[New] -->|is| B{Choice}\n"


def types(report):
    return [e.event_type for e in report.events]


def test_import_skip_adds_only_what_is_new():
    g = base_graph()
    report = import_into(g, parse_mermaid(IMPORTED))
    assert types(report) == ["node_added"] and (report.nodes_skipped, report.edges_skipped) == (1, 1)
    assert g.node("A") == {"id": "A", "label": "Step", "caption": "Old", "owner": "ana"}
    assert g.node("B")["shape"] == "rhombus" and g.edge("A-B")["target"] == "Z" and g.version == 4
    again = import_into(g, parse_mermaid(IMPORTED + "  B --> Z\n"))
    assert types(again) == ["edge_added"] and g.edge("B-Z")["source"] == "B" and g.version == 5


def test_import_replace_makes_it_what_the_file_says():
    g = base_graph()
    report = import_into(g, parse_mermaid(IMPORTED), merge="replace")
    assert types(report) == ["node_updated", "node_added", "edge_removed", "edge_added"]
    assert g.node("A") == {"id": "A", "label": "", "caption": "New", "shape": "rect"}  # owner unset
    assert g.edge("A-B") == {"id": "A-B", "source": "A", "target": "B", "relationship": "is", "weight": 1.0,
                             "arrow": "-->"}
    same_ends = base_graph()
    import_into(same_ends, parse_mermaid("graph TD\n A --> Z\n"), merge="replace", id_prefix=None)
    assert same_ends.edge("A-Z")["relationship"] == "" and same_ends.edge("A-B")["note"] == "n"


def test_import_merge_properties_and_prefer_existing():
    g = base_graph()
    report = import_into(g, parse_mermaid(IMPORTED), merge="merge_properties")
    assert types(report) == ["node_updated", "node_added", "edge_updated"]
    assert g.node("A") == {"id": "A", "label": "Step", "caption": "New", "owner": "ana", "shape": "rect"}
    assert g.edge("A-B")["relationship"] == "is" and g.edge("A-B")["note"] == "n" and g.edge("A-B")["target"] == "Z"
    h = base_graph()
    import_into(h, parse_mermaid(IMPORTED), merge="merge_prefer_existing")
    assert h.node("A") == {"id": "A", "label": "Step", "caption": "Old", "owner": "ana", "shape": "rect"}
    assert h.edge("A-B")["relationship"] == "was" and h.edge("A-B")["arrow"] == "-->"


def test_import_always_create_and_error_and_prefix():
    g = base_graph()
    report = import_into(g, parse_mermaid(IMPORTED), merge="always_create")
    assert report.id_map == {"A": "A-2", "B": "B"} and g.edge("A-B-2")["source"] == "A-2"
    assert g.node("A")["caption"] == "Old"
    h = base_graph()
    version = h.version
    with pytest.raises(DuplicateIdError, match="'A'.*nothing was imported"):
        import_into(h, parse_mermaid(IMPORTED), merge="error")
    assert h.version == version and "B" not in h
    report = import_into(h, parse_mermaid(IMPORTED), merge="error", id_prefix="mm")
    assert sorted(report.id_map.values()) == ["mm-A", "mm-B"] and h.edge("mm-A-B")["source"] == "mm-A"
    with pytest.raises(ValueError, match="merge='bogus'"):
        import_into(h, parse_mermaid(IMPORTED), merge="bogus")


def test_import_max_nodes_refuses_before_applying(repo_root):
    g = base_graph()
    version = g.version
    with pytest.raises(GraphFormatError, match="12 nodes, more than max_nodes=5"):
        import_into(g, sample(repo_root, "workflow.mermaid"), max_nodes=5)
    assert g.version == version
    report = import_into(g, sample(repo_root, "workflow.mermaid"), max_nodes=12)
    assert report.nodes_added == 12 and report.edges_added == 13


def test_import_events_are_one_correlated_chain_and_carry_positions(repo_root, tmp_path):
    g = base_graph()
    path = tmp_path / "in.cyjs"
    path.write_text(json.dumps({"elements": [{"data": {"id": "P"}, "position": {"x": 7, "y": 8}}]}))
    report = import_into(g, path, actor="ana")
    assert types(report) == ["node_added", "layout_applied"]
    first, second = report.events
    assert second.correlation_id == first.event_id == first.correlation_id and second.causation_id == first.event_id
    assert first.metadata == {"import": "in.cyjs", "actor": "ana"}
    assert g.positions[g.node_row("P")].tolist() == [7.0, 8.0] and np.isnan(g.positions[g.node_row("A")]).all()
    dot = import_into(g, sample(repo_root, "network.dot"), id_prefix="dot")  # the original's DOT id prefix
    assert dot.nodes_added == 7 and "dot-Client" in g and g.edge("dot-Cache-Database")["source"] == "dot-Cache"
