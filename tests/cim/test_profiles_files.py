"""Interop profiles without a server: dialect files decoded and folded (cim-graph's example_events.json)."""

from __future__ import annotations

import pytest

from alchemist.cim.profiles import fold_dialect, get_profile, read_dialect_file
from alchemist.errors import InputFormatError


@pytest.mark.parametrize("graph_id, nodes, edges", [("*", 5, 1), ("106f7673-0aa3-4311-8c67-2f69be0ebad9", 3, 0),
                                                    ("a804d999-6274-4d1e-9a29-753aad12aaca", 2, 1)])
def test_cim_graph_fixture_file_without_a_server(shared_data, graph_id, nodes, edges):
    path = shared_data("cim_fixtures/cim-graph-example_events.json")
    events = read_dialect_file(path, "cim-graph")
    mine = [e for e in events if get_profile("cim-graph").belongs(e, graph_id)]
    graph = fold_dialect(mine, graph_id)
    # by hand from the file: 3 states, 2 concepts, 1 relation
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, edges)
    assert graph.rejected == []


def test_a_file_that_is_not_the_dialect_names_the_entry(tmp_path):
    path = tmp_path / "events.json"
    path.write_text('[{"type": "NodeAdded", "graph_id": "g", "node_id": "a", "timestamp": 0}, {"oops": 1}]')
    with pytest.raises(InputFormatError, match="event 1 is not a alchemist-rs message: .*no .type. tag"):
        read_dialect_file(path, "alchemist-rs")
