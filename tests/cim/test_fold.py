"""GraphFold's bulk path gives the state Graph.apply gives, event by event; ids apply once."""

import networkx as nx

from alchemist.cim.fold import GraphFold
from alchemist.cim.replay import edge_list_events
from alchemist.events import new_event
from alchemist.graph import Graph
from alchemist.graph.io import read_edge_list


def sample_events(tmp_path, lines):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{u} {v} {t}\n" for u, v, t in lines))
    return list(edge_list_events(read_edge_list(path), "g")), path


LINES = [("a", "b", 10), ("b", "c", 11), ("a", "b", 12), ("c", "c", 13), ("d", "a", 13), ("e", "f", 20)]


def test_bulk_fold_equals_event_by_event(tmp_path):
    events, _ = sample_events(tmp_path, LINES)
    fold = GraphFold("g")
    for k in range(0, len(events), 4):
        fold.feed(events[k:k + 4])
    reference = Graph("g")
    for event in events:
        reference.apply(event)
    graph = fold.graph
    assert graph.nodes.equals(reference.nodes) and graph.edges.equals(reference.edges)
    assert graph.version == reference.version == len(events)
    assert graph.last_cid == events[-1].cid
    # independent check: networkx multigraph of the lines
    G = nx.MultiDiGraph()
    G.add_edges_from((u, v) for u, v, _ in LINES)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges())


def test_duplicates_and_redeliveries_apply_once(tmp_path):
    events, _ = sample_events(tmp_path, LINES)
    fold = GraphFold("g")
    fold.feed(events[:5])
    fold.feed(events[3:])  # a redelivery overlapping what was applied
    fold.feed(events)      # the whole stream published twice
    assert fold.applied == len(events)
    assert fold.duplicates == 2 + len(events)
    assert fold.graph.number_of_edges() == len(LINES)


def test_non_bulk_event_switches_to_checked_apply(tmp_path):
    events, _ = sample_events(tmp_path, LINES)
    extra = new_event("node_updated", "g", {"node_id": "a", "label": "Alice"}, previous_cid=events[-1].cid)
    bad = new_event("edge_removed", "g", {"edge_id": "e99"}, previous_cid=extra.cid)
    after = new_event("node_added", "g", {"node_id": "z"}, previous_cid=bad.cid)  # the chain goes on past bad
    fold = GraphFold("g")
    fold.feed(events[:6])
    refused = fold.feed(events[6:] + [extra, bad, after])
    assert [e.event_id for e, _ in refused] == [bad.event_id]
    reference = Graph("g")
    reference.apply(events + [extra, after])
    assert fold.graph.nodes.equals(reference.nodes)
    assert fold.graph.node("a")["label"] == "Alice" and "z" in fold.graph


def test_trailing_nodes_without_edges_and_time_filter():
    g = "g"
    created = new_event("graph_created", g, {"directed": True}, timestamp=0)
    n1 = new_event("node_added", g, {"node_id": "x"}, timestamp=5, previous_cid=created.cid)
    fold = GraphFold(g, accept=lambda e: e.timestamp <= "1970-01-01T00:00:03Z")
    fold.feed([created, n1])
    assert fold.graph.number_of_nodes() == 0
    fold = GraphFold(g)
    fold.feed([created, n1])
    assert fold.graph.number_of_nodes() == 1 and fold.graph.version == 2


def test_events_stored_out_of_order_are_folded_in_chain_order(tmp_path):
    events, _ = sample_events(tmp_path, LINES)
    shuffled = events[:3] + events[6:9] + events[3:6] + events[9:]  # a retry stored 3..5 late
    fold = GraphFold("g")
    assert fold.feed(shuffled[:6]) == [] and fold.parked == 3
    assert fold.feed(shuffled[6:], caught_up=True) == [] and fold.parked == 0
    reference = Graph("g")
    reference.apply(events)
    assert fold.graph.nodes.equals(reference.nodes) and fold.graph.edges.equals(reference.edges)


def test_missing_predecessor_refuses_what_waits_for_it_when_caught_up(tmp_path):
    from alchemist.errors import UnknownPredecessorError

    events, _ = sample_events(tmp_path, LINES)
    fold = GraphFold("g")  # events[1] (node_added a) was never stored
    refused = fold.feed([events[0]] + events[2:5])
    assert refused == [] and fold.parked == 3
    refused = fold.feed(events[5:], caught_up=True)
    # nothing after the gap can join the chain: each is refused once, the first because its
    # predecessor never came, the others because theirs was refused
    assert [e.event_id for e, _ in refused] == [e.event_id for e in events[2:]]
    assert all(type(x) is UnknownPredecessorError for _, x in refused)
    assert fold.parked == 0 and fold.graph.version == 1 and fold.graph.number_of_nodes() == 0


def test_bulk_seconds_agree_with_the_standard_library():
    import datetime as dt

    import numpy as np

    from alchemist.cim.fold import _seconds_many

    stamps = ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2016-03-06T12:00:01Z", "1969-12-31T23:59:59Z"]
    expected = [dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in stamps]
    assert expected[:2] == [0.0, 951868799.0]  # by hand: 11,016 days and a second short of 2000-03-01
    assert _seconds_many(stamps).tolist() == expected
    # a form the vectorised path leaves to the one-by-one parse: a fraction of a second
    odd = ["2016-03-06T12:00:01.5Z", "2016-03-06T12:00:01Z"]
    assert _seconds_many(odd).tolist() == [1457265601.5, 1457265601.0]
    assert _seconds_many([]).shape == (0,) and _seconds_many(stamps).dtype == np.float64
