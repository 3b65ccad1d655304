"""Graphs as Arrow tables: to_arrow / from_arrow round trips, the Arrow C stream, DuckDB on the edge table.

Expected values are computed independently from the source file with the standard library.
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip

import numpy as np
import pyarrow as pa
import pytest

import alchemist
from alchemist import Graph

SAMPLE = "data/samples/CollegeMsg.txt.gz"


@pytest.fixture(scope="module")
def college(repo_root):
    return alchemist.read_graph(repo_root / SAMPLE)


@pytest.fixture(scope="module")
def college_rows(repo_root):
    with gzip.open(repo_root / SAMPLE, "rt") as fh:
        return [line.split() for line in fh if line.strip() and not line.startswith("#")]


def rich_graph() -> Graph:
    from alchemist.events import new_event

    g = Graph("rich", directed=True)
    g.apply([
        new_event("node_added", "rich", {"node_id": "a", "label": "Person", "properties": {"age": 31, "score": 0.5}}),
        new_event("node_added", "rich", {"node_id": "b", "label": "Place", "properties": {"age": 7, "score": 1.5}}),
        new_event("node_added", "rich", {"node_id": "c", "label": "Person", "properties": {"age": 12, "score": -2.0}}),
        new_event("edge_added", "rich", {"edge_id": "r1", "source": "a", "target": "b", "relationship": "visits",
                                          "weight": 2.5, "properties": {"since": 2001}}),
        new_event("edge_added", "rich", {"edge_id": "r2", "source": "b", "target": "c", "relationship": "near",
                                          "weight": 0.25, "properties": {"since": 1999}}),
    ])
    g.positions = [[0.0, 1.0], [2.0, 3.0], [-1.0, 0.5]]
    return g


def test_round_trip_keeps_ids_labels_properties_weights_and_positions():
    g = rich_graph()
    back = Graph.from_arrow(*g.to_arrow(), directed=True)
    assert back.node_ids == ["a", "b", "c"]
    for node in ("a", "b", "c"):
        assert back.node(node) == g.node(node)
    for edge in ("r1", "r2"):
        assert back.edge(edge) == g.edge(edge)
    np.testing.assert_array_equal(back.positions, g.positions)


def test_edge_table_matches_the_source_file(college, college_rows):
    edges = college.to_arrow().edges
    assert edges.num_rows == len(college_rows)
    assert edges.column("source").to_pylist() == [r[0] for r in college_rows]
    assert edges.column("target").to_pylist() == [r[1] for r in college_rows]
    first = dt.datetime.fromtimestamp(int(college_rows[0][2]), dt.timezone.utc).replace(tzinfo=None)
    assert edges.column("timestamp")[0].as_py().replace(tzinfo=None) == first


def test_duckdb_queries_a_graph_and_its_tables_directly(college, college_rows):
    duckdb = pytest.importorskip("duckdb")
    g = college  # noqa: F841 -- DuckDB finds the local variable through __arrow_c_stream__
    out_degree = dict(duckdb.sql("SELECT source, count(*) FROM g GROUP BY source").fetchall())
    assert out_degree == collections.Counter(r[0] for r in college_rows)
    nodes = college.to_arrow().nodes  # noqa: F841
    (n, top), = duckdb.sql("SELECT count(*), max(degree) FROM nodes").fetchall()
    degree = collections.Counter()
    for s, t, _ in college_rows:
        degree[s] += 1
        degree[t] += 1
    assert (n, top) == (len(degree), max(degree.values()))


def test_arrow_c_stream_is_read_by_pyarrow_and_polars(college, college_rows):
    import polars as pl

    table = pa.RecordBatchReader.from_stream(college).read_all()
    assert table.num_rows == len(college_rows)
    frame = pl.DataFrame(college)  # polars takes any __arrow_c_stream__ exporter
    assert frame.height == len(college_rows) and frame["source"][0] == college_rows[0][0]


def test_from_arrow_reads_stream_exporters_and_record_batch_readers(college_rows):
    duckdb = pytest.importorskip("duckdb")
    edges = pa.table({"source": [r[0] for r in college_rows[:500]], "target": [r[1] for r in college_rows[:500]]})
    expected_nodes = len({x for r in college_rows[:500] for x in r[:2]})
    relation = duckdb.sql("SELECT * FROM edges")
    g1 = Graph.from_arrow(edges=relation)  # a DuckDB relation exports __arrow_c_stream__
    g2 = Graph.from_arrow(edges=pa.RecordBatchReader.from_batches(edges.schema, edges.to_batches(max_chunksize=64)))
    for g in (g1, g2):
        assert (g.number_of_nodes(), g.number_of_edges()) == (expected_nodes, 500)


def test_polars_shares_the_numeric_buffers_of_the_node_table():
    import polars as pl

    nodes = rich_graph().to_arrow().nodes
    frame = pl.from_arrow(nodes)
    assert frame["x"].to_arrow().buffers()[1].address == nodes.column("x").chunks[0].buffers()[1].address


def test_missing_column_is_a_clear_error():
    with pytest.raises(alchemist.errors.GraphFormatError, match="no 'source' column"):
        Graph.from_arrow(edges=pa.table({"from": ["a"], "target": ["b"]}))
